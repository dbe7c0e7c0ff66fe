//! The generic ECIES endpoints `/exchange/v3/*` and `/rest/v3/ecies/decryptor`, with a
//! device built from `crates/powerauth`, in every protocol version.

use crate::common::{TestServer, error_parts};
use crate::device::{AppConfig, Covers, Device, activate, application_temporary_key};
use powerauth::ProtocolVersion;
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptedRequest, EncryptedResponse, EncryptionHeader, Encryptor,
    ExternalDecryptor, ExternalSecrets, Recipient, ResponseDecryptor, Scope, SharedInfo1,
};
use powerauth::encoding::{b64, b64_decode};
use powerauth::signature::SignatureType;
use powerauth::temporary_key::TemporaryPublicKey;
use powerauth::{KeyPair, SystemRandom};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const APPLICATION: &str = "/exchange/v3/application";
pub(crate) const ACTIVATION: &str = "/exchange/v3/activation";

/// One generic request as a device sends it, kept whole so a test can tamper or replay.
pub(crate) struct Sealed {
    pub(crate) header: String,
    pub(crate) request: EncryptedRequest,
    decryptor: ResponseDecryptor,
}

/// Encrypts `plaintext` in application scope (no `device`) or in `device`'s activation
/// scope, at `now` (ms), to the key the version uses.
pub(crate) async fn seal(
    server: &TestServer,
    app: &AppConfig,
    device: Option<&Device>,
    protocol: ProtocolVersion,
    plaintext: &[u8],
    now: u64,
) -> Sealed {
    let temporary: Option<TemporaryPublicKey> = match (protocol.uses_temporary_keys(), device) {
        (false, _) => None,
        (true, None) => Some(application_temporary_key(server, app).await.unwrap()),
        (true, Some(device)) => Some(device.activation_temporary_key(server).await),
    };
    let recipient = match (&temporary, device) {
        (Some(key), _) => key.recipient(),
        (None, None) => Recipient::Static(&app.master_public_key),
        (None, Some(device)) => Recipient::Static(&device.server_public_key),
    };
    let (shared_info1, scope, header) = match device {
        None => (
            SharedInfo1::ApplicationScopeGeneric,
            Scope::Application,
            EncryptionHeader::application(&app.application_key, protocol),
        ),
        Some(device) => (
            SharedInfo1::ActivationScopeGeneric,
            device.activation_scope(),
            EncryptionHeader::activation(&app.application_key, &device.activation_id, protocol),
        ),
    };
    let encryptor = Encryptor::new(
        protocol,
        shared_info1,
        &app.application_key,
        &app.application_secret,
        scope,
    )
    .unwrap();
    let (request, decryptor) = encryptor
        .encrypt_request(recipient, plaintext, &SystemRandom::new(), now)
        .unwrap();
    Sealed {
        header: header.to_string(),
        request,
        decryptor,
    }
}

pub(crate) fn now(server: &TestServer) -> u64 {
    u64::try_from(server.clock_ms()).unwrap()
}

/// POSTs `body` with `X-PowerAuth-Encryption: header`.
pub(crate) async fn post(
    server: &TestServer,
    path: &str,
    header: &str,
    body: &str,
) -> (StatusCode, Value) {
    let response = server
        .client
        .post(server.url(path))
        .header(ENCRYPTION_HEADER_NAME, header)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    crate::common::read(response).await
}

/// Sends `sealed` and decrypts a 200 answer as JSON.
pub(crate) async fn exchange(
    server: &TestServer,
    path: &str,
    sealed: Sealed,
) -> Result<Value, (StatusCode, Value)> {
    let (status, body) = post(server, path, &sealed.header, &sealed.request.to_json()).await;
    if status != StatusCode::OK {
        return Err((status, body));
    }
    let response = EncryptedResponse::from_json(body.to_string().as_bytes()).unwrap();
    Ok(serde_json::from_slice(&sealed.decryptor.decrypt_response(&response).unwrap()).unwrap())
}

#[track_caller]
fn assert_encryption_failed(result: Result<Value, (StatusCode, Value)>, case: &str) {
    let (status, body) = result.expect_err(case);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(
        error_parts(&body),
        (
            "ERR_ENCRYPTION".to_owned(),
            "POWER_AUTH_ENCRYPTION_FAILED".to_owned()
        ),
        "{case}"
    );
}

