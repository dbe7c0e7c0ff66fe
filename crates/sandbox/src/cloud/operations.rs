//! `/powerauth-cloud/v2/operations`: a bank's back end creates operations from templates,
//! polls and cancels them, and authorizes one offline (a QR code the server signs, the
//! OTP the user types back). The application comes from the caller's credentials; an
//! operation of an application the caller is not assigned is not found.

use super::access::Caller;
use super::{error, optional_body, status_ok, timestamp};
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::operations::{self, NewOperation};
use crate::signatures;
use crate::state::AppState;
use crate::store::{Operation, OperationStatus};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use powerauth::encoding::{b64, b64_decode_array};
use powerauth::offline::{OfflinePayload, QrFlags, SigningKeyKind, operation_qr_data};
use powerauth::signature::{ComponentLength, OfflineOptions, RequestData};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/operations", post(create).get(list))
        .route("/v2/operations/", post(create).get(list))
        .route("/v2/operations/{operation_id}", get(detail).delete(cancel))
        .route("/v2/operations/{operation_id}/offline/qr", get(offline_qr))
        .route(
            "/v2/operations/{operation_id}/offline/otp",
            post(offline_otp),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    user_id: Option<String>,
    template: String,
    /// The language of the first push; the sandbox's pushes are in English.
    #[allow(dead_code)]
    language: Option<String>,
    external_id: Option<String>,
    flag: Option<String>,
    timestamp_expires: Option<Value>,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    proximity_check_enabled: bool,
    #[serde(default)]
    silent: bool,
    #[serde(default)]
    additional_data: Map<String, Value>,
}

/// An operation as the Cloud shows it; times in epoch milliseconds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperationView {
    operation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    status: OperationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<String>,
    operation_type: String,
    template: String,
    parameters: Map<String, Value>,
    additional_data: Map<String, Value>,
    failure_count: i64,
    max_failure_count: i64,
    timestamp_created: i64,
    timestamp_expires: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_finalized: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    /// The TOTP the back end shows for the proximity check, when the operation has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    proximity_otp: Option<String>,
}

fn view(operation: Operation, now_ms: i64) -> OperationView {
    let proximity_otp = (operation.status == OperationStatus::Pending)
        .then(|| operations::proximity_otp(&operation, now_ms))
        .flatten();
    OperationView {
        proximity_otp,
        operation_id: operation.operation_id,
        user_id: operation.user_id,
        status: operation.status,
        status_reason: operation.status_reason,
        operation_type: operation.operation_type,
        template: operation.template_name,
        parameters: operation.parameters,
        additional_data: operation.additional_data,
        failure_count: operation.failure_count,
        max_failure_count: operation.max_failure_count,
        timestamp_created: operation.timestamp_created,
        timestamp_expires: operation.timestamp_expires,
        timestamp_finalized: operation.timestamp_finalized,
        external_id: operation.external_id,
    }
}

