//! `/pa/v3/activation/create` (two-layer ECIES key exchange, digest §4) and
//! `/pa/v3/activation/status` (the encrypted status blob, digest §6).

use super::encryption::{Refused, decrypt_application_scope};
use super::key_exchange::{KeyExchangeError, exchange_keys, open_layer2};
use super::{activation_invalid, request_invalid};
use crate::activations;
use crate::error::Error;
use crate::extract::{RawBody, RequestObject, ResponseObject, json_response};
use crate::state::AppState;
use crate::store::Activation;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptedRequest, EncryptionHeader, EncryptorScope, SharedInfo1,
};
use powerauth::encoding::{b64, b64_decode_array};
use powerauth::signature::SignatureType;
use powerauth::status::{ActivationState, StatusRecord, encrypt_status, make_random_status};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/pa/v3/activation/create", post(create))
        .route("/pa/v3/activation/status", post(status))
        .route("/pa/v3/activation/remove", post(remove))
}

/// Layer 1 plaintext: who activates and the sealed layer 2.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layer1Request {
    /// `type` in the model, `activationType` in older docs (digest §14 #8).
    #[serde(alias = "activationType")]
    r#type: String,
    #[serde(default)]
    identity_attributes: HashMap<String, String>,
    activation_data: Map<String, Value>,
}

/// Logs why, answers 400 `ERR_ACTIVATION`.
fn refuse(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "activation create refused");
    activation_invalid()
}

fn from_refused(refused: Refused) -> Error {
    match refused {
        Refused::Format(e) => {
            tracing::debug!(%e, "activation create: envelope does not fit its version");
            request_invalid()
        }
        Refused::Decrypt(why) => refuse(why),
        Refused::Store(e) => e.into(),
    }
}

fn key_exchange_error(error: KeyExchangeError) -> Error {
    match error {
        KeyExchangeError::Format(e) => from_refused(Refused::Format(e)),
        KeyExchangeError::Refused(why) => refuse(why),
        KeyExchangeError::Fault(e) => e,
    }
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let header = headers
        .get(ENCRYPTION_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(request_invalid)?;
    let header = EncryptionHeader::parse(header, EncryptorScope::Application).map_err(|e| {
        tracing::debug!(%e, "activation create: bad encryption header");
        request_invalid()
    })?;
    let protocol = header.version();
    let version = state
        .store
        .version_by_key(header.application_key())
        .await?
        .filter(|v| v.supported)
        .ok_or_else(|| refuse("unknown or unsupported application key"))?;
    let application = state
        .store
        .application(&version.application_id)
        .await?
        .ok_or_else(|| refuse("application vanished"))?;

    let layer1 = EncryptedRequest::from_json(&body.0).map_err(refuse)?;
    let (plaintext, layer1_responder) = decrypt_application_scope(
        &state,
        &application,
        &version,
        protocol,
        SharedInfo1::ApplicationScopeGeneric,
        &layer1,
    )
    .await
    .map_err(from_refused)?;
    let layer1: Layer1Request = serde_json::from_slice(&plaintext).map_err(refuse)?;
    // Layer 2 first, as PowerAuth Server does: an undecryptable request changes nothing
    // (no record made, no PUK spent, no activation retired).
    let layer2 = match EncryptedRequest::try_from(layer1.activation_data) {
        Ok(envelope) => open_layer2(&state, &application, &version, protocol, &envelope).await,
        Err(e) => Err(KeyExchangeError::Refused(e.to_string())),
    }
    .map_err(key_exchange_error)?;
    let code = match layer1.r#type.as_str() {
        "CODE" => layer1
            .identity_attributes
            .get("code")
            .cloned()
            .ok_or_else(|| refuse("identityAttributes lacks code"))?,
        // Custom credentials: the sandbox trusts any identity that names a user, and the
        // activation is active at once, as the RESTful layer commits for such providers.
        "CUSTOM" => {
            let user_id = ["userId", "username"]
                .iter()
                .find_map(|k| layer1.identity_attributes.get(*k))
                .filter(|u| !u.trim().is_empty() && u.len() <= 255)
                .ok_or_else(|| {
                    refuse("CUSTOM identityAttributes must name a userId or username")
                })?;
            activations::create_unreported(
                &state,
                activations::NewActivation::committed_at_key_exchange(
                    user_id.clone(),
                    application.application_id.clone(),
                ),
            )
            .await?
            .activation_code
        }
        "RECOVERY" => {
            let attribute = |name: &str| {
                layer1
                    .identity_attributes
                    .get(name)
                    .cloned()
                    .ok_or_else(|| refuse(format!("RECOVERY identityAttributes lack {name}")))
            };
            if !crate::recovery::activation_recovery_enabled(&state, &application.application_id)
                .await?
            {
                return Err(refuse(
                    "activation recovery is disabled for this application",
                ));
            }
            let (recovery_code, puk) = (attribute("recoveryCode")?, attribute("puk")?);
            let recovery_code = recovery_code.strip_prefix("R:").unwrap_or(&recovery_code);
            let record =
                crate::recovery::redeem(&state, &application.application_id, recovery_code, &puk)
                    .await?;
            // The lost device's activation goes; a new one takes its place.
            let flags = crate::recovery::retire_replaced(&state, &record).await?;
            let mut replacement = activations::NewActivation::committed_at_key_exchange(
                record.user_id,
                application.application_id.clone(),
            );
            replacement.flags = flags;
            activations::create_unreported(&state, replacement)
                .await?
                .activation_code
        }
        other => {
            return Err(refuse(format!(
                "activation type {other:?} is not supported"
            )));
        }
    };

    let exchanged = exchange_keys(&state, &application, &code, layer2, true).await;
    let layer2_response = match exchanged {
        Ok((_, response)) => response,
        Err(error) => {
            if layer1.r#type != "CODE" {
                // Leave nothing half-made behind: the record made for this request goes.
                discard_unused(&state, &application.application_id, &code).await?;
            }
            return Err(key_exchange_error(error));
        }
    };
    let now = u64::try_from(state.now_ms()).unwrap_or_default();
    let activation_data: Value = serde_json::from_str(&layer2_response.to_json())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let layer1_plain = serde_json::to_vec(&serde_json::json!({
        "activationData": activation_data,
        "customAttributes": {},
    }))
    .map_err(|e| Error::Internal(e.to_string()))?;
    let layer1_response = layer1_responder.encrypt_response(&layer1_plain, &*state.rng, now);
    let body: Value = serde_json::from_str(&layer1_response.to_json())
        .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(json_response(&body))
}

