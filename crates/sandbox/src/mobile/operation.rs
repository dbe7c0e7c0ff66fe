//! `/api/auth/token/app/operation/*`: list, detail, claim (token), history, authorize,
//! cancel (signature), with the enrollment server's operation JSON (digest §11.3).

use super::auth::{authentication_failed, token_activation};
use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::extract::{RawBody, json_response, request_object};
use crate::operations::{self, ApproveResult, render};
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
use serde_json::{Map, Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/token/app/operation/list", post(list))
        .route("/api/auth/token/app/operation/detail", post(detail))
        .route("/api/auth/token/app/operation/detail/claim", post(claim))
        .route("/api/auth/token/app/operation/history", post(history))
        .route("/api/auth/token/app/operation/authorize", post(authorize))
        .route("/api/auth/token/app/operation/cancel", post(cancel))
}

/// Token types the enrollment server accepts for reads (digest §16.6).
const TOKEN_TYPES: [SignatureType; 4] = [
    SignatureType::Possession,
    SignatureType::PossessionBiometry,
    SignatureType::PossessionKnowledge,
    SignatureType::PossessionKnowledgeBiometry,
];

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

/// The operation JSON of the mobile API.
async fn view(state: &AppState, operation: &Operation) -> Result<Option<Value>, Error> {
    // An operation without a template is left out (digest §16.4).
    let Some(template) = state.store.template(&operation.template_name).await? else {
        return Ok(None);
    };
    let mut form_data = template.form_data.clone();
    fill(&mut form_data, &operation.parameters)?;
    let two_factor: Vec<&str> = operation
        .signature_types
        .iter()
        .filter_map(|t| t.parse::<SignatureType>().ok())
        .filter(|t| *t != SignatureType::Possession)
        .map(SignatureType::as_str)
        .collect();
    let allowed = if two_factor.is_empty() {
        json!({"type": "1FA", "variants": []})
    } else {
        json!({"type": "2FA", "variants": two_factor})
    };
    let mut object = json!({
        "id": operation.operation_id,
        "name": operation.operation_type,
        "data": operation.data,
        "status": operation.status,
        "operationCreated": iso8601_mobile(operation.timestamp_created),
        "operationExpires": iso8601_mobile(operation.timestamp_expires),
        "allowedSignatureType": allowed,
        "formData": form_data,
    });
    if let Some(reason) = &operation.status_reason {
        object["statusReason"] = json!(reason);
    }
    let mut ui = template.ui.unwrap_or_else(|| json!({}));
    // The app learns of a proximity check from the QR_SCAN pre-approval screen (§11.5).
    if operation.totp_seed.is_some() {
        ui["preApprovalScreen"] = json!({
            "type": "QR_SCAN",
            "heading": "Scan the QR code",
            "message": "Scan the code shown on the other screen to continue.",
        });
    }
    if ui.as_object().is_some_and(|o| !o.is_empty()) {
        object["ui"] = ui;
    }
    Ok(Some(object))
}

/// Fills `${…}` in every string of a form; an AMOUNT's `amount` becomes a number.
fn fill(value: &mut Value, parameters: &Map<String, Value>) -> Result<(), Error> {
    match value {
        Value::String(text) => *text = render(text, parameters)?,
        Value::Array(items) => {
            for item in items {
                fill(item, parameters)?;
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                fill(item, parameters)?;
            }
            if map.get("type").and_then(Value::as_str) == Some("AMOUNT")
                && let Some(amount) = map.get("amount").and_then(Value::as_str)
                && let Ok(number) = amount.parse::<f64>()
            {
                map.insert("amount".to_owned(), json!(number));
            }
        }
        _ => {}
    }
    Ok(())
}

fn answer(response: Value, now_ms: i64) -> Response {
    json_response(&json!({
        "status": "OK",
        "currentTimestamp": iso8601_mobile(now_ms),
        "responseObject": response,
    }))
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &TOKEN_TYPES).await?;
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
    let activation = token_activation(&state, &headers, &TOKEN_TYPES).await?;
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
    let activation = token_activation(&state, &headers, &TOKEN_TYPES).await?;
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
    let signature_type = authenticated.header.signature_type.server_name();
    let (_, result) = operations::update(&state, &request.id, |o, now| {
        if !visible_to(o, &activation) {
            return Err(invalid_operation());
        }
        if o.status != OperationStatus::Pending {
            return Err(finished(o));
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
