//! `/pa/v3/vault/unlock`: with a second factor, the device gets `KEY_ENCRYPTION_VAULT`
//! wrapped with `KEY_TRANSPORT` (digest §9.1, §14 #10), e.g. to add biometry or to
//! decrypt its private key.

use super::encryption::{SignatureCovers, SignedEndpoint, open_signed_request, seal};
use crate::error::Error;
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::ecies::SharedInfo1;
use powerauth::encoding::b64;
use powerauth::signature::SignatureType;
use powerauth::vault::encrypt_vault_key;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/vault/unlock", post(unlock))
}

/// 400 `ERR_SECURE_VAULT`: any vault failure, a wrong factor included (digest §16.3).
fn vault_error(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "vault unlock refused");
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_SECURE_VAULT",
        "POWER_AUTH_SECURE_VAULT_INVALID",
    )
}

#[derive(Deserialize)]
struct UnlockRequest {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnlockResponse {
    encrypted_vault_encryption_key: String,
}

async fn unlock(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    const ENDPOINT: SignedEndpoint = SignedEndpoint {
        uri_id: "/pa/vault/unlock",
        allowed: &[
            SignatureType::PossessionKnowledge,
            SignatureType::PossessionBiometry,
            SignatureType::PossessionKnowledgeBiometry,
        ],
        shared_info1: SharedInfo1::VaultUnlock,
        covers: SignatureCovers::EncryptedBody,
    };
    let (authenticated, plaintext, responder) = open_signed_request(
        &state,
        &headers,
        &body.0,
        &ENDPOINT,
        vault_error,
        vault_error,
    )
    .await?;
    let request: UnlockRequest = serde_json::from_slice(&plaintext).map_err(vault_error)?;
    tracing::debug!(reason = ?request.reason, "vault unlocked");
    let activation = &authenticated.activation;
    let Some(keys) = state.activation_keys(activation) else {
        return Err(vault_error("activation has no keys"));
    };
    let wrapped = encrypt_vault_key(&keys.transport, &keys.vault);
    let plain = serde_json::to_vec(&UnlockResponse {
        encrypted_vault_encryption_key: b64(wrapped),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    seal(&state, responder, &plain)
}
