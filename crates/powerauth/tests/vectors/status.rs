//! Vectors: the status blob IV, its encoding by the server and its decoding and counter
//! synchronisation by the client.

use crate::common::{b64, cases, s};
use powerauth::status::{
    ActivationState, ActivationStatusBlob, CounterSync, StatusExchange, StatusRecord,
    UncheckedReason, counter_distance, derive_status_iv, synchronize_counter,
};
use powerauth::{CtrData, SymmetricKey};
use serde_json::Value;

fn key(case: &Value, field: &str) -> SymmetricKey {
    SymmetricKey::from_slice(&b64(case, field)).unwrap()
}

fn array<const N: usize>(case: &Value, field: &str) -> [u8; N] {
    b64(case, field)
        .try_into()
        .unwrap_or_else(|_| panic!("`{field}` is not {N} bytes"))
}

/// A small integer given as a JSON number (reference files) or a decimal string (official).
fn n(case: &Value, field: &str) -> u8 {
    match case.get(field) {
        Some(Value::Number(number)) => number.as_u64().and_then(|v| u8::try_from(v).ok()),
        Some(Value::String(text)) => text.parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("`{field}` is not a byte: {case}"))
}

fn assert_fields(blob: &ActivationStatusBlob, expected: &Value) {
    let state = ActivationState::from_byte(n(expected, "activationStatus")).unwrap();
    assert_eq!(blob.state, state, "{expected}");
    assert_eq!(blob.current_version, n(expected, "currentVersion"));
    assert_eq!(blob.upgrade_version, n(expected, "upgradeVersion"));
    assert_eq!(blob.failed_attempts, n(expected, "failedAttempts"));
    assert_eq!(blob.max_failed_attempts, n(expected, "maxFailedAttempts"));
    assert_eq!(blob.ctr_look_ahead, n(expected, "ctrLookAhead"));
    assert_eq!(blob.ctr_byte, n(expected, "ctrByte"));
    assert_eq!(blob.ctr_data_hash.as_slice(), b64(expected, "ctrDataHash"));
    assert_eq!(
        blob.remaining_attempts(),
        blob.max_failed_attempts
            .saturating_sub(blob.failed_attempts)
    );
}

#[test]
fn status_iv() {
    let list = cases("powerauth-crypto/activation-status-blob-iv.json");
    for case in &list {
        let input = &case["input"];
        let iv = derive_status_iv(
            &key(input, "transportKey"),
            &array(input, "challenge"),
            &array(input, "nonce"),
        );
        assert_eq!(iv.as_slice(), b64(&case["output"], "iv"), "{case}");
    }
    assert_eq!(list.len(), 32);
}

/// Client: decrypt, decode, measure the counter distance and synchronise. Server: rebuild
/// the same ciphertext from the record (the reserved bytes taken from the decryption).
#[test]
fn status_blob_data_decode_and_sync() {
    let list = cases("powerauth-crypto/activation-status-blob-data.json");
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let transport_key = key(input, "transportKey");
        let exchange = StatusExchange::Challenge {
            challenge: array(input, "challenge"),
            nonce: array(input, "nonce"),
        };
        let encrypted = b64(input, "encryptedStatusBlob");
        let blob = ActivationStatusBlob::decrypt(&encrypted, &transport_key, &exchange).unwrap();
        assert_fields(&blob, output);
        assert!(!blob.legacy);

        let ctr_data = CtrData::from_slice(&b64(input, "ctrData")).unwrap();
        let distance: u32 = s(output, "counterDistance").parse().unwrap();
        assert_eq!(
            counter_distance(
                &ctr_data,
                &blob.ctr_data_hash,
                &transport_key,
                blob.ctr_look_ahead
            ),
            Some(distance),
            "{case}"
        );

        // A client whose counter byte trails the server's by the same distance adopts the
        // server's counter; a V2 activation is not checked.
        let local_byte = blob.ctr_byte.wrapping_sub(distance as u8);
        let expected = match (blob.current_version, distance) {
            (2, _) => CounterSync::Unchecked(UncheckedReason::V2Activation),
            (_, 0) => CounterSync::Ok { client_ahead: 0 },
            (_, d) => CounterSync::Updated {
                ctr_data: ctr_data.advanced(d),
                ctr_byte: blob.ctr_byte,
                server_ahead: d,
            },
        };
        assert_eq!(
            synchronize_counter(&ctr_data, Some(local_byte), &blob, &transport_key),
            expected,
            "{case}"
        );

        let record = StatusRecord {
            state: blob.state,
            current_version: blob.current_version,
            upgrade_version: blob.upgrade_version,
            failed_attempts: blob.failed_attempts,
            max_failed_attempts: blob.max_failed_attempts,
            ctr_look_ahead: blob.ctr_look_ahead,
            counter: u64::from(blob.ctr_byte),
            ctr_data: Some(ctr_data.advanced(distance)),
        };
        let rebuilt =
            ActivationStatusBlob::from_record_with(&record, &transport_key, blob.reserved);
        assert_eq!(rebuilt, blob);
        assert_eq!(
            rebuilt.encrypt(&transport_key, &exchange).as_slice(),
            encrypted
        );
    }
    assert_eq!(list.len(), 8);
}

/// Server encoding byte for byte (3.0 legacy and 3.1+), then the client's decoding.
#[test]
fn status_blob_encode() {
    let list = cases("reference/activation-status-blob-encode.json");
    let mut legacy_cases = 0;
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let transport_key = key(input, "transportKey");
        let legacy = input["challenge"].is_null();
        let mut record = StatusRecord {
            state: ActivationState::from_byte(n(input, "activationStatus")).unwrap(),
            current_version: n(input, "currentVersion"),
            upgrade_version: n(input, "upgradeVersion"),
            failed_attempts: n(input, "failedAttempts"),
            max_failed_attempts: n(input, "maxFailedAttempts"),
            ctr_look_ahead: 0,
            counter: 0,
            ctr_data: None,
        };
        let (exchange, blob) = if legacy {
            legacy_cases += 1;
            assert!(input["nonce"].is_null() && input["ctrData"].is_null());
            let filler = array(input, "serverRandomBytes");
            let blob = ActivationStatusBlob::legacy_from_record_with(&record, filler);
            (StatusExchange::Legacy, blob)
        } else {
            record.ctr_look_ahead = n(input, "ctrLookAhead");
            record.counter = u64::from(n(input, "ctrByte"));
            record.ctr_data = Some(CtrData::from_slice(&b64(input, "ctrData")).unwrap());
            let exchange = StatusExchange::Challenge {
                challenge: array(input, "challenge"),
                nonce: array(input, "nonce"),
            };
            let reserved = array(input, "serverRandomBytes");
            let blob = ActivationStatusBlob::from_record_with(&record, &transport_key, reserved);
            (exchange, blob)
        };
        assert_eq!(
            exchange.iv(&transport_key).as_slice(),
            b64(output, "iv"),
            "{case}"
        );
        assert_eq!(
            blob.encode().as_slice(),
            b64(output, "statusBlobPlain"),
            "{case}"
        );
        let encrypted = blob.encrypt(&transport_key, &exchange);
        assert_eq!(encrypted.as_slice(), b64(output, "encryptedStatusBlob"));

        let decoded = &output["decoded"];
        assert_eq!(decoded["valid"], Value::Bool(true));
        let client = ActivationStatusBlob::decrypt(&encrypted, &transport_key, &exchange).unwrap();
        assert_fields(&client, decoded);
        assert_eq!(client, blob);
        assert_eq!(client.legacy, legacy);
    }
    assert_eq!(list.len(), 14);
    assert_eq!(legacy_cases, 4);
}
