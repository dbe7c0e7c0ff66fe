//! `/api/auth/token/app/operation/*`: list, detail, claim (token), history, authorize,
//! cancel (signature), with the enrollment server's operation JSON (digest §11.3) and its
//! rules and answers (`MobileTokenController`, `MobileTokenService`):
//!
//! - any failed authentication is 401 `POWERAUTH_AUTH_FAIL`; on `authorize` it first
//!   counts a failed approval (`operation/approve/fail`);
//! - `cancel` takes a `possession` signature only; `authorize` takes `possession`,
//!   `possession_knowledge` or `possession_biometry` (the operation's template then decides);
//!   `history` takes `possession_knowledge` or `possession_biometry`;
//! - an operation that is no longer `PENDING` is 400 `OPERATION_ALREADY_CANCELED`,
//!   `OPERATION_ALREADY_FINISHED` (approved or rejected), `OPERATION_ALREADY_FAILED` or
//!   `OPERATION_EXPIRED`; an unknown one 400 `INVALID_OPERATION`;
//! - an approval PowerAuth Server refuses (data, factor, user, application, activation,
//!   proximity OTP) is 401 `OPERATION_FAILED`, or 400 `OPERATION_ALREADY_FAILED` when it
//!   was the last attempt allowed;
//! - `detail` shows an operation no user has claimed yet, `claim` binds it to the caller;
//!   an operation of another user is 400 `INVALID_REQUEST` on `detail` and 400
//!   `INVALID_OPERATION` on `claim`;
//! - a reject's reason goes to the operation's `additionalData.rejectReason` (with
//!   `activationId`, `applicationId`, `ipAddress`, `userAgent`), never to `statusReason`,
//!   which is the back end's (`/rest/v3/operation/cancel`).

use super::auth::token_activation;
use super::money;
use super::view::view;
use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::extract::{RawBody, json_response, parse};
use crate::operations::{self, ApproveResult, fail_once};
use crate::restful_integration::auth::authenticate;
use crate::state::AppState;
use crate::store::{Activation, Operation, OperationStatus};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use powerauth::signature::SignatureType;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/token/app/operation/list", post(list))
        .route("/api/auth/token/app/operation/detail", post(detail))
        .route("/api/auth/token/app/operation/detail/claim", post(claim))
        .route("/api/auth/token/app/operation/history", post(history))
        .route("/api/auth/token/app/operation/authorize", post(authorize))
        .route("/api/auth/token/app/operation/cancel", post(cancel))
}

/// `list` and `history` ask PowerAuth Server for one page of this many operations.
const LIST_LIMIT: usize = 100;

/// `detail` and `claim` on an unknown operation (or one claimed by another user).
const NOT_FOUND: &str = "No operation was found with the provided identifier.";
/// `authorize` on an operation PowerAuth Server does not know or will not change.
const APPROVE_UNEXPECTED: &str = "Operation not found or is in an unexpected state.";
/// The same on `cancel` (without the full stop, as the controller has it).
const CANCEL_UNEXPECTED: &str = "Operation not found or is in an unexpected state";

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "requestObject")]
    request_object: Option<IdRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdRequest {
    id: Option<String>,
    data: Option<String>,
    reason: Option<String>,
    proximity_check: Option<ProximityCheck>,
}

#[derive(Deserialize)]
struct ProximityCheck {
    otp: String,
}

/// 401 `POWERAUTH_AUTH_FAIL`: `MobileTokenAuthException`, what every failed authentication
/// on these endpoints becomes (the RESTful layer hands the controller no authentication).
pub(super) fn authentication_failed() -> Error {
    Error::api(
        StatusCode::UNAUTHORIZED,
        "POWERAUTH_AUTH_FAIL",
        "Authentication failed",
    )
}

/// A failed authentication, unless the sandbox itself failed.
fn auth_failed(error: Error) -> Error {
    match error {
        Error::Internal(_) => error,
        _ => authentication_failed(),
    }
}