#[tokio::test]
async fn application_and_activation_scope_in_every_version() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    for protocol in ProtocolVersion::ALL {
        let sealed = seal(
            &server,
            &app,
            None,
            protocol,
            br#"{"data":"hello"}"#,
            now(&server),
        )
        .await;
        let answer = exchange(&server, APPLICATION, sealed)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(
            answer,
            json!({"data": "Server successfully decrypted signed data: hello, scope: APPLICATION_SCOPE"}),
            "{protocol}"
        );

        let device = activate(&server, protocol).await;
        let sealed = seal(
            &server,
            &app,
            Some(&device),
            protocol,
            br#"{"data":"hi"}"#,
            now(&server),
        )
        .await;
        let answer = exchange(&server, ACTIVATION, sealed)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(
            answer,
            json!({"data": "Server successfully decrypted signed data: hi, scope: ACTIVATION_SCOPE"}),
            "{protocol}"
        );
        // No request object at all, and one without data, as the reference prints them.
        let sealed = seal(&server, &app, Some(&device), protocol, b"", now(&server)).await;
        let answer = exchange(&server, ACTIVATION, sealed).await.unwrap();
        assert_eq!(
            answer["data"],
            "Server successfully decrypted signed data: '', scope: ACTIVATION_SCOPE"
        );
        let sealed = seal(&server, &app, None, protocol, b"{}", now(&server)).await;
        let answer = exchange(&server, APPLICATION, sealed).await.unwrap();
        assert_eq!(
            answer["data"],
            "Server successfully decrypted signed data: null, scope: APPLICATION_SCOPE"
        );
    }
}

#[tokio::test]
async fn signed_exchanges_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let mut device = activate(&server, protocol).await;
        let mut call = async |path: &str, plaintext: &[u8], signature_type: SignatureType| {
            device
                .sign_then_encrypt(
                    &server,
                    path,
                    path,
                    SharedInfo1::ActivationScopeGeneric,
                    plaintext,
                    signature_type,
                )
                .await
        };
        let signed = call(
            "/exchange/v3/signed",
            br#"{"data":"x"}"#,
            SignatureType::PossessionKnowledge,
        )
        .await
        .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(
            signed["data"],
            "Server successfully decrypted data and verified signature, request data: x, user ID: alice",
            "{protocol}"
        );
        let string = call(
            "/exchange/v3/signed/string",
            br#""text""#,
            SignatureType::PossessionBiometry,
        )
        .await
        .unwrap();
        assert_eq!(
            string,
            "Server successfully decrypted data and verified signature, request data: text, user ID: alice"
        );
        let raw = call(
            "/exchange/v3/signed/raw",
            br#"[1,2,3]"#,
            SignatureType::PossessionKnowledge,
        )
        .await
        .unwrap();
        assert_eq!(raw, json!([1, 2, 3]), "raw bytes come back as sent");
        let generics = call(
            "/exchange/v3/signed/generics",
            br#"{"requestObject":{"data":"g"}}"#,
            SignatureType::PossessionKnowledgeBiometry,
        )
        .await
        .unwrap();
        assert_eq!(
            generics,
            json!({"status": "OK", "responseObject": {"data": "g"}})
        );

        // One factor is not enough, and the signature covers the resource id.
        let (status, body) = call(
            "/exchange/v3/signed",
            br#"{"data":"x"}"#,
            SignatureType::Possession,
        )
        .await
        .expect_err("possession alone");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(error_parts(&body).1, "POWER_AUTH_SIGNATURE_INVALID");
        let (status, _) = device
            .sign_then_encrypt(
                &server,
                "/exchange/v3/signed",
                "/exchange/v3/signed/raw",
                SharedInfo1::ActivationScopeGeneric,
                b"{}",
                SignatureType::PossessionKnowledge,
            )
            .await
            .expect_err("signed for another resource");
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // A good signature over a body encrypted for another endpoint.
        let (status, body) = device
            .sign_then_encrypt(
                &server,
                "/exchange/v3/signed",
                "/exchange/v3/signed",
                SharedInfo1::VaultUnlock,
                b"{}",
                SignatureType::PossessionKnowledge,
            )
            .await
            .expect_err("sharedInfo1 separates endpoints");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_parts(&body).0, "ERR_ENCRYPTION");
        // A body that is not what the endpoint reads.
        let result = device
            .sign_then_encrypt(
                &server,
                "/exchange/v3/signed/generics",
                "/exchange/v3/signed/generics",
                SharedInfo1::ActivationScopeGeneric,
                br#"{"data":"not enveloped"}"#,
                SignatureType::PossessionKnowledge,
            )
            .await;
        assert_encryption_failed(result, "generics without requestObject");
    }
}

