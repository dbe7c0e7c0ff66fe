//! `/rest/v3/ecies/decryptor` (digest §12): an intermediate server that holds no private
//! key asks for the secrets of one generic-scope request (`/pa/generic/application`
//! without `activationId`, `/pa/generic/activation` with it) and then decrypts the
//! request and encrypts its response itself (`powerauth::ecies::ExternalDecryptor`).
//!
//! The answer is `{secretKey, sharedInfo2}`: the 48-byte envelope key `K_ENC || K_MAC ||
//! K_IV` for the request's ephemeral key and `SH2_BASE`, both Base64. As PowerAuth Server
//! does, the request's `(ephemeral key, nonce)` is burnt here, so the same request cannot
//! be opened twice.
//!
//! Errors: ERR0024 for a malformed request, fields that do not fit `protocolVersion`, a
//! replayed nonce or a timestamp out of the window; ERR0015 for an unknown or unsupported
//! application key (or one of another application than the activation); ERR0009 unknown
//! activation; ERR0008 an activation that is not `ACTIVE`; ERR0045 no usable temporary
//! key; ERR0018 an ephemeral key that is no P-256 point.

use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::restful_integration::encryption::{Refused, burn_nonce, check_timestamp};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::ecies::{Encryptor, Scope, SharedInfo1};
use powerauth::encoding::{b64, b64_decode_array};
use powerauth::status::ActivationState;
use powerauth::{PrivateKey, ProtocolVersion, PublicKey};
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/rest/v3/ecies/decryptor", post(decryptor))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DecryptorRequest {
    activation_id: Option<String>,
    application_key: String,
    temporary_key_id: Option<String>,
    ephemeral_public_key: String,
    nonce: Option<String>,
    protocol_version: String,
    timestamp: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecryptorResponse {
    secret_key: String,
    shared_info2: String,
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::rest(RestCode::InvalidRequest, detail)
}

/// The request's fields, checked against its version (digest §7.3).
struct Checked {
    protocol: ProtocolVersion,
    ephemeral: PublicKey,
    nonce: Option<[u8; 16]>,
}

fn check(request: &DecryptorRequest) -> Result<Checked, Error> {
    let protocol: ProtocolVersion = request
        .protocol_version
        .parse()
        .map_err(|_| invalid("protocolVersion must be 3.0 to 3.3"))?;
    let presence = |field: &str, present: bool, required: bool| match (present, required) {
        (false, true) => Err(invalid(format!("protocol {protocol} requires {field}"))),
        (true, false) => Err(invalid(format!("protocol {protocol} has no {field}"))),
        _ => Ok(()),
    };
    presence(
        "temporaryKeyId",
        request.temporary_key_id.is_some(),
        protocol.uses_temporary_keys(),
    )?;
    presence("nonce", request.nonce.is_some(), protocol.ecies_has_nonce())?;
    presence(
        "timestamp",
        request.timestamp.is_some(),
        protocol.ecies_has_timestamp(),
    )?;
    let nonce = request
        .nonce
        .as_deref()
        .map(b64_decode_array::<16>)
        .transpose()
        .map_err(|_| invalid("nonce must be Base64 of 16 bytes"))?;
    let ephemeral = PublicKey::from_b64(&request.ephemeral_public_key).map_err(|_| {
        Error::rest(
            RestCode::DecryptionFailed,
            "ephemeralPublicKey is not a P-256 point",
        )
    })?;
    Ok(Checked {
        protocol,
        ephemeral,
        nonce,
    })
}

fn from_refused(refused: Refused) -> Error {
    match refused {
        Refused::Store(e) => e.into(),
        other => invalid(other.to_string()),
    }
}

async fn decryptor(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<DecryptorRequest>,
) -> Result<ResponseObject<DecryptorResponse>, Error> {
    let checked = check(&request)?;
    check_timestamp(request.timestamp, state.now_ms()).map_err(from_refused)?;
    let unknown_application = || {
        Error::rest(
            RestCode::InvalidApplication,
            "unknown or unsupported applicationKey",
        )
    };
    let version = state
        .store
        .version_by_key(&request.application_key)
        .await?
        .filter(|v| v.supported);
    let activation = match &request.activation_id {
        None => None,
        Some(id) => {
            let activation = crate::activations::load(&state, id)
                .await?
                .ok_or_else(|| Error::rest(RestCode::ActivationNotFound, id.clone()))?;
            if activation.state != ActivationState::Active {
                return Err(Error::rest(
                    RestCode::IncorrectActivationState,
                    format!("the activation is {}", activation.state),
                ));
            }
            Some(activation)
        }
    };
    let version = version
        .filter(|v| {
            activation
                .as_ref()
                .is_none_or(|a| a.application_id == v.application_id)
        })
        .ok_or_else(unknown_application)?;
    let shared_info1 = match activation {
        None => SharedInfo1::ApplicationScopeGeneric,
        Some(_) => SharedInfo1::ActivationScopeGeneric,
    };
    burn_nonce(
        &state,
        &checked.ephemeral,
        checked.nonce.as_ref(),
        shared_info1,
        request.activation_id.as_deref(),
    )
    .await
    .map_err(from_refused)?;

    let temporary = match &request.temporary_key_id {
        None => None,
        Some(key_id) => Some(
            state
                .store
                .scoped_temporary_key(
                    key_id,
                    &version.application_key,
                    request.activation_id.as_deref(),
                    state.now_ms(),
                )
                .await?
                .ok_or_else(|| {
                    Error::rest(
                        RestCode::MissingTemporaryKey,
                        format!("no temporary key {key_id} for this scope"),
                    )
                })?,
        ),
    };
    let keys;
    let (scope, static_private): (Scope<'_>, PrivateKey) = match &activation {
        None => {
            let application = state
                .store
                .application(&version.application_id)
                .await?
                .ok_or_else(unknown_application)?;
            (Scope::Application, application.master.private)
        }
        Some(activation) => {
            let (Some(activation_keys), Some(server)) = (
                state.activation_keys(activation),
                activation.server_key_pair.as_ref(),
            ) else {
                return Err(Error::rest(
                    RestCode::IncorrectActivationState,
                    "the activation has no keys",
                ));
            };
            keys = activation_keys;
            (
                Scope::Activation {
                    activation_id: &activation.activation_id,
                    transport_key: &keys.transport,
                },
                server.private.clone(),
            )
        }
    };
    let recipient = temporary
        .as_ref()
        .map_or(&static_private, |key| &key.key_pair.private);
    let encryptor = Encryptor::new(
        checked.protocol,
        shared_info1,
        &version.application_key,
        &version.application_secret,
        scope,
    )
    .map_err(|e| Error::Internal(e.to_string()))?;
    let secrets = encryptor.external_secrets(recipient, &checked.ephemeral);
    Ok(ResponseObject(DecryptorResponse {
        secret_key: b64(secrets.expose_envelope_key()),
        shared_info2: b64(secrets.shared_info2_base()),
    }))
}

