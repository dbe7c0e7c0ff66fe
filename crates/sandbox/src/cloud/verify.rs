//! `/powerauth-cloud/v2/signature/verify` and `/v2/token/verify`: a bank's back end asks
//! whether the `X-PowerAuth-Authorization` or `X-PowerAuth-Token` header its mobile app
//! sent is valid. A well-formed header always answers 200 with the verdict; a signature
//! is valid once (a replay fails and costs an attempt, as PowerAuth Server counts them).

use super::access::Caller;
use super::error;
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use powerauth::encoding::b64_decode;
use powerauth::signature::{AuthorizationHeader, RequestData, canonicalize_params};
use powerauth::status::ActivationState;
use powerauth::token::TokenHeader;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/signature/verify", post(verify_signature))
        .route("/v2/token/verify", post(verify_token))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignatureRequest {
    method: String,
    uri_id: String,
    auth_header: String,
    /// Base64 of the exact body (POST, PUT, DELETE); `null` for a GET.
    request_body: Option<String>,
    /// The query parameters a GET was signed with.
    query_params: Option<BTreeMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignatureResponse {
    signature_valid: bool,
    registration_id: String,
    registration_status: ActivationState,
    user_id: Option<String>,
    application_id: Option<String>,
    signature_type: Option<&'static str>,
    remaining_attempts: Option<u32>,
    flags: Option<Vec<String>>,
}

fn signature_invalid(message: impl Into<String>) -> Error {
    error(StatusCode::BAD_REQUEST, "ERROR_SIGNATURE_INVALID", message)
}

async fn verify_signature(
    caller: Caller,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: SignatureRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let header = AuthorizationHeader::parse(&request.auth_header)
        .map_err(|e| signature_invalid(format!("authHeader: {e}")))?;
    let signed = match (&request.query_params, &request.request_body) {
        (Some(params), _) if request.method.eq_ignore_ascii_case("GET") => {
            canonicalize_params(params.iter().map(|(k, v)| (k.as_str(), v.as_str()))).into_bytes()
        }
        (_, Some(body)) => b64_decode(body)
            .map_err(|_| Error::InvalidRequest("requestBody must be Base64".to_owned()))?,
        (_, None) => Vec::new(),
    };
    let unknown = SignatureResponse {
        signature_valid: false,
        registration_id: header.activation_id.clone(),
        registration_status: ActivationState::Removed,
        user_id: None,
        application_id: None,
        signature_type: None,
        remaining_attempts: None,
        flags: None,
    };
    // A registration of another application is unknown to this caller, and costs nothing.
    let visible = crate::activations::load(&state, &header.activation_id)
        .await?
        .is_some_and(|a| caller.may_use(&a.application_id));
    if !visible {
        return Ok(json_response(&unknown));
    }
    let data = RequestData::new(&request.method, &request.uri_id, &header.nonce, &signed);
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
    let Some(activation) = verdict.activation else {
        return Ok(json_response(&unknown));
    };
    // Attempts are reported only for a registration that could be used (PowerAuth
    // Server's `invalidStateResponse` leaves them, the user and the type out otherwise).
    let usable = verdict.remaining_attempts.is_some() || verdict.valid;
    Ok(json_response(&SignatureResponse {
        signature_valid: verdict.valid,
        registration_id: activation.activation_id,
        registration_status: activation.state,
        user_id: usable.then_some(activation.user_id),
        application_id: Some(activation.application_id),
        signature_type: usable.then(|| header.signature_type.server_name()),
        remaining_attempts: verdict.remaining_attempts,
        flags: Some(activation.flags),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    auth_header: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    token_valid: bool,
    user_id: Option<String>,
    registration_id: Option<String>,
    registration_status: Option<ActivationState>,
    signature_type: Option<&'static str>,
    application_id: Option<String>,
    flags: Option<Vec<String>>,
}

async fn verify_token(
    caller: Caller,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: TokenRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let header = TokenHeader::parse(&request.auth_header).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "ERROR_TOKEN_INVALID",
            format!("authHeader: {e}"),
        )
    })?;
    let response = match crate::tokens::validate(&state, &header).await? {
        Ok(valid) if caller.may_use(&valid.activation.application_id) => TokenResponse {
            token_valid: true,
            user_id: Some(valid.activation.user_id),
            registration_id: Some(valid.activation.activation_id),
            registration_status: Some(valid.activation.state),
            signature_type: Some(valid.token.signature_type.server_name()),
            application_id: Some(valid.activation.application_id),
            flags: Some(valid.activation.flags),
        },
        outcome => {
            if let Err(refusal) = outcome {
                tracing::debug!(%refusal, "token invalid");
            }
            TokenResponse {
                token_valid: false,
                user_id: None,
                registration_id: None,
                registration_status: None,
                signature_type: None,
                application_id: None,
                flags: None,
            }
        }
    };
    Ok(json_response(&response))
}