async fn create(
    caller: Caller,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: CreateRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let timestamp_expires = timestamp("timestampExpires", request.timestamp_expires.as_ref())?;
    let application_id = caller.application(&state).await?;
    let (operation, _) = operations::create(
        &state,
        NewOperation {
            user_id: request.user_id,
            application_id,
            template_name: request.template,
            parameters: request.parameters,
            external_id: request.external_id,
            activation_flag: request.flag,
            activation_id: None,
            timestamp_expires,
            additional_data: request.additional_data,
            proximity_check: request.proximity_check_enabled,
        },
    )
    .await?;
    if !request.silent {
        crate::push::operation_created(&state, &operation).await?;
    }
    Ok(json_response(&view(operation, state.now_ms())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: String,
    #[serde(default)]
    pending_only: bool,
}

/// `GET /v2/operations?userId=` (sandbox extension: the Cloud has no operation list).
async fn list(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let now = state.now_ms();
    let operations: Vec<OperationView> =
        operations::of_user(&state, &query.user_id, query.pending_only)
            .await?
            .into_iter()
            .filter(|o| caller.may_use(&o.application_id))
            .map(|o| view(o, now))
            .collect();
    Ok(json_response(
        &serde_json::json!({ "operations": operations }),
    ))
}

/// The operation `id` if the caller may see it; otherwise not found.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Operation, Error> {
    operations::load(state, id)
        .await?
        .filter(|o| caller.may_use(&o.application_id))
        .ok_or(Error::UnknownOperation)
}

fn state_change(operation: &Operation) -> Error {
    error(
        StatusCode::BAD_REQUEST,
        "ERROR_OPERATION_STATE_CHANGE",
        format!(
            "the operation is {}, not PENDING",
            operation.status.as_str()
        ),
    )
}

/// `GET /v2/operations/{id}` (an extra `?operationId=`, as the tutorial lists it, is ignored).
async fn detail(
    caller: Caller,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
) -> Result<Response, Error> {
    let operation = visible(&state, &caller, &operation_id).await?;
    Ok(json_response(&view(operation, state.now_ms())))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CancelQuery {
    status_reason: Option<String>,
}

/// `DELETE /v2/operations/{id}[?statusReason=]`: PENDING → CANCELED. A body (the
/// tutorial sends `{"operationId": …}`) is read and ignored.
async fn cancel(
    caller: Caller,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
    query: Result<Query<CancelQuery>, axum::extract::rejection::QueryRejection>,
    body: RawBody,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let _: Value = optional_body::<Option<Value>>(&body.0)?.unwrap_or_default();
    visible(&state, &caller, &operation_id).await?;
    operations::update(&state, &operation_id, |o, now| {
        if o.status != OperationStatus::Pending {
            return Err(state_change(o));
        }
        o.status = OperationStatus::Canceled;
        o.status_reason.clone_from(&query.status_reason);
        o.timestamp_finalized = Some(now);
        Ok(())
    })
    .await?;
    Ok(status_ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfflineQrQuery {
    registration_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfflineQr {
    operation_qr_code_data: String,
    nonce: String,
}

/// The registration `id` of the caller's applications, ACTIVE with its keys.
async fn active_registration(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<crate::store::Activation, Error> {
    let activation = crate::activations::load(state, id)
        .await?
        .filter(|a| caller.may_use(&a.application_id))
        .ok_or(Error::UnknownActivation)?;
    if activation.state != ActivationState::Active {
        return Err(Error::ActivationState(format!(
            "offline authorization needs an ACTIVE registration, this one is {}",
            activation.state
        )));
    }
    Ok(activation)
}

/// `GET /v2/operations/{id}/offline/qr?registrationId=`: the mobile-token QR code of a
/// PENDING operation, signed with the registration's server key (digest §5.7). It allows
/// `possession_knowledge` only, so the OTP's signature type is known.
async fn offline_qr(
    caller: Caller,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
    query: Result<Query<OfflineQrQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let operation = visible(&state, &caller, &operation_id).await?;
    let activation = active_registration(&state, &caller, &query.registration_id).await?;
    if operation.status != OperationStatus::Pending {
        return Err(state_change(&operation));
    }
    let server = activation
        .server_key_pair
        .as_ref()
        .ok_or_else(|| Error::Internal("an ACTIVE registration without keys".to_owned()))?;
    let template = state.store.template(&operation.template_name).await?;
    let text = |field: &str| -> Result<String, Error> {
        match template.as_ref().and_then(|t| t.form_data[field].as_str()) {
            Some(text) => operations::render(text, &operation.parameters),
            None => Ok(operation.operation_type.clone()),
        }
    };
    let flags = QrFlags {
        biometry_allowed: false,
        flip_buttons: false,
        fraud_warning: false,
        block_when_on_call: false,
    };
    let data = operation_qr_data(
        &operation.operation_id,
        &text("title")?,
        &text("message")?,
        &operation.data,
        flags,
    );
    let payload = OfflinePayload::new(data, None, &*state.rng);
    let operation_qr_code_data =
        payload.sign(SigningKeyKind::Personalized, server, state.signing_rng());
    Ok(json_response(&OfflineQr {
        operation_qr_code_data,
        nonce: b64(payload.nonce()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfflineOtpRequest {
    otp: String,
    nonce: String,
    registration_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfflineOtpResponse {
    otp_valid: bool,
    user_id: String,
    registration_id: String,
    registration_status: ActivationState,
    signature_type: &'static str,
    remaining_attempts: Option<u32>,
    flags: Vec<String>,
    application: String,
}

/// `POST /v2/operations/{id}/offline/otp`: checks the OTP the user typed from the QR code
/// (a decimal `possession_knowledge` signature over `operationId&data`). A valid one
/// approves the operation; a wrong one costs a failed attempt on the registration and one
/// on the operation, as an online approval would.
async fn offline_otp(
    caller: Caller,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: OfflineOtpRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let Some(otp) = powerauth::offline::signature_from_display(&request.otp) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "ERROR_OTP_INVALID",
            "otp must be 8, 16 or 24 digits, grouped by dashes or not",
        ));
    };
    let nonce: [u8; 16] = b64_decode_array(&request.nonce)
        .map_err(|_| Error::InvalidRequest("nonce must be Base64 of 16 bytes".to_owned()))?;
    let operation = visible(&state, &caller, &operation_id).await?;
    let activation = active_registration(&state, &caller, &request.registration_id).await?;
    if operation.status != OperationStatus::Pending {
        return Err(state_change(&operation));
    }
    let signed = format!("{}&{}", operation.operation_id, operation.data);
    let data = RequestData::new(
        "POST",
        "/operation/authorize/offline",
        &nonce,
        signed.as_bytes(),
    );
    let verdict = signatures::verify_offline(
        &state,
        &activation.activation_id,
        &data,
        &otp,
        OfflineOptions {
            allow_biometry: false,
            component_length: ComponentLength::new(8)
                .map_err(|e| Error::Internal(e.to_string()))?,
        },
    )
    .await?;
    let owner_matches = operation
        .user_id
        .is_none_or(|user| user == activation.user_id)
        && operation.application_id == activation.application_id;
    let valid = verdict.valid && owner_matches;
    operations::update(&state, &operation_id, |o, now| {
        if o.status != OperationStatus::Pending {
            return Err(state_change(o));
        }
        if valid {
            o.status = OperationStatus::Approved;
            o.user_id = Some(activation.user_id.clone());
            o.activation_id = Some(activation.activation_id.clone());
            o.timestamp_finalized = Some(now);
        } else {
            operations::fail_once(o, now);
        }
        Ok(())
    })
    .await?;
    let after = verdict.activation.unwrap_or(activation);
    Ok(json_response(&OfflineOtpResponse {
        otp_valid: valid,
        user_id: after.user_id,
        registration_id: after.activation_id,
        registration_status: after.state,
        signature_type: "POSSESSION_KNOWLEDGE",
        remaining_attempts: verdict.remaining_attempts,
        flags: after.flags,
        application: after.application_id,
    }))
}
