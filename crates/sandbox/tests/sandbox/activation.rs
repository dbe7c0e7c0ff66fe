//! Activation end to end with a device built from `crates/powerauth`: `/rest/v3`
//! init/commit/status/block/unblock/remove, `/pa/v3/keystore/create`,
//! `/pa/v3/activation/create` and `/pa/v3/activation/status` in every 3.x version.

use crate::common::{TestServer, error_parts};
use crate::device::{self, AppConfig, activate, activation_request, init};
use powerauth::ProtocolVersion;
use powerauth::ecies::ENCRYPTION_HEADER_NAME;
use powerauth::keys::{fingerprint, index};
use powerauth::status::ActivationState;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn rest_status(server: &TestServer, activation_id: &str) -> Value {
    server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": activation_id}),
        )
        .await
}

#[track_caller]
fn assert_error(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(error_parts(body).0, code, "{body}");
}

#[tokio::test]
async fn activation_and_status_work_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let device = activate(&server, protocol).await;
        let blob = device.status(&server).await;
        assert_eq!(blob.state, ActivationState::Active, "{protocol}");
        assert_eq!(blob.current_version, 3);
        assert_eq!(blob.max_failed_attempts, 5);
        assert_eq!(blob.failed_attempts, 0);
        if protocol != ProtocolVersion::V3_0 {
            assert_eq!(blob.ctr_look_ahead, 20, "{protocol}");
            assert_eq!(blob.ctr_byte, 0, "{protocol}");
            let hash_key = device.keys.transport.derive(index::CTR_DATA_HASH);
            assert_eq!(
                blob.ctr_data_hash,
                device.ctr_data.hash_with(hash_key.expose_bytes()),
                "{protocol}: server and device share CTR_DATA"
            );
        }
        let detail = rest_status(&server, &device.activation_id).await;
        assert_eq!(detail["activationStatus"], "ACTIVE");
        assert_eq!(detail["activationName"], "Test phone");
        assert_eq!(detail["platform"], "android");
        assert_eq!(
            detail["activationCode"],
            Value::Null,
            "code hidden once used"
        );
        // The fingerprint the server shows is the one the device computes.
        let server_detail = server
            .sandbox
            .state()
            .store
            .activation(&device.activation_id)
            .await
            .unwrap()
            .unwrap();
        let device_public = server_detail.device_public_key.unwrap();
        assert_eq!(
            detail["devicePublicKeyFingerprint"],
            fingerprint(
                &device_public,
                &device.activation_id,
                &device.server_public_key
            )
        );
    }
}

#[tokio::test]
async fn the_activation_signature_verifies_with_the_master_key() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (_, code, signature) = init(&server, "alice", json!({})).await;
    let qr =
        powerauth::activation_code::ActivationQr::parse(&format!("{code}#{signature}")).unwrap();
    assert_eq!(
        qr.verify(&app.master_public_key),
        Ok(powerauth::activation_code::SignatureCheck::Verified),
        "a genuine code signature"
    );
}

#[tokio::test]
async fn key_exchange_leaves_pending_commit_until_commit() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "bob", json!({})).await;
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "CREATED"
    );
    let request = activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let device = request.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(
        device.status(&server).await.state,
        ActivationState::PendingCommit
    );
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "PENDING_COMMIT"
    );
    let committed = server
        .rest_ok(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id}),
        )
        .await;
    assert_eq!(
        committed,
        json!({"activationId": activation_id, "activated": true})
    );
    assert_eq!(device.status(&server).await.state, ActivationState::Active);
}

