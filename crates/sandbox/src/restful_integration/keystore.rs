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

pub(crate) fn router() -> Router<AppState> {
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
    let jwt = issue(&state, &request.jwt)
        .await
        .map_err(|refusal| match refusal {
            KeyRefusal::Fault(e) => e,
            other => temporary_key_failure(other),
        })?;
    Ok(ResponseObject(JwtResponse { jwt }))
}

/// Why [`issue`] refused a key request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyRefusal {
    /// A JWT that does not parse, verify, or is out of time.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// No supported application version with the JWT's application key.
    #[error("unknown or unsupported application key")]
    UnknownApplication,
    /// An activation-scope request for an activation that is not ACTIVE or BLOCKED in
    /// that application, or has no keys.
    #[error("activation not ACTIVE or BLOCKED")]
    UnknownActivation,
    /// A server fault.
    #[error(transparent)]
    Fault(#[from] Error),
}

impl From<crate::store::StoreError> for KeyRefusal {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Fault(e.into())
    }
}

/// Verifies a temporary key request `jwt` and answers the signed response JWT for a new
/// temporary key, which is saved: what `/pa/v3/keystore/create` and PowerAuth Server's
/// `/rest/v3/keystore/create` share.
pub(crate) async fn issue(state: &AppState, jwt: &str) -> Result<String, KeyRefusal> {
    let invalid = |e: &dyn std::fmt::Display| KeyRefusal::Invalid(e.to_string());
    let unverified = UnverifiedKeyRequest::parse(jwt).map_err(|e| invalid(&e))?;
    let claims = unverified.claims().clone();
    let version = state
        .store
        .version_by_key(&claims.application_key)
        .await?
        .filter(|v| v.supported)
        .ok_or(KeyRefusal::UnknownApplication)?;
    let application = state
        .store
        .application(&version.application_id)
        .await?
        .ok_or(KeyRefusal::UnknownApplication)?;
    let now = state.now_ms();
    let now_u64 = u64::try_from(now).unwrap_or_default();
    let key_pair = KeyPair::make(&*state.rng);
    let key_id = make_key_id(&*state.rng);
    let jwt = match &claims.activation_id {
        None => {
            let verified = unverified
                .verify(&version.application_secret, Scope::Application, now_u64)
                .map_err(|e| invalid(&e))?;
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
            let activation = crate::activations::load(state, activation_id)
                .await?
                .filter(|a| {
                    a.application_id == application.application_id
                        && matches!(a.state, ActivationState::Active | ActivationState::Blocked)
                })
                .ok_or(KeyRefusal::UnknownActivation)?;
            let (Some(keys), Some(server)) = (
                state.activation_keys(&activation),
                &activation.server_key_pair,
            ) else {
                return Err(KeyRefusal::UnknownActivation);
            };
            let scope = Scope::Activation {
                activation_id,
                transport_key: &keys.transport,
            };
            let verified = unverified
                .verify(&version.application_secret, scope, now_u64)
                .map_err(|e| invalid(&e))?;
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
    Ok(jwt)
}
