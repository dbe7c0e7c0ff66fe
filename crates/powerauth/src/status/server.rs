//! The server side of the status: the blob built from the activation record, and the
//! answers for records without a usable key.

use super::{ActivationState, ActivationStatusBlob, StatusExchange};
use crate::counter::CtrData;
use crate::keys::{SymmetricKey, index};
use crate::random::RandomSource;

/// What the server knows of an activation that goes into its status blob.
#[derive(Clone, Debug)]
pub struct StatusRecord {
    /// The record's state.
    pub state: ActivationState,
    /// The activation's major version: 2 or 3.
    pub current_version: u8,
    /// The server's highest version: [`StatusRecord::SERVER_UPGRADE_VERSION`].
    pub upgrade_version: u8,
    /// Failed attempts (Wultra's server sends the low byte of its long).
    pub failed_attempts: u8,
    /// Maximum failed attempts.
    pub max_failed_attempts: u8,
    /// The server's signature look-ahead window (default [`StatusRecord::DEFAULT_LOOK_AHEAD`]).
    pub ctr_look_ahead: u8,
    /// The numeric counter; its low byte becomes `ctrByte`.
    pub counter: u64,
    /// The server's `CTR_DATA`: `None` for a V2 activation, whose hash is then all zeros.
    pub ctr_data: Option<CtrData>,
}

impl StatusRecord {
    /// `upgradeVersion` of every current server.
    pub const SERVER_UPGRADE_VERSION: u8 = 3;
    /// The look-ahead window of Wultra's server unless configured otherwise.
    pub const DEFAULT_LOOK_AHEAD: u8 = 20;
}

/// The server's answer to a status request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptedStatus {
    /// `encryptedStatusBlob`.
    pub encrypted_status_blob: [u8; 32],
    /// `nonce`: present exactly when the request carried a challenge (3.1+).
    pub nonce: Option<[u8; 16]>,
}

impl ActivationStatusBlob {
    /// The 3.1+ server blob: real counter fields, `ctr_data_hash` keyed by `KEY_TRANSPORT`,
    /// and five random `reserved` bytes.
    pub fn from_record_with(
        record: &StatusRecord,
        transport_key: &SymmetricKey,
        reserved: [u8; 5],
    ) -> Self {
        let ctr_data_hash = match &record.ctr_data {
            Some(ctr_data) => {
                ctr_data.hash_with(transport_key.derive(index::CTR_DATA_HASH).expose_bytes())
            }
            None => [0; 16],
        };
        Self {
            reserved,
            ctr_byte: record.counter as u8,
            ctr_look_ahead: record.ctr_look_ahead,
            ctr_data_hash,
            legacy: false,
            ..Self::header(record)
        }
    }

    /// The 3.0 server blob: `filler = reserved[5] ‖ ctrByte ‖ ctrLookAhead ‖ ctrDataHash[16]`,
    /// all random, as Wultra's server draws them (the record's counter is not used).
    pub fn legacy_from_record_with(record: &StatusRecord, filler: [u8; 23]) -> Self {
        let mut reserved = [0u8; 5];
        reserved.copy_from_slice(&filler[..5]);
        let mut ctr_data_hash = [0u8; 16];
        ctr_data_hash.copy_from_slice(&filler[7..]);
        Self {
            reserved,
            ctr_byte: filler[5],
            ctr_look_ahead: filler[6],
            ctr_data_hash,
            legacy: true,
            ..Self::header(record)
        }
    }

    fn header(record: &StatusRecord) -> Self {
        Self {
            format_version: Self::FORMAT_VERSION,
            state: record.state,
            current_version: record.current_version,
            upgrade_version: record.upgrade_version,
            reserved: [0; 5],
            ctr_byte: 0,
            failed_attempts: record.failed_attempts,
            max_failed_attempts: record.max_failed_attempts,
            ctr_look_ahead: 0,
            ctr_data_hash: [0; 16],
            legacy: false,
        }
    }
}

/// Server: the status answer for a record with a device key. With a `challenge` (3.1+) it
/// draws a nonce, then five `reserved` bytes; without one (3.0), 23 bytes of filler and a
/// zero IV. Records in `CREATED` state (no device key yet) get [`make_random_status`].
pub fn encrypt_status(
    record: &StatusRecord,
    transport_key: &SymmetricKey,
    challenge: Option<[u8; 16]>,
    rng: &dyn RandomSource,
) -> EncryptedStatus {
    match challenge {
        Some(challenge) => {
            let mut nonce = [0u8; 16];
            rng.fill(&mut nonce);
            let mut reserved = [0u8; 5];
            rng.fill(&mut reserved);
            let exchange = StatusExchange::Challenge { challenge, nonce };
            let blob = ActivationStatusBlob::from_record_with(record, transport_key, reserved);
            EncryptedStatus {
                encrypted_status_blob: blob.encrypt(transport_key, &exchange),
                nonce: Some(nonce),
            }
        }
        None => {
            let mut filler = [0u8; 23];
            rng.fill(&mut filler);
            let blob = ActivationStatusBlob::legacy_from_record_with(record, filler);
            EncryptedStatus {
                encrypted_status_blob: blob.encrypt(transport_key, &StatusExchange::Legacy),
                nonce: None,
            }
        }
    }
}