#[tokio::test]
async fn block_unblock_and_remove_show_in_the_blob() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_2).await;
    let id = device.activation_id.clone();
    let blocked = server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": id, "reason": "LOST"}),
        )
        .await;
    assert_eq!(blocked["activationStatus"], "BLOCKED");
    assert_eq!(blocked["blockedReason"], "LOST");
    assert_eq!(device.status(&server).await.state, ActivationState::Blocked);
    let unblocked = server
        .rest_ok("/rest/v3/activation/unblock", json!({"activationId": id}))
        .await;
    assert_eq!(unblocked["activationStatus"], "ACTIVE");
    assert_eq!(device.status(&server).await.state, ActivationState::Active);
    let removed = server
        .rest_ok("/rest/v3/activation/remove", json!({"activationId": id}))
        .await;
    assert_eq!(removed, json!({"activationId": id, "removed": true}));
    assert_eq!(device.status(&server).await.state, ActivationState::Removed);
    let (status, body) = server
        .rest("/rest/v3/activation/unblock", json!({"activationId": id}))
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0008");
}

#[tokio::test]
async fn an_expired_activation_cannot_be_completed() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "carol", json!({})).await;
    server.clock.advance(120_001);
    let request = activation_request(&server, &app, ProtocolVersion::V3_1, &code, None).await;
    let (status, body) = request.send(&server).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_ACTIVATION");
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "REMOVED"
    );
}

#[tokio::test]
async fn a_pending_activation_expires_before_commit() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "carol", json!({})).await;
    let request = activation_request(&server, &app, ProtocolVersion::V3_2, &code, None).await;
    assert_eq!(request.send(&server).await.0, StatusCode::OK);
    server.clock.advance(120_001);
    let (status, body) = server
        .rest(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0008");
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "REMOVED"
    );
}

#[tokio::test]
async fn a_code_activates_one_device_only() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (_, code, _) = init(&server, "dave", json!({})).await;
    let first = activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    let second = activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    assert_eq!(first.send(&server).await.0, StatusCode::OK);
    let (status, body) = second.send(&server).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_ACTIVATION");
}

#[tokio::test]
async fn otp_on_key_exchange_counts_failures_and_rejects_replays() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(
        &server,
        "erin",
        json!({"activationOtp": "12345678", "commitPhase": "ON_KEY_EXCHANGE"}),
    )
    .await;
    let wrong = activation_request(
        &server,
        &app,
        ProtocolVersion::V3_3,
        &code,
        Some("00000000"),
    )
    .await;
    let (status, body) = wrong.send(&server).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_ACTIVATION");
    assert_eq!(
        rest_status(&server, &activation_id).await["failedAttempts"],
        1
    );
    // The same bytes again are a replay: refused before the OTP is even looked at.
    let (status, _) = wrong.send(&server).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        rest_status(&server, &activation_id).await["failedAttempts"],
        1,
        "a replayed request must not reach the activation"
    );
    let right = activation_request(
        &server,
        &app,
        ProtocolVersion::V3_3,
        &code,
        Some("12345678"),
    )
    .await;
    let (status, body) = right.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let device = right.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(
        device.status(&server).await.state,
        ActivationState::Active,
        "no commit needed"
    );
    assert_eq!(
        rest_status(&server, &activation_id).await["failedAttempts"],
        0
    );
}

#[tokio::test]
async fn wrong_otps_on_key_exchange_remove_the_activation_at_the_limit() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(
        &server,
        "erin",
        json!({"activationOtp": "1", "commitPhase": "ON_KEY_EXCHANGE", "maxFailureCount": 2}),
    )
    .await;
    for _ in 0..2 {
        let wrong =
            activation_request(&server, &app, ProtocolVersion::V3_2, &code, Some("2")).await;
        assert_eq!(wrong.send(&server).await.0, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "REMOVED"
    );
}

