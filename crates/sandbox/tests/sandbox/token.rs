//! Tokens end to end: `/pa/v3/token/create` (signed, activation-scope ECIES in every
//! version), `/rest/v3/token/validate`, `/pa/v3/token/remove`.

use crate::common::{TestServer, error_parts};
use crate::device::activate;
use powerauth::ProtocolVersion;
use powerauth::encoding::b64;
use powerauth::signature::SignatureType;
use powerauth::token::TokenHeader;
use powerauth::{SymmetricKey, SystemRandom};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) async fn validate(server: &TestServer, header: &TokenHeader) -> Value {
    server
        .rest_ok(
            "/rest/v3/token/validate",
            json!({
                "tokenId": header.token_id,
                "tokenDigest": b64(header.token_digest),
                "nonce": b64(header.nonce),
                "timestamp": header.timestamp_ms.to_string(),
                "protocolVersion": header.version.as_str(),
            }),
        )
        .await
}

pub(crate) fn header(
    server: &TestServer,
    id: &str,
    secret: &SymmetricKey,
    version: ProtocolVersion,
) -> TokenHeader {
    let now = u64::try_from(server.clock_ms()).unwrap();
    TokenHeader::make(id, secret, version, now, &SystemRandom::new())
}

#[tokio::test]
async fn tokens_work_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let mut device = activate(&server, protocol).await;
        let (id, secret) = device
            .create_token(&server, SignatureType::PossessionKnowledge)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        let verdict = validate(&server, &header(&server, &id, &secret, protocol)).await;
        assert_eq!(verdict["tokenValid"], true, "{protocol}");
        assert_eq!(verdict["activationId"], device.activation_id.as_str());
        assert_eq!(verdict["signatureType"], "POSSESSION_KNOWLEDGE");
        assert_eq!(verdict["activationStatus"], "ACTIVE");
    }
}

#[tokio::test]
async fn replays_old_timestamps_wrong_versions_and_removed_tokens_are_invalid() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (id, secret) = device
        .create_token(&server, SignatureType::Possession)
        .await
        .unwrap();
    let used = header(&server, &id, &secret, ProtocolVersion::V3_3);
    assert_eq!(validate(&server, &used).await["tokenValid"], true);
    assert_eq!(
        validate(&server, &used).await["tokenValid"],
        false,
        "replayed nonce"
    );

    let mut other_version = header(&server, &id, &secret, ProtocolVersion::V3_3);
    other_version.version = ProtocolVersion::V3_1;
    assert_eq!(validate(&server, &other_version).await["tokenValid"], false);

    let old = header(&server, &id, &secret, ProtocolVersion::V3_3);
    server.clock.advance(2 * 3600 * 1000 + 1);
    assert_eq!(
        validate(&server, &old).await["tokenValid"],
        false,
        "older than 2 hours"
    );
    assert_eq!(
        validate(
            &server,
            &header(&server, &id, &secret, ProtocolVersion::V3_3)
        )
        .await["tokenValid"],
        true
    );

    let body = json!({"requestObject": {"tokenId": id}}).to_string();
    let (status, response) = device
        .post_signed(
            &server,
            "/pa/v3/token/remove",
            "/pa/token/remove",
            &body,
            SignatureType::Possession,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    assert_eq!(response["responseObject"]["tokenId"], id.as_str());
    assert_eq!(
        validate(
            &server,
            &header(&server, &id, &secret, ProtocolVersion::V3_3)
        )
        .await["tokenValid"],
        false,
        "removed"
    );
}

#[tokio::test]
async fn a_blocked_activation_has_no_valid_tokens() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_2).await;
    let (id, secret) = device
        .create_token(&server, SignatureType::Possession)
        .await
        .unwrap();
    server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": device.activation_id}),
        )
        .await;
    let verdict = validate(
        &server,
        &header(&server, &id, &secret, ProtocolVersion::V3_2),
    )
    .await;
    assert_eq!(verdict["tokenValid"], false);
}

#[tokio::test]
async fn token_create_refuses_a_bad_signature() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    // Move the device's counter out of the look-ahead window.
    for _ in 0..25 {
        device.sign("POST", "/x", b"", SignatureType::Possession);
    }
    let (status, body) = device
        .create_token(&server, SignatureType::Possession)
        .await
        .expect_err("a stale counter cannot create tokens");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_parts(&body),
        ("ERR_AUTHENTICATION".into(), "POWER_AUTH_TOKEN_ERROR".into())
    );
}

#[tokio::test]
async fn token_validate_refuses_malformed_fields() {
    let server = TestServer::start().await;
    let base = json!({
        "tokenId": "00000000-0000-4000-8000-000000000000",
        "tokenDigest": b64([0u8; 32]),
        "nonce": b64([0u8; 16]),
        "timestamp": "1780272000000",
        "protocolVersion": "3.3",
    });
    let verdict = server
        .rest_ok("/rest/v3/token/validate", base.clone())
        .await;
    assert_eq!(verdict["tokenValid"], false, "unknown token");
    for (field, value) in [
        ("tokenDigest", json!("short")),
        ("nonce", json!(7)),
        ("timestamp", json!("yesterday")),
        ("protocolVersion", json!("4.0")),
    ] {
        let mut bad = base.clone();
        bad[field] = value;
        let (status, body) = server.rest("/rest/v3/token/validate", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(error_parts(&body).0, "ERR0024");
    }
}
