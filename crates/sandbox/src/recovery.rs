//! Recovery codes (digest §9.6): one code and PUK issued with an activation, or a code
//! and up to [`PUK_COUNT_MAX`] PUKs printed on a recovery postcard; either is redeemed
//! by a `RECOVERY` activation. Blocked after `MAX_FAILED_ATTEMPTS` wrong PUKs in a row.
//! Codes and PUKs come from `powerauth::recovery`; only the PUKs' Argon2 hashes are
//! stored.
//!
//! A postcard code is derived from the ECDH secret of the application's postcard private
//! key and the printing center's public key, so the printing center can derive the same
//! code and PUKs from the nonce and PUK derivation indexes `/rest/v3/recovery/create`
//! answers; the sandbox keeps neither. It starts `CREATED` and becomes `ACTIVE` when a
//! device of its user confirms it (`/pa/v3/recovery/confirm`).
//!
//! Each application has a recovery configuration (`/rest/v3/recovery/config/*`). Until
//! one is saved, activation recovery follows the sandbox's `Config::recovery_codes` (on
//! by default, where PowerAuth Server starts with it off) and postcards are off.

use crate::cloud::auth::verify_password;
use crate::error::Error;
use crate::error::RestCode;
use crate::state::AppState;
use crate::store::{Activation, RecoveryConfig, RecoveryRecord};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use powerauth::encoding::{b64, b64_decode};
use powerauth::recovery::{RecoveryCode, RecoveryInfo};
use powerauth::{PrivateKey, PublicKey};

/// Wrong PUKs that block a recovery code (`recovery.maxFailedAttempts`).
pub(crate) const MAX_FAILED_ATTEMPTS: i64 = 5;

/// The most PUKs one postcard may carry (PowerAuth Server's `PUK_COUNT_MAX`).
pub(crate) const PUK_COUNT_MAX: i64 = 100;

/// Fresh codes tried when one collides with an existing code of the application
/// (`generateRecoveryCodeIterations`).
const GENERATE_ITERATIONS: usize = 10;

const MAX_RETRIES: usize = 16;

/// Argon2id cost of a PUK hash: 1 MiB, one pass (about a millisecond). Lighter than the
/// login passwords' default (19 MiB, two passes, tens of milliseconds) because one is
/// made with every activation, and a sandbox must activate hundreds of devices a second;
/// what protects a PUK is the limit of [`MAX_FAILED_ATTEMPTS`] guesses. Verification
/// reads the cost from the stored PHC string, so older, costlier hashes still verify.
const PUK_HASH_MEMORY_KIB: u32 = 1024;
const PUK_HASH_PASSES: u32 = 1;

/// The Argon2id PHC string of `puk` with `salt`.
fn hash_puk(puk: &str, salt: &[u8; 16]) -> Result<String, Error> {
    let params = Params::new(PUK_HASH_MEMORY_KIB, PUK_HASH_PASSES, 1, None)
        .map_err(|e| Error::Internal(format!("PUK hash parameters: {e}")))?;
    let salt = SaltString::encode_b64(salt).map_err(|e| Error::Internal(e.to_string()))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(puk.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("PUK hashing: {e}")))
}

/// Issues a code and its PUK for `activation`; returns `(recoveryCode, puk)` to show once.
pub(crate) async fn issue(
    state: &AppState,
    activation: &Activation,
) -> Result<(String, String), Error> {
    let info = RecoveryInfo::make_for_activation(&*state.rng)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let puk = info
        .puks
        .first()
        .ok_or_else(|| Error::Internal("recovery data without a PUK".to_owned()))?
        .expose_str()
        .to_owned();
    let record = RecoveryRecord {
        recovery_code_id: state.make_uuid(),
        number: 0,
        revision: 0,
        application_id: activation.application_id.clone(),
        user_id: activation.user_id.clone(),
        activation_id: Some(activation.activation_id.clone()),
        recovery_code: info.recovery_code.as_str().to_owned(),
        status: "ACTIVE".to_owned(),
        failed_attempts: 0,
        max_failed_attempts: MAX_FAILED_ATTEMPTS,
    };
    let hashes = hash_puks(state, vec![puk.clone()]).await?;
    state
        .store
        .insert_recovery(&record, &hashes, state.now_ms(), false)
        .await?;
    Ok((record.recovery_code, puk))
}