#[tokio::test]
async fn otp_on_commit() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "frank", json!({"activationOtp": "4242"})).await;
    let request = activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    assert_eq!(request.send(&server).await.0, StatusCode::OK);
    let (status, body) = server
        .rest(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id, "activationOtp": "1111"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0024");
    let detail = rest_status(&server, &activation_id).await;
    assert_eq!(detail["failedAttempts"], 1);
    assert_eq!(detail["activationStatus"], "PENDING_COMMIT");
    server
        .rest_ok(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id, "activationOtp": "4242"}),
        )
        .await;
    let detail = rest_status(&server, &activation_id).await;
    assert_eq!(detail["activationStatus"], "ACTIVE");
    assert_eq!(detail["failedAttempts"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_have_exactly_one_winner() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "gina", json!({})).await;
    let request = activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    assert_eq!(request.send(&server).await.0, StatusCode::OK);
    let mut commits = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = server
            .client
            .post(server.url("/rest/v3/activation/commit"))
            .json(&json!({"requestObject": {"activationId": activation_id}}));
        commits.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let statuses: Vec<StatusCode> = commits
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("the sandbox answers"))
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn rest_activation_endpoints_refuse_bad_input() {
    let server = TestServer::start().await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/rest/v3/activation/init",
            json!({"userId": "u", "applicationId": "nope"}),
            "ERR0015",
        ),
        (
            "/rest/v3/activation/init",
            json!({"userId": "", "applicationId": "tokensim"}),
            "ERR0024",
        ),
        (
            "/rest/v3/activation/init",
            json!({"applicationId": "tokensim"}),
            "ERR0024",
        ),
        (
            "/rest/v3/activation/init",
            json!({"userId": "u", "applicationId": "tokensim", "commitPhase": "SOMETIMES"}),
            "ERR0024",
        ),
        (
            "/rest/v3/activation/init",
            json!({"userId": "u", "applicationId": "tokensim", "commitPhase": "ON_COMMIT",
                   "activationOtpValidation": "ON_COMMIT"}),
            "ERR0024",
        ),
        (
            "/rest/v3/activation/init",
            json!({"userId": "u", "applicationId": "tokensim", "maxFailureCount": 0}),
            "ERR0024",
        ),
        (
            "/rest/v3/activation/status",
            json!({"activationId": unknown}),
            "ERR0009",
        ),
        (
            "/rest/v3/activation/commit",
            json!({"activationId": unknown}),
            "ERR0009",
        ),
        (
            "/rest/v3/activation/remove",
            json!({"activationId": unknown}),
            "ERR0009",
        ),
        (
            "/rest/v3/activation/block",
            json!({"activationId": unknown}),
            "ERR0009",
        ),
        (
            "/rest/v3/activation/unblock",
            json!({"activationId": unknown}),
            "ERR0009",
        ),
        (
            "/rest/v3/activation/commit",
            json!({"activationId": 5}),
            "ERR0024",
        ),
    ];
    for (path, request, code) in cases {
        let (status, body) = server.rest(path, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {request}: {body}");
        assert_eq!(error_parts(&body).0, code, "{path} {request}: {body}");
    }
    let (activation_id, _, _) = init(&server, "u", json!({})).await;
    for path in [
        "/rest/v3/activation/commit",
        "/rest/v3/activation/block",
        "/rest/v3/activation/unblock",
    ] {
        let (status, body) = server
            .rest(path, json!({"activationId": activation_id}))
            .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0008");
    }
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "CREATED"
    );
}

