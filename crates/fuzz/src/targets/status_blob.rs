//! The status blob parsers on arbitrary bytes: decryption and parsing of 0..64 bytes with a
//! fixed transport key, parsing of 32 plain bytes, and counter synchronisation on whatever
//! parses. Never panics; whatever parses re-encodes to the same bytes.

use powerauth::status::{
    ActivationState, ActivationStatusBlob, CounterSync, StatusError, StatusExchange,
    synchronize_counter,
};
use powerauth::{CtrData, SymmetricKey};

const TRANSPORT_KEY: [u8; 16] = [0x2B; 16];
const CHALLENGE: [u8; 16] = [0x11; 16];
const NONCE: [u8; 16] = [0x22; 16];

fn check(blob: &ActivationStatusBlob, plain: &[u8; 32], exchange: &StatusExchange) {
    assert_eq!(&blob.encode(), plain);
    assert_eq!(blob.legacy, !exchange.carries_counter());
    let transport_key = SymmetricKey::from_bytes(TRANSPORT_KEY);
    let ctr_data = CtrData::from_bytes(blob.ctr_data_hash);
    for ctr_byte in [
        None,
        Some(blob.ctr_byte),
        Some(blob.ctr_byte.wrapping_add(40)),
    ] {
        match synchronize_counter(&ctr_data, ctr_byte, blob, &transport_key) {
            CounterSync::Ok { client_ahead }
            | CounterSync::CalculateSignatureSoon { client_ahead, .. } => {
                assert!(client_ahead <= u32::from(blob.ctr_look_ahead));
            }
            CounterSync::Updated { server_ahead, .. } => {
                assert!(server_ahead < u32::from(blob.ctr_look_ahead));
            }
            CounterSync::Invalid(deadlock) => {
                let _ = deadlock.to_string();
            }
            _ => {}
        }
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let transport_key = SymmetricKey::from_bytes(TRANSPORT_KEY);
    let exchanges = [
        StatusExchange::Legacy,
        StatusExchange::Challenge {
            challenge: CHALLENGE,
            nonce: NONCE,
        },
    ];
    let encrypted = &data[..data.len().min(64)];
    for exchange in &exchanges {
        match ActivationStatusBlob::decrypt(encrypted, &transport_key, exchange) {
            Ok(blob) => {
                assert_eq!(blob.encrypt(&transport_key, exchange).as_slice(), encrypted);
                check(&blob, &blob.encode(), exchange);
            }
            Err(StatusError::InvalidLength(len)) => assert_ne!(len, 32),
            Err(error) => {
                assert_eq!(encrypted.len(), 32);
                let _ = error.to_string();
            }
        }
    }
    if let Ok(plain) = <[u8; 32]>::try_from(&data[..data.len().min(32)]) {
        for exchange in &exchanges {
            if let Ok(blob) = ActivationStatusBlob::decode(&plain, exchange) {
                check(&blob, &plain, exchange);
            }
        }
        // Counter synchronisation on any field values, including the look-ahead windows
        // and states a decoder would refuse.
        let blob = ActivationStatusBlob {
            format_version: plain[3],
            state: ActivationState::ALL[usize::from(plain[4] % 5)],
            current_version: plain[5],
            upgrade_version: plain[6],
            reserved: [plain[7], plain[8], plain[9], plain[10], plain[11]],
            ctr_byte: plain[12],
            failed_attempts: plain[13],
            max_failed_attempts: plain[14],
            ctr_look_ahead: plain[15],
            ctr_data_hash: plain[16..].try_into().expect("16 bytes"),
            legacy: plain[0] & 1 == 1,
        };
        let local = data
            .get(32..48)
            .and_then(CtrData::from_slice)
            .unwrap_or_else(|| CtrData::from_bytes(blob.ctr_data_hash));
        let local_byte = data.get(48).copied();
        let _ = synchronize_counter(&local, local_byte, &blob, &transport_key);
        let _ = (blob.remaining_attempts(), blob.upgrade_available());
    }
}