/// The Argon2id hashes of `puks`, each with its own salt, off the async threads.
async fn hash_puks(state: &AppState, puks: Vec<String>) -> Result<Vec<String>, Error> {
    let salts: Vec<[u8; 16]> = puks
        .iter()
        .map(|_| {
            let mut salt = [0u8; 16];
            state.rng.fill(&mut salt);
            salt
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        puks.iter()
            .zip(&salts)
            .map(|(puk, salt)| hash_puk(puk, salt))
            .collect()
    })
    .await
    .map_err(|e| Error::Internal(format!("PUK hashing task: {e}")))?
}

/// The configuration of `application_id` as it stands: the saved one, or the sandbox's
/// default (activation recovery as `Config::recovery_codes` says, postcards off).
pub(crate) async fn config(
    state: &AppState,
    application_id: &str,
) -> Result<RecoveryConfig, Error> {
    Ok(state
        .store
        .recovery_config(application_id)
        .await?
        .unwrap_or_else(|| default_config(state, application_id)))
}

/// What an application starts with.
pub(crate) fn default_config(state: &AppState, application_id: &str) -> RecoveryConfig {
    RecoveryConfig {
        application_id: application_id.to_owned(),
        activation_recovery_enabled: state.config.recovery_codes,
        recovery_postcard_enabled: false,
        allow_multiple_recovery_codes: false,
        postcard_private_key: None,
        postcard_public_key: None,
        remote_postcard_public_key: None,
    }
}

/// Whether `application_id` issues, confirms and redeems recovery codes.
pub(crate) async fn activation_recovery_enabled(
    state: &AppState,
    application_id: &str,
) -> Result<bool, Error> {
    Ok(config(state, application_id)
        .await?
        .activation_recovery_enabled)
}

/// A fresh postcard key pair: Base64 of the private scalar and of the uncompressed point.
pub(crate) fn make_postcard_key_pair(state: &AppState) -> (String, String) {
    let private = PrivateKey::make(&*state.rng);
    let public = b64(private.public_key().to_uncompressed());
    (b64(&private.expose_bytes()[..]), public)
}

/// A postcard code just made: its record and what the printing center needs. `Debug`
/// leaves out the nonce and indexes, which derive the code and PUKs with the shared key.
pub(crate) struct Postcard {
    /// The stored code (`CREATED`).
    pub record: RecoveryRecord,
    /// The 32-byte KDF nonce.
    pub nonce: [u8; 32],
    /// The derivation index of PUK 1, 2, ….
    pub puk_derivation_indexes: Vec<i64>,
}

impl std::fmt::Debug for Postcard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postcard")
            .field("record", &self.record)
            .field("nonce", &"<redacted>")
            .field("puk_count", &self.puk_derivation_indexes.len())
            .finish()
    }
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::rest(RestCode::InvalidRequest, detail)
}

