//! The activation status (digest §6): the encrypted 32-byte status blob the server answers
//! to `POST /pa/v3/activation/status`, and the client's counter synchronisation.
//!
//! Server side: build the plain blob from the activation record
//! ([`ActivationStatusBlob::from_record_with`], [`ActivationStatusBlob::legacy_from_record_with`])
//! and encrypt it ([`encrypt_status`]); answer unknown activations and records without a
//! device key with random bytes ([`make_random_status`]).
//!
//! Client side: send a fresh challenge ([`make_status_challenge`]), rebuild the exchange from
//! the response ([`StatusExchange::from_response`]), decrypt and parse
//! ([`ActivationStatusBlob::decrypt`]), then reconcile the local `CTR_DATA` with the server's
//! ([`synchronize_counter`]).
//!
//! Two generations of the exchange exist. 3.0 sends no challenge, the server no nonce, the
//! blob is encrypted with a zero IV and its counter fields are random filler (§14 #14).
//! 3.1+ derives the IV from the challenge and the nonce, and the counter fields are real.

mod blob;
mod server;
mod sync;

pub use blob::ActivationStatusBlob;
pub use server::{EncryptedStatus, StatusRecord, encrypt_status, make_random_status};
pub use sync::{
    CounterDeadlock, CounterSync, UncheckedReason, byte_distance, counter_distance,
    synchronize_counter,
};

use crate::hazmat::kdf_internal;
use crate::keys::{SymmetricKey, index};
use crate::random::RandomSource;

/// The state of an activation, as the blob's byte 4 carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivationState {
    /// 1: the server created the record; no device has exchanged keys yet.
    Created,
    /// 2: keys are exchanged; the activation waits for the commit.
    PendingCommit,
    /// 3: usable.
    Active,
    /// 4: blocked (too many failed attempts, or by an administrator); can be unblocked.
    Blocked,
    /// 5: removed; terminal.
    Removed,
}

impl ActivationState {
    /// Every state, in byte order.
    pub const ALL: [ActivationState; 5] = [
        Self::Created,
        Self::PendingCommit,
        Self::Active,
        Self::Blocked,
        Self::Removed,
    ];

    /// The state for a blob byte (1–5), or `None`.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Created),
            2 => Some(Self::PendingCommit),
            3 => Some(Self::Active),
            4 => Some(Self::Blocked),
            5 => Some(Self::Removed),
            _ => None,
        }
    }

    /// The blob byte (1–5).
    pub fn as_byte(self) -> u8 {
        match self {
            Self::Created => 1,
            Self::PendingCommit => 2,
            Self::Active => 3,
            Self::Blocked => 4,
            Self::Removed => 5,
        }
    }

    /// The server's name, e.g. `"PENDING_COMMIT"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::PendingCommit => "PENDING_COMMIT",
            Self::Active => "ACTIVE",
            Self::Blocked => "BLOCKED",
            Self::Removed => "REMOVED",
        }
    }
}

impl std::fmt::Display for ActivationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a status response could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    /// The encrypted blob is not 32 bytes: a truncated or corrupted response.
    #[error("the encrypted status blob must be 32 bytes, got {0}")]
    InvalidLength(usize),
    /// The decrypted blob does not start with `DE C0 DE Dx`.
    #[error(
        "the blob did not decrypt: wrong transport key or the server does not know this activation"
    )]
    NotDecrypted,
    /// The magic's version byte is `0xD0`; clients accept `0xD1..=0xDF`. A server bug.
    #[error("unsupported status blob format version {0:#04x}: expected 0xD1 to 0xDF")]
    UnsupportedFormatVersion(u8),
    /// The state byte is not 1–5: a server speaking a newer protocol, or a server bug.
    #[error("unknown activation state {0} in the status blob: expected 1 to 5")]
    UnknownState(u8),
    /// A 3.1+ blob whose counter look-ahead window is 0 or above 64: a misconfigured server.
    #[error("invalid counter look-ahead window {0} in the status blob: expected 1 to 64")]
    InvalidLookAhead(u8),
    /// The client sent a challenge (3.1+) but the response has no nonce (3.0 style). The
    /// current mobile SDK rejects such a response.
    #[error("the status response has no nonce although the request carried a challenge")]
    MissingNonce,
    /// The client sent no challenge (3.0) but the response carries a nonce: a server bug.
    #[error("the status response carries a nonce although the request had no challenge")]
    UnexpectedNonce,
    /// The response nonce is not 16 bytes.
    #[error("the status response nonce must be 16 bytes, got {0}")]
    InvalidNonceLength(usize),
}

