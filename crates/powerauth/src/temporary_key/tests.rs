//! Round trips and negative cases of the temporary key JWT exchange.

use super::jwt;
use super::*;
use crate::keys::KeyPair;
use crate::random::{RandomSource, SeededRandom, SystemRandom};
use proptest::prelude::*;

const APP_KEY: &str = "hF2rMg8p/tEJB8+/apTzyg==";
const APP_SECRET: &str = "Xui/j5jW0HjMLGFPjfkmcw==";
const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";
const NOW_MS: u64 = 1_753_411_609_357;

fn transport_key() -> SymmetricKey {
    SymmetricKey::from_bytes([0x42; 16])
}

fn scope(activation: bool, key: &SymmetricKey) -> Scope<'_> {
    if activation {
        Scope::Activation {
            activation_id: ACTIVATION_ID,
            transport_key: key,
        }
    } else {
        Scope::Application
    }
}

/// A request JWT with any header and claims, signed with the right key.
fn forge(header: &str, claims: &str, key: &RequestJwtKey) -> String {
    let input = jwt::signing_input(header, claims);
    let mac = crate::hazmat::hmac_sha256(key.expose_bytes(), input.as_bytes());
    format!("{input}.{}", jwt::encode(mac))
}

/// Changes the signature's last character to another one with zero trailing bits.
fn tamper(jwt: &str) -> String {
    let (head, last) = jwt.split_at(jwt.len() - 1);
    format!("{head}{}", if last == "A" { "Q" } else { "A" })
}

fn verify(jwt: &str, activation: bool) -> Result<VerifiedKeyRequest, TemporaryKeyError> {
    let key = transport_key();
    UnverifiedKeyRequest::parse(jwt)?.verify(APP_SECRET, scope(activation, &key), NOW_MS)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn request_and_response_round_trip(seed in any::<u64>(), activation in any::<bool>()) {
        let rng = SeededRandom::new(&seed.to_be_bytes());
        let (app_key, app_secret) = (crate::encoding::b64(rng.array::<16>()), crate::encoding::b64(rng.array::<16>()));
        let key = SymmetricKey::make(&rng);
        let scope = scope(activation, &key);
        let request = TemporaryKeyRequest::new(&app_key, &app_secret, scope, &rng).unwrap();
        prop_assert_eq!(crate::encoding::b64_decode(&request.claims().challenge).unwrap().len(), 18);

        let unverified = UnverifiedKeyRequest::parse(request.jwt()).unwrap();
        prop_assert_eq!(unverified.claims(), request.claims());
        let verified = unverified.verify(&app_secret, scope, NOW_MS).unwrap();
        let signer = KeyPair::make(&rng);
        let temporary = KeyPair::make(&rng);
        let id = make_key_id(&rng);
        let response = verified.respond(&id, &temporary.public, &signer, NOW_MS, DEFAULT_VALIDITY_MS, SystemRandom::new().ring());

        let key = request.verify_response(&response, &signer.public).unwrap();
        prop_assert_eq!(&key.id, &id);
        prop_assert_eq!(&key.public_key, &temporary.public);
        prop_assert_eq!(&key.application_key, &app_key);
        prop_assert_eq!(key.activation_id.is_some(), activation);
        prop_assert_eq!((key.issued_at_ms, key.expires_at_ms), (NOW_MS, NOW_MS + DEFAULT_VALIDITY_MS));
        prop_assert!(key.is_usable_at(NOW_MS + DEFAULT_VALIDITY_MS - EXPIRY_MARGIN_MS - 1));
        prop_assert!(!key.is_usable_at(NOW_MS + DEFAULT_VALIDITY_MS - EXPIRY_MARGIN_MS));
    }
}

