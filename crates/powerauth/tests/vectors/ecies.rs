//! Vectors: ECIES per protocol version, both scopes, all seven encryptor ids, both sides
//! and both directions (`reference/ecies-v3.x.json`).

use crate::common::{b64, cases, s};
use powerauth::ecies::{
    EncryptedRequest, EncryptedResponse, Encryptor, EncryptorScope, Recipient, Scope, SharedInfo1,
};
use powerauth::{KeyPair, PrivateKey, ProtocolVersion, PublicKey, SymmetricKey};
use serde_json::Value;

fn shared_info1(encryptor_id: &str) -> SharedInfo1 {
    match encryptor_id {
        "APPLICATION_SCOPE_GENERIC" => SharedInfo1::ApplicationScopeGeneric,
        "ACTIVATION_LAYER_2" => SharedInfo1::ActivationLayer2,
        "UPGRADE" => SharedInfo1::Upgrade,
        "VAULT_UNLOCK" => SharedInfo1::VaultUnlock,
        "CREATE_TOKEN" => SharedInfo1::CreateToken,
        "CONFIRM_RECOVERY_CODE" => SharedInfo1::ConfirmRecoveryCode,
        "ACTIVATION_SCOPE_GENERIC" => SharedInfo1::ActivationScopeGeneric,
        other => panic!("unknown encryptor id {other}"),
    }
}

/// A nullable string field.
fn opt<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

/// Our JSON must hold exactly the non-null fields of the vector's object, with equal values.
fn assert_same_envelope(ours: &str, expected: &Value, what: &str) {
    let ours: Value = serde_json::from_str(ours).expect("our envelope is JSON");
    let ours = ours.as_object().expect("our envelope is an object");
    let expected = expected
        .as_object()
        .expect("the vector's envelope is an object");
    let expected: serde_json::Map<_, _> = expected
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(ours, &expected, "{what}");
}

fn replay(file: &str, version: ProtocolVersion) {
    let list = cases(file);
    assert_eq!(list.len(), 14, "{file}: 7 encryptor ids × 2");
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        assert_eq!(s(input, "protocolVersion"), version.as_str());
        let sh1 = shared_info1(s(input, "encryptorId"));
        assert_eq!(sh1.constant(), s(input, "sharedInfo1Value"));
        assert_eq!(
            sh1.derive_bytes(version),
            b64(&output["intermediate"], "sharedInfo1")
        );
        let transport_key = opt(input, "transportKey")
            .map(|_| SymmetricKey::from_slice(&b64(input, "transportKey")).unwrap());
        let scope = match s(input, "scope") {
            "APPLICATION_SCOPE" => Scope::Application,
            "ACTIVATION_SCOPE" => Scope::Activation {
                activation_id: s(input, "activationId"),
                transport_key: transport_key
                    .as_ref()
                    .expect("activation scope has KEY_TRANSPORT"),
            },
            other => panic!("unknown scope {other}"),
        };
        assert_eq!(sh1.scope(), scope.kind());
        assert_eq!(
            scope.kind() == EncryptorScope::Activation,
            opt(input, "activationId").is_some()
        );
        let encryptor = Encryptor::new(
            version,
            sh1,
            s(input, "applicationKey"),
            s(input, "applicationSecret"),
            scope,
        )
        .unwrap();

        let recipient_private = PrivateKey::from_bytes(&b64(input, "recipientPrivateKey")).unwrap();
        let recipient_public = PublicKey::from_b64(s(input, "recipientPublicKey")).unwrap();
        assert_eq!(recipient_private.public_key(), recipient_public);
        let recipient = match opt(input, "temporaryKeyId") {
            Some(id) => Recipient::Temporary {
                id,
                public_key: &recipient_public,
            },
            None => Recipient::Static(&recipient_public),
        };
        let ephemeral = KeyPair::from_private(
            PrivateKey::from_bytes(&b64(input, "ephemeralPrivateKey")).unwrap(),
        );
        assert_eq!(
            ephemeral.public.encoded(),
            b64(output, "ephemeralPublicKey")
        );
        let nonce =
            |field| opt(input, field).map_or([0; 16], |_| b64(input, field).try_into().unwrap());
        let timestamp = |field| input[field].as_u64().unwrap_or(0);
        let (request_data, response_data) = (b64(input, "requestData"), b64(input, "responseData"));
        let what = format!("{file} {}", s(input, "encryptorId"));

        // Client: the request, byte for byte.
        let (request, decryptor) = encryptor
            .encrypt_request_with(
                recipient,
                &request_data,
                &ephemeral,
                nonce("requestNonce"),
                timestamp("requestTimestamp"),
            )
            .unwrap();
        assert_same_envelope(&request.to_json(), &output["encryptedRequest"], &what);

        // Server: decrypt the vector's request, then the response byte for byte.
        let wire = serde_json::to_vec(&output["encryptedRequest"]).unwrap();
        let wire_request = EncryptedRequest::from_json(&wire).unwrap();
        assert_eq!(wire_request, request, "{what}");
        let (plaintext, response_encryptor) = encryptor
            .decrypt_request(&recipient_private, &wire_request)
            .unwrap();
        assert_eq!(plaintext, request_data, "{what}");
        let response = response_encryptor.encrypt_response_with(
            &response_data,
            nonce("responseNonce"),
            timestamp("responseTimestamp"),
        );
        assert_same_envelope(&response.to_json(), &output["encryptedResponse"], &what);

        // Client: decrypt the vector's response.
        let wire = serde_json::to_vec(&output["encryptedResponse"]).unwrap();
        let wire_response = EncryptedResponse::from_json(&wire).unwrap();
        assert_eq!(
            decryptor.decrypt_response(&wire_response).unwrap(),
            response_data,
            "{what}"
        );
    }
}

#[test]
fn ecies_v3_0() {
    replay("reference/ecies-v3.0.json", ProtocolVersion::V3_0);
}

#[test]
fn ecies_v3_1() {
    replay("reference/ecies-v3.1.json", ProtocolVersion::V3_1);
}

#[test]
fn ecies_v3_2() {
    replay("reference/ecies-v3.2.json", ProtocolVersion::V3_2);
}

#[test]
fn ecies_v3_3() {
    replay("reference/ecies-v3.3.json", ProtocolVersion::V3_3);
}