/// Server: the answer for an unknown activation (reported as `REMOVED`) or a record without
/// a device key (`CREATED`): 32 random bytes, and a random nonce when a challenge came. The
/// client's decryption then fails the magic check, and activation ids cannot be probed.
pub fn make_random_status(challenge: Option<[u8; 16]>, rng: &dyn RandomSource) -> EncryptedStatus {
    let mut encrypted_status_blob = [0u8; 32];
    rng.fill(&mut encrypted_status_blob);
    let nonce = challenge.map(|_| {
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        nonce
    });
    EncryptedStatus {
        encrypted_status_blob,
        nonce,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use crate::status::StatusError;
    use proptest::prelude::*;

    fn record(state: ActivationState, ctr_data: Option<CtrData>) -> StatusRecord {
        StatusRecord {
            state,
            current_version: 3,
            upgrade_version: StatusRecord::SERVER_UPGRADE_VERSION,
            failed_attempts: 1,
            max_failed_attempts: 5,
            ctr_look_ahead: StatusRecord::DEFAULT_LOOK_AHEAD,
            counter: 0x1_0203,
            ctr_data,
        }
    }

    proptest! {
        #[test]
        fn encrypt_decrypt_round_trip_every_state_and_version(
            state_index in 0usize..5,
            version_index in 0usize..4,
            key in any::<[u8; 16]>(),
            challenge in any::<[u8; 16]>(),
            ctr in any::<[u8; 16]>(),
            seed in any::<[u8; 8]>(),
        ) {
            let state = ActivationState::ALL[state_index];
            let version = crate::ProtocolVersion::ALL[version_index];
            let transport_key = SymmetricKey::from_bytes(key);
            let record = record(state, Some(CtrData::from_bytes(ctr)));
            let rng = SeededRandom::new(&seed);
            let challenge = version.status_has_challenge().then_some(challenge);
            let answer = encrypt_status(&record, &transport_key, challenge, &rng);
            prop_assert_eq!(answer.nonce.is_some(), challenge.is_some());
            let exchange = StatusExchange::from_response(
                challenge,
                answer.nonce.as_ref().map(|n| n.as_slice()),
            ).unwrap();
            let blob = ActivationStatusBlob::decrypt(
                &answer.encrypted_status_blob, &transport_key, &exchange,
            ).unwrap();
            prop_assert_eq!(blob.state, state);
            prop_assert_eq!(blob.failed_attempts, 1);
            prop_assert_eq!(blob.remaining_attempts(), 4);
            prop_assert!(!blob.upgrade_available());
            prop_assert_eq!(blob.legacy, !version.status_has_challenge());
            if !blob.legacy {
                prop_assert_eq!(blob.ctr_byte, 0x03);
                prop_assert_eq!(blob.ctr_look_ahead, 20);
                let hash_key = transport_key.derive(index::CTR_DATA_HASH);
                prop_assert_eq!(blob.ctr_data_hash, CtrData::from_bytes(ctr).hash_with(hash_key.expose_bytes()));
            }
            prop_assert_eq!(blob.encrypt(&transport_key, &exchange), answer.encrypted_status_blob);
        }
    }

    #[test]
    fn v2_record_hashes_to_zero() {
        let mut record = record(ActivationState::Active, None);
        record.current_version = 2;
        let blob = ActivationStatusBlob::from_record_with(
            &record,
            &SymmetricKey::from_bytes([1; 16]),
            [9; 5],
        );
        assert_eq!(blob.ctr_data_hash, [0; 16]);
        assert!(blob.upgrade_available());
    }

    #[test]
    fn random_status_does_not_decrypt() {
        let rng = SeededRandom::new(b"unknown activation");
        let key = SymmetricKey::from_bytes([7; 16]);
        let answer = make_random_status(Some([4; 16]), &rng);
        let exchange =
            StatusExchange::from_response(Some([4; 16]), answer.nonce.as_ref().map(|n| &n[..]))
                .unwrap();
        assert_eq!(
            ActivationStatusBlob::decrypt(&answer.encrypted_status_blob, &key, &exchange),
            Err(StatusError::NotDecrypted)
        );
        assert_eq!(make_random_status(None, &rng).nonce, None);
    }
}
