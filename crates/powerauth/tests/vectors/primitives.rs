//! Vectors: AES-CBC, HMAC, X9.63 KDF, PBKDF2, the AES KDF and the master secret.

use crate::common::{b64, cases, hex, s};
use powerauth::hazmat;
use powerauth::keys::{ActivationKeys, derive_master_secret};
use powerauth::{PrivateKey, PublicKey, SymmetricKey};

#[test]
fn aes_cbc_pkcs7_both_directions() {
    let list = cases("powerauth-js-test-client/aes-cbc-pkcs7.json");
    for case in &list {
        let key: [u8; 16] = hex(case, "key").try_into().unwrap();
        let iv: [u8; 16] = hex(case, "iv").try_into().unwrap();
        let plain = hex(case, "plain");
        let enc = hex(case, "enc");
        assert_eq!(
            hazmat::aes_cbc_pkcs7_encrypt(&key, &iv, &plain),
            enc,
            "encrypt {case}"
        );
        assert_eq!(
            hazmat::aes_cbc_pkcs7_decrypt(&key, &iv, &enc).unwrap(),
            plain,
            "decrypt {case}"
        );
    }
    assert_eq!(list.len(), 14);
}

#[test]
fn hmac_sha256_rfc4231() {
    let list = cases("powerauth-js-test-client/hmac.json");
    for case in &list {
        let expected = hex(case, "hmac");
        let mac = hazmat::hmac_sha256(&hex(case, "key"), &hex(case, "data"));
        // RFC 4231 test case 5 lists a MAC truncated to 128 bits.
        assert_eq!(&mac[..expected.len()], &expected[..], "{case}");
    }
    assert_eq!(list.len(), 7);
}

#[test]
fn x963_kdf_sha256() {
    let list = cases("powerauth-js-test-client/kdf-x963.json");
    for case in &list {
        let expected = hex(case, "expected");
        let out =
            hazmat::kdf_x963_sha256(&hex(case, "secret"), &hex(case, "sinfo"), expected.len());
        assert_eq!(out, expected, "{case}");
    }
    assert_eq!(list.len(), 20);
}

fn check_derived(master: &SymmetricKey, expected: &serde_json::Value) {
    let keys = ActivationKeys::derive(master);
    for (field, key) in [
        ("signaturePossessionKey", &keys.possession),
        ("signatureKnowledgeKey", &keys.knowledge),
        ("signatureBiometryKey", &keys.biometry),
        ("transportKey", &keys.transport),
        ("vaultEncryptionKey", &keys.vault),
    ] {
        assert_eq!(
            key.expose_bytes().as_slice(),
            b64(expected, field),
            "{field} of {expected}"
        );
    }
}

#[test]
fn derived_keys_js_client() {
    let list = cases("powerauth-js-test-client/aes-kdf.json");
    for case in &list {
        check_derived(
            &SymmetricKey::from_slice(&b64(case, "masterSecretKey")).unwrap(),
            case,
        );
    }
    assert_eq!(list.len(), 6);
}

#[test]
fn derived_keys_official() {
    let list = cases("powerauth-crypto/compute-derived-keys.json");
    for case in &list {
        let master = SymmetricKey::from_slice(&b64(&case["input"], "masterSecretKey")).unwrap();
        check_derived(&master, &case["output"]);
    }
    assert_eq!(list.len(), 20);
}

#[test]
fn master_secret_both_sides() {
    let list = cases("powerauth-crypto/compute-master-secret-key.json");
    for case in &list {
        let input = &case["input"];
        let expected = b64(&case["output"], "masterSecretKey");
        let device_private = PrivateKey::from_bytes(&b64(input, "devicePrivateKey")).unwrap();
        let server_private = PrivateKey::from_bytes(&b64(input, "serverPrivateKey")).unwrap();
        let device_public = PublicKey::from_sec1(&b64(input, "devicePublicKey")).unwrap();
        let server_public = PublicKey::from_sec1(&b64(input, "serverPublicKey")).unwrap();
        assert_eq!(
            device_private.public_key().to_uncompressed(),
            device_public.to_uncompressed()
        );
        assert_eq!(
            derive_master_secret(&device_private, &server_public)
                .expose_bytes()
                .as_slice(),
            expected
        );
        assert_eq!(
            derive_master_secret(&server_private, &device_public)
                .expose_bytes()
                .as_slice(),
            expected
        );
    }
    assert_eq!(list.len(), 20);
}

#[test]
fn pbkdf2_password_key() {
    let list = cases("reference/pbkdf2-password-key.json");
    for case in &list {
        let input = &case["input"];
        let iterations = input["iterations"].as_u64().unwrap() as u32;
        let key = hazmat::pbkdf2_hmac_sha1(
            s(input, "password").as_bytes(),
            &b64(input, "salt"),
            iterations,
        );
        assert_eq!(key.as_slice(), b64(&case["output"], "derivedKey"), "{case}");
    }
    assert_eq!(list.len(), 7);
}
