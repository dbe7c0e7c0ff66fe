//! Vectors: activation codes and their signatures (`reference/activation-code.json`,
//! `powerauth-crypto/verify-activation-data-signature-v3.json`) and the device public key
//! fingerprint (`powerauth-crypto/public-key-fingerprint-v3.json`).

use crate::common::{b64, cases, hex, s};
use powerauth::activation_code::{
    ActivationCode, ActivationCodeError, ActivationQr, ActivationSignature, SignatureCheck,
    SignatureMismatch,
};
use powerauth::keys::{fingerprint, fingerprint_from_x};
use powerauth::{KeyPair, PrivateKey, PublicKey};
use serde_json::Value;

/// The vector's master key pair, as the server stores it (both halves), and its public key.
fn master_keys(input: &Value) -> (KeyPair, PublicKey) {
    let private = PrivateKey::from_bytes(&b64(input, "masterPrivateKey")).unwrap();
    let public = PublicKey::from_sec1(&b64(input, "masterPublicKey")).unwrap();
    assert_eq!(
        private.public_key().to_uncompressed(),
        public.to_uncompressed(),
        "the private key belongs to the public key: {input}"
    );
    (KeyPair::from_parts(private, public.clone()), public)
}

/// Whether a DER ECDSA signature has `s > n/2`, the form a low-S verifier would reject.
fn is_high_s(der: &[u8]) -> bool {
    const HALF_ORDER: [u8; 32] = [
        0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31,
        0x92, 0xA8,
    ];
    // SEQUENCE { INTEGER r, INTEGER s }, short-form lengths (signatures are < 128 bytes).
    let r_len = usize::from(der[3]);
    let s_start = 4 + r_len + 2;
    let s_bytes = &der[s_start..s_start + usize::from(der[s_start - 1])];
    let s_bytes = &s_bytes[s_bytes.iter().position(|&b| b != 0).unwrap_or(0)..];
    s_bytes.len() == 32 && s_bytes > &HALF_ORDER[..]
}

/// Checks a signature through the public API in every way a client meets it.
fn check_signature(code: &str, signature_b64: &str, master: &PublicKey, expected_valid: bool) {
    let signature = ActivationSignature::from_b64(signature_b64).unwrap();
    // The raw ECDSA check over the UTF-8 text, whatever the text is.
    assert_eq!(
        master
            .verify_ecdsa(code.as_bytes(), signature.as_der())
            .is_ok(),
        expected_valid,
        "raw ECDSA over {code:?}"
    );
    match ActivationQr::parse(&format!("{code}#{signature_b64}")) {
        Ok(qr) => {
            assert_eq!(qr.code().as_str(), code);
            let expected = if expected_valid {
                Ok(SignatureCheck::Verified)
            } else {
                Err(SignatureMismatch)
            };
            assert_eq!(qr.verify(master), expected, "QR payload {code}");
            let parsed = ActivationCode::parse(code).unwrap();
            assert_eq!(
                parsed.verify_signature(&signature, master).is_ok(),
                expected_valid
            );
        }
        // A text that is not a code never reaches the signature check.
        Err(error) => assert!(!expected_valid, "{code}: {error}"),
    }
}

fn check_valid(input: &Value, output: &Value) -> bool {
    let random: [u8; 10] = b64(input, "randomBytes").try_into().unwrap();
    let text = s(output, "activationCode");
    let code = ActivationCode::from_random_bytes(random);
    assert_eq!(code.as_str(), text, "generation from {input}");
    let bytes = b64(output, "activationCodeBytes");
    assert_eq!(code.to_bytes().as_slice(), bytes);
    assert_eq!(&bytes[10..], hex(output, "crc16"));
    assert_eq!(output["isValid"], true);
    assert_eq!(ActivationCode::parse(text), Ok(code.clone()));

    let (private, public) = master_keys(input);
    let signature = s(output, "activationSignature");
    assert_eq!(output["signatureValid"], true);
    check_signature(text, signature, &public, true);
    // Server side: our own signature (ECDSA's nonce is random, so bytes differ) verifies.
    let ours = ActivationQr::signed(code, &private, &ring::rand::SystemRandom::new());
    assert_eq!(
        ActivationQr::parse(&ours.to_string())
            .unwrap()
            .verify(&public),
        Ok(SignatureCheck::Verified)
    );
    is_high_s(&b64(output, "activationSignature"))
}