/// Regression: Wultra's SDK and cmd-tool (`sign-encrypt`) sign the plaintext, then
/// encrypt it, and the RESTful integration decrypts before it checks the signature. A
/// signature over the ciphertext is wrong there and costs an attempt; `/pa/v3/token/create`
/// keeps its signature over the encrypted body.
#[tokio::test]
async fn signed_exchange_checks_the_signature_over_the_plaintext_as_wultras_sdk_signs() {
    let server = TestServer::start().await;
    for protocol in [ProtocolVersion::V3_0, ProtocolVersion::V3_3] {
        let mut device = activate(&server, protocol).await;
        let request = (
            "/exchange/v3/signed",
            "/exchange/v3/signed",
            SharedInfo1::ActivationScopeGeneric,
            &br#"{"data":"cmd-tool"}"#[..],
            SignatureType::PossessionKnowledge,
        );
        let answer = device
            .signed_and_encrypted(&server, request, Covers::Plaintext)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(
            answer["data"],
            "Server successfully decrypted data and verified signature, request data: cmd-tool, \
             user ID: alice"
        );
        let failed = |status: &Value| status["failedAttempts"].clone();
        let status = json!({"activationId": device.activation_id});
        let before = server
            .rest_ok("/rest/v3/activation/status", status.clone())
            .await;
        assert_eq!(failed(&before), 0, "{protocol}");

        let (code, body) = device
            .signed_and_encrypted(&server, request, Covers::EncryptedBody)
            .await
            .expect_err("a signature over the ciphertext");
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{protocol}");
        assert_eq!(error_parts(&body).1, "POWER_AUTH_SIGNATURE_INVALID");
        let after = server
            .rest_ok("/rest/v3/activation/status", status.clone())
            .await;
        assert_eq!(failed(&after), 1, "{protocol}: the wrong signature counts");

        // Token creation signs the encrypted body (`@PowerAuth` alone).
        let token = (
            "/pa/v3/token/create",
            "/pa/token/create",
            SharedInfo1::CreateToken,
            &b"{}"[..],
            SignatureType::PossessionKnowledge,
        );
        let (code, _) = device
            .signed_and_encrypted(&server, token, Covers::Plaintext)
            .await
            .expect_err("token/create signs the encrypted body");
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{protocol}");
        let created = device
            .signed_and_encrypted(&server, token, Covers::EncryptedBody)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert!(created["tokenId"].is_string(), "{created}");
    }
}

#[tokio::test]
async fn refused_exchanges_answer_err_encryption() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    for protocol in [ProtocolVersion::V3_1, ProtocolVersion::V3_3] {
        let device = activate(&server, protocol).await;
        let body = br#"{"data":"x"}"#;

        // Wrong MAC.
        let mut sealed = seal(&server, &app, Some(&device), protocol, body, now(&server)).await;
        sealed.request.mac[0] ^= 1;
        assert_encryption_failed(exchange(&server, ACTIVATION, sealed).await, "wrong MAC");

        // Unknown application key.
        let mut sealed = seal(&server, &app, None, protocol, body, now(&server)).await;
        sealed.header =
            EncryptionHeader::application("AAAAAAAAAAAAAAAAAAAAAA==", protocol).to_string();
        assert_encryption_failed(exchange(&server, APPLICATION, sealed).await, "unknown key");

        // Unknown activation.
        let mut sealed = seal(&server, &app, Some(&device), protocol, body, now(&server)).await;
        sealed.header = EncryptionHeader::activation(
            &app.application_key,
            "0b9ee6a3-1c35-4bd4-8d2d-1f0d4c1d1a2b",
            protocol,
        )
        .to_string();
        assert_encryption_failed(
            exchange(&server, ACTIVATION, sealed).await,
            "unknown activation",
        );

        // Replayed: the same bytes twice.
        let sealed = seal(&server, &app, None, protocol, body, now(&server)).await;
        let (header, json) = (sealed.header.clone(), sealed.request.to_json());
        exchange(&server, APPLICATION, sealed).await.unwrap();
        let (status, answer) = post(&server, APPLICATION, &header, &json).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "replay: {answer}");
        assert_eq!(error_parts(&answer).0, "ERR_ENCRYPTION");

        // The header's scope, and the header at all.
        let sealed = seal(&server, &app, None, protocol, body, now(&server)).await;
        let (status, _) = post(
            &server,
            ACTIVATION,
            &sealed.header,
            &sealed.request.to_json(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "application header on the activation endpoint"
        );
        let (status, answer) = server.post_raw(APPLICATION, sealed.request.to_json()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no header: {answer}");
        assert_eq!(error_parts(&answer).0, "ERR_ENCRYPTION");

        // A plaintext that is not `{"data"}`.
        let sealed = seal(
            &server,
            &app,
            None,
            protocol,
            br#"{"other":1}"#,
            now(&server),
        )
        .await;
        assert_encryption_failed(
            exchange(&server, APPLICATION, sealed).await,
            "unknown field",
        );
        // Garbage instead of an envelope.
        let (status, answer) = post(
            &server,
            APPLICATION,
            &EncryptionHeader::application(&app.application_key, protocol).to_string(),
            "{\"x\":",
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    }
    // Fields of another version: a 3.1 envelope (no timestamp) declared as 3.2.
    let mut sealed = seal(
        &server,
        &app,
        None,
        ProtocolVersion::V3_1,
        b"{}",
        now(&server),
    )
    .await;
    sealed.header =
        EncryptionHeader::application(&app.application_key, ProtocolVersion::V3_2).to_string();
    assert_encryption_failed(
        exchange(&server, APPLICATION, sealed).await,
        "version mismatch",
    );
}

#[tokio::test]
async fn timestamps_out_of_the_window_are_refused() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    for protocol in [ProtocolVersion::V3_2, ProtocolVersion::V3_3] {
        let day = 24 * 3600 * 1000;
        let stale = seal(&server, &app, None, protocol, b"{}", now(&server) - 8 * day).await;
        assert_encryption_failed(exchange(&server, APPLICATION, stale).await, "8 days old");
        let future = seal(&server, &app, None, protocol, b"{}", now(&server) + 120_000).await;
        assert_encryption_failed(
            exchange(&server, APPLICATION, future).await,
            "2 minutes ahead",
        );
        let recent = seal(&server, &app, None, protocol, b"{}", now(&server) - day).await;
        exchange(&server, APPLICATION, recent)
            .await
            .expect("a day old is within the replay memory");
    }
}