/// `/rest/v3/recovery/create`: a postcard code with `puk_count` PUKs for `user_id`.
/// Errors are PowerAuth Server's: ERR0024 a bad request, an unknown application, recovery
/// or postcards off; ERR0029 no postcard key or no printing center key; ERR0025 the user
/// holds a live postcard code and several are not allowed; ERR0010 a key that does not
/// parse; ERR0026 no fresh code in ten tries.
pub(crate) async fn create_postcard(
    state: &AppState,
    application_id: &str,
    user_id: &str,
    puk_count: i64,
) -> Result<Postcard, Error> {
    if user_id.is_empty() || user_id.len() > 255 {
        return Err(invalid("userId must be 1 to 255 characters"));
    }
    if !(1..=PUK_COUNT_MAX).contains(&puk_count) {
        return Err(invalid(format!(
            "pukCount must be 1 to {PUK_COUNT_MAX}, not {puk_count}"
        )));
    }
    if state.store.application(application_id).await?.is_none() {
        return Err(invalid(format!("no application {application_id:?}")));
    }
    let config = config(state, application_id).await?;
    if !config.activation_recovery_enabled {
        return Err(invalid(
            "activation recovery is disabled for this application (recovery/config/update)",
        ));
    }
    if !config.recovery_postcard_enabled {
        return Err(invalid(
            "recovery postcards are disabled for this application (recovery/config/update)",
        ));
    }
    let (Some(private), Some(remote)) = (
        config.postcard_private_key.as_deref(),
        config.remote_postcard_public_key.as_deref(),
    ) else {
        return Err(Error::rest(
            RestCode::InvalidRecoveryConfiguration,
            "set remotePostcardPublicKey, the printing center's public key, with recovery/config/update",
        ));
    };
    let already_exists = || {
        Error::rest(
            RestCode::RecoveryCodeAlreadyExists,
            "the user holds a CREATED or ACTIVE postcard code: revoke it, or allow multiple codes",
        )
    };
    // Checked early to spare the hashing; checked again, race-free, where it is stored.
    if !config.allow_multiple_recovery_codes
        && state
            .store
            .has_live_postcard(application_id, user_id)
            .await?
    {
        return Err(already_exists());
    }
    let private = b64_decode(private)
        .ok()
        .and_then(|bytes| PrivateKey::from_bytes(&bytes).ok())
        .ok_or_else(|| {
            Error::Internal("recovery_configs.postcard_private_key does not parse".to_owned())
        })?;
    let remote = PublicKey::from_b64(remote).map_err(|e| {
        Error::rest(
            RestCode::InvalidKeyFormat,
            format!("remotePostcardPublicKey: {e}"),
        )
    })?;
    let secret = private.ecdh(&remote);
    let count = usize::try_from(puk_count).map_err(|_| invalid("pukCount out of range"))?;
    let mut fresh = None;
    for _ in 0..GENERATE_ITERATIONS {
        let info = RecoveryInfo::make(&secret[..], count, &*state.rng)
            .map_err(|e| Error::rest(RestCode::UnableToGenerateRecoveryCode, e.to_string()))?;
        if !state
            .store
            .recovery_code_exists(application_id, info.recovery_code.as_str())
            .await?
        {
            fresh = Some(info);
            break;
        }
    }
    let info = fresh.ok_or_else(|| {
        Error::rest(
            RestCode::UnableToGenerateRecoveryCode,
            "every fresh code collided with an existing one",
        )
    })?;
    let mut record = RecoveryRecord {
        recovery_code_id: state.make_uuid(),
        number: 0,
        revision: 0,
        application_id: application_id.to_owned(),
        user_id: user_id.to_owned(),
        activation_id: None,
        recovery_code: info.recovery_code.as_str().to_owned(),
        status: "CREATED".to_owned(),
        failed_attempts: 0,
        max_failed_attempts: MAX_FAILED_ATTEMPTS,
    };
    let puks = info
        .puks
        .iter()
        .map(|puk| puk.expose_str().to_owned())
        .collect();
    let hashes = hash_puks(state, puks).await?;
    record.number = state
        .store
        .insert_recovery(
            &record,
            &hashes,
            state.now_ms(),
            !config.allow_multiple_recovery_codes,
        )
        .await?
        .ok_or_else(already_exists)?;
    tracing::debug!(
        recovery_code_id = record.number,
        puks = count,
        "postcard recovery code created"
    );
    Ok(Postcard {
        record,
        nonce: info.seed.nonce,
        puk_derivation_indexes: info.seed.puk_derivation_indexes,
    })
}

/// After `record` was redeemed: removes the activation it was issued with, if any and
/// not removed yet, revokes the codes issued with that activation, and returns that activation's flags, which the new activation
/// inherits (as PowerAuth Server does). A postcard code replaces no activation.
pub(crate) async fn retire_replaced(
    state: &AppState,
    record: &RecoveryRecord,
) -> Result<Vec<String>, Error> {
    let Some(old) = &record.activation_id else {
        return Ok(Vec::new());
    };
    let Some(activation) = crate::activations::load(state, old).await? else {
        return Ok(Vec::new());
    };
    if activation.state != powerauth::status::ActivationState::Removed {
        crate::activations::update(state, old, |a, now| {
            a.state = powerauth::status::ActivationState::Removed;
            a.timestamp_last_change = now;
            Ok(())
        })
        .await?;
    }
    // As PowerAuth Server removes it: with the recovery codes issued with it.
    state
        .store
        .revoke_activation_recoveries(old, state.now_ms())
        .await?;
    Ok(activation.flags)
}

