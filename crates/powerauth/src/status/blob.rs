//! The 32-byte status blob (digest §6.3): layout, encryption, and the client's decryption
//! and parsing.

use super::{ActivationState, StatusError, StatusExchange};
use crate::hazmat::{aes_cbc_nopad_decrypt, aes_cbc_nopad_encrypt};
use crate::keys::SymmetricKey;

/// The plain status blob, every field of §6.3 (big-endian, 32 bytes):
/// `DE C0 DE Dx ‖ state ‖ currentVersion ‖ upgradeVersion ‖ reserved[5] ‖ ctrByte ‖
/// failedAttempts ‖ maxFailedAttempts ‖ ctrLookAhead ‖ ctrDataHash[16]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationStatusBlob {
    /// The last byte of the magic, `0xD1..=0xDF`: the blob format version (servers send `0xD1`).
    pub format_version: u8,
    /// The activation's state.
    pub state: ActivationState,
    /// The activation's major version: 2 (V2, awaiting upgrade) or 3.
    pub current_version: u8,
    /// The highest version the server supports (3); above `current_version` means an
    /// upgrade is available.
    pub upgrade_version: u8,
    /// Five random bytes the server mixes in.
    pub reserved: [u8; 5],
    /// The low byte of the server's numeric counter.
    pub ctr_byte: u8,
    /// Failed authentication attempts so far.
    pub failed_attempts: u8,
    /// Failed attempts after which the server blocks the activation.
    pub max_failed_attempts: u8,
    /// How many counter steps ahead the server looks when validating a signature.
    pub ctr_look_ahead: u8,
    /// `KDF_INTERNAL(KDF(KEY_TRANSPORT, 4000), CTR_DATA_server)`.
    pub ctr_data_hash: [u8; 16],
    /// A 3.0 blob (zero IV, no challenge): `reserved`, `ctr_byte`, `ctr_look_ahead` and
    /// `ctr_data_hash` are random filler the server does not mean. Not encoded.
    pub legacy: bool,
}

impl ActivationStatusBlob {
    /// Blob length in bytes.
    pub const LEN: usize = 32;
    /// The first three magic bytes.
    pub const MAGIC: [u8; 3] = [0xDE, 0xC0, 0xDE];
    /// The format version byte servers send.
    pub const FORMAT_VERSION: u8 = 0xD1;
    /// The largest look-ahead window a client accepts.
    pub const MAX_LOOK_AHEAD: u8 = 64;

