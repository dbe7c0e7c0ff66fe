//! The server's half of the activation key exchange (digest §4.3): decrypt layer 2
//! ([`open_layer2`]), then ([`exchange_keys`]) check the code's record (state, OTP), make `KEY_SERVER` and `CTR_DATA`, save, answer
//! `{activationId, serverPublicKey, ctrData}` encrypted. Shared by
//! `/pa/v3/activation/create` and `/rest/v3/activation/prepare`.

use super::encryption::{Refused, decrypt_application_scope};
use crate::activations;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Activation, Application, ApplicationVersion, CommitPhase};
use powerauth::ecies::{
    EciesError, EncryptedRequest, EncryptedResponse, ResponseEncryptor, SharedInfo1,
};
use powerauth::encoding::b64;
use powerauth::status::ActivationState;
use powerauth::{CtrData, KeyPair, ProtocolVersion, PublicKey};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

/// Why the exchange did not happen.
#[derive(Debug)]
pub(crate) enum KeyExchangeError {
    /// The envelope's fields do not fit the declared version.
    Format(EciesError),
    /// Undecryptable, replayed, unknown or used code, wrong OTP, bad device key.
    Refused(String),
    /// A server fault.
    Fault(Error),
}

impl From<Error> for KeyExchangeError {
    fn from(error: Error) -> Self {
        KeyExchangeError::Fault(error)
    }
}

impl From<crate::store::StoreError> for KeyExchangeError {
    fn from(error: crate::store::StoreError) -> Self {
        KeyExchangeError::Fault(error.into())
    }
}

/// Layer 2 plaintext: the device's half of the key exchange.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Layer2Request {
    device_public_key: String,
    activation_name: Option<String>,
    activation_otp: Option<String>,
    platform: Option<String>,
    device_info: Option<String>,
    extras: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Layer2Response<'a> {
    activation_id: &'a str,
    server_public_key: String,
    ctr_data: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_recovery: Option<ActivationRecovery>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivationRecovery {
    recovery_code: String,
    puk: String,
}

fn refused(why: impl std::fmt::Display) -> KeyExchangeError {
    KeyExchangeError::Refused(why.to_string())
}

/// Layer 2 of an activation, decrypted and parsed: the device's half of the exchange and
/// the encryptor for the answer.
pub(crate) struct OpenedLayer2 {
    request: Layer2Request,
    device_public_key: PublicKey,
    responder: ResponseEncryptor,
}

/// Decrypts and parses layer 2. Nothing is saved but the request's nonce, so callers open
/// it before anything a refused request must not change (spending a PUK, retiring an
/// activation, making a record), as PowerAuth Server decrypts before it looks at codes.
pub(crate) async fn open_layer2(
    state: &AppState,
    application: &Application,
    version: &ApplicationVersion,
    protocol: ProtocolVersion,
    layer2: &EncryptedRequest,
) -> Result<OpenedLayer2, KeyExchangeError> {
    let (plaintext, responder) = decrypt_application_scope(
        state,
        application,
        version,
        protocol,
        SharedInfo1::ActivationLayer2,
        layer2,
    )
    .await
    .map_err(|e| match e {
        Refused::Format(e) => KeyExchangeError::Format(e),
        Refused::Decrypt(why) => KeyExchangeError::Refused(why),
        Refused::Store(e) => e.into(),
    })?;
    let request: Layer2Request = serde_json::from_slice(&plaintext).map_err(refused)?;
    let device_public_key = PublicKey::from_b64(&request.device_public_key).map_err(refused)?;
    Ok(OpenedLayer2 {
        request,
        device_public_key,
        responder,
    })
}

/// Runs the exchange for the `CREATED` record with `code` in `application`, from an
/// opened layer 2 ([`open_layer2`]); with `issue_recovery` (and activation recovery on for
/// the application) the answer carries a new recovery code and PUK.
pub(crate) async fn exchange_keys(
    state: &AppState,
    application: &Application,
    code: &str,
    layer2: OpenedLayer2,
    issue_recovery: bool,
) -> Result<(Activation, EncryptedResponse), KeyExchangeError> {
    let OpenedLayer2 {
        request: layer2,
        device_public_key,
        responder,
    } = layer2;
    let record = state
        .store
        .created_activation_by_code(&application.application_id, code)
        .await?
        .ok_or_else(|| refused("no CREATED activation has this code"))?;
    let server_key_pair = KeyPair::make(&*state.rng);
    let ctr_data = CtrData::from_bytes(state.random());
    let (activation, otp_ok) = activations::update_from(state, record, |a, now| {
        if a.state != ActivationState::Created || a.activation_code != code {
            return Err(Error::ActivationState(format!(
                "the activation is {}",
                a.state
            )));
        }
        if a.commit_phase == CommitPhase::OnKeyExchange
            && let Some(expected) = &a.activation_otp
        {
            let given = layer2.activation_otp.as_deref().unwrap_or_default();
            if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
                a.failed_attempts += 1;
                if a.failed_attempts >= a.max_failed_attempts {
                    a.state = ActivationState::Removed;
                }
                a.timestamp_last_change = now;
                return Ok(false);
            }
            a.failed_attempts = 0;
        }
        a.state = match a.commit_phase {
            CommitPhase::OnKeyExchange => ActivationState::Active,
            CommitPhase::OnCommit => ActivationState::PendingCommit,
        };
        a.device_public_key = Some(device_public_key.clone());
        a.server_key_pair = Some(server_key_pair.clone());
        a.ctr_data = Some(ctr_data.clone());
        a.counter = 0;
        a.activation_name.clone_from(&layer2.activation_name);
        a.platform.clone_from(&layer2.platform);
        a.device_info.clone_from(&layer2.device_info);
        a.extras.clone_from(&layer2.extras);
        a.timestamp_last_change = now;
        Ok(true)
    })
    .await
    .map_err(|e| match e {
        Error::ActivationState(why) => refused(why),
        other => KeyExchangeError::Fault(other),
    })?;
    if !otp_ok {
        return Err(refused("wrong activation OTP"));
    }
    let activation_recovery = if issue_recovery
        && crate::recovery::activation_recovery_enabled(state, &application.application_id).await?
    {
        let (recovery_code, puk) = crate::recovery::issue(state, &activation).await?;
        Some(ActivationRecovery { recovery_code, puk })
    } else {
        None
    };
    let plain = serde_json::to_vec(&Layer2Response {
        activation_id: &activation.activation_id,
        server_public_key: b64(server_key_pair.public.to_uncompressed()),
        ctr_data: b64(ctr_data.expose_bytes()),
        activation_recovery,
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let now = u64::try_from(state.now_ms()).unwrap_or_default();
    Ok((
        activation,
        responder.encrypt_response(&plain, &*state.rng, now),
    ))
}
