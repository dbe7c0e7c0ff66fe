//! `/pa/v3/keystore/create` (protocol 3.3): issues a temporary ECIES key in exchange for
//! a JWT signed with the application secret (application scope) or a key derived from
//! `KEY_TRANSPORT` (activation scope).

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use crate::store::TemporaryKey;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use powerauth::KeyPair;
use powerauth::ecies::Scope;
use powerauth::status::ActivationState;
use powerauth::temporary_key::{DEFAULT_VALIDITY_MS, UnverifiedKeyRequest, make_key_id};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/keystore/create", post(create))
}

#[derive(Deserialize)]
struct JwtRequest {
    jwt: String,
}

#[derive(Serialize)]
struct JwtResponse {
    jwt: String,
}

fn temporary_key_failure(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "temporary key refused");
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_TEMPORARY_KEY",
        "POWER_AUTH_TEMPORARY_KEY_FAILURE",
    )
}

async fn create(
    State(state): State<AppState>,
    request: Result<RequestObject<JwtRequest>, Error>,
) -> Result<ResponseObject<JwtResponse>, Error> {
    let RequestObject(request) = request.map_err(temporary_key_failure)?;
    let unverified = UnverifiedKeyRequest::parse(&request.jwt).map_err(temporary_key_failure)?;
    let claims = unverified.claims().clone();
    let version = state
        .store
        .version_by_key(&claims.application_key)
        .await?
        .filter(|v| v.supported)
        .ok_or_else(|| temporary_key_failure("unknown or unsupported application key"))?;
    let application = state
        .store
        .application(&version.application_id)
        .await?
        .ok_or_else(|| temporary_key_failure("application vanished"))?;
    let now = state.now_ms();
    let now_u64 = u64::try_from(now).unwrap_or_default();
    let key_pair = KeyPair::make(&*state.rng);
    let key_id = make_key_id(&*state.rng);
    let jwt = match &claims.activation_id {
        None => {
            let verified = unverified
                .verify(&version.application_secret, Scope::Application, now_u64)
                .map_err(temporary_key_failure)?;
            verified.respond(
                &key_id,
                &key_pair.public,
                &application.master,
                now_u64,
                DEFAULT_VALIDITY_MS,
                state.signing_rng(),
            )
        }
        Some(activation_id) => {
            let activation = crate::activations::load(&state, activation_id)
                .await?
                .filter(|a| {
                    a.application_id == application.application_id
                        && matches!(a.state, ActivationState::Active | ActivationState::Blocked)
                })
                .ok_or_else(|| temporary_key_failure("activation not ACTIVE or BLOCKED"))?;
            let (Some(keys), Some(server)) = (
                state.activation_keys(&activation),
                &activation.server_key_pair,
            ) else {
                return Err(temporary_key_failure("activation has no keys"));
            };
            let scope = Scope::Activation {
                activation_id,
                transport_key: &keys.transport,
            };
            let verified = unverified
                .verify(&version.application_secret, scope, now_u64)
                .map_err(temporary_key_failure)?;
            verified.respond(
                &key_id,
                &key_pair.public,
                server,
                now_u64,
                DEFAULT_VALIDITY_MS,
                state.signing_rng(),
            )
        }
    };
    state
        .store
        .insert_temporary_key(&TemporaryKey {
            key_id,
            application_key: claims.application_key,
            activation_id: claims.activation_id,
            key_pair,
            timestamp_expires: now.saturating_add(DEFAULT_VALIDITY_MS as i64),
        })
        .await?;
    Ok(ResponseObject(JwtResponse { jwt }))
}
