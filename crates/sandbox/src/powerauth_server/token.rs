//! `/rest/v3/token/*`: what an intermediate server forwards from `/pa/v3/token/create`
//! (PowerAuth Server's `CreateTokenRequest`: the activation, application key, signature
//! type it verified, and the activation-scope ECIES fields; the answer is the encrypted
//! `{tokenId, tokenSecret}`), `/pa/v3/token/remove` (`RemoveTokenRequest`) and asks
//! about an `X-PowerAuth-Token` header (`token/validate`).

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

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/token/validate", post(validate))
        .route("/rest/v3/token/create", post(create))
        .route("/rest/v3/token/remove", post(remove))
}

/// `CreateTokenRequest`; the ECIES fields are in `envelope`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    activation_id: String,
    application_key: String,
    signature_type: String,
    protocol_version: String,
    #[serde(flatten)]
    envelope: serde_json::Map<String, serde_json::Value>,
}

/// `TokenInfo`, the encrypted answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenInfo {
    token_id: String,
    token_secret: String,
}

/// `/rest/v3/token/create`: ERR0009 unknown activation, ERR0008 not ACTIVE, ERR0015 a
/// foreign application key, ERR0024 a malformed envelope, ERR0018 undecryptable.
async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<serde_json::Map<String, serde_json::Value>>, Error> {
    use super::ecies::{active_with_key, open_forwarded, protocol_of, seal_fields};
    let signature_type: powerauth::signature::SignatureType =
        request.signature_type.parse().map_err(|_| {
            Error::InvalidRequest(format!(
                "unknown signatureType {:?}",
                request.signature_type
            ))
        })?;
    let protocol = protocol_of(&request.protocol_version)?;
    let (activation, version) =
        active_with_key(&state, &request.activation_id, &request.application_key).await?;
    let (_, responder) = open_forwarded(
        &state,
        &activation,
        &version,
        protocol,
        powerauth::ecies::SharedInfo1::CreateToken,
        request.envelope,
    )
    .await?;
    let token = crate::store::Token {
        token_id: state.make_uuid(),
        activation_id: activation.activation_id.clone(),
        token_secret: powerauth::SymmetricKey::make(&*state.rng),
        signature_type,
    };
    let plain = serde_json::to_vec(&TokenInfo {
        token_id: token.token_id.clone(),
        token_secret: powerauth::encoding::b64(token.token_secret.expose_bytes()),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    state.store.insert_token(&token, state.now_ms()).await?;
    Ok(ResponseObject(seal_fields(&state, responder, &plain)?))
}

/// `RemoveTokenRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveRequest {
    token_id: String,
    activation_id: String,
}

#[derive(Serialize)]
struct RemoveResponse {
    removed: bool,
}

/// `/rest/v3/token/remove`: `removed` is true only when the token existed and belongs to
/// the activation, as on PowerAuth Server.
async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RemoveRequest>,
) -> Result<ResponseObject<RemoveResponse>, Error> {
    let removed = state
        .store
        .remove_token(&request.token_id, &request.activation_id)
        .await?;
    Ok(ResponseObject(RemoveResponse { removed }))
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
        Ok(valid) => {
            let roles = state
                .store
                .application_roles(&valid.activation.application_id)
                .await?;
            ValidateResponse {
                token_valid: true,
                activation_id: Some(valid.activation.activation_id),
                user_id: Some(valid.activation.user_id),
                application_id: Some(valid.activation.application_id),
                signature_type: Some(valid.token.signature_type.server_name()),
                application_roles: roles,
                activation_status: Some(valid.activation.state),
                blocked_reason: valid.activation.blocked_reason,
                activation_flags: valid.activation.flags,
            }
        }
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