/// The enrollment server's `handleStatus`: only a `PENDING` operation may be used.
fn handle_status(operation: &Operation) -> Result<(), Error> {
    let (code, message) = match operation.status {
        OperationStatus::Pending => return Ok(()),
        OperationStatus::Canceled => (
            "OPERATION_ALREADY_CANCELED",
            "Operation was already canceled",
        ),
        OperationStatus::Approved | OperationStatus::Rejected => (
            "OPERATION_ALREADY_FINISHED",
            "Operation was already completed",
        ),
        OperationStatus::Failed => ("OPERATION_ALREADY_FAILED", "Operation already failed"),
        OperationStatus::Expired => ("OPERATION_EXPIRED", "Operation already expired"),
    };
    Err(Error::api(StatusCode::BAD_REQUEST, code, message))
}

fn invalid_operation(message: &'static str) -> Error {
    Error::api(StatusCode::BAD_REQUEST, "INVALID_OPERATION", message)
}

fn invalid_request(message: impl Into<String>) -> Error {
    Error::api(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message.into())
}

/// Turns "no such operation" into `error`.
fn unknown_is(error: Error, replacement: fn() -> Error) -> Error {
    match error {
        Error::UnknownOperation => replacement(),
        other => other,
    }
}

/// 400 `OPERATION_REQUIRES_ACTIVATION_FLAG` when the operation needs a flag the
/// activation lacks.
fn check_flag(operation: &Operation, activation: &Activation) -> Result<(), Error> {
    match &operation.activation_flag {
        Some(flag) if !activation.flags.contains(flag) => Err(Error::api(
            StatusCode::BAD_REQUEST,
            "OPERATION_REQUIRES_ACTIVATION_FLAG",
            format!(
                "Operation requires activation flag: {flag}, which is not present on activation."
            ),
        )),
        _ => Ok(()),
    }
}

/// Whether PowerAuth Server's user lists show `operation` to `activation`: the
/// activation's application, no activation or this one, and no flag or one the activation
/// has (an activation without flags sees every operation, as the server's query has it).
fn listed(operation: &Operation, activation: &Activation) -> bool {
    operation.application_id == activation.application_id
        && operation
            .activation_id
            .as_ref()
            .is_none_or(|id| *id == activation.activation_id)
        && (activation.flags.is_empty()
            || operation
                .activation_flag
                .as_ref()
                .is_none_or(|flag| activation.flags.contains(flag)))
}

