//! Vectors: recovery codes and PUKs (`reference/recovery-code.json`), derived on the
//! server from a secret and a seed, and made afresh from the same random values.

use crate::common::{b64, cases, s};
use powerauth::RandomSource;
use powerauth::activation_code::ActivationCode;
use powerauth::hazmat::kdf_x963_sha256;
use powerauth::recovery::{Puk, RecoveryCode, RecoveryInfo, RecoverySeed};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Plays back recorded random bytes in order, as the Java generator drew them.
struct Replay(Mutex<VecDeque<u8>>);

impl RandomSource for Replay {
    fn fill(&self, dest: &mut [u8]) {
        let mut bytes = self.0.lock().unwrap();
        for byte in dest {
            *byte = bytes
                .pop_front()
                .expect("the test recorded enough random bytes");
        }
    }
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value[field]
        .as_array()
        .unwrap_or_else(|| panic!("no array `{field}`"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn recovery_codes_and_puks() {
    let list = cases("reference/recovery-code.json");
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let secret = b64(input, "recoveryPostcardKey");
        let nonce: [u8; 32] = b64(input, "nonce").try_into().unwrap();
        let indexes: Vec<i64> = strings(input, "pukDerivationIndexes")
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        let index_bytes: Vec<Vec<u8>> = strings(input, "pukDerivationIndexBytes")
            .iter()
            .map(|text| powerauth::encoding::b64_decode(text).unwrap())
            .collect();
        for (index, bytes) in indexes.iter().zip(&index_bytes) {
            assert_eq!(&index.to_be_bytes()[..], &bytes[..]);
        }
        let expected_code = s(output, "recoveryCode");
        let expected_puks = strings(output, "puks");

        // The intermediate KDF output, and the code it encodes.
        let kdf_output = kdf_x963_sha256(&secret, &nonce, 26);
        assert_eq!(kdf_output, b64(output, "kdfOutput"), "{case}");
        let random: [u8; 10] = kdf_output[..10].try_into().unwrap();
        assert_eq!(
            ActivationCode::from_random_bytes(random).as_str(),
            expected_code
        );

        // Server, deterministic: derive from the stored seed.
        let seed = RecoverySeed {
            nonce,
            puk_derivation_indexes: indexes,
        };
        let derived = RecoveryInfo::derive(&secret, seed.clone());
        assert_eq!(derived.recovery_code.as_str(), expected_code, "{case}");
        let puks: Vec<&str> = derived.puks.iter().map(Puk::expose_str).collect();
        assert_eq!(puks, expected_puks, "{case}");

        // Server, random: the same values drawn in Java's order (nonce, then 8 bytes per PUK).
        let recorded: VecDeque<u8> = nonce
            .iter()
            .chain(index_bytes.iter().flatten())
            .copied()
            .collect();
        let made = RecoveryInfo::make(&secret, expected_puks.len(), &Replay(Mutex::new(recorded)))
            .unwrap();
        assert_eq!(made, derived);
        assert_eq!(made.seed, seed);

        // Client: what the user types validates.
        assert_eq!(
            RecoveryCode::parse(expected_code).unwrap(),
            derived.recovery_code
        );
        assert_eq!(
            RecoveryCode::parse_qr(&format!("R:{expected_code}")).unwrap(),
            derived.recovery_code
        );
        for puk in &expected_puks {
            assert_eq!(Puk::parse(puk).unwrap().expose_str(), puk);
        }
    }
    assert_eq!(list.len(), 14);
}
