//! The server side of application-scope ECIES on `/pa/v3`: which private key a request
//! was encrypted to (master key, or a 3.3 temporary key), replay rejection, timestamp
//! window, then `powerauth::ecies` does the cryptography.

use crate::state::AppState;
use crate::store::{Application, ApplicationVersion};
use powerauth::ProtocolVersion;
use powerauth::ecies::{
    EciesError, EncryptedRequest, Encryptor, ResponseEncryptor, Scope, SharedInfo1,
};
use powerauth::encoding::b64;

/// How far in the future a request timestamp may lie (the reference server's window).
const FUTURE_WINDOW_MS: i64 = 60_000;

/// How long a seen `(ephemeral key, nonce)` is remembered.
const REPLAY_MEMORY_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why an encrypted request was refused. Each endpoint maps these to its own answer.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Fields do not fit the declared version (missing nonce, timestamp, temporaryKeyId,
    /// or one too many): 401 `POWER_AUTH_REQUEST_INVALID`.
    #[error("envelope does not fit the declared version: {0}")]
    Format(EciesError),
    /// Unknown or foreign temporary key, replay, timestamp from the future, wrong MAC.
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Decrypts an application-scope request of `application`/`version` speaking `protocol`.
pub async fn decrypt_application_scope(
    state: &AppState,
    application: &Application,
    version: &ApplicationVersion,
    protocol: ProtocolVersion,
    shared_info1: SharedInfo1,
    request: &EncryptedRequest,
) -> Result<(Vec<u8>, ResponseEncryptor), Refused> {
    let now = state.now_ms();
    let temporary;
    let recipient = if protocol.uses_temporary_keys() {
        let Some(key_id) = request.temporary_key_id.as_deref() else {
            return Err(Refused::Format(EciesError::MissingField {
                field: "temporaryKeyId",
                version: protocol,
            }));
        };
        temporary = state
            .store
            .temporary_key(key_id, now)
            .await?
            .filter(|key| {
                key.application_key == version.application_key && key.activation_id.is_none()
            })
            .ok_or_else(|| {
                Refused::Decrypt(format!("no application-scope temporary key {key_id}"))
            })?;
        &temporary.key_pair.private
    } else {
        &application.master.private
    };
    if let Some(timestamp) = request.timestamp
        && i64::try_from(timestamp).unwrap_or(i64::MAX) > now.saturating_add(FUTURE_WINDOW_MS)
    {
        return Err(Refused::Decrypt("timestamp lies in the future".to_owned()));
    }
    let encryptor = Encryptor::new(
        protocol,
        shared_info1,
        &version.application_key,
        &version.application_secret,
        Scope::Application,
    )
    .map_err(|e| Refused::Decrypt(e.to_string()))?;
    let opened = encryptor
        .decrypt_request(recipient, request)
        .map_err(|error| match error {
            EciesError::MissingField { .. } | EciesError::UnexpectedField { .. } => {
                Refused::Format(error)
            }
            other => Refused::Decrypt(other.to_string()),
        })?;
    // Only a request that decrypted may burn its nonce: garbage must not fill the store.
    let mut replay_key = request.ephemeral_public_key.encoded().to_vec();
    replay_key.extend_from_slice(&request.nonce.unwrap_or_default());
    replay_key.extend_from_slice(shared_info1.constant().as_bytes());
    if !state
        .store
        .use_nonce(&b64(replay_key), now, now.saturating_add(REPLAY_MEMORY_MS))
        .await?
    {
        return Err(Refused::Decrypt("replayed request".to_owned()));
    }
    Ok(opened)
}
