//! Signatures end to end: `/pa/v3/signature/validate`, `/pa/v3/activation/remove` and
//! `/rest/v3/signature/verify` against a device that signs with `crates/powerauth`.

use crate::common::{TestServer, error_parts};
use crate::device::{Device, activate, post_with_authorization};
use powerauth::ProtocolVersion;
use powerauth::keys::index;
use powerauth::signature::{RequestData, SignatureType, canonicalize_query};
use powerauth::status::ActivationState;
use reqwest::StatusCode;
use serde_json::json;

const VALIDATE: &str = "/pa/v3/signature/validate";
const VALIDATE_ID: &str = "/pa/signature/validate";
const BODY: &str = r#"{"requestObject":{"reason":"COUNTER_SYNCHRONIZATION"}}"#;

/// The server's `CTR_DATA` (via the status blob hash) equals the device's.
async fn assert_in_sync(server: &TestServer, device: &Device, expected_ctr_byte: u8) {
    let blob = device.status(server).await;
    assert_eq!(blob.ctr_byte, expected_ctr_byte, "{}", device.protocol);
    let hash_key = device.keys.transport.derive(index::CTR_DATA_HASH);
    assert_eq!(
        blob.ctr_data_hash,
        device.ctr_data.hash_with(hash_key.expose_bytes()),
        "{}: counters out of sync",
        device.protocol
    );
}

#[tokio::test]
async fn signatures_verify_in_every_version_and_advance_the_counter() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let mut device = activate(&server, protocol).await;
        for (n, signature_type) in [
            SignatureType::Possession,
            SignatureType::PossessionKnowledge,
            SignatureType::PossessionBiometry,
            SignatureType::PossessionKnowledgeBiometry,
        ]
        .into_iter()
        .enumerate()
        {
            let (status, body) = device
                .post_signed(&server, VALIDATE, VALIDATE_ID, BODY, signature_type)
                .await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{protocol} {signature_type}: {body}"
            );
            assert_eq!(body, json!({"status": "OK"}));
            if protocol != ProtocolVersion::V3_0 {
                assert_in_sync(&server, &device, n as u8 + 1).await;
            }
        }
    }
}

#[tokio::test]
async fn get_signs_the_canonical_query() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let query = "b=2&a=x%20y";
    let canonical = canonicalize_query(query).unwrap();
    let header = device.sign(
        "GET",
        VALIDATE_ID,
        canonical.as_bytes(),
        SignatureType::Possession,
    );
    let response = server
        .client
        .get(server.url(&format!("{VALIDATE}?{query}")))
        .header("X-PowerAuth-Authorization", header)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn look_ahead_accepts_a_device_that_ran_ahead_and_not_further() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_2).await;
    for _ in 0..19 {
        device.sign("POST", VALIDATE_ID, b"lost", SignatureType::Possession);
    }
    let (status, _) = device
        .post_signed(
            &server,
            VALIDATE,
            VALIDATE_ID,
            BODY,
            SignatureType::Possession,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "19 steps ahead is inside the window of 20"
    );
    assert_in_sync(&server, &device, 20).await;
    for _ in 0..20 {
        device.sign("POST", VALIDATE_ID, b"lost", SignatureType::Possession);
    }
    let (status, body) = device
        .post_signed(
            &server,
            VALIDATE,
            VALIDATE_ID,
            BODY,
            SignatureType::Possession,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "20 steps ahead is outside: {body}"
    );
}

