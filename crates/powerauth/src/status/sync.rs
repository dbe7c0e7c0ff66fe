//! Client counter synchronisation (digest §6.4, §16.10): what the mobile SDK concludes from
//! a decrypted status blob about its local `CTR_DATA`, as a pure function.

use super::ActivationStatusBlob;
use crate::counter::CtrData;
use crate::hazmat::constant_time_eq;
use crate::keys::{SymmetricKey, index};

/// The outcome of [`synchronize_counter`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CounterSync {
    /// The counters agree (`client_ahead == 0`), or the client is at most half the server's
    /// look-ahead window ahead, which the next valid signature repairs on its own.
    Ok {
        /// How many steps the local counter is ahead of the server's.
        client_ahead: u32,
    },
    /// The blob says nothing about the counter; the SDK then reports OK.
    Unchecked(UncheckedReason),
    /// The local state must change and be saved: adopt `ctr_data` and `ctr_byte`. Either the
    /// server is `server_ahead` steps ahead, or (`server_ahead == 0`) the first `ctrByte`
    /// was learned.
    Updated {
        /// The new local `CTR_DATA`.
        ctr_data: CtrData,
        /// The new local counter byte (the server's).
        ctr_byte: u8,
        /// How many steps the server was ahead.
        server_ahead: u32,
    },
    /// The local counter is more than half the look-ahead window ahead: compute a signature
    /// soon (the SDK at once sends a possession-signed `/pa/v3/signature/validate`).
    CalculateSignatureSoon {
        /// How many steps the local counter is ahead.
        client_ahead: u32,
        /// The server's look-ahead window.
        look_ahead: u8,
    },
    /// The counters cannot be reconciled: the SDK puts the activation in "deadlock".
    Invalid(CounterDeadlock),
}

/// Why [`CounterSync::Unchecked`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UncheckedReason {
    /// A 3.0 status: its counter fields are random filler.
    LegacyStatus,
    /// A V2 activation (`currentVersion == 2`): it has no hash-based counter.
    V2Activation,
    /// No local counter byte is known yet and the server's hash is not the local
    /// `CTR_DATA`: the distance cannot be told until the next signature.
    CtrByteUnknown,
}

/// The distances behind a [`CounterSync::Invalid`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterDeadlock {
    /// Signed distance of the counter bytes, local − server ([`byte_distance`]): positive
    /// when the client is ahead.
    pub byte_distance: i32,
    /// Steps from the local `CTR_DATA` forward to the server's, if found within the window.
    pub hash_distance: Option<u32>,
    /// The server's look-ahead window.
    pub look_ahead: u8,
}

impl std::fmt::Display for CounterDeadlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            byte_distance,
            hash_distance,
            look_ahead,
        } = *self;
        match hash_distance {
            None if byte_distance > 0 => write!(
                f,
                "the local counter is {byte_distance} steps ahead of the server's, beyond its \
                 look-ahead window of {look_ahead}: the server can no longer match a signature"
            ),
            None => write!(
                f,
                "the server's CTR_DATA is not within {look_ahead} steps ahead of the local one \
                 (counter bytes differ by {byte_distance}): the counters have diverged"
            ),
            Some(steps) => write!(
                f,
                "the server's CTR_DATA is {steps} steps ahead of the local one, but the counter \
                 bytes differ by {byte_distance}: the local counter state is inconsistent"
            ),
        }
    }
}

/// The SDK's signed distance between two counter bytes, local − server, taking the
/// candidate of smallest magnitude among `L−S`, `256+L−S`, `L−256−S` (ties to the first):
/// positive when the client is ahead, in `-128..=128`.
pub fn byte_distance(local: u8, server: u8) -> i32 {
    let (l, s) = (i32::from(local), i32::from(server));
    let candidates = [l - s, 256 + l - s, l - (256 + s)];
    let mut best = candidates[0];
    for candidate in &candidates[1..] {
        if candidate.abs() < best.abs() {
            best = *candidate;
        }
    }
    best
}