    /// The 32 plain bytes.
    pub fn encode(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..3].copy_from_slice(&Self::MAGIC);
        out[3] = self.format_version;
        out[4] = self.state.as_byte();
        out[5] = self.current_version;
        out[6] = self.upgrade_version;
        out[7..12].copy_from_slice(&self.reserved);
        out[12] = self.ctr_byte;
        out[13] = self.failed_attempts;
        out[14] = self.max_failed_attempts;
        out[15] = self.ctr_look_ahead;
        out[16..].copy_from_slice(&self.ctr_data_hash);
        out
    }

    /// Parses 32 plain bytes with the mobile SDK's checks. The look-ahead window is checked
    /// only when the exchange makes the counter fields real (3.1+).
    pub fn decode(plain: &[u8; 32], exchange: &StatusExchange) -> Result<Self, StatusError> {
        let [
            m0,
            m1,
            m2,
            format_version,
            state,
            current_version,
            upgrade_version,
            ..,
        ] = *plain;
        if [m0, m1, m2] != Self::MAGIC || format_version & 0xF0 != 0xD0 {
            return Err(StatusError::NotDecrypted);
        }
        if format_version == 0xD0 {
            return Err(StatusError::UnsupportedFormatVersion(format_version));
        }
        let state = ActivationState::from_byte(state).ok_or(StatusError::UnknownState(state))?;
        let ctr_look_ahead = plain[15];
        let legacy = !exchange.carries_counter();
        if !legacy && (ctr_look_ahead == 0 || ctr_look_ahead > Self::MAX_LOOK_AHEAD) {
            return Err(StatusError::InvalidLookAhead(ctr_look_ahead));
        }
        let mut reserved = [0u8; 5];
        reserved.copy_from_slice(&plain[7..12]);
        let mut ctr_data_hash = [0u8; 16];
        ctr_data_hash.copy_from_slice(&plain[16..]);
        Ok(Self {
            format_version,
            state,
            current_version,
            upgrade_version,
            reserved,
            ctr_byte: plain[12],
            failed_attempts: plain[13],
            max_failed_attempts: plain[14],
            ctr_look_ahead,
            ctr_data_hash,
            legacy,
        })
    }

    /// `AES-128-CBC-NoPadding(KEY_TRANSPORT, iv, blob)` with the exchange's IV.
    pub fn encrypt(&self, transport_key: &SymmetricKey, exchange: &StatusExchange) -> [u8; 32] {
        let iv = exchange.iv(transport_key);
        let encrypted = aes_cbc_nopad_encrypt(transport_key.expose_bytes(), &iv, &self.encode())
            .expect("32 bytes are two whole AES blocks");
        let mut out = [0u8; 32];
        out.copy_from_slice(&encrypted);
        out
    }

    /// Client: decrypts an `encryptedStatusBlob` and parses it ([`Self::decode`]).
    pub fn decrypt(
        encrypted: &[u8],
        transport_key: &SymmetricKey,
        exchange: &StatusExchange,
    ) -> Result<Self, StatusError> {
        let encrypted: &[u8; 32] = encrypted
            .try_into()
            .map_err(|_| StatusError::InvalidLength(encrypted.len()))?;
        let iv = exchange.iv(transport_key);
        let plain = aes_cbc_nopad_decrypt(transport_key.expose_bytes(), &iv, encrypted)
            .map_err(|_| StatusError::InvalidLength(encrypted.len()))?;
        let plain: [u8; 32] = plain
            .try_into()
            .map_err(|_| StatusError::InvalidLength(encrypted.len()))?;
        Self::decode(&plain, exchange)
    }

    /// PIN attempts left before the server blocks the activation.
    pub fn remaining_attempts(&self) -> u8 {
        self.max_failed_attempts
            .saturating_sub(self.failed_attempts)
    }

    /// Whether the server offers an upgrade (`upgradeVersion > currentVersion`: V2 → V3).
    pub fn upgrade_available(&self) -> bool {
        self.upgrade_version > self.current_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decode_then_encode_is_identity(mut plain in any::<[u8; 32]>(), legacy in any::<bool>()) {
            // Mostly well-formed headers, so that decoding succeeds often.
            plain[..3].copy_from_slice(&ActivationStatusBlob::MAGIC);
            plain[3] = 0xD0 | (plain[3] & 0x0F);
            plain[4] %= 7;
            let exchange = if legacy {
                StatusExchange::Legacy
            } else {
                StatusExchange::Challenge { challenge: [0; 16], nonce: [0; 16] }
            };
            match ActivationStatusBlob::decode(&plain, &exchange) {
                Ok(blob) => prop_assert_eq!(blob.encode(), plain),
                Err(error) => prop_assert!(
                    plain[3] == 0xD0 || !(1..=5).contains(&plain[4])
                        || (!legacy && !(1..=64).contains(&plain[15])),
                    "refused a well-formed blob: {}", error
                ),
            }
        }
    }

    #[test]
    fn decode_errors() {
        let exchange = StatusExchange::Challenge {
            challenge: [0; 16],
            nonce: [0; 16],
        };
        let mut good = [0u8; 32];
        good[..4].copy_from_slice(&[0xDE, 0xC0, 0xDE, 0xD1]);
        good[4] = ActivationState::Active.as_byte();
        good[15] = 20;
        let with = |at: usize, value: u8| {
            let mut plain = good;
            plain[at] = value;
            ActivationStatusBlob::decode(&plain, &exchange)
        };
        assert!(with(3, 0xDF).is_ok());
        assert_eq!(with(0, 0xDF), Err(StatusError::NotDecrypted));
        assert_eq!(with(3, 0xE1), Err(StatusError::NotDecrypted));
        assert_eq!(
            with(3, 0xD0),
            Err(StatusError::UnsupportedFormatVersion(0xD0))
        );
        assert_eq!(with(4, 0), Err(StatusError::UnknownState(0)));
        assert_eq!(with(4, 6), Err(StatusError::UnknownState(6)));
        assert_eq!(with(15, 0), Err(StatusError::InvalidLookAhead(0)));
        assert_eq!(with(15, 65), Err(StatusError::InvalidLookAhead(65)));
        assert!(with(15, 64).is_ok());
        let mut plain = good;
        plain[15] = 200;
        assert!(ActivationStatusBlob::decode(&plain, &StatusExchange::Legacy).is_ok());
        let key = SymmetricKey::from_bytes([1; 16]);
        assert_eq!(
            ActivationStatusBlob::decrypt(&[0; 31], &key, &exchange),
            Err(StatusError::InvalidLength(31))
        );
    }
}
