//! `/rest/v3/signature/verify`: what an intermediate server asks after reading an
//! `X-PowerAuth-Authorization` header.

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::ProtocolVersion;
use powerauth::signature::{RequestData, SignatureType};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/rest/v3/signature/verify", post(verify))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest {
    activation_id: String,
    application_key: String,
    data: String,
    signature: String,
    signature_type: String,
    signature_version: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyResponse {
    signature_valid: bool,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
    activation_id: String,
    user_id: Option<String>,
    application_id: Option<String>,
    signature_type: &'static str,
    remaining_attempts: Option<u32>,
    application_roles: Vec<String>,
    activation_flags: Vec<String>,
}

async fn verify(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VerifyRequest>,
) -> Result<ResponseObject<VerifyResponse>, Error> {
    let signature_type: SignatureType = request.signature_type.parse().map_err(|_| {
        Error::InvalidRequest(format!(
            "unknown signatureType {:?}",
            request.signature_type
        ))
    })?;
    let version: ProtocolVersion = request
        .signature_version
        .as_deref()
        .unwrap_or("3.1")
        .parse()
        .map_err(|_| Error::InvalidRequest("signatureVersion must be 3.0 to 3.3".to_owned()))?;
    let data = RequestData::from_received(request.data);
    let verdict = signatures::verify(
        &state,
        &SignedRequest {
            activation_id: &request.activation_id,
            application_key: &request.application_key,
            data: &data,
            signature: &request.signature,
            signature_type,
            version,
        },
    )
    .await?;
    let activation = verdict.activation;
    Ok(ResponseObject(VerifyResponse {
        signature_valid: verdict.valid,
        activation_status: activation
            .as_ref()
            .map_or(ActivationState::Removed, |a| a.state),
        blocked_reason: activation.as_ref().and_then(|a| a.blocked_reason.clone()),
        activation_id: request.activation_id,
        user_id: activation.as_ref().map(|a| a.user_id.clone()),
        application_id: activation.as_ref().map(|a| a.application_id.clone()),
        signature_type: signature_type.server_name(),
        remaining_attempts: verdict.remaining_attempts,
        application_roles: Vec::new(),
        activation_flags: activation.map(|a| a.flags).unwrap_or_default(),
    }))
}