#[tokio::test]
async fn activation_create_refuses_bad_input() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (activation_id, code, _) = init(&server, "hank", json!({})).await;
    let good = activation_request(&server, &app, ProtocolVersion::V3_2, &code, None).await;
    let post = |header: Option<String>, body: String| {
        let mut request = server
            .client
            .post(server.url("/pa/v3/activation/create"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(header) = header {
            request = request.header(ENCRYPTION_HEADER_NAME, header);
        }
        async move { crate::common::read(request.send().await.unwrap()).await }
    };
    let unknown_key =
        "PowerAuth application_key=\"AAAAAAAAAAAAAAAAAAAAAA==\", version=\"3.2\"".to_owned();
    let header_30 = good.header.replace("3.2", "3.0");
    let header_33 = good.header.replace("3.2", "3.3");
    let mut tampered: Value = serde_json::from_str(&good.body).unwrap();
    tampered["mac"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let cases: Vec<(Option<String>, String, StatusCode, &str)> = vec![
        (
            None,
            good.body.clone(),
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
        ),
        (
            Some("Basic abc".into()),
            good.body.clone(),
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
        ),
        (
            Some(good.header.replace("3.2", "9.9")),
            good.body.clone(),
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
        ),
        (
            Some(header_30),
            good.body.clone(),
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
        ),
        (
            Some(header_33),
            good.body.clone(),
            StatusCode::UNAUTHORIZED,
            "ERR_AUTHENTICATION",
        ),
        (
            Some(unknown_key),
            good.body.clone(),
            StatusCode::BAD_REQUEST,
            "ERR_ACTIVATION",
        ),
        (
            Some(good.header.clone()),
            "{".into(),
            StatusCode::BAD_REQUEST,
            "ERR_ACTIVATION",
        ),
        (
            Some(good.header.clone()),
            "{}".into(),
            StatusCode::BAD_REQUEST,
            "ERR_ACTIVATION",
        ),
        (
            Some(good.header.clone()),
            tampered.to_string(),
            StatusCode::BAD_REQUEST,
            "ERR_ACTIVATION",
        ),
        (
            Some(good.header.clone()),
            "x".repeat(300 * 1024),
            StatusCode::PAYLOAD_TOO_LARGE,
            "INVALID_REQUEST",
        ),
    ];
    for (header, body, expected_status, code) in cases {
        let shown = format!("{header:?} {}", &body[..body.len().min(60)]);
        let (status, response) = post(header, body).await;
        assert_eq!(status, expected_status, "{shown}: {response}");
        assert_eq!(error_parts(&response).0, code, "{shown}: {response}");
    }
    assert_eq!(
        rest_status(&server, &activation_id).await["activationStatus"],
        "CREATED",
        "nothing half-written"
    );
    // The untouched request still works afterwards.
    assert_eq!(good.send(&server).await.0, StatusCode::OK);
}

#[tokio::test]
async fn status_refuses_bad_challenges_and_hides_unknown_ids() {
    let server = TestServer::start().await;
    for challenge in [json!("AAAA"), json!(7), json!("not base64!")] {
        let (status, body) = server
            .rest(
                "/pa/v3/activation/status",
                json!({"activationId": "00000000-0000-4000-8000-000000000000", "challenge": challenge}),
            )
            .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_ACTIVATION");
    }
    let (status, body) = server.post_raw("/pa/v3/activation/status", "{").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_ACTIVATION");
    let (status, body) = server
        .rest(
            "/pa/v3/activation/status",
            json!({"activationId": "00000000-0000-4000-8000-000000000000",
                   "challenge": "AAAAAAAAAAAAAAAAAAAAAA=="}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "unknown ids answer random bytes: {body}"
    );
    assert_eq!(
        body["responseObject"]["encryptedStatusBlob"]
            .as_str()
            .unwrap()
            .len(),
        44
    );
}

#[tokio::test]
async fn keystore_refuses_bad_jwts() {
    let server = TestServer::start().await;
    let mut other = AppConfig::default_of(&server).await;
    other.application_secret = "AAAAAAAAAAAAAAAAAAAAAA==".to_owned();
    let (status, body) = device::application_temporary_key(&server, &other)
        .await
        .err()
        .unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_TEMPORARY_KEY");
    for request in [
        json!({"requestObject": {"jwt": "a.b.c"}}),
        json!({"requestObject": {}}),
        json!([]),
    ] {
        let (status, body) = server.post("/pa/v3/keystore/create", &request).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR_TEMPORARY_KEY");
    }
}

#[tokio::test]
async fn an_intermediate_server_can_prepare_and_list() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    for protocol in [ProtocolVersion::V3_1, ProtocolVersion::V3_2] {
        let (activation_id, code, _) = init(&server, "ivan", json!({})).await;
        let now = u64::try_from(server.clock_ms()).unwrap();
        let recipient = powerauth::ecies::Recipient::Static(&app.master_public_key);
        let (device, layer2, decryptor) =
            device::layer2_request(&app, protocol, recipient, None, now);
        let mut request: Value = serde_json::from_str(&layer2.to_json()).unwrap();
        request["activationCode"] = json!(code);
        request["applicationKey"] = json!(app.application_key);
        request["protocolVersion"] = json!(protocol.as_str());
        request["generateRecoveryCodes"] = json!(false);
        let prepared = server
            .rest_ok("/rest/v3/activation/prepare", request.clone())
            .await;
        assert_eq!(prepared["activationId"], activation_id.as_str());
        assert_eq!(prepared["activationStatus"], "PENDING_COMMIT");
        assert_eq!(prepared["userId"], "ivan");
        let response =
            powerauth::ecies::EncryptedResponse::from_json(prepared.to_string().as_bytes())
                .unwrap();
        let plain: Value =
            serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap();
        assert_eq!(plain["activationId"], activation_id.as_str());
        assert!(powerauth::PublicKey::from_b64(plain["serverPublicKey"].as_str().unwrap()).is_ok());
        drop(device);
        let (status, body) = server.rest("/rest/v3/activation/prepare", request).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0024");
    }
    let list = server
        .rest_ok("/rest/v3/activation/list", json!({"userId": "ivan"}))
        .await;
    assert_eq!(list["activations"].as_array().unwrap().len(), 2);
    let none = server
        .rest_ok(
            "/rest/v3/activation/list",
            json!({"userId": "ivan", "applicationId": "other"}),
        )
        .await;
    assert!(none["activations"].as_array().unwrap().is_empty());
}

/// PowerAuth Server before 1.5 spoke 3.1 only: its prepare has no `protocolVersion` and
/// implies 3.1 (what Wultra's js-test-client sends). From 1.5 on, a request without it
/// cannot be decrypted: ERR0018.
#[tokio::test]
async fn prepare_without_protocol_version_follows_the_server_version() {
    for (version, implied) in [("1.4.0", true), ("1.5.0", false), ("1.9.0", false)] {
        let config = sandbox::Config {
            server_version: version.parse().unwrap(),
            ..sandbox::Config::in_memory()
        };
        let server = TestServer::start_with(config).await;
        let status = server.rest_ok("/rest/v3/status", json!({})).await;
        assert_eq!(status["version"], version);
        let app = AppConfig::default_of(&server).await;
        let (activation_id, code, _) = init(&server, "ivan", json!({})).await;
        let now = u64::try_from(server.clock_ms()).unwrap();
        let recipient = powerauth::ecies::Recipient::Static(&app.master_public_key);
        let (_device, layer2, decryptor) =
            device::layer2_request(&app, ProtocolVersion::V3_1, recipient, None, now);
        let mut request: Value = serde_json::from_str(&layer2.to_json()).unwrap();
        request["activationCode"] = json!(code);
        request["applicationKey"] = json!(app.application_key);
        request["generateRecoveryCodes"] = json!(false);
        let (status, body) = server.rest("/rest/v3/activation/prepare", request).await;
        if implied {
            assert_eq!(status, StatusCode::OK, "{version}: {body}");
            let response = powerauth::ecies::EncryptedResponse::from_json(
                body["responseObject"].to_string().as_bytes(),
            )
            .unwrap();
            let plain: Value =
                serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap();
            assert_eq!(plain["activationId"], activation_id.as_str());
        } else {
            assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0018");
            assert_eq!(body["responseObject"]["message"], "Data decryption failed.");
        }
    }
}

#[tokio::test]
async fn custom_credentials_activate_at_once_and_leave_nothing_on_failure() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let request = device::activation_request_as(
        &server,
        &app,
        ProtocolVersion::V3_3,
        "CUSTOM",
        json!({"username": "judy", "password": "anything"}),
        None,
    )
    .await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let device = request.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(device.status(&server).await.state, ActivationState::Active);
    assert_eq!(
        rest_status(&server, &device.activation_id).await["userId"],
        "judy"
    );

    let nameless = device::activation_request_as(
        &server,
        &app,
        ProtocolVersion::V3_3,
        "CUSTOM",
        json!({"password": "x"}),
        None,
    )
    .await;
    assert_eq!(nameless.send(&server).await.0, StatusCode::BAD_REQUEST);
    let list = server
        .rest_ok("/rest/v3/activation/list", json!({"userId": "judy"}))
        .await;
    assert_eq!(list["activations"].as_array().unwrap().len(), 1);

    // Layer 1 opens but its layer 2 is empty: refused before any record is made (layer 2
    // is decrypted first, as PowerAuth Server does).
    let layer1 = powerauth::ecies::Encryptor::new(
        ProtocolVersion::V3_2,
        powerauth::ecies::SharedInfo1::ApplicationScopeGeneric,
        &app.application_key,
        &app.application_secret,
        powerauth::ecies::Scope::Application,
    )
    .unwrap();
    let plain =
        json!({"type": "CUSTOM", "identityAttributes": {"userId": "kim"}, "activationData": {}});
    let now = u64::try_from(server.clock_ms()).unwrap();
    let (sealed, _) = layer1
        .encrypt_request(
            powerauth::ecies::Recipient::Static(&app.master_public_key),
            plain.to_string().as_bytes(),
            &powerauth::SystemRandom::new(),
            now,
        )
        .unwrap();
    let header = powerauth::ecies::EncryptionHeader::application(
        &app.application_key,
        ProtocolVersion::V3_2,
    );
    let response = server
        .client
        .post(server.url("/pa/v3/activation/create"))
        .header(ENCRYPTION_HEADER_NAME, header.to_string())
        .body(sealed.to_json())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let list = server
        .rest_ok("/rest/v3/activation/list", json!({"userId": "kim"}))
        .await;
    assert_eq!(
        list["activations"],
        json!([]),
        "no half-made activation, not even a removed one"
    );

    let broken = device::activation_request_as(
        &server,
        &app,
        ProtocolVersion::V3_1,
        "RECOVERY",
        json!({"recoveryCode": "x", "puk": "y"}),
        None,
    )
    .await;
    assert_eq!(
        broken.send(&server).await.0,
        StatusCode::BAD_REQUEST,
        "an unknown recovery code is refused"
    );
}

#[tokio::test]
async fn flags_and_otp_are_managed_by_the_backend() {
    let server = TestServer::start().await;
    let (id, _, _) = init(&server, "lena", json!({"flags": ["A"]})).await;
    let path = |p: &str| format!("/rest/v3/activation/{p}");
    let flags = |v: Value| v["activationFlags"].clone();
    let added = server
        .rest_ok(
            &path("flags/create"),
            json!({"activationId": id, "activationFlags": ["B", "A"]}),
        )
        .await;
    assert_eq!(flags(added), json!(["A", "B"]));
    let removed = server
        .rest_ok(
            &path("flags/remove"),
            json!({"activationId": id, "activationFlags": ["A"]}),
        )
        .await;
    assert_eq!(flags(removed), json!(["B"]));
    let replaced = server
        .rest_ok(
            &path("flags/update"),
            json!({"activationId": id, "activationFlags": ["C"]}),
        )
        .await;
    assert_eq!(flags(replaced), json!(["C"]));
    let listed = server
        .rest_ok(&path("flags/list"), json!({"activationId": id}))
        .await;
    assert_eq!(flags(listed), json!(["C"]));
    let (status, body) = server
        .rest(
            &path("flags/create"),
            json!({"activationId": id, "activationFlags": [""]}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0024");

    let updated = server
        .rest_ok(
            &path("otp/update"),
            json!({"activationId": id, "activationOtp": "777"}),
        )
        .await;
    assert_eq!(updated["updated"], true);
    server
        .rest_ok(&path("remove"), json!({"activationId": id}))
        .await;
    let (status, body) = server
        .rest(
            &path("otp/update"),
            json!({"activationId": id, "activationOtp": "1"}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "ERR0008");
}
