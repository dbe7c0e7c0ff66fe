//! `/rest/v3/token/validate`: what an intermediate server asks about an
//! `X-PowerAuth-Token` header.

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::encoding::b64_decode_array;
use powerauth::status::ActivationState;
use powerauth::token::TokenHeader;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/rest/v3/token/validate", post(validate))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    token_id: String,
    token_digest: String,
    nonce: String,
    timestamp: serde_json::Value,
    protocol_version: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidateResponse {
    token_valid: bool,
    activation_id: Option<String>,
    user_id: Option<String>,
    application_id: Option<String>,
    signature_type: Option<&'static str>,
    activation_status: Option<ActivationState>,
    blocked_reason: Option<String>,
    application_roles: Vec<String>,
    activation_flags: Vec<String>,
}

async fn validate(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ValidateRequest>,
) -> Result<ResponseObject<ValidateResponse>, Error> {
    let invalid = |field: &str| Error::InvalidRequest(format!("{field} is malformed"));
    // The timestamp comes as a number or a decimal string.
    let timestamp_ms = match &request.timestamp {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid("timestamp"))?;
    let header = TokenHeader {
        token_id: request.token_id,
        token_digest: b64_decode_array(&request.token_digest)
            .map_err(|_| invalid("tokenDigest"))?,
        nonce: b64_decode_array(&request.nonce).map_err(|_| invalid("nonce"))?,
        timestamp_ms,
        version: request
            .protocol_version
            .parse()
            .map_err(|_| invalid("protocolVersion"))?,
    };
    let response = match crate::tokens::validate(&state, &header).await? {
        Ok(valid) => ValidateResponse {
            token_valid: true,
            activation_id: Some(valid.activation.activation_id),
            user_id: Some(valid.activation.user_id),
            application_id: Some(valid.activation.application_id),
            signature_type: Some(valid.token.signature_type.server_name()),
            activation_status: Some(valid.activation.state),
            blocked_reason: valid.activation.blocked_reason,
            application_roles: Vec::new(),
            activation_flags: valid.activation.flags,
        },
        Err(refusal) => {
            tracing::debug!(%refusal, "token invalid");
            ValidateResponse {
                token_valid: false,
                activation_id: None,
                user_id: None,
                application_id: None,
                signature_type: None,
                activation_status: None,
                blocked_reason: None,
                application_roles: Vec::new(),
                activation_flags: Vec::new(),
            }
        }
    };
    Ok(ResponseObject(response))
}
