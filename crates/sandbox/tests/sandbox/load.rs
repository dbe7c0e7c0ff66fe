//! Many writers at once: concurrent activations and signature verifications must never
//! lose an update. Counts are checked exactly afterwards (issue: 200 concurrent
//! activations, 1,000 concurrent signature verifications).

use crate::common::TestServer;
use crate::device::{AppConfig, Device, activation_request, init, post_with_authorization};
use futures_util::future::join_all;
use powerauth::signature::SignatureType;
use powerauth::{ActivationState, ProtocolVersion};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;

const VALIDATE: &str = "/pa/v3/signature/validate";
const VALIDATE_ID: &str = "/pa/signature/validate";
const BODY: &str = r#"{"requestObject":{"reason":"LOAD"}}"#;

fn version_of(i: usize) -> ProtocolVersion {
    ProtocolVersion::ALL[i % ProtocolVersion::ALL.len()]
}

/// `count` devices, every version, activated at once and then committed at once.
async fn activate_all_at_once(server: &TestServer, count: usize) -> Vec<Device> {
    let app = AppConfig::default_of(server).await;
    let mut prepared = Vec::with_capacity(count);
    for i in 0..count {
        let (activation_id, code, _) = init(server, &format!("user-{i}"), json!({})).await;
        let request = activation_request(server, &app, version_of(i), &code, None).await;
        prepared.push((activation_id, request));
    }
    let answers = join_all(prepared.iter().map(|(_, request)| request.send(server))).await;
    let mut devices = Vec::with_capacity(count);
    for (i, ((activation_id, request), (status, body))) in
        prepared.into_iter().zip(answers).enumerate()
    {
        assert_eq!(
            status,
            StatusCode::OK,
            "activation {i} in {}: {body}",
            version_of(i)
        );
        let device = request.finish(&app, version_of(i), &body);
        assert_eq!(device.activation_id, activation_id);
        devices.push(device);
    }
    let commits = join_all(devices.iter().map(|device| {
        server.rest(
            "/rest/v3/activation/commit",
            json!({"activationId": device.activation_id}),
        )
    }))
    .await;
    for (status, body) in commits {
        assert_eq!(status, StatusCode::OK, "commit: {body}");
    }
    devices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_activations_all_land() {
    let server = TestServer::start().await;
    let devices = activate_all_at_once(&server, 200).await;
    let ids: HashSet<&str> = devices.iter().map(|d| d.activation_id.as_str()).collect();
    assert_eq!(ids.len(), 200, "every activation got its own id");
    let states = join_all(devices.iter().map(|device| device.status(&server))).await;
    let active = states
        .iter()
        .filter(|blob| blob.state == ActivationState::Active)
        .count();
    assert_eq!(
        active, 200,
        "all 200 records are ACTIVE after the concurrent commits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_signature_verifications_are_all_counted() {
    const DEVICES: usize = 50;
    const SIGNATURES: usize = 20;
    let server = TestServer::start().await;
    let mut devices = activate_all_at_once(&server, DEVICES).await;
    // All devices at once; each device's own signatures in order, as a phone sends them.
    let runs = devices.iter_mut().map(|device| {
        let server = &server;
        async move {
            let mut accepted = 0;
            for _ in 0..SIGNATURES {
                let header = device.sign(
                    "POST",
                    VALIDATE_ID,
                    BODY.as_bytes(),
                    SignatureType::PossessionKnowledge,
                );
                let (status, body) = post_with_authorization(server, VALIDATE, &header, BODY).await;
                assert_eq!(status, StatusCode::OK, "{}: {body}", device.activation_id);
                accepted += 1;
            }
            accepted
        }
    });
    let accepted: usize = join_all(runs).await.into_iter().sum();
    assert_eq!(accepted, DEVICES * SIGNATURES);
    for device in &mut devices {
        // A 3.0 status blob carries random filler instead of counters: ask in 3.3.
        device.protocol = ProtocolVersion::V3_3;
        let blob = device.status(&server).await;
        assert_eq!(
            blob.ctr_byte as usize, SIGNATURES,
            "{}: the server counted every signature",
            device.activation_id
        );
        assert_eq!(blob.failed_attempts, 0);
        assert_eq!(blob.state, ActivationState::Active);
    }
}
