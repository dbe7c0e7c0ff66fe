//! Vectors: the 3.3 temporary key JWTs (`reference/temporary-key-jwt-3.3.json`).
//!
//! The request JWT need not match byte for byte (the server reads only three claims): we
//! compare the HS256 key, check the server accepts the vector's JWT and ours and rejects the
//! negative variant. The response is ES256 with a random nonce: we compare header and
//! payload byte for byte and verify signatures both ways.

use crate::common::{b64, cases, s};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use powerauth::ecies::Scope;
use powerauth::keys::ActivationKeys;
use powerauth::temporary_key::{
    RequestJwtKey, TemporaryKeyError, TemporaryKeyRequest, UnverifiedKeyRequest,
};
use powerauth::{KeyPair, PrivateKey, PublicKey, SymmetricKey, SystemRandom};
use serde_json::Value;

fn flag(output: &Value, field: &str) -> bool {
    output[field]
        .as_bool()
        .unwrap_or_else(|| panic!("no boolean `{field}`"))
}

/// The decoded text of one JWT part.
fn part(jwt: &str, index: usize) -> String {
    let encoded = jwt.split('.').nth(index).expect("a JWT part");
    String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).expect("base64url")).expect("UTF-8")
}

#[test]
fn temporary_key_jwt_3_3() {
    let list = cases("reference/temporary-key-jwt-3.3.json");
    assert_eq!(list.len(), 14);
    for case in &list {
        let (input, output) = (&case["input"], &case["output"]);
        let (app_key, app_secret) = (s(input, "applicationKey"), s(input, "applicationSecret"));
        let challenge = s(input, "challenge");
        let now_ms = input["responseIatMs"].as_u64().unwrap();
        let validity_ms = input["responseExpMs"].as_u64().unwrap() - now_ms;
        assert!(now_ms >= input["requestIatMs"].as_u64().unwrap());

        let activation = s(input, "scope") == "ACTIVATION_SCOPE";
        let transport_key = activation.then(|| {
            let key = SymmetricKey::from_slice(&b64(input, "transportKey")).unwrap();
            let server_private = PrivateKey::from_bytes(&b64(input, "serverPrivateKey")).unwrap();
            let device_public = PublicKey::from_b64(s(input, "devicePublicKey")).unwrap();
            let derived = ActivationKeys::derive_from_ecdh(&server_private, &device_public);
            assert_eq!(derived.transport, key, "KEY_TRANSPORT from ECDH");
            key
        });
        let scope = match &transport_key {
            Some(transport_key) => Scope::Activation {
                activation_id: s(input, "activationId"),
                transport_key,
            },
            None => Scope::Application,
        };
        let (signer_name, signer_private, signer_public) = if activation {
            ("serverPrivateKey", "serverPrivateKey", "serverPublicKey")
        } else {
            ("masterPrivateKey", "masterPrivateKey", "masterPublicKey")
        };
        assert!(s(output, "responseJwtSigner").starts_with(signer_name));
        let signer_private = PrivateKey::from_bytes(&b64(input, signer_private)).unwrap();
        let signer_public = PublicKey::from_b64(s(input, signer_public)).unwrap();

        // The HS256 key.
        let key = RequestJwtKey::derive(app_secret, &scope).unwrap();
        assert_eq!(&key.expose_bytes()[..], b64(output, "requestJwtSecret"));

        // The server accepts the vector's request and rejects the one keyed with the text secret.
        let verify = |jwt: &str| {
            UnverifiedKeyRequest::parse(jwt).and_then(|r| r.verify(app_secret, scope, now_ms))
        };
        let theirs = verify(s(output, "requestJwt"));
        assert_eq!(theirs.is_ok(), flag(output, "requestJwtValid"));
        let theirs = theirs.unwrap();
        assert_eq!(theirs.claims().application_key, app_key);
        assert_eq!(
            theirs.claims().activation_id.as_deref(),
            input["activationId"].as_str()
        );
        assert_eq!(theirs.claims().challenge, challenge);
        assert_eq!(
            part(s(output, "requestJwt"), 0),
            s(output, "requestJwtHeader")
        );
        let text_keyed = verify(s(output, "requestJwtWithSecretAsText"));
        assert!(!flag(output, "requestJwtWithSecretAsTextValid"));
        assert_eq!(text_keyed.err(), Some(TemporaryKeyError::InvalidSignature));

        // The server accepts ours, whose header is the vector's.
        let request = TemporaryKeyRequest::new_with(app_key, app_secret, scope, challenge).unwrap();
        assert_eq!(part(request.jwt(), 0), s(output, "requestJwtHeader"));
        let ours = verify(request.jwt()).unwrap();
        assert_eq!(ours.claims(), theirs.claims());

        // The server's response: header and payload byte for byte, signature verifiable.
        let temporary_id = s(input, "temporaryKeyId");
        let temporary_public = PublicKey::from_b64(s(input, "temporaryPublicKey")).unwrap();
        let temporary_private = PrivateKey::from_bytes(&b64(input, "temporaryPrivateKey")).unwrap();
        assert_eq!(temporary_private.public_key(), temporary_public);
        let response = ours.respond(
            temporary_id,
            &temporary_public,
            &KeyPair::from_parts(signer_private.clone(), signer_public.clone()),
            now_ms,
            validity_ms,
            SystemRandom::new().ring(),
        );
        assert_eq!(part(&response, 0), s(output, "responseJwtHeader"));
        assert_eq!(part(&response, 1), s(output, "responseJwtPayload"));
        let issued = request
            .clone()
            .verify_response(&response, &signer_public)
            .unwrap();
        assert_eq!(issued.id, temporary_id);

        // The client accepts the vector's response, and only with the right key, untampered.
        let key = request
            .clone()
            .verify_response(s(output, "responseJwt"), &signer_public);
        assert_eq!(key.is_ok(), flag(output, "responseJwtValid"));
        let key = key.unwrap();
        assert_eq!(key, issued);
        assert_eq!(key.public_key, temporary_public);
        assert_eq!(key.activation_id.as_deref(), input["activationId"].as_str());
        assert_eq!(key.issued_at_ms, now_ms);
        assert_eq!(key.expires_at_ms, input["responseExpMs"].as_u64().unwrap());
        let other = PublicKey::from_b64(s(input, "otherPublicKey")).unwrap();
        let with_other = request
            .clone()
            .verify_response(s(output, "responseJwt"), &other);
        assert!(!flag(output, "responseJwtValidWithOtherPublicKey"));
        assert_eq!(with_other.err(), Some(TemporaryKeyError::InvalidSignature));
        let tampered = request.verify_response(s(output, "responseJwtTampered"), &signer_public);
        assert!(!flag(output, "responseJwtTamperedValid"));
        assert_eq!(tampered.err(), Some(TemporaryKeyError::InvalidSignature));
    }
}