/// How a status request and its response were exchanged: fixes the blob's IV and whether
/// its counter fields mean anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusExchange {
    /// 3.0: no challenge, no nonce, zero IV; `reserved`, `ctrByte`, `ctrLookAhead` and
    /// `ctrDataHash` are random filler.
    Legacy,
    /// 3.1+: the client's challenge and the server's nonce.
    Challenge {
        /// The 16 random bytes the client sent as `challenge`.
        challenge: [u8; 16],
        /// The 16 random bytes the server answered as `nonce`.
        nonce: [u8; 16],
    },
}

impl StatusExchange {
    /// The client's view of the exchange from what it sent (`challenge`, `None` for 3.0) and
    /// the raw `nonce` the server answered (`None` when absent or null).
    pub fn from_response(
        challenge: Option<[u8; 16]>,
        nonce: Option<&[u8]>,
    ) -> Result<Self, StatusError> {
        match (challenge, nonce) {
            (None, None) => Ok(Self::Legacy),
            (None, Some(_)) => Err(StatusError::UnexpectedNonce),
            (Some(_), None) => Err(StatusError::MissingNonce),
            (Some(challenge), Some(nonce)) => {
                let nonce: [u8; 16] = nonce
                    .try_into()
                    .map_err(|_| StatusError::InvalidNonceLength(nonce.len()))?;
                Ok(Self::Challenge { challenge, nonce })
            }
        }
    }

    /// The AES-CBC IV of the blob: zero for 3.0, else [`derive_status_iv`].
    pub fn iv(&self, transport_key: &SymmetricKey) -> [u8; 16] {
        match self {
            Self::Legacy => [0; 16],
            Self::Challenge { challenge, nonce } => {
                derive_status_iv(transport_key, challenge, nonce)
            }
        }
    }

    /// Whether the blob's counter fields are real (3.1+) rather than random filler (3.0).
    pub fn carries_counter(&self) -> bool {
        matches!(self, Self::Challenge { .. })
    }
}

/// `STATUS_IV = KDF_INTERNAL(KDF(KEY_TRANSPORT, 3000), challenge ‖ nonce)` (3.1+).
pub fn derive_status_iv(
    transport_key: &SymmetricKey,
    challenge: &[u8; 16],
    nonce: &[u8; 16],
) -> [u8; 16] {
    let key_transport_iv = transport_key.derive(index::STATUS_IV);
    let mut data = [0u8; 32];
    data[..16].copy_from_slice(challenge);
    data[16..].copy_from_slice(nonce);
    kdf_internal(key_transport_iv.expose_bytes(), &data)
}

/// A fresh 16-byte status `challenge` for a 3.1+ client request.
pub fn make_status_challenge(rng: &dyn RandomSource) -> [u8; 16] {
    let mut challenge = [0u8; 16];
    rng.fill(&mut challenge);
    challenge
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_bytes_and_names_round_trip() {
        for state in ActivationState::ALL {
            assert_eq!(ActivationState::from_byte(state.as_byte()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
        assert_eq!(ActivationState::from_byte(0), None);
        assert_eq!(ActivationState::from_byte(6), None);
        assert_eq!(ActivationState::PendingCommit.to_string(), "PENDING_COMMIT");
    }

    #[test]
    fn exchange_from_response_checks_the_nonce() {
        assert_eq!(
            StatusExchange::from_response(None, None),
            Ok(StatusExchange::Legacy)
        );
        assert_eq!(
            StatusExchange::from_response(Some([1; 16]), None),
            Err(StatusError::MissingNonce)
        );
        assert_eq!(
            StatusExchange::from_response(None, Some(&[2; 16])),
            Err(StatusError::UnexpectedNonce)
        );
        assert_eq!(
            StatusExchange::from_response(Some([1; 16]), Some(&[2; 15])),
            Err(StatusError::InvalidNonceLength(15))
        );
        let exchange = StatusExchange::from_response(Some([1; 16]), Some(&[2; 16])).unwrap();
        assert!(exchange.carries_counter());
        assert!(!StatusExchange::Legacy.carries_counter());
        let key = SymmetricKey::from_bytes([3; 16]);
        assert_eq!(StatusExchange::Legacy.iv(&key), [0; 16]);
        assert_eq!(
            exchange.iv(&key),
            derive_status_iv(&key, &[1; 16], &[2; 16])
        );
    }
}