/// The caller's language (`Accept-Language`), for the amounts in the operation JSON.
fn language(headers: &HeaderMap) -> String {
    money::language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The `RequestContext` the enrollment server adds to `additionalData`: the client's
/// address from the proxy headers it reads (the sandbox does not see the peer address, so
/// without them it is null) and the `User-Agent`.
fn request_context(headers: &HeaderMap) -> [(&'static str, Value); 2] {
    const ADDRESS_HEADERS: [&str; 10] = [
        "X-Forwarded-For",
        "Proxy-Client-IP",
        "WL-Proxy-Client-IP",
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_FORWARDED",
        "HTTP_X_CLUSTER_CLIENT_IP",
        "HTTP_CLIENT_IP",
        "HTTP_FORWARDED_FOR",
        "HTTP_FORWARDED",
        "HTTP_VIA",
    ];
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let address = ADDRESS_HEADERS.iter().find_map(|name| {
        text(name).filter(|ip| !ip.trim().is_empty() && !ip.eq_ignore_ascii_case("unknown"))
    });
    [
        ("ipAddress", json!(address)),
        ("userAgent", json!(text(header::USER_AGENT.as_str()))),
    ]
}

fn merge(into: &mut Map<String, Value>, entries: impl IntoIterator<Item = (&'static str, Value)>) {
    for (key, value) in entries {
        into.insert(key.to_owned(), value);
    }
}

/// `MobileTokenResponse`: the response object with the server's time.
fn answer(response: Value, now_ms: i64) -> Response {
    json_response(&json!({
        "status": "OK",
        "currentTimestamp": iso8601_mobile(now_ms),
        "responseObject": response,
    }))
}

fn request(body: &[u8]) -> Result<Option<IdRequest>, Error> {
    Ok(parse::<Envelope>(body)?.request_object)
}

/// The operation id of `detail` and `claim`; PowerAuth Server refuses a missing one as an
/// invalid request.
fn required_id(body: &[u8]) -> Result<String, Error> {
    request(body)?
        .and_then(|r| r.id)
        .ok_or_else(|| invalid_request("Request validation error: operation ID is required"))
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES)
        .await
        .map_err(auth_failed)?;
    let language = language(&headers);
    let mut out = Vec::new();
    let pending = operations::of_user(&state, &activation.user_id, true).await?;
    for operation in pending
        .iter()
        .filter(|o| listed(o, &activation))
        .take(LIST_LIMIT)
    {
        if let Some(view) = view(&state, operation, &language).await? {
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
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES)
        .await
        .map_err(auth_failed)?;
    let id = required_id(&body.0)?;
    let operation = operations::load(&state, &id)
        .await?
        .ok_or_else(|| invalid_operation(NOT_FOUND))?;
    handle_status(&operation)?;
    // An operation nobody has claimed yet is shown to anyone who asks.
    if operation
        .user_id
        .as_deref()
        .is_some_and(|owner| owner != activation.user_id)
    {
        return Err(invalid_request("Invalid request"));
    }
    let view = view(&state, &operation, &language(&headers))
        .await?
        .ok_or_else(|| invalid_request("Template not found"))?;
    Ok(answer(view, state.now_ms()))
}

async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES)
        .await
        .map_err(auth_failed)?;
    let id = required_id(&body.0)?;
    let user = activation.user_id.clone();
    // PowerAuth Server's claim: a pending operation without a user becomes the caller's;
    // one of another user is "not found". A finished one is left as it is.
    let (operation, ()) = operations::update(&state, &id, |o, _| {
        if o.status == OperationStatus::Pending {
            match &o.user_id {
                None => o.user_id = Some(user.clone()),
                Some(owner) if *owner == user => {}
                Some(_) => return Err(invalid_operation(NOT_FOUND)),
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| unknown_is(e, || invalid_operation(NOT_FOUND)))?;
    handle_status(&operation)?;
    let view = view(&state, &operation, &language(&headers))
        .await?
        .ok_or_else(|| invalid_request("Template not found"))?;
    Ok(answer(view, state.now_ms()))
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
            SignatureType::PossessionBiometry,
            SignatureType::PossessionKnowledge,
        ],
    )
    .await
    .map_err(auth_failed)?
    .activation;
    let language = language(&headers);
    let mut out = Vec::new();
    let all = operations::of_user(&state, &activation.user_id, false).await?;
    for operation in all
        .iter()
        .filter(|o| listed(o, &activation))
        .take(LIST_LIMIT)
    {
        if let Some(view) = view(&state, operation, &language).await? {
            out.push(view);
        }
    }
    // A plain `ObjectResponse` here: no `currentTimestamp`.
    Ok(json_response(
        &json!({"status": "OK", "responseObject": out}),
    ))
}

async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    // No request object or no id: refused as an authentication failure, before anything.
    let request = request(&body.0)?.ok_or_else(authentication_failed)?;
    let id = request.id.clone().ok_or_else(authentication_failed)?;
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
        Err(_) => return Err(fail_approval(&state, &headers, &id).await),
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
    let operation = operations::load(&state, &id)
        .await?
        .ok_or_else(|| invalid_operation(APPROVE_UNEXPECTED))?;
    handle_status(&operation)?;
    check_flag(&operation, &activation)?;
    let data = request
        .data
        .clone()
        .ok_or_else(|| invalid_request("Request validation error: operation data is required"))?;
    let signature_type = authenticated.header.signature_type;
    let proximity_otp = request.proximity_check.as_ref().map(|p| p.otp.as_str());
    let mut additional = vec![
        ("activationId", json!(activation.activation_id)),
        ("applicationId", json!(activation.application_id)),
        ("authFactor", json!(signature_type.as_str())),
    ];
    additional.extend(request_context(&headers));
    if let Some(otp) = proximity_otp {
        additional.push(("proximity_otp", json!(otp)));
    }
    let approval = operations::Approval {
        user_id: &activation.user_id,
        application_id: &activation.application_id,
        activation_id: Some(&activation.activation_id),
        data: &data,
        signature_type: signature_type.server_name(),
        proximity_otp,
    };
    let (operation, result) = operations::update(&state, &id, |o, now| {
        if o.status != OperationStatus::Pending {
            return Err(invalid_operation(APPROVE_UNEXPECTED));
        }
        let result = operations::approve(o, &approval, now)?;
        merge(&mut o.additional_data, additional.clone());
        Ok(result)
    })
    .await
    .map_err(|e| unknown_is(e, || invalid_operation(APPROVE_UNEXPECTED)))?;
    if result == ApproveResult::Approved {
        return Ok(json_response(&json!({"status": "OK"})));
    }
    handle_status(&operation)?;
    Err(Error::api(
        StatusCode::UNAUTHORIZED,
        "OPERATION_FAILED",
        "PowerAuth server operation approval fails",
    ))
}

/// A refused signature on `authorize`: one failed approval (`operation/approve/fail`),
/// then 401 `POWERAUTH_AUTH_FAIL`, or 400 `OPERATION_ALREADY_FAILED` when that was the
/// last attempt the operation allowed.
async fn fail_approval(state: &AppState, headers: &HeaderMap, id: &str) -> Error {
    let context = request_context(headers);
    let failed = operations::update(state, id, |o, now| {
        if o.status != OperationStatus::Pending {
            return Err(invalid_operation(APPROVE_UNEXPECTED));
        }
        merge(&mut o.additional_data, context.clone());
        Ok(fail_once(o, now))
    })
    .await;
    match failed {
        Ok((operation, _)) => handle_status(&operation)
            .err()
            .unwrap_or_else(authentication_failed),
        Err(error) => unknown_is(error, || invalid_operation(APPROVE_UNEXPECTED)),
    }
}

async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let request = request(&body.0)?.ok_or_else(authentication_failed)?;
    let activation = authenticate(
        &state,
        &headers,
        "POST",
        "/operation/cancel",
        &body.0,
        &[SignatureType::Possession],
    )
    .await
    .map_err(auth_failed)?
    .activation;
    let id = request
        .id
        .clone()
        .ok_or_else(|| invalid_request("Request validation error: operation ID is required"))?;
    let operation = operations::load(&state, &id)
        .await?
        .ok_or_else(|| invalid_operation(CANCEL_UNEXPECTED))?;
    handle_status(&operation)?;
    check_flag(&operation, &activation)?;
    let mut additional = vec![
        ("activationId", json!(activation.activation_id)),
        ("applicationId", json!(activation.application_id)),
    ];
    additional.extend(request_context(&headers));
    additional.push(("rejectReason", json!(request.reason)));
    let user = activation.user_id.clone();
    // PowerAuth Server's reject: the operation's user (none binds the caller) and
    // application, else REJECT_FAILED and nothing changes.
    let (operation, rejected) = operations::update(&state, &id, |o, now| {
        if o.status != OperationStatus::Pending {
            return Err(invalid_operation(CANCEL_UNEXPECTED));
        }
        let owner_matches = o.user_id.as_deref().is_none_or(|owner| owner == user);
        if !(owner_matches && o.application_id == activation.application_id) {
            return Ok(false);
        }
        o.user_id = Some(user.clone());
        o.status = OperationStatus::Rejected;
        o.timestamp_finalized = Some(now);
        merge(&mut o.additional_data, additional.clone());
        Ok(true)
    })
    .await
    .map_err(|e| unknown_is(e, || invalid_operation(CANCEL_UNEXPECTED)))?;
    if rejected {
        return Ok(json_response(&json!({"status": "OK"})));
    }
    handle_status(&operation)?;
    Err(Error::api(
        StatusCode::UNAUTHORIZED,
        "OPERATION_FAILED",
        "PowerAuth server operation rejection fails",
    ))
}