/// The smallest `i < look_ahead` such that the hash of `hash^i(ctr_data)` is
/// `ctr_data_hash`: how many steps the server is ahead, or `None`.
pub fn counter_distance(
    ctr_data: &CtrData,
    ctr_data_hash: &[u8; 16],
    transport_key: &SymmetricKey,
    look_ahead: u8,
) -> Option<u32> {
    find_server_counter(ctr_data, ctr_data_hash, transport_key, look_ahead).map(|(d, _)| d)
}

fn find_server_counter(
    ctr_data: &CtrData,
    ctr_data_hash: &[u8; 16],
    transport_key: &SymmetricKey,
    look_ahead: u8,
) -> Option<(u32, CtrData)> {
    let hash_key = transport_key.derive(index::CTR_DATA_HASH);
    let mut candidate = ctr_data.clone();
    for steps in 0..u32::from(look_ahead) {
        if constant_time_eq(&candidate.hash_with(hash_key.expose_bytes()), ctr_data_hash) {
            return Some((steps, candidate));
        }
        candidate = candidate.next();
    }
    None
}

/// Reconciles the local `ctr_data` and counter byte (`None` until the first status or
/// activation told it) with a decrypted blob, exactly as the mobile SDK does
/// (`Session::trySynchronizeCounter`).
pub fn synchronize_counter(
    ctr_data: &CtrData,
    ctr_byte: Option<u8>,
    blob: &ActivationStatusBlob,
    transport_key: &SymmetricKey,
) -> CounterSync {
    if blob.legacy {
        return CounterSync::Unchecked(UncheckedReason::LegacyStatus);
    }
    if blob.current_version == 2 {
        return CounterSync::Unchecked(UncheckedReason::V2Activation);
    }
    let look_ahead = blob.ctr_look_ahead;
    let found = find_server_counter(ctr_data, &blob.ctr_data_hash, transport_key, look_ahead);
    let Some(local_byte) = ctr_byte else {
        return match found {
            Some((0, _)) => CounterSync::Updated {
                ctr_data: ctr_data.clone(),
                ctr_byte: blob.ctr_byte,
                server_ahead: 0,
            },
            _ => CounterSync::Unchecked(UncheckedReason::CtrByteUnknown),
        };
    };
    let byte_distance = byte_distance(local_byte, blob.ctr_byte);
    let client_ahead = byte_distance.unsigned_abs();
    match found {
        Some((0, _)) if byte_distance == 0 => CounterSync::Ok { client_ahead: 0 },
        None if byte_distance > 0 => {
            if client_ahead > u32::from(look_ahead) {
                CounterSync::Invalid(CounterDeadlock {
                    byte_distance,
                    hash_distance: None,
                    look_ahead,
                })
            } else if client_ahead > u32::from(look_ahead / 2) {
                CounterSync::CalculateSignatureSoon {
                    client_ahead,
                    look_ahead,
                }
            } else {
                CounterSync::Ok { client_ahead }
            }
        }
        Some((steps, server_ctr_data)) if i64::from(steps) == -i64::from(byte_distance) => {
            CounterSync::Updated {
                ctr_data: server_ctr_data,
                ctr_byte: blob.ctr_byte,
                server_ahead: steps,
            }
        }
        found => CounterSync::Invalid(CounterDeadlock {
            byte_distance,
            hash_distance: found.map(|(steps, _)| steps),
            look_ahead,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{ActivationState, StatusRecord};
    use proptest::prelude::*;

    const LOOK_AHEAD: u8 = 20;

    fn server_blob(
        server_ctr: &CtrData,
        server_byte: u8,
        transport_key: &SymmetricKey,
    ) -> ActivationStatusBlob {
        let record = StatusRecord {
            state: ActivationState::Active,
            current_version: 3,
            upgrade_version: 3,
            failed_attempts: 0,
            max_failed_attempts: 5,
            ctr_look_ahead: LOOK_AHEAD,
            counter: u64::from(server_byte),
            ctr_data: Some(server_ctr.clone()),
        };
        ActivationStatusBlob::from_record_with(&record, transport_key, [0; 5])
    }

    proptest! {
        #[test]
        fn server_ahead_is_adopted(ctr in any::<[u8; 16]>(), key in any::<[u8; 16]>(), byte in any::<u8>(), d in 0u32..u32::from(LOOK_AHEAD)) {
            let (local, key) = (CtrData::from_bytes(ctr), SymmetricKey::from_bytes(key));
            let server_byte = byte.wrapping_add(d as u8);
            let blob = server_blob(&local.advanced(d), server_byte, &key);
            let expected = if d == 0 {
                CounterSync::Ok { client_ahead: 0 }
            } else {
                CounterSync::Updated { ctr_data: local.advanced(d), ctr_byte: server_byte, server_ahead: d }
            };
            prop_assert_eq!(synchronize_counter(&local, Some(byte), &blob, &key), expected);
            prop_assert_eq!(counter_distance(&local, &blob.ctr_data_hash, &key, LOOK_AHEAD), Some(d));
        }

        #[test]
        fn client_ahead_is_classified(ctr in any::<[u8; 16]>(), byte in any::<u8>(), k in 1u32..=40) {
            let key = SymmetricKey::from_bytes([5; 16]);
            let server = CtrData::from_bytes(ctr);
            let blob = server_blob(&server, byte, &key);
            let local = server.advanced(k);
            let outcome = synchronize_counter(&local, Some(byte.wrapping_add(k as u8)), &blob, &key);
            let expected = if k > u32::from(LOOK_AHEAD) {
                CounterSync::Invalid(CounterDeadlock { byte_distance: k as i32, hash_distance: None, look_ahead: LOOK_AHEAD })
            } else if k > u32::from(LOOK_AHEAD / 2) {
                CounterSync::CalculateSignatureSoon { client_ahead: k, look_ahead: LOOK_AHEAD }
            } else {
                CounterSync::Ok { client_ahead: k }
            };
            prop_assert_eq!(outcome, expected);
        }
    }

    #[test]
    fn byte_distance_matches_the_sdk() {
        assert_eq!(byte_distance(5, 3), 2);
        assert_eq!(byte_distance(3, 5), -2);
        assert_eq!(byte_distance(1, 255), 2);
        assert_eq!(byte_distance(255, 1), -2);
        assert_eq!(byte_distance(128, 0), 128);
        assert_eq!(byte_distance(0, 128), -128);
    }

    #[test]
    fn unknown_byte_legacy_v2_and_divergence() {
        let key = SymmetricKey::from_bytes([6; 16]);
        let local = CtrData::from_bytes([1; 16]);
        let blob = server_blob(&local, 77, &key);
        let learned = synchronize_counter(&local, None, &blob, &key);
        assert_eq!(
            learned,
            CounterSync::Updated {
                ctr_data: local.clone(),
                ctr_byte: 77,
                server_ahead: 0
            }
        );
        let ahead = server_blob(&local.advanced(3), 80, &key);
        assert_eq!(
            synchronize_counter(&local, None, &ahead, &key),
            CounterSync::Unchecked(UncheckedReason::CtrByteUnknown)
        );
        let mut legacy = blob.clone();
        legacy.legacy = true;
        assert_eq!(
            synchronize_counter(&local, Some(0), &legacy, &key),
            CounterSync::Unchecked(UncheckedReason::LegacyStatus)
        );
        let mut v2 = blob.clone();
        v2.current_version = 2;
        assert_eq!(
            synchronize_counter(&local, Some(0), &v2, &key),
            CounterSync::Unchecked(UncheckedReason::V2Activation)
        );
        // The hash says the server is 3 ahead, the bytes say 2: inconsistent.
        let CounterSync::Invalid(deadlock) = synchronize_counter(&local, Some(78), &ahead, &key)
        else {
            panic!("expected a deadlock");
        };
        assert_eq!(deadlock.hash_distance, Some(3));
        assert_eq!(deadlock.byte_distance, -2);
        assert!(deadlock.to_string().contains("3 steps ahead"));
        // Server far ahead, beyond the window.
        let far = server_blob(&local.advanced(30), 107, &key);
        assert!(matches!(
            synchronize_counter(&local, Some(77), &far, &key),
            CounterSync::Invalid(CounterDeadlock {
                hash_distance: None,
                byte_distance: -30,
                ..
            })
        ));
    }
}
