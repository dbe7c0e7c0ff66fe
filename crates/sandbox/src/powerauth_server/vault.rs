//! `/rest/v3/vault/unlock`: what an intermediate server forwards from
//! `/pa/v3/vault/unlock`, PowerAuth Server's `VaultUnlockRequest`: the signature it read
//! (`signedData` is the normalized request data, as `signature/verify` takes it) and the
//! activation-scope ECIES fields. The server checks the signature (a wrong one counts as
//! a failed attempt), decrypts `{reason}`, and answers the encrypted
//! `{encryptedVaultEncryptionKey}` (null when the signature is wrong) with
//! `signatureValid`.
//!
//! Only `POSSESSION_KNOWLEDGE` unlocks the vault (PowerAuth Server's default: biometric
//! unlock is off), anything else is ERR0012. An activation that is missing or not ACTIVE,
//! or an unknown application key, answers `signatureValid: false` with no data.

use super::ecies::{open_forwarded, protocol_of, seal_fields};
use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::ecies::SharedInfo1;
use powerauth::encoding::b64;
use powerauth::signature::{RequestData, SignatureType};
use powerauth::status::ActivationState;
use powerauth::vault::encrypt_vault_key;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/rest/v3/vault/unlock", post(unlock))
}

/// `VaultUnlockRequest`; the ECIES fields are in `envelope`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnlockRequest {
    activation_id: String,
    application_key: String,
    signed_data: String,
    signature: String,
    signature_type: String,
    signature_version: String,
    #[serde(flatten)]
    envelope: Map<String, Value>,
}

/// `VaultUnlockRequestPayload`, the decrypted request.
#[derive(Deserialize)]
struct UnlockPayload {
    reason: Option<String>,
}

/// `VaultUnlockResponsePayload`, the encrypted answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UnlockPayloadResponse {
    encrypted_vault_encryption_key: Option<String>,
}

fn not_valid() -> Map<String, Value> {
    let mut fields = Map::new();
    for field in ["encryptedData", "mac", "nonce", "timestamp"] {
        fields.insert(field.to_owned(), Value::Null);
    }
    fields.insert("signatureValid".to_owned(), Value::Bool(false));
    fields
}

/// A vault unlock reason as PowerAuth Server allows it: 3 to 255 of `A-Za-z0-9_-.`.
fn reason_ok(reason: &str) -> bool {
    (3..=255).contains(&reason.len())
        && reason
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

async fn unlock(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<UnlockRequest>,
) -> Result<ResponseObject<Map<String, Value>>, Error> {
    let signature_type: SignatureType = request.signature_type.parse().map_err(|_| {
        Error::InvalidRequest(format!(
            "unknown signatureType {:?}",
            request.signature_type
        ))
    })?;
    if signature_type != SignatureType::PossessionKnowledge {
        return Err(Error::rest(
            RestCode::InvalidSignature,
            format!("{signature_type} cannot unlock the vault"),
        ));
    }
    let protocol = protocol_of(&request.signature_version)?;
    let Some(activation) = crate::activations::load(&state, &request.activation_id)
        .await?
        .filter(|a| a.state == ActivationState::Active)
    else {
        return Ok(ResponseObject(not_valid()));
    };
    let Some(version) = state
        .store
        .version_by_key(&request.application_key)
        .await?
        .filter(|v| v.supported && v.application_id == activation.application_id)
    else {
        return Ok(ResponseObject(not_valid()));
    };
    let (plaintext, responder) = open_forwarded(
        &state,
        &activation,
        &version,
        protocol,
        SharedInfo1::VaultUnlock,
        request.envelope,
    )
    .await?;
    let Ok(payload) = serde_json::from_slice::<UnlockPayload>(&plaintext) else {
        return Ok(ResponseObject(not_valid()));
    };
    if let Some(reason) = &payload.reason
        && !reason_ok(reason)
    {
        return Err(Error::rest(
            RestCode::InvalidInputFormat,
            "reason must be 3 to 255 of A-Z a-z 0-9 _ - .",
        ));
    }
    let data = RequestData::from_received(request.signed_data);
    let verdict = signatures::verify(
        &state,
        &SignedRequest {
            activation_id: &request.activation_id,
            application_key: &request.application_key,
            data: &data,
            signature: &request.signature,
            signature_type,
            version: protocol,
        },
    )
    .await?;
    let key = match verdict.activation.as_ref() {
        Some(activation) if verdict.valid => {
            let keys = state
                .activation_keys(activation)
                .ok_or_else(|| Error::Internal("an ACTIVE activation without keys".to_owned()))?;
            Some(b64(encrypt_vault_key(&keys.transport, &keys.vault)))
        }
        _ => None,
    };
    tracing::debug!(reason = ?payload.reason, valid = verdict.valid, "vault unlock");
    let plain = serde_json::to_vec(&UnlockPayloadResponse {
        encrypted_vault_encryption_key: key,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let mut fields = seal_fields(&state, responder, &plain)?;
    fields.insert("signatureValid".to_owned(), Value::Bool(verdict.valid));
    Ok(ResponseObject(fields))
}
