//! Recovery codes (digest §9.6): one code and PUK issued with an activation, redeemed
//! by a `RECOVERY` activation that replaces the lost one. Blocked after
//! `MAX_FAILED_ATTEMPTS` wrong PUKs. The code and PUK come from `powerauth::recovery`;
//! only the PUK's Argon2 hash is stored.

use crate::cloud::auth::verify_password;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Activation, RecoveryRecord};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use powerauth::recovery::RecoveryInfo;

/// Wrong PUKs that block a recovery code (`recovery.maxFailedAttempts`).
pub const MAX_FAILED_ATTEMPTS: i64 = 5;

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
pub async fn issue(state: &AppState, activation: &Activation) -> Result<(String, String), Error> {
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
        revision: 0,
        application_id: activation.application_id.clone(),
        user_id: activation.user_id.clone(),
        activation_id: Some(activation.activation_id.clone()),
        recovery_code: info.recovery_code.as_str().to_owned(),
        status: "ACTIVE".to_owned(),
        failed_attempts: 0,
        max_failed_attempts: MAX_FAILED_ATTEMPTS,
    };
    let mut salt = [0u8; 16];
    state.rng.fill(&mut salt);
    let secret = puk.clone();
    let hash = tokio::task::spawn_blocking(move || hash_puk(&secret, &salt))
        .await
        .map_err(|e| Error::Internal(format!("PUK hashing task: {e}")))??;
    state
        .store
        .insert_recovery(&record, &[hash], state.now_ms())
        .await?;
    Ok((record.recovery_code, puk))
}

/// Spends the PUK of an `ACTIVE` code: the code is used up and the record returned (its
/// user and the activation it replaces). A wrong PUK counts, and blocks at the limit.
pub async fn redeem(
    state: &AppState,
    application_id: &str,
    code: &str,
    puk: &str,
) -> Result<RecoveryRecord, Error> {
    for _ in 0..MAX_RETRIES {
        let Some(mut record) = state.store.recovery_by_code(application_id, code).await? else {
            return Err(Error::Recovery {
                current_puk_index: 1,
            });
        };
        let Some((index, hash)) = state.store.current_puk(&record.recovery_code_id).await? else {
            return Err(Error::Recovery {
                current_puk_index: 1,
            });
        };
        if record.status != "ACTIVE" {
            return Err(Error::Recovery {
                current_puk_index: index,
            });
        }
        let given = puk.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&given, &hash))
            .await
            .map_err(|e| Error::Internal(format!("PUK check task: {e}")))?;
        let used = if matches {
            record.failed_attempts = 0;
            // One PUK per code issued with an activation: now it is used up.
            record.status = "REVOKED".to_owned();
            Some(index)
        } else {
            record.failed_attempts += 1;
            if record.failed_attempts >= record.max_failed_attempts {
                record.status = "BLOCKED".to_owned();
            }
            None
        };
        if !state.store.save_recovery(&mut record, used).await? {
            continue;
        }
        if !matches {
            return Err(Error::Recovery {
                current_puk_index: index,
            });
        }
        return Ok(record);
    }
    Err(Error::Internal("recovery code kept changing".to_owned()))
}
