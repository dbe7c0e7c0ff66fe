//! `/pa/v3/token/create` (signed, activation-scope ECIES) and `/pa/v3/token/remove`.

use super::auth::{authenticate, signature_invalid};
use super::encryption::{SignatureCovers, SignedEndpoint, open_signed_request, seal};
use crate::error::Error;
use crate::extract::{RawBody, ResponseObject, request_object};
use crate::state::AppState;
use crate::store::Token;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::SymmetricKey;
use powerauth::ecies::SharedInfo1;
use powerauth::encoding::b64;
use powerauth::signature::SignatureType;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/pa/v3/token/create", post(create))
        .route("/pa/v3/token/remove", post(remove))
}

/// 401 `POWER_AUTH_TOKEN_ERROR`: any token create/remove failure (digest §16.3).
fn token_error(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "token request refused");
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_TOKEN_ERROR",
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedToken {
    token_id: String,
    token_secret: String,
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    const ENDPOINT: SignedEndpoint = SignedEndpoint {
        uri_id: "/pa/token/create",
        allowed: &SignatureType::ALL,
        shared_info1: SharedInfo1::CreateToken,
        covers: SignatureCovers::EncryptedBody,
    };
    let (authenticated, _, responder) = open_signed_request(
        &state,
        &headers,
        &body.0,
        &ENDPOINT,
        |_| token_error("signature"),
        token_error,
    )
    .await?;
    let activation = &authenticated.activation;
    let token = Token {
        token_id: state.make_uuid(),
        activation_id: activation.activation_id.clone(),
        token_secret: SymmetricKey::make(&*state.rng),
        signature_type: authenticated.header.signature_type,
    };
    state.store.insert_token(&token, state.now_ms()).await?;
    let plain = serde_json::to_vec(&CreatedToken {
        token_id: token.token_id.clone(),
        token_secret: b64(token.token_secret.expose_bytes()),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    seal(&state, responder, &plain)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveRequest {
    token_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemovedToken {
    token_id: String,
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<ResponseObject<RemovedToken>, Error> {
    let authenticated = authenticate(
        &state,
        &headers,
        "POST",
        "/pa/token/remove",
        &body.0,
        &SignatureType::ALL,
    )
    .await
    .map_err(|e| match e {
        Error::Internal(_) => e,
        _ => signature_invalid(),
    })?;
    let request: RemoveRequest = request_object(&body.0).map_err(token_error)?;
    // Removing a token that is already gone succeeds, as on PowerAuth Server.
    state
        .store
        .remove_token(&request.token_id, &authenticated.activation.activation_id)
        .await?;
    Ok(ResponseObject(RemovedToken {
        token_id: request.token_id,
    }))
}