/// Why a device's confirmation of a recovery code was refused.
#[derive(Debug)]
pub(crate) enum ConfirmRefusal {
    /// Activation recovery is off, the code is malformed, another user's, or `BLOCKED` or
    /// `REVOKED` (PowerAuth Server's ERR0024).
    Invalid(&'static str),
    /// No such code in the application (ERR0027).
    NotFound,
    /// A server fault.
    Fault(Error),
}

impl From<Error> for ConfirmRefusal {
    fn from(error: Error) -> Self {
        ConfirmRefusal::Fault(error)
    }
}

impl From<crate::store::StoreError> for ConfirmRefusal {
    fn from(error: crate::store::StoreError) -> Self {
        ConfirmRefusal::Fault(error.into())
    }
}

/// A device of `activation`'s user confirms it holds `code` (with or without `R:`): a
/// `CREATED` postcard code becomes `ACTIVE`. Returns the code's record and whether it was
/// confirmed before (`alreadyConfirmed`).
pub(crate) async fn confirm(
    state: &AppState,
    activation: &Activation,
    code: &str,
) -> Result<(RecoveryRecord, bool), ConfirmRefusal> {
    if !activation_recovery_enabled(state, &activation.application_id).await? {
        return Err(ConfirmRefusal::Invalid(
            "activation recovery is disabled for this application",
        ));
    }
    let code = RecoveryCode::parse_qr(code)
        .map_err(|_| ConfirmRefusal::Invalid("recoveryCode is not a valid recovery code"))?;
    for _ in 0..MAX_RETRIES {
        let mut record = state
            .store
            .recovery_by_code(&activation.application_id, code.as_str())
            .await?
            .ok_or(ConfirmRefusal::NotFound)?;
        if record.user_id != activation.user_id {
            return Err(ConfirmRefusal::Invalid(
                "the recovery code belongs to another user",
            ));
        }
        match record.status.as_str() {
            "ACTIVE" => return Ok((record, true)),
            "CREATED" => {
                record.status = "ACTIVE".to_owned();
                if state
                    .store
                    .save_recovery(&mut record, None, state.now_ms())
                    .await?
                {
                    return Ok((record, false));
                }
            }
            _ => {
                return Err(ConfirmRefusal::Invalid(
                    "the recovery code is neither CREATED nor ACTIVE",
                ));
            }
        }
    }
    Err(ConfirmRefusal::Fault(Error::Internal(
        "recovery code kept changing".to_owned(),
    )))
}

/// Spends the current PUK of an `ACTIVE` code and returns the record (its user and the
/// activation it replaces). A code issued with an activation is used up (`REVOKED`, as
/// removing that activation revokes it); a postcard code stays `ACTIVE` and its next PUK
/// becomes current. A wrong PUK counts; at the limit the code is `BLOCKED` and its
/// current PUK `INVALID`.
pub(crate) async fn redeem(
    state: &AppState,
    application_id: &str,
    code: &str,
    puk: &str,
) -> Result<RecoveryRecord, Error> {
    for _ in 0..MAX_RETRIES {
        // PowerAuth Server names the PUK to type next only after a wrong PUK that left the
        // code usable; an unknown, blocked or used-up code gets no index.
        let refused = Error::Recovery {
            current_puk_index: None,
        };
        let Some(mut record) = state.store.recovery_by_code(application_id, code).await? else {
            return Err(refused);
        };
        let Some((index, hash)) = state.store.current_puk(&record.recovery_code_id).await? else {
            return Err(refused);
        };
        if record.status != "ACTIVE" {
            return Err(refused);
        }
        let given = puk.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&given, &hash))
            .await
            .map_err(|e| Error::Internal(format!("PUK check task: {e}")))?;
        let puk_change = if matches {
            record.failed_attempts = 0;
            if record.activation_id.is_some() {
                // Its activation goes, and takes the code with it.
                record.status = "REVOKED".to_owned();
            }
            Some((index, "USED"))
        } else {
            record.failed_attempts += 1;
            if record.failed_attempts >= record.max_failed_attempts {
                record.status = "BLOCKED".to_owned();
                Some((index, "INVALID"))
            } else {
                None
            }
        };
        if !state
            .store
            .save_recovery(&mut record, puk_change, state.now_ms())
            .await?
        {
            continue;
        }
        if !matches {
            return Err(Error::Recovery {
                current_puk_index: (record.status == "ACTIVE").then_some(index),
            });
        }
        return Ok(record);
    }
    Err(Error::Internal("recovery code kept changing".to_owned()))
}
