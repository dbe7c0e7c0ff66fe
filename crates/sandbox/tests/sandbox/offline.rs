//! Offline signatures: the server signs QR data, the device verifies it and computes the
//! decimal signature the user retypes, the server verifies that.

use crate::common::{TestServer, error_parts};
use crate::device::{AppConfig, activate};
use powerauth::ProtocolVersion;
use powerauth::offline::{OfflineQr, QrFlags, compute_offline_signature, operation_qr_data};
use powerauth::signature::{FactorKeys, SignatureType};
use reqwest::StatusCode;
use serde_json::json;

const OPERATION_ID: &str = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6";
const DATA: &str = "A1*A100CZK*ICZ2730300000001165254011*D20180425";

fn qr_lines() -> String {
    operation_qr_data(
        OPERATION_ID,
        "Payment",
        "Please confirm",
        DATA,
        QrFlags::default(),
    )
}

#[tokio::test]
async fn a_personalized_qr_round_trip() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let created = server
        .rest_ok(
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": device.activation_id, "data": qr_lines()}),
        )
        .await;
    let qr = OfflineQr::parse(created["offlineData"].as_str().unwrap()).unwrap();
    qr.verify(&app.master_public_key, &device.server_public_key)
        .expect("signed with KEY_SERVER_PRIVATE");
    assert_eq!(qr.operation_data(), DATA);

    let keys = FactorKeys::from(&device.keys);
    let signature = compute_offline_signature(
        &keys,
        SignatureType::PossessionKnowledge,
        &mut device.ctr_data,
        &qr,
    )
    .unwrap();
    let request = json!({
        "activationId": device.activation_id,
        "data": qr.request_data().as_str(),
        "signature": signature,
        "allowBiometry": false,
    });
    let verdict = server
        .rest_ok("/rest/v3/signature/offline/verify", request.clone())
        .await;
    assert_eq!(verdict["signatureValid"], true, "{verdict}");
    let again = server
        .rest_ok("/rest/v3/signature/offline/verify", request)
        .await;
    assert_eq!(
        again["signatureValid"], false,
        "a typed signature works once"
    );
    assert_eq!(again["remainingAttempts"], 4);
}

#[tokio::test]
async fn biometry_only_when_allowed() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_1).await;
    let created = server
        .rest_ok(
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": device.activation_id, "data": qr_lines()}),
        )
        .await;
    let qr = OfflineQr::parse(created["offlineData"].as_str().unwrap()).unwrap();
    let keys = FactorKeys::from(&device.keys);
    let mut ctr = device.ctr_data.clone();
    let signature =
        compute_offline_signature(&keys, SignatureType::PossessionBiometry, &mut ctr, &qr).unwrap();
    let mut request = json!({
        "activationId": device.activation_id,
        "data": qr.request_data().as_str(),
        "signature": signature,
        "allowBiometry": false,
    });
    let verdict = server
        .rest_ok("/rest/v3/signature/offline/verify", request.clone())
        .await;
    assert_eq!(verdict["signatureValid"], false);
    request["allowBiometry"] = json!(true);
    let verdict = server
        .rest_ok("/rest/v3/signature/offline/verify", request)
        .await;
    assert_eq!(verdict["signatureValid"], true);
    device.ctr_data = ctr;
}

#[tokio::test]
async fn non_personalized_data_is_signed_with_the_master_key() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let created = server
        .rest_ok(
            "/rest/v3/signature/offline/non-personalized/create",
            json!({"applicationId": "tokensim", "data": qr_lines()}),
        )
        .await;
    let qr = OfflineQr::parse(created["offlineData"].as_str().unwrap()).unwrap();
    let unrelated = powerauth::KeyPair::make(&powerauth::SystemRandom::new()).public;
    qr.verify(&app.master_public_key, &unrelated)
        .expect("signed with KEY_SERVER_MASTER_PRIVATE");
}

#[tokio::test]
async fn offline_endpoints_refuse_bad_input() {
    let server = TestServer::start().await;
    let (created_id, _, _) = crate::device::init(&server, "alice", json!({})).await;
    let cases = [
        (
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": "00000000-0000-4000-8000-000000000000", "data": "x"}),
            "ERR0009",
        ),
        (
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": created_id, "data": "x"}),
            "ERR0008",
        ),
        (
            "/rest/v3/signature/offline/non-personalized/create",
            json!({"applicationId": "nope", "data": "x"}),
            "ERR0015",
        ),
        (
            "/rest/v3/signature/offline/verify",
            json!({"activationId": created_id, "data": "x", "signature": "1", "componentLength": 3}),
            "ERR0024",
        ),
    ];
    for (path, request, code) in cases {
        let (status, body) = server.rest(path, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {request}: {body}");
        assert_eq!(error_parts(&body).0, code, "{path} {request}: {body}");
    }
    let verdict = server
        .rest_ok(
            "/rest/v3/signature/offline/verify",
            json!({"activationId": "00000000-0000-4000-8000-000000000000", "data": "x", "signature": "12345678"}),
        )
        .await;
    assert_eq!(verdict["signatureValid"], false);
    assert_eq!(verdict["activationStatus"], "REMOVED");
}