const DECRYPTOR: &str = "/rest/v3/ecies/decryptor";

/// The decryptor request for `sealed`, as an intermediate server builds it.
fn decryptor_request(
    app: &AppConfig,
    activation_id: Option<&str>,
    protocol: ProtocolVersion,
    request: &EncryptedRequest,
) -> Value {
    let mut object = json!({
        "applicationKey": app.application_key,
        "ephemeralPublicKey": b64(request.ephemeral_public_key.encoded()),
        "protocolVersion": protocol.as_str(),
    });
    if let Some(id) = activation_id {
        object["activationId"] = json!(id);
    }
    if let Some(id) = &request.temporary_key_id {
        object["temporaryKeyId"] = json!(id);
    }
    if let Some(nonce) = request.nonce {
        object["nonce"] = json!(b64(nonce));
    }
    if let Some(timestamp) = request.timestamp {
        object["timestamp"] = json!(timestamp);
    }
    object
}

#[tokio::test]
async fn the_decryptor_secret_opens_a_device_request_in_every_version_and_scope() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let rng = SystemRandom::new();
    for protocol in ProtocolVersion::ALL {
        let device = activate(&server, protocol).await;
        for activation_id in [None, Some(device.activation_id.as_str())] {
            let sealed = seal(
                &server,
                &app,
                activation_id.map(|_| &device),
                protocol,
                br#"{"data":"for the intermediate"}"#,
                now(&server),
            )
            .await;
            let request = decryptor_request(&app, activation_id, protocol, &sealed.request);
            let answer = server.rest_ok(DECRYPTOR, request.clone()).await;
            let secrets = ExternalSecrets::from_bytes(
                &b64_decode(answer["secretKey"].as_str().unwrap()).unwrap(),
                &b64_decode(answer["sharedInfo2"].as_str().unwrap()).unwrap(),
            )
            .unwrap();
            let external = ExternalDecryptor {
                version: protocol,
                application_key: &app.application_key,
                activation_id,
            };
            let (plain, responder) = external
                .decrypt_request(&secrets, &sealed.request)
                .unwrap_or_else(|e| panic!("{protocol} {activation_id:?}: {e}"));
            assert_eq!(plain, br#"{"data":"for the intermediate"}"#);
            let response = responder.encrypt_response(b"{\"ok\":true}", &rng, now(&server));
            assert_eq!(
                sealed.decryptor.decrypt_response(&response).unwrap(),
                b"{\"ok\":true}",
                "{protocol}: the device reads the intermediate's answer"
            );
            // The same request cannot be opened twice.
            let (status, body) = server.rest(DECRYPTOR, request).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(error_parts(&body).0, "ERR0024", "{protocol}: replay");
        }
    }
}