/// Marks the still-`CREATED` record of `code` removed.
async fn discard_unused(state: &AppState, application_id: &str, code: &str) -> Result<(), Error> {
    if let Some(record) = state
        .store
        .created_activation_by_code(application_id, code)
        .await?
    {
        activations::discard_unused(state, &record.activation_id).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusRequest {
    activation_id: String,
    challenge: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusResponse {
    activation_id: String,
    encrypted_status_blob: String,
    nonce: Option<String>,
    custom_object: Option<Value>,
}

async fn status(
    State(state): State<AppState>,
    request: Result<RequestObject<StatusRequest>, Error>,
) -> Result<ResponseObject<StatusResponse>, Error> {
    let RequestObject(request) = request.map_err(refuse)?;
    let challenge = request
        .challenge
        .as_deref()
        .map(b64_decode_array::<16>)
        .transpose()
        .map_err(|_| refuse("challenge is not Base64 of 16 bytes"))?;
    let activation = activations::load(&state, &request.activation_id).await?;
    let encrypted = status_blob(&state, activation.as_ref(), challenge);
    Ok(ResponseObject(StatusResponse {
        activation_id: request.activation_id,
        encrypted_status_blob: b64(encrypted.encrypted_status_blob),
        nonce: encrypted.nonce.map(b64),
        custom_object: None,
    }))
}

/// The encrypted status blob of `activation`, with a nonce when the SDK sent a
/// `challenge` (3.1+). Unknown ids and records without keys get random bytes (digest §14
/// #21).
pub(crate) fn status_blob(
    state: &AppState,
    activation: Option<&Activation>,
    challenge: Option<[u8; 16]>,
) -> powerauth::status::EncryptedStatus {
    match activation.and_then(|a| status_keys(a, state)) {
        Some((record, transport)) => encrypt_status(&record, &transport, challenge, &*state.rng),
        None => make_random_status(challenge, &*state.rng),
    }
}

/// The blob's inputs and `KEY_TRANSPORT`, for a record past its key exchange.
fn status_keys(
    a: &Activation,
    state: &AppState,
) -> Option<(StatusRecord, powerauth::SymmetricKey)> {
    let keys = state.activation_keys(a)?;
    let record = StatusRecord {
        state: a.state,
        current_version: u8::try_from(a.major_version).unwrap_or(3),
        upgrade_version: StatusRecord::SERVER_UPGRADE_VERSION,
        // The reference server sends the low byte of its counts.
        failed_attempts: a.failed_attempts as u8,
        max_failed_attempts: a.max_failed_attempts as u8,
        ctr_look_ahead: u8::try_from(state.config.look_ahead).unwrap_or(u8::MAX),
        counter: u64::try_from(a.counter).unwrap_or_default(),
        ctr_data: a.ctr_data.clone(),
    };
    Some((record, keys.transport))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Removed {
    activation_id: String,
}

/// `/pa/v3/activation/remove`: the device removes itself, proving a second factor.
async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<ResponseObject<Removed>, Error> {
    let authenticated = super::auth::authenticate(
        &state,
        &headers,
        "POST",
        "/pa/activation/remove",
        &body.0,
        &[
            SignatureType::PossessionKnowledge,
            SignatureType::PossessionBiometry,
            SignatureType::PossessionKnowledgeBiometry,
        ],
    )
    .await?;
    let (activation, ()) =
        activations::update(&state, &authenticated.activation.activation_id, |a, now| {
            a.state = ActivationState::Removed;
            a.timestamp_last_change = now;
            Ok(())
        })
        .await?;
    Ok(ResponseObject(Removed {
        activation_id: activation.activation_id,
    }))
}
