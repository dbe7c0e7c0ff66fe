//! `/api/auth/token/app/operation/*`: list, detail, claim (token), history, authorize,
//! cancel (signature), with the enrollment server's operation JSON (digest §11.3).

use super::auth::{authentication_failed, token_activation};
use super::view::view;
use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::extract::{RawBody, json_response, request_object};
use crate::operations::{self, ApproveResult};
use crate::restful::auth::authenticate;
use crate::state::AppState;
use crate::store::{Activation, Operation, OperationStatus};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::signature::SignatureType;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/token/app/operation/list", post(list))
        .route("/api/auth/token/app/operation/detail", post(detail))
        .route("/api/auth/token/app/operation/detail/claim", post(claim))
        .route("/api/auth/token/app/operation/history", post(history))
        .route("/api/auth/token/app/operation/authorize", post(authorize))
        .route("/api/auth/token/app/operation/cancel", post(cancel))
}

/// The list answers at most this many operations.
const LIST_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdRequest {
    id: String,
    data: Option<String>,
    reason: Option<String>,
    proximity_check: Option<ProximityCheck>,
}

#[derive(Deserialize)]
struct ProximityCheck {
    otp: String,
}

/// 400 with the code that names why a finished operation cannot be used.
fn finished(operation: &Operation) -> Error {
    let code = match operation.status {
        OperationStatus::Failed => "OPERATION_ALREADY_FAILED",
        OperationStatus::Canceled => "OPERATION_ALREADY_CANCELED",
        OperationStatus::Expired => "OPERATION_EXPIRED",
        OperationStatus::Approved | OperationStatus::Rejected | OperationStatus::Pending => {
            "OPERATION_ALREADY_FINISHED"
        }
    };
    Error::api(
        StatusCode::BAD_REQUEST,
        code,
        format!("the operation is {}", operation.status.as_str()),
    )
}

fn invalid_operation() -> Error {
    Error::api(
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
        "no such operation for this user",
    )
}

/// Whether `activation` may see `operation`.
fn visible_to(operation: &Operation, activation: &Activation) -> bool {
    operation.application_id == activation.application_id
        && operation
            .activation_id
            .as_ref()
            .is_none_or(|id| *id == activation.activation_id)
}

fn answer(response: Value, now_ms: i64) -> Response {
    json_response(&json!({
        "status": "OK",
        "currentTimestamp": iso8601_mobile(now_ms),
        "responseObject": response,
    }))
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let mut out = Vec::new();
    for operation in operations::of_user(&state, &activation.user_id, true).await? {
        if out.len() == LIST_LIMIT {
            break;
        }
        if visible_to(&operation, &activation)
            && let Some(view) = view(&state, &operation).await?
        {
            out.push(view);
        }
    }
    Ok(answer(Value::Array(out), state.now_ms()))
}

async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let request: IdRequest = request_object(&body.0)?;
    let operation = operations::load(&state, &request.id)
        .await?
        .filter(|o| o.user_id.as_deref() == Some(&activation.user_id) && visible_to(o, &activation))
        .ok_or_else(invalid_operation)?;
    if operation.status != OperationStatus::Pending {
        return Err(finished(&operation));
    }
    let view = view(&state, &operation)
        .await?
        .ok_or_else(invalid_operation)?;
    Ok(answer(view, state.now_ms()))
}

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let request: IdRequest = request_object(&body.0)?;
    let user = activation.user_id.clone();
    let (operation, ()) = operations::update(&state, &request.id, |o, _| {
        if !visible_to(o, &activation) {
            return Err(invalid_operation());
        }
        if o.status != OperationStatus::Pending {
            return Err(finished(o));
        }
        match &o.user_id {
            None => o.user_id = Some(user.clone()),
            Some(owner) if *owner == user => {}
            Some(_) => return Err(invalid_operation()),
        }
        Ok(())
    })
    .await
    .map_err(not_found_is_invalid)?;
    let view = view(&state, &operation)
        .await?
        .ok_or_else(invalid_operation)?;
    Ok(answer(view, state.now_ms()))
}

fn not_found_is_invalid(error: Error) -> Error {
    match error {
        Error::UnknownOperation => invalid_operation(),
        other => other,
    }
}

