//! Vectors: online signatures (3.0 decimal, 3.1+ Base64) and offline signatures
//! (decimal, 4 to 8 digits per component), computed by the client and found by the
//! server's look-ahead.

use crate::common::{b64, cases, s};
use powerauth::signature::{
    ComponentLength, FactorKeys, OfflineOptions, SignatureBase, SignatureFormat, SignatureType,
    Verifier, compute_signature,
};
use powerauth::{CtrData, ProtocolVersion, SymmetricKey};
use serde_json::Value;

struct Case {
    possession: SymmetricKey,
    knowledge: SymmetricKey,
    biometry: SymmetricKey,
    signature_type: SignatureType,
    ctr_data: CtrData,
    base: SignatureBase,
    expected: String,
}

impl Case {
    fn read(case: &Value) -> Self {
        let input = &case["input"];
        let key = |field| SymmetricKey::from_slice(&b64(input, field)).expect("16-byte key");
        Self {
            possession: key("signaturePossessionKey"),
            knowledge: key("signatureKnowledgeKey"),
            biometry: key("signatureBiometryKey"),
            signature_type: s(input, "signatureType").parse().expect("known type"),
            ctr_data: CtrData::from_slice(&b64(input, "counterData")).expect("16-byte counter"),
            base: SignatureBase::from_bytes(b64(input, "data")),
            expected: s(&case["output"], "signature").to_string(),
        }
    }

    fn keys(&self) -> FactorKeys<'_> {
        FactorKeys {
            possession: Some(&self.possession),
            knowledge: Some(&self.knowledge),
            biometry: Some(&self.biometry),
        }
    }

    /// The client computes the vector's signature and moves its counter one step.
    fn check_client(&self, format: SignatureFormat, index: usize) {
        let mut ctr = self.ctr_data.clone();
        let signature = compute_signature(
            &self.keys(),
            self.signature_type,
            &mut ctr,
            &self.base,
            format,
        )
        .expect("all keys present");
        assert_eq!(signature, self.expected, "case {index}: signature");
        assert_eq!(
            ctr,
            self.ctr_data.next(),
            "case {index}: counter must advance"
        );
    }

    /// A client `k` steps ahead of the server, with the vector's keys and data, is found
    /// at step `k`; with a window of `k` it is not. (The vector's own counter cannot be
    /// reached from behind: the hash chain does not run backwards.)
    fn check_server_ahead(&self, format: SignatureFormat, k: u32, index: usize) {
        let mut client = self.ctr_data.advanced(k);
        let signature = compute_signature(
            &self.keys(),
            self.signature_type,
            &mut client,
            &self.base,
            format,
        )
        .expect("all keys present");
        let verifier = Verifier::new(self.keys());
        let found = verifier
            .verify(
                &self.ctr_data,
                &[self.signature_type],
                &signature,
                &self.base,
                format,
            )
            .unwrap_or_else(|| panic!("case {index}: not found {k} steps ahead"));
        assert_eq!(found.steps_ahead, k, "case {index}");
        assert_eq!(found.next_ctr_data, client, "case {index}");
        let narrow = verifier.with_lookahead(k);
        assert!(
            narrow
                .verify(
                    &self.ctr_data,
                    &[self.signature_type],
                    &signature,
                    &self.base,
                    format
                )
                .is_none(),
            "case {index}: found outside a window of {k}"
        );
    }
}

fn check_online(file: &str, count: usize, versions: &[ProtocolVersion]) {
    let cases = cases(file);
    assert_eq!(cases.len(), count, "{file}: case count");
    for (index, case) in cases.iter().enumerate() {
        let case = Case::read(case);
        let format = SignatureFormat::online(versions[0]);
        case.check_client(format, index);
        let verifier = Verifier::new(case.keys());
        for &version in versions {
            let found = verifier
                .verify_online(
                    &case.ctr_data,
                    case.signature_type,
                    &case.expected,
                    &case.base,
                    version,
                )
                .unwrap_or_else(|| panic!("{file} case {index}: server rejects it as {version}"));
            assert_eq!(found.steps_ahead, 0);
            assert_eq!(found.signature_type, case.signature_type);
            assert_eq!(found.next_ctr_data, case.ctr_data.next());
        }
        case.check_server_ahead(format, 1 + (index as u32 % 19), index);
    }
}

#[test]
fn signatures_v3_decimal() {
    check_online(
        "powerauth-crypto/signatures-v3.json",
        300,
        &[ProtocolVersion::V3_0],
    );
}

#[test]
fn signatures_v31_base64() {
    check_online(
        "powerauth-crypto/signatures-v31.json",
        300,
        &[
            ProtocolVersion::V3_1,
            ProtocolVersion::V3_2,
            ProtocolVersion::V3_3,
        ],
    );
}

#[test]
fn decimal_and_base64_do_not_cross() {
    let case = Case::read(&cases("powerauth-crypto/signatures-v31.json")[0]);
    let verifier = Verifier::new(case.keys());
    assert!(
        verifier
            .verify_online(
                &case.ctr_data,
                case.signature_type,
                &case.expected,
                &case.base,
                ProtocolVersion::V3_0
            )
            .is_none()
    );
}

#[test]
fn signatures_offline() {
    let file = "powerauth-crypto/signatures-offline.json";
    let cases = cases(file);
    assert_eq!(cases.len(), 200, "{file}: case count");
    for (index, raw) in cases.iter().enumerate() {
        let case = Case::read(raw);
        let digits: u8 = s(&raw["input"], "signatureComponentLength")
            .parse()
            .expect("number");
        let length = ComponentLength::new(digits).expect("4..=8");
        let format = SignatureFormat::Decimal(length);
        case.check_client(format, index);
        case.check_server_ahead(format, 1 + (index as u32 % 19), index);

        let verifier = Verifier::new(case.keys());
        let found = match case.signature_type {
            // PowerAuth Server's offline endpoint tries possession_knowledge first, then
            // possession_biometry when allowed.
            SignatureType::PossessionKnowledge => {
                for allow_biometry in [false, true] {
                    let options = OfflineOptions {
                        allow_biometry,
                        component_length: length,
                    };
                    assert!(
                        verifier
                            .verify_offline(&case.ctr_data, &case.expected, &case.base, options)
                            .is_some(),
                        "case {index}: offline verification (allow_biometry = {allow_biometry})"
                    );
                }
                verifier.verify_offline(
                    &case.ctr_data,
                    &case.expected,
                    &case.base,
                    OfflineOptions {
                        allow_biometry: false,
                        component_length: length,
                    },
                )
            }
            // The offline endpoint never accepts 1FA; the general loop does.
            other => {
                let options = OfflineOptions {
                    allow_biometry: true,
                    component_length: length,
                };
                assert!(
                    verifier
                        .verify_offline(&case.ctr_data, &case.expected, &case.base, options)
                        .is_none()
                );
                verifier.verify(&case.ctr_data, &[other], &case.expected, &case.base, format)
            }
        }
        .unwrap_or_else(|| panic!("case {index}: server rejects it"));
        assert_eq!(found.steps_ahead, 0);
        assert_eq!(found.signature_type, case.signature_type);
    }
}