#[test]
fn server_accepts_other_valid_forms() {
    let key = RequestJwtKey::derive(APP_SECRET, &Scope::Application).unwrap();
    let claims = format!(
        r#"{{"applicationKey":"{APP_KEY}","challenge":"abc","iat":1753411608,"exp":1753411700,"iat_ms":1}}"#
    );
    // Wultra's command-line client: no `typ`, extra time claims.
    let verified = verify(&forge(r#"{"alg":"HS256"}"#, &claims, &key), false).unwrap();
    assert_eq!(verified.claims().challenge, "abc");
    let claims = format!(r#"{{"challenge":"c","applicationKey":"{APP_KEY}","activationId":null}}"#);
    verify(
        &forge(r#"{"typ":"JWT","alg":"HS256"}"#, &claims, &key),
        false,
    )
    .unwrap();
}

#[test]
fn server_rejects_bad_requests() {
    let app = RequestJwtKey::derive(APP_SECRET, &Scope::Application).unwrap();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let claims = format!(r#"{{"applicationKey":"{APP_KEY}","challenge":"c"}}"#);
    let good = forge(header, &claims, &app);
    let timed = |extra: &str| {
        forge(
            header,
            &format!(r#"{{"applicationKey":"{APP_KEY}","challenge":"c",{extra}}}"#),
            &app,
        )
    };
    let other_key = RequestJwtKey::derive("AAAAAAAAAAAAAAAAAAAAAA==", &Scope::Application).unwrap();
    let cases: Vec<(String, bool, TemporaryKeyError)> = vec![
        (
            forge(header, &claims, &other_key),
            false,
            TemporaryKeyError::InvalidSignature,
        ),
        (tamper(&good), false, TemporaryKeyError::InvalidSignature),
        (
            forge(r#"{"alg":"none"}"#, &claims, &app),
            false,
            TemporaryKeyError::UnsupportedAlgorithm,
        ),
        (
            forge(r#"{"alg":"ES256"}"#, &claims, &app),
            false,
            TemporaryKeyError::UnsupportedAlgorithm,
        ),
        (
            forge(r#"{"typ":"JWT"}"#, &claims, &app),
            false,
            TemporaryKeyError::UnsupportedAlgorithm,
        ),
        (
            good.rsplit_once('.').unwrap().0.to_owned(),
            false,
            TemporaryKeyError::Malformed("expected three dot-separated parts"),
        ),
        (
            forge(header, "[1]", &app),
            false,
            TemporaryKeyError::Malformed("payload is not a JSON object"),
        ),
        (
            forge(header, r#"{"challenge":"c"}"#, &app),
            false,
            TemporaryKeyError::InvalidClaim("applicationKey"),
        ),
        (
            forge(
                header,
                &format!(r#"{{"applicationKey":"{APP_KEY}","challenge":7}}"#),
                &app,
            ),
            false,
            TemporaryKeyError::InvalidClaim("challenge"),
        ),
        (good.clone(), true, TemporaryKeyError::ScopeMismatch),
        (
            timed(r#""exp":1753411609"#),
            false,
            TemporaryKeyError::Expired,
        ),
        (
            timed(r#""iat":1753411610"#),
            false,
            TemporaryKeyError::NotYetValid,
        ),
        (
            timed(r#""nbf":1753411610"#),
            false,
            TemporaryKeyError::NotYetValid,
        ),
        (
            timed(r#""iat":"yesterday""#),
            false,
            TemporaryKeyError::InvalidClaim("iat"),
        ),
    ];
    for (jwt, activation, expected) in cases {
        assert_eq!(verify(&jwt, activation).err(), Some(expected), "{jwt}");
    }
    let activation_claims = format!(
        r#"{{"applicationKey":"{APP_KEY}","activationId":"{ACTIVATION_ID}","challenge":"c"}}"#
    );
    let activation_jwt = forge(header, &activation_claims, &app);
    assert_eq!(
        verify(&activation_jwt, false).err(),
        Some(TemporaryKeyError::ScopeMismatch)
    );
    assert_eq!(
        verify(&activation_jwt, true).err(),
        Some(TemporaryKeyError::InvalidSignature),
        "an activation-scope request signed with the application key"
    );
}

#[test]
fn client_rejects_bad_responses() {
    let rng = SeededRandom::new(b"client");
    let signer = KeyPair::make(&rng);
    let temporary = KeyPair::make(&rng);
    let make =
        || TemporaryKeyRequest::new_with(APP_KEY, APP_SECRET, Scope::Application, "c").unwrap();
    let sign = |header: &str, claims: &str| {
        let input = jwt::signing_input(header, claims);
        let signature = signer.sign_ecdsa_fixed(input.as_bytes(), SystemRandom::new().ring());
        format!("{input}.{}", jwt::encode(signature))
    };
    let public_key = crate::encoding::b64(temporary.public.to_uncompressed());
    let claims = |challenge: &str, app_key: &str| {
        format!(
            r#"{{"sub":"id","applicationKey":"{app_key}","challenge":"{challenge}","publicKey":"{public_key}","iat_ms":1,"exp_ms":2}}"#
        )
    };
    let header = r#"{"typ":"JWT","alg":"ES256"}"#;
    let good = sign(header, &claims("c", APP_KEY));
    assert_eq!(
        make().verify_response(&good, &signer.public).unwrap().id,
        "id"
    );
    let cases: Vec<(String, TemporaryKeyError)> = vec![
        (
            sign(r#"{"alg":"ES256"}"#, &claims("c", APP_KEY)),
            TemporaryKeyError::UnsupportedAlgorithm,
        ),
        (
            sign(r#"{"typ":"JWT","alg":"HS256"}"#, &claims("c", APP_KEY)),
            TemporaryKeyError::UnsupportedAlgorithm,
        ),
        (
            sign(header, &claims("d", APP_KEY)),
            TemporaryKeyError::EchoMismatch("challenge"),
        ),
        (
            sign(header, &claims("c", "other")),
            TemporaryKeyError::EchoMismatch("applicationKey"),
        ),
        (
            sign(
                header,
                r#"{"sub":"id","applicationKey":"x","challenge":"c"}"#,
            ),
            TemporaryKeyError::EchoMismatch("applicationKey"),
        ),
        (tamper(&good), TemporaryKeyError::InvalidSignature),
        (
            "a.b".to_owned(),
            TemporaryKeyError::Malformed("expected three dot-separated parts"),
        ),
    ];
    for (jwt, expected) in cases {
        assert_eq!(
            make().verify_response(&jwt, &signer.public).err(),
            Some(expected),
            "{jwt}"
        );
    }
    let other = KeyPair::make(&rng);
    assert_eq!(
        make().verify_response(&good, &other.public).err(),
        Some(TemporaryKeyError::InvalidSignature)
    );
}

#[test]
fn key_ids_are_version_4_uuids() {
    let id = make_key_id(&SeededRandom::new(b"id"));
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
    assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
}

#[test]
fn jwt_key_is_the_decoded_secret_or_its_kdf() {
    let app = RequestJwtKey::derive(APP_SECRET, &Scope::Application).unwrap();
    assert_eq!(
        app.expose_bytes()[..],
        crate::encoding::b64_decode(APP_SECRET).unwrap()[..]
    );
    let key = transport_key();
    let activation = RequestJwtKey::derive(APP_SECRET, &scope(true, &key)).unwrap();
    assert_ne!(activation, app);
    assert_eq!(format!("{activation:?}"), "RequestJwtKey(<redacted>)");
    assert_eq!(
        RequestJwtKey::derive("secret", &Scope::Application).err(),
        Some(TemporaryKeyError::InvalidApplicationSecret)
    );
}
