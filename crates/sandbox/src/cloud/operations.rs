//! `/powerauth-cloud/v2/operations` and `/v2/signature/verify`: a bank's integration
//! creates operations from templates, reads and cancels them, and checks signatures of
//! its own endpoints.

use super::auth::Authenticated;
use crate::clock::iso8601;
use crate::error::Error;
use crate::extract::{Json, json_response};
use crate::operations::{self, NewOperation, require_pending};
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use crate::store::{Operation, OperationStatus};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use powerauth::encoding::b64_decode;
use powerauth::signature::{AuthorizationHeader, RequestData};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/operations", post(create))
        .route("/v2/operations/{operation_id}", get(detail).delete(cancel))
        .route("/v2/signature/verify", post(verify_signature))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    user_id: Option<String>,
    template: String,
    #[serde(default = "default_app")]
    app_id: String,
    #[serde(default)]
    parameters: Map<String, Value>,
    external_id: Option<String>,
    #[serde(default)]
    proximity_check_enabled: bool,
}

fn default_app() -> String {
    crate::apps::DEFAULT_APPLICATION.to_owned()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OperationView {
    operation_id: String,
    user_id: Option<String>,
    app_id: String,
    status: OperationStatus,
    status_reason: Option<String>,
    operation_type: String,
    template: String,
    data: String,
    parameters: Map<String, Value>,
    failure_count: i64,
    max_failure_count: i64,
    timestamp_created: String,
    timestamp_expires: String,
    timestamp_finalized: Option<String>,
}

impl From<Operation> for OperationView {
    fn from(o: Operation) -> Self {
        Self {
            operation_id: o.operation_id,
            user_id: o.user_id,
            app_id: o.application_id,
            status: o.status,
            status_reason: o.status_reason,
            operation_type: o.operation_type,
            template: o.template_name,
            data: o.data,
            parameters: o.parameters,
            failure_count: o.failure_count,
            max_failure_count: o.max_failure_count,
            timestamp_created: iso8601(o.timestamp_created),
            timestamp_expires: iso8601(o.timestamp_expires),
            timestamp_finalized: o.timestamp_finalized.map(iso8601),
        }
    }
}

fn not_found() -> Error {
    Error::api(
        StatusCode::NOT_FOUND,
        "OPERATION_NOT_FOUND",
        "no operation with this id",
    )
}

async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    Json(request): Json<CreateRequest>,
) -> Result<Response, Error> {
    let (operation, _) = operations::create(
        &state,
        NewOperation {
            user_id: request.user_id,
            application_id: request.app_id,
            template_name: request.template,
            parameters: request.parameters,
            external_id: request.external_id,
            proximity_check: request.proximity_check_enabled,
            ..NewOperation::default()
        },
    )
    .await
    .map_err(|e| match e {
        Error::UnknownApplication => Error::api(
            StatusCode::BAD_REQUEST,
            "INVALID_APPLICATION",
            "no application with this appId",
        ),
        other => other,
    })?;
    crate::push::operation_created(&state, &operation).await?;
    Ok(json_response(&OperationView::from(operation)))
}

async fn detail(
    _: Authenticated,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
) -> Result<Response, Error> {
    let operation = operations::load(&state, &operation_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(json_response(&OperationView::from(operation)))
}

async fn cancel(
    _: Authenticated,
    State(state): State<AppState>,
    Path(operation_id): Path<String>,
) -> Result<Response, Error> {
    let (operation, ()) = operations::update(&state, &operation_id, |o, now| {
        require_pending(o)?;
        o.status = OperationStatus::Canceled;
        o.status_reason = Some("CANCELED_BY_INTEGRATION".to_owned());
        o.timestamp_finalized = Some(now);
        Ok(())
    })
    .await
    .map_err(|e| match e {
        Error::UnknownOperation => not_found(),
        other => other,
    })?;
    Ok(json_response(&OperationView::from(operation)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VerifyRequest {
    method: String,
    uri_id: String,
    /// Base64 of the exact request body.
    request_body: String,
    auth_header: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyResponse {
    signature_valid: bool,
    user_id: Option<String>,
    activation_id: String,
    app_id: Option<String>,
    signature_type: &'static str,
    activation_status: Option<powerauth::status::ActivationState>,
    remaining_attempts: Option<u32>,
}

async fn verify_signature(
    _: Authenticated,
    State(state): State<AppState>,
    Json(request): Json<VerifyRequest>,
) -> Result<Response, Error> {
    let body = b64_decode(&request.request_body)
        .map_err(|_| Error::InvalidRequest("requestBody must be Base64".to_owned()))?;
    let header = AuthorizationHeader::parse(&request.auth_header)
        .map_err(|e| Error::InvalidRequest(format!("authHeader: {e}")))?;
    let data = RequestData::new(&request.method, &request.uri_id, &header.nonce, &body);
    let verdict = signatures::verify(
        &state,
        &SignedRequest {
            activation_id: &header.activation_id,
            application_key: &header.application_key,
            data: &data,
            signature: &header.signature,
            signature_type: header.signature_type,
            version: header.version,
        },
    )
    .await?;
    let activation = verdict.activation;
    Ok(json_response(&VerifyResponse {
        signature_valid: verdict.valid,
        user_id: activation.as_ref().map(|a| a.user_id.clone()),
        app_id: activation.as_ref().map(|a| a.application_id.clone()),
        activation_status: activation.as_ref().map(|a| a.state),
        activation_id: header.activation_id,
        signature_type: header.signature_type.server_name(),
        remaining_attempts: verdict.remaining_attempts,
    }))
}