#[tokio::test]
async fn a_signature_is_accepted_once() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_1).await;
    let header = device.sign(
        "POST",
        VALIDATE_ID,
        BODY.as_bytes(),
        SignatureType::PossessionKnowledge,
    );
    assert_eq!(
        post_with_authorization(&server, VALIDATE, &header, BODY)
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = post_with_authorization(&server, VALIDATE, &header, BODY).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_parts(&body),
        (
            "ERR_AUTHENTICATION".into(),
            "POWER_AUTH_SIGNATURE_INVALID".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_copies_of_one_signature_have_exactly_one_winner() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let header = device.sign(
        "POST",
        VALIDATE_ID,
        BODY.as_bytes(),
        SignatureType::PossessionKnowledge,
    );
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = server
            .client
            .post(server.url(VALIDATE))
            .header("X-PowerAuth-Authorization", header.clone())
            .body(BODY);
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let statuses: Vec<StatusCode> = requests
        .join_all()
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failures_are_all_counted() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let header = device.sign_wrong_pin(VALIDATE_ID, BODY.as_bytes());
        let request = server
            .client
            .post(server.url(VALIDATE))
            .header("X-PowerAuth-Authorization", header)
            .body(BODY);
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    for status in requests.join_all().await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let blob = device.status(&server).await;
    assert_eq!(blob.failed_attempts, 4, "no failed attempt lost to a race");
    assert_eq!(blob.state, ActivationState::Active);
}

#[tokio::test]
async fn five_wrong_pins_block_and_possession_failures_do_not_count() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    // A wrong possession-only signature (a stale counter) is not a PIN attempt.
    let stale = device.sign(
        "POST",
        VALIDATE_ID,
        b"other body",
        SignatureType::Possession,
    );
    assert_eq!(
        post_with_authorization(&server, VALIDATE, &stale, BODY)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(device.status(&server).await.failed_attempts, 0);
    for expected in 1..=5u8 {
        let header = device.sign_wrong_pin(VALIDATE_ID, BODY.as_bytes());
        assert_eq!(
            post_with_authorization(&server, VALIDATE, &header, BODY)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        let blob = device.status(&server).await;
        assert_eq!(blob.failed_attempts, expected);
        assert_eq!(blob.state == ActivationState::Blocked, expected == 5);
    }
    // Blocked: even the right PIN is refused.
    let (status, _) = device
        .post_signed(
            &server,
            VALIDATE,
            VALIDATE_ID,
            BODY,
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let detail = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": device.activation_id}),
        )
        .await;
    assert_eq!(detail["blockedReason"], "MAX_FAILED_ATTEMPTS");
}

#[tokio::test]
async fn a_right_pin_resets_failed_attempts() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_0).await;
    let header = device.sign_wrong_pin(VALIDATE_ID, BODY.as_bytes());
    post_with_authorization(&server, VALIDATE, &header, BODY).await;
    assert_eq!(device.status(&server).await.failed_attempts, 1);
    let (status, _) = device
        .post_signed(
            &server,
            VALIDATE,
            VALIDATE_ID,
            BODY,
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(device.status(&server).await.failed_attempts, 0);
}

#[tokio::test]
async fn malformed_or_missing_headers_are_401() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    for header in [
        None,
        Some("PowerAuth garbage".to_owned()),
        Some(format!(
            "PowerAuth pa_activation_id=\"{}\", pa_version=\"3.3\"",
            device.activation_id
        )),
    ] {
        let mut request = server.client.post(server.url(VALIDATE)).body(BODY);
        if let Some(header) = header {
            request = request.header("X-PowerAuth-Authorization", header);
        }
        let (status, body) = crate::common::read(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_parts(&body).0, "ERR_AUTHENTICATION");
    }
    assert_eq!(device.status(&server).await.failed_attempts, 0);
}

#[tokio::test]
async fn the_device_removes_itself_with_a_second_factor() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (status, _) = device
        .post_signed(
            &server,
            "/pa/v3/activation/remove",
            "/pa/activation/remove",
            "{}",
            SignatureType::Possession,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "possession alone may not remove"
    );
    assert_eq!(device.status(&server).await.state, ActivationState::Active);
    let (status, body) = device
        .post_signed(
            &server,
            "/pa/v3/activation/remove",
            "/pa/activation/remove",
            "{}",
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["responseObject"]["activationId"],
        device.activation_id.as_str()
    );
    assert_eq!(device.status(&server).await.state, ActivationState::Removed);
}

