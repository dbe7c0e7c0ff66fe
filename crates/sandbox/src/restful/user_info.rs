//! `/pa/v3/user/info`: OIDC-like claims about the activation's user, over
//! activation-scope ECIES named by `X-PowerAuth-Encryption` (digest §10).

use super::encryption::{Channel, Refused, decrypt, seal};
use crate::error::Error;
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::ActivationKeys;
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptedRequest, EncryptionHeader, EncryptorScope, Scope, SharedInfo1,
};
use powerauth::status::ActivationState;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/user/info", post(user_info))
}

/// 400 `ERR_USER_INFO`.
fn user_info_error(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "user info refused");
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_USER_INFO",
        "POWER_AUTH_USER_INFO_ERROR",
    )
}

async fn user_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let header = headers
        .get(ENCRYPTION_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(super::request_invalid)?;
    let header = EncryptionHeader::parse(header, EncryptorScope::Activation)
        .map_err(|_| super::request_invalid())?;
    let activation_id = header.activation_id().unwrap_or_default();
    let activation = crate::activations::load(&state, activation_id)
        .await?
        .filter(|a| a.state == ActivationState::Active)
        .ok_or_else(|| user_info_error("no ACTIVE activation"))?;
    let version = state
        .store
        .version_by_key(header.application_key())
        .await?
        .filter(|v| v.supported && v.application_id == activation.application_id)
        .ok_or_else(|| user_info_error("application key"))?;
    let (Some(device), Some(server)) = (&activation.device_public_key, &activation.server_key_pair)
    else {
        return Err(user_info_error("activation has no keys"));
    };
    let keys = ActivationKeys::derive_from_ecdh(&server.private, device);
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol: header.version(),
        shared_info1: SharedInfo1::ActivationScopeGeneric,
        scope: Scope::Activation {
            activation_id: &activation.activation_id,
            transport_key: &keys.transport,
        },
        static_private: &server.private,
    };
    let request = EncryptedRequest::from_json(&body.0).map_err(user_info_error)?;
    let (_, responder) = decrypt(&state, &channel, &request)
        .await
        .map_err(|e| match e {
            Refused::Format(_) => super::request_invalid(),
            Refused::Decrypt(why) => user_info_error(why),
            Refused::Store(e) => e.into(),
        })?;
    let claims = json!({
        "sub": activation.user_id,
        "iat": state.now_ms() / 1000,
        "jti": state.make_uuid(),
    });
    seal(&state, responder, claims.to_string().as_bytes())
}
