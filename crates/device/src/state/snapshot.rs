//! [`StatusSnapshot`]: the last activation status a device saw, in a storable form.

use powerauth::status::ActivationStatusBlob;
use serde::{Deserialize, Serialize};

/// What the last decrypted status blob said, and when (device clock, ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusSnapshot {
    /// `CREATED`, `PENDING_COMMIT`, `ACTIVE`, `BLOCKED` or `REMOVED`.
    pub state: String,
    /// Failed PIN attempts counted by the server.
    pub failed_attempts: u8,
    /// Attempts allowed before the server blocks the activation.
    pub max_failed_attempts: u8,
    /// The server's counter look-ahead window (meaningless for 3.0).
    pub ctr_look_ahead: u8,
    /// The server's counter low byte (meaningless for 3.0).
    pub ctr_byte: u8,
    /// Activation major version (3).
    pub current_version: u8,
    /// Highest version the server offers for upgrade.
    pub upgrade_version: u8,
    /// Whether the blob was a 3.0 one whose counter fields are filler.
    pub legacy: bool,
    /// When it was fetched, device clock in Unix ms.
    pub fetched_at_ms: u64,
}

impl StatusSnapshot {
    /// The snapshot of a decrypted blob.
    pub fn from_blob(blob: &ActivationStatusBlob, fetched_at_ms: u64) -> Self {
        Self {
            state: blob.state.name().to_owned(),
            failed_attempts: blob.failed_attempts,
            max_failed_attempts: blob.max_failed_attempts,
            ctr_look_ahead: blob.ctr_look_ahead,
            ctr_byte: blob.ctr_byte,
            current_version: blob.current_version,
            upgrade_version: blob.upgrade_version,
            legacy: blob.legacy,
            fetched_at_ms,
        }
    }

    /// PIN attempts left before the server blocks the activation.
    pub fn remaining_attempts(&self) -> u8 {
        self.max_failed_attempts
            .saturating_sub(self.failed_attempts)
    }
}