#[tokio::test]
async fn rest_signature_verify_reports_like_powerauth_server() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let header = device.sign(
        "POST",
        "/operation/authorize",
        BODY.as_bytes(),
        SignatureType::PossessionKnowledge,
    );
    let parsed = powerauth::signature::AuthorizationHeader::parse(&header).unwrap();
    let data = RequestData::new(
        "POST",
        "/operation/authorize",
        &parsed.nonce,
        BODY.as_bytes(),
    );
    let request = json!({
        "activationId": device.activation_id,
        "applicationKey": device.app.application_key,
        "data": data.as_str(),
        "signature": parsed.signature,
        "signatureType": "POSSESSION_KNOWLEDGE",
        "signatureVersion": "3.3",
    });
    let verdict = server
        .rest_ok("/rest/v3/signature/verify", request.clone())
        .await;
    assert_eq!(verdict["signatureValid"], true);
    assert_eq!(verdict["activationStatus"], "ACTIVE");
    assert_eq!(verdict["userId"], "alice");
    assert_eq!(verdict["remainingAttempts"], 5);
    assert_eq!(verdict["signatureType"], "POSSESSION_KNOWLEDGE");
    let again = server
        .rest_ok("/rest/v3/signature/verify", request.clone())
        .await;
    assert_eq!(again["signatureValid"], false, "replay");
    assert_eq!(again["remainingAttempts"], 4);

    let mut foreign = request.clone();
    foreign["applicationKey"] = json!("AAAAAAAAAAAAAAAAAAAAAA==");
    let verdict = server.rest_ok("/rest/v3/signature/verify", foreign).await;
    assert_eq!(verdict["signatureValid"], false);
    assert_eq!(verdict["remainingAttempts"], serde_json::Value::Null);

    let mut unknown = request.clone();
    unknown["activationId"] = json!("00000000-0000-4000-8000-000000000000");
    let verdict = server.rest_ok("/rest/v3/signature/verify", unknown).await;
    assert_eq!(verdict["signatureValid"], false);
    assert_eq!(verdict["activationStatus"], "REMOVED");

    for (field, value) in [
        ("signatureType", json!("TELEPATHY")),
        ("signatureVersion", json!("2.0")),
    ] {
        let mut bad = request.clone();
        bad[field] = value;
        let (status, body) = server.rest("/rest/v3/signature/verify", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_parts(&body).0, "ERR0024");
    }
}

/// The captured output of a tracing subscriber.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

/// A refused signature says why in the debug log: the factor to blame, the counter window
/// checked, and whether it was a replay; never the PIN, keys or the signature itself.
#[tokio::test]
async fn a_refused_signature_logs_why_at_debug_level() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread: the sandbox's tasks log through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    logs.take();

    let wrong = device.sign_wrong_pin(VALIDATE_ID, BODY.as_bytes());
    let (status, _) = post_with_authorization(&server, VALIDATE, &wrong, BODY).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let log = logs.take();
    let line = log
        .lines()
        .find(|l| l.contains("signature refused"))
        .unwrap_or_else(|| panic!("no refusal logged: {log}"));
    assert!(line.contains("DEBUG"), "{line}");
    assert!(line.contains("failed_factor=\"knowledge\""), "{line}");
    assert!(line.contains("counter_window=\"0..20\""), "{line}");
    assert!(line.contains("replay=false"), "{line}");
    assert!(
        line.contains("signature_type=\"possession_knowledge\""),
        "{line}"
    );
    let parsed = powerauth::signature::AuthorizationHeader::parse(&wrong).unwrap();
    assert!(
        !log.contains(&parsed.signature),
        "the signature is not logged"
    );

    let good = device.sign(
        "POST",
        VALIDATE_ID,
        BODY.as_bytes(),
        SignatureType::PossessionKnowledge,
    );
    let (status, _) = post_with_authorization(&server, VALIDATE, &good, BODY).await;
    assert_eq!(status, StatusCode::OK);
    logs.take();
    let (status, _) = post_with_authorization(&server, VALIDATE, &good, BODY).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let log = logs.take();
    let line = log
        .lines()
        .find(|l| l.contains("signature refused"))
        .unwrap_or_else(|| panic!("no refusal logged: {log}"));
    assert!(line.contains("replay=true"), "{line}");
    assert!(
        line.contains("a replay of a signature accepted before"),
        "{line}"
    );
    assert!(line.contains("counter_window=\"2..22\""), "{line}");

    // A factor the endpoint does not take is refused before any check, and says so.
    let possession = device.sign(
        "POST",
        "/pa/activation/remove",
        b"{}",
        SignatureType::Possession,
    );
    let (status, _) =
        post_with_authorization(&server, "/pa/v3/activation/remove", &possession, "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(logs.take().contains("factor not allowed on this endpoint"));
}
