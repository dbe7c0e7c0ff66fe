//! The vault, PIN and biometry: unlock the vault, verify or change the PIN, enrol, invalidate
//! or remove simulated biometry.

use powerauth::encoding::b64;
use serde::Serialize;
use tokensim_device::Factors;

use crate::{Leased, Ran, Result, Runner};

/// The vault, unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultUnlocked {
    /// Always `true`.
    pub unlocked: bool,
    /// The vault key (Base64), or the redaction mark unless revealing was asked for.
    pub vault_key: String,
}

/// The PIN, accepted by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PinValid {
    /// Always `true`.
    pub valid: bool,
}

/// The PIN, changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PinChanged {
    /// Always `true`.
    pub pin_changed: bool,
}

/// Simulated biometry after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BiometryChanged {
    /// `enrolled`, `invalidated` or `removed`.
    pub biometry: &'static str,
    /// The simulated OS enrollment, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<String>,
}

/// Unlocks the vault with `factors` for `reason`; the key is shown only when `reveal` says so.
pub async fn unlock_vault(
    runner: &Runner<'_>,
    dev: &mut Leased,
    factors: &Factors,
    reason: &str,
    reveal: bool,
) -> Result<Ran<VaultUnlocked>> {
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.unlock_vault(factors, reason).await
        })
        .await?;
    Ok(ran.map(|key| VaultUnlocked {
        unlocked: true,
        vault_key: if reveal {
            b64(key.expose_bytes())
        } else {
            tokensim_device::events::REDACTED.to_owned()
        },
    }))
}

/// Asks the server whether a signature with `factors` is valid (`/pa/v3/signature/validate`).
pub async fn verify_pin(
    runner: &Runner<'_>,
    dev: &mut Leased,
    factors: &Factors,
    reason: &str,
) -> Result<Ran<PinValid>> {
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.validate_signature(factors, reason).await
        })
        .await?;
    Ok(ran.map(|()| PinValid { valid: true }))
}

/// Changes the PIN from `old` to `new`.
pub async fn change_pin(
    runner: &Runner<'_>,
    dev: &mut Leased,
    old: &str,
    new: &str,
) -> Result<Ran<PinChanged>> {
    let ran = runner
        .call_with(dev, true, async |s| s.change_pin(old, new).await)
        .await?;
    Ok(ran.map(|()| PinChanged { pin_changed: true }))
}

/// Enrols simulated biometry (the vault is unlocked with `pin`).
pub async fn enroll_biometry(
    runner: &Runner<'_>,
    dev: &mut Leased,
    pin: &str,
) -> Result<Ran<BiometryChanged>> {
    let ran = runner
        .call_with(dev, true, async |s| s.enroll_biometry(pin).await)
        .await?;
    Ok(ran.map(|()| BiometryChanged {
        biometry: "enrolled",
        enrollment: None,
    }))
}

/// Simulates the OS biometric enrollment changing to `enrollment`: the biometry key stops
/// working. No request; no fault applies.
pub fn change_enrollment(
    runner: &Runner<'_>,
    dev: &mut Leased,
    enrollment: &str,
) -> Result<BiometryChanged> {
    runner.no_fault("biometry change")?;
    dev.device
        .change_biometric_enrollment(enrollment.to_owned());
    dev.save()?;
    Ok(BiometryChanged {
        biometry: "invalidated",
        enrollment: Some(enrollment.to_owned()),
    })
}

/// Removes the biometry key. No request; no fault applies.
pub fn remove_biometry(runner: &Runner<'_>, dev: &mut Leased) -> Result<BiometryChanged> {
    runner.no_fault("biometry remove")?;
    dev.device.remove_biometry();
    dev.save()?;
    Ok(BiometryChanged {
        biometry: "removed",
        enrollment: None,
    })
}