async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = authenticate(
        &state,
        &headers,
        "POST",
        "/operation/history",
        &body.0,
        &[
            SignatureType::PossessionKnowledge,
            SignatureType::PossessionBiometry,
        ],
    )
    .await
    .map_err(auth_failed)?
    .activation;
    let mut out = Vec::new();
    for operation in operations::of_user(&state, &activation.user_id, false).await? {
        if visible_to(&operation, &activation)
            && let Some(view) = view(&state, &operation).await?
        {
            out.push(view);
        }
    }
    Ok(answer(Value::Array(out), state.now_ms()))
}

fn auth_failed(error: Error) -> Error {
    match error {
        Error::Internal(_) => error,
        _ => authentication_failed(),
    }
}

async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let request: IdRequest = request_object(&body.0)?;
    let data = request
        .data
        .clone()
        .ok_or_else(|| Error::InvalidRequest("data is required".to_owned()))?;
    let authenticated = authenticate(
        &state,
        &headers,
        "POST",
        "/operation/authorize",
        &body.0,
        &[
            SignatureType::Possession,
            SignatureType::PossessionKnowledge,
            SignatureType::PossessionBiometry,
        ],
    )
    .await;
    let authenticated = match authenticated {
        Ok(authenticated) => authenticated,
        Err(Error::Internal(cause)) => return Err(Error::Internal(cause)),
        Err(_) => {
            // A failed signature is a failed approval (`/rest/v3/operation/approve/fail`).
            let failed = operations::update(&state, &request.id, |o, now| {
                operations::require_pending(o)?;
                Ok(operations::fail_once(o, now))
            })
            .await;
            if let Err(Error::Internal(cause)) = failed {
                return Err(Error::Internal(cause));
            }
            return Err(authentication_failed());
        }
    };
    let activation = authenticated.activation;
    // An activation under identity verification may not approve (digest §16.4).
    if activation
        .flags
        .iter()
        .any(|f| f == "VERIFICATION_PENDING" || f == "VERIFICATION_IN_PROGRESS")
    {
        return Err(authentication_failed());
    }
    let signature_type = authenticated.header.signature_type.server_name();
    let (_, result) = operations::update(&state, &request.id, |o, now| {
        if !visible_to(o, &activation) {
            return Err(invalid_operation());
        }
        if o.status != OperationStatus::Pending {
            return Err(finished(o));
        }
        if let Some(flag) = &o.activation_flag
            && !activation.flags.contains(flag)
        {
            return Err(Error::api(
                StatusCode::BAD_REQUEST,
                "OPERATION_REQUIRES_ACTIVATION_FLAG",
                format!("the operation needs the activation flag {flag:?}"),
            ));
        }
        let approval = operations::Approval {
            user_id: &activation.user_id,
            application_id: &activation.application_id,
            data: &data,
            signature_type,
            proximity_otp: request.proximity_check.as_ref().map(|p| p.otp.as_str()),
        };
        operations::approve(o, &approval, now)
    })
    .await
    .map_err(not_found_is_invalid)?;
    match result {
        ApproveResult::Approved => Ok(json_response(&json!({"status": "OK"}))),
        ApproveResult::ApprovalFailed => Err(authentication_failed()),
        ApproveResult::OperationFailed => Err(Error::api(
            StatusCode::UNAUTHORIZED,
            "OPERATION_FAILED",
            "too many failed approvals; the operation failed",
        )),
    }
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let request: IdRequest = request_object(&body.0)?;
    let activation = authenticate(
        &state,
        &headers,
        "POST",
        "/operation/cancel",
        &body.0,
        &SignatureType::ALL,
    )
    .await
    .map_err(auth_failed)?
    .activation;
    operations::update(&state, &request.id, |o, now| {
        if !visible_to(o, &activation) || o.user_id.as_deref() != Some(&activation.user_id) {
            return Err(invalid_operation());
        }
        if o.status != OperationStatus::Pending {
            return Err(finished(o));
        }
        o.status = OperationStatus::Rejected;
        o.status_reason = Some(
            request
                .reason
                .clone()
                .unwrap_or_else(|| "UNKNOWN".to_owned()),
        );
        o.timestamp_finalized = Some(now);
        Ok(())
    })
    .await
    .map_err(not_found_is_invalid)?;
    Ok(json_response(&json!({"status": "OK"})))
}