/// The error each `reason` of the file stands for.
fn expected_error(code: &str, reason: &str) -> ActivationCodeError {
    if reason.starts_with("checksum mismatch") {
        ActivationCodeError::ChecksumMismatch
    } else if reason == "missing hyphens"
        || reason.starts_with("too short")
        || reason == "leading whitespace"
    {
        ActivationCodeError::WrongLength {
            found: code.chars().count(),
        }
    } else if reason == "wrong separator" {
        ActivationCodeError::MissingDash {
            position: 6,
            found: code.chars().nth(5).unwrap(),
        }
    } else if reason.ends_with("is outside the Base32 alphabet") {
        let found = reason.chars().nth("character '".len()).unwrap();
        let position = code.chars().position(|c| c == found).unwrap() + 1;
        ActivationCodeError::InvalidCharacter { position, found }
    } else {
        panic!("a reason this test does not know yet: {reason}")
    }
}

#[test]
fn activation_codes_generate_validate_sign_verify() {
    let list = cases("reference/activation-code.json");
    let (mut valid, mut invalid, mut edge, mut signature_checks, mut high_s) = (0, 0, 0, 0, 0);
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        match s(input, "kind") {
            "valid" => {
                valid += 1;
                high_s += usize::from(check_valid(input, output));
            }
            "invalidCode" => {
                invalid += 1;
                let code = s(input, "activationCode");
                assert_eq!(output["isValid"], false);
                assert_eq!(
                    ActivationCode::parse(code),
                    Err(expected_error(code, s(output, "reason"))),
                    "{case}"
                );
            }
            "edgeCase" => {
                edge += 1;
                let code = s(input, "activationCode");
                let parsed = ActivationCode::parse(code);
                assert_eq!(parsed.is_ok(), output["isValid"] == true, "{case}");
                if let Ok(parsed) = parsed {
                    assert_eq!(parsed.as_str(), code, "a parsed code keeps its text");
                }
            }
            "signatureCheck" => {
                signature_checks += 1;
                let public = PublicKey::from_sec1(&b64(input, "masterPublicKey")).unwrap();
                let expected = output["signatureValid"].as_bool().unwrap();
                check_signature(
                    s(input, "activationCode"),
                    s(input, "activationSignature"),
                    &public,
                    expected,
                );
            }
            other => panic!("unknown kind {other}"),
        }
    }
    assert_eq!(
        (valid, invalid, edge, signature_checks),
        (14, 8, 3, 5),
        "case kinds"
    );
    assert_eq!(list.len(), 30);
    assert!(
        high_s > 0,
        "the file holds genuine high-S signatures (digest §14 #27); they must verify"
    );
}

#[test]
fn activation_signature_official() {
    let list = cases("powerauth-crypto/verify-activation-data-signature-v3.json");
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let code = s(input, "activationCode");
        ActivationCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        let (private, public) = master_keys(input);
        check_signature(code, s(output, "activationSignature"), &public, true);
        let ours = ActivationCode::parse(code)
            .unwrap()
            .sign(&private, &ring::rand::SystemRandom::new());
        check_signature(code, &ours.to_b64(), &public, true);
    }
    assert_eq!(list.len(), 20);
}

#[test]
fn public_key_fingerprint() {
    let list = cases("powerauth-crypto/public-key-fingerprint-v3.json");
    let mut short_x = 0;
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let device = PublicKey::from_sec1(&b64(input, "devicePublicKey")).unwrap();
        let server = PublicKey::from_sec1(&b64(input, "serverPublicKey")).unwrap();
        let activation_id = s(output, "activationId");
        let expected = s(output, "fingerprint");
        let device_x = b64(output, "devicePublicKeyCoordX");
        let server_x = b64(output, "serverPublicKeyCoordX");
        assert_eq!(device.x_coordinate_minimal(), device_x, "{case}");
        assert_eq!(server.x_coordinate_minimal(), server_x, "{case}");
        short_x += usize::from(device_x.len() < 32 || server_x.len() < 32);
        assert_eq!(
            fingerprint(&device, activation_id, &server),
            expected,
            "{case}"
        );
        assert_eq!(
            fingerprint_from_x(&device_x, activation_id, &server_x),
            expected
        );
        // The same keys sent compressed give the same fingerprint.
        assert_eq!(
            fingerprint(&device.compressed(), activation_id, &server.compressed()),
            expected
        );
    }
    assert_eq!(list.len(), 100);
    assert_eq!(
        short_x, 1,
        "one case has an X coordinate with a leading zero byte"
    );
}