#[tokio::test]
async fn the_decryptor_refuses_with_powerauth_server_codes() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let fresh = |protocol: ProtocolVersion| {
        let rng = SystemRandom::new();
        let mut request = json!({
            "applicationKey": app.application_key,
            "ephemeralPublicKey": b64(KeyPair::make(&rng).public.to_compressed()),
            "protocolVersion": protocol.as_str(),
        });
        if protocol.ecies_has_nonce() {
            request["nonce"] = json!(b64([7u8; 16]));
        }
        if protocol.ecies_has_timestamp() {
            request["timestamp"] = json!(now(&server));
        }
        request
    };
    let sealed = seal(
        &server,
        &app,
        Some(&device),
        ProtocolVersion::V3_3,
        b"{}",
        now(&server),
    )
    .await;
    let good_activation = decryptor_request(
        &app,
        Some(&device.activation_id),
        ProtocolVersion::V3_3,
        &sealed.request,
    );

    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    let mut with = |case, base: &Value, changes: Value, code| {
        let mut request = base.clone();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                request.as_object_mut().unwrap().remove(key);
            } else {
                request[key] = value.clone();
            }
        }
        cases.push((case, request, code));
    };
    let v31 = fresh(ProtocolVersion::V3_1);
    with(
        "unknown application key",
        &v31,
        json!({"applicationKey": "AAAAAAAAAAAAAAAAAAAAAA=="}),
        "ERR0015",
    );
    with(
        "unknown activation",
        &v31,
        json!({"activationId": "0b9ee6a3-1c35-4bd4-8d2d-1f0d4c1d1a2b"}),
        "ERR0009",
    );
    with(
        "no such version",
        &v31,
        json!({"protocolVersion": "2.1"}),
        "ERR0024",
    );
    with(
        "nonce missing in 3.1",
        &v31,
        json!({"nonce": null}),
        "ERR0024",
    );
    with(
        "nonce in 3.0",
        &v31,
        json!({"protocolVersion": "3.0"}),
        "ERR0024",
    );
    with(
        "timestamp missing in 3.2",
        &v31,
        json!({"protocolVersion": "3.2"}),
        "ERR0024",
    );
    with("bad nonce", &v31, json!({"nonce": "AAAA"}), "ERR0024");
    with(
        "no P-256 point",
        &v31,
        json!({"ephemeralPublicKey": b64([4u8; 65])}),
        "ERR0018",
    );
    with(
        "no application key",
        &v31,
        json!({"applicationKey": null}),
        "ERR0024",
    );
    let v33 = fresh(ProtocolVersion::V3_3);
    with("3.3 without temporaryKeyId", &v33, json!({}), "ERR0024");
    with(
        "unknown temporary key",
        &v33,
        json!({"temporaryKeyId": "nope"}),
        "ERR0045",
    );
    with(
        "an activation-scope key in application scope",
        &good_activation,
        json!({"activationId": null, "nonce": b64([8u8; 16])}),
        "ERR0045",
    );
    with(
        "timestamp in the future",
        &v33,
        json!({"temporaryKeyId": "x", "timestamp": now(&server) + 120_000}),
        "ERR0024",
    );
    with(
        "timestamp too old",
        &v33,
        json!({"temporaryKeyId": "x", "timestamp": now(&server) - 8 * 24 * 3600 * 1000}),
        "ERR0024",
    );
    for (case, request, code) in cases {
        let (status, body) = server.rest(DECRYPTOR, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(error_parts(&body).0, code, "{case}: {body}");
    }

    // Another application's key with this activation.
    server
        .rest_ok(
            "/rest/v3/application/create",
            json!({"applicationId": "other"}),
        )
        .await;
    let other = server
        .rest_ok(
            "/rest/v3/application/version/create",
            json!({"applicationId": "other", "applicationVersionId": "1"}),
        )
        .await;
    let mut request = good_activation.clone();
    request["applicationKey"] = other["applicationKey"].clone();
    let (_, body) = server.rest(DECRYPTOR, request).await;
    assert_eq!(error_parts(&body).0, "ERR0015", "{body}");

    // A blocked activation.
    server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": device.activation_id}),
        )
        .await;
    let (_, body) = server.rest(DECRYPTOR, good_activation).await;
    assert_eq!(error_parts(&body).0, "ERR0008", "{body}");
}