/// Opens an activation-scope request an intermediate server forwards whole
/// (`/rest/v3/token/create`, `/rest/v3/vault/unlock`): `envelope` holds the ECIES fields
/// (`temporaryKeyId`, `ephemeralPublicKey`, `encryptedData`, `mac`, `nonce`,
/// `timestamp`). Fields that do not fit `protocol` are ERR0024, anything that does not
/// decrypt (wrong key, MAC, replay, no such temporary key) ERR0018.
pub(super) async fn open_forwarded(
    state: &AppState,
    activation: &crate::store::Activation,
    version: &crate::store::ApplicationVersion,
    protocol: ProtocolVersion,
    shared_info1: SharedInfo1,
    envelope: serde_json::Map<String, serde_json::Value>,
) -> Result<(Vec<u8>, powerauth::ecies::ResponseEncryptor), Error> {
    let request = powerauth::ecies::EncryptedRequest::try_from(envelope)
        .map_err(|e| invalid(e.to_string()))?;
    let (Some(keys), Some(server)) = (
        state.activation_keys(activation),
        &activation.server_key_pair,
    ) else {
        return Err(Error::rest(
            RestCode::IncorrectActivationState,
            "the activation has no keys yet",
        ));
    };
    let channel = crate::restful_integration::encryption::Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol,
        shared_info1,
        scope: Scope::Activation {
            activation_id: &activation.activation_id,
            transport_key: &keys.transport,
        },
        static_private: &server.private,
    };
    crate::restful_integration::encryption::decrypt(state, &channel, &request)
        .await
        .map_err(|refused| match refused {
            Refused::Format(e) => invalid(e.to_string()),
            Refused::Decrypt(why) => Error::rest(RestCode::DecryptionFailed, why),
            Refused::Store(e) => e.into(),
        })
}

/// Encrypts `plaintext` as the answer: the `encryptedData`, `mac`, `nonce` and
/// `timestamp` fields of PowerAuth Server's response models.
pub(super) fn seal_fields(
    state: &AppState,
    responder: powerauth::ecies::ResponseEncryptor,
    plaintext: &[u8],
) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let now = u64::try_from(state.now_ms()).unwrap_or_default();
    let response = responder.encrypt_response(plaintext, &*state.rng, now);
    let mut fields: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&response.to_json()).map_err(|e| Error::Internal(e.to_string()))?;
    // PowerAuth Server's models carry every field; before 3.2 nonce and timestamp are null.
    for field in ["nonce", "timestamp"] {
        fields.entry(field).or_insert(serde_json::Value::Null);
    }
    Ok(fields)
}

/// The ACTIVE activation `activation_id` (ERR0009 unknown, ERR0008 any other state) and
/// the supported version of its application with `application_key` (ERR0015).
pub(super) async fn active_with_key(
    state: &AppState,
    activation_id: &str,
    application_key: &str,
) -> Result<(crate::store::Activation, crate::store::ApplicationVersion), Error> {
    let activation = crate::activations::load(state, activation_id)
        .await?
        .ok_or(Error::UnknownActivation)?;
    if activation.state != ActivationState::Active {
        return Err(Error::rest(
            RestCode::IncorrectActivationState,
            format!("the activation is {}", activation.state),
        ));
    }
    let version = state
        .store
        .version_by_key(application_key)
        .await?
        .filter(|v| v.supported && v.application_id == activation.application_id)
        .ok_or(Error::UnknownApplication)?;
    Ok((activation, version))
}

/// `protocolVersion` (or `signatureVersion`) as PowerAuth Server reads it.
pub(super) fn protocol_of(text: &str) -> Result<ProtocolVersion, Error> {
    text.parse()
        .map_err(|_| invalid("protocolVersion must be 3.0 to 3.3"))
}
