//! Recovery codes: issued with an activation, redeemed by a `RECOVERY` activation that
//! replaces the lost device, blocked after five wrong PUKs.

use crate::common::{TestServer, error_parts};
use crate::device::{AppConfig, activate, activation_request_as};
use powerauth::ProtocolVersion;
use powerauth::recovery::RecoveryCode;
use powerauth::status::ActivationState;
use reqwest::StatusCode;
use sandbox::Config;
use serde_json::json;

async fn recover(
    server: &TestServer,
    app: &AppConfig,
    code: &str,
    puk: &str,
) -> (
    StatusCode,
    serde_json::Value,
    crate::device::ActivationRequest,
) {
    let request = activation_request_as(
        server,
        app,
        ProtocolVersion::V3_3,
        "RECOVERY",
        json!({"recoveryCode": code, "puk": puk}),
        None,
    )
    .await;
    let (status, body) = request.send(server).await;
    (status, body, request)
}

#[tokio::test]
async fn a_recovery_code_replaces_the_lost_device_once() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let lost = activate(&server, ProtocolVersion::V3_2).await;
    let (code, puk) = lost
        .recovery
        .clone()
        .expect("activation issues a recovery code");
    RecoveryCode::parse(&code).expect("a well-formed recovery code");
    assert_eq!(puk.len(), 10);

    let (status, body, request) = recover(&server, &app, &format!("R:{code}"), &puk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = request.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(
        new.status(&server).await.state,
        ActivationState::Active,
        "no commit needed"
    );
    assert_eq!(lost.status(&server).await.state, ActivationState::Removed);
    let detail = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": new.activation_id}),
        )
        .await;
    assert_eq!(detail["userId"], "alice");
    assert_ne!(
        new.recovery.as_ref().unwrap().0,
        code,
        "the new activation gets its own code"
    );

    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used up: {body}");
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");
}

#[tokio::test]
async fn five_wrong_puks_block_the_code() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let (code, puk) = device.recovery.clone().unwrap();
    let wrong = if puk == "0000000000" {
        "1111111111"
    } else {
        "0000000000"
    };
    for _ in 0..5 {
        let (status, body, _) = recover(&server, &app, &code, wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["responseObject"]["code"], "INVALID_RECOVERY_CODE");
        assert_eq!(
            body["responseObject"]["message"],
            "POWER_AUTH_RECOVERY_INVALID"
        );
        assert_eq!(body["responseObject"]["currentRecoveryPukIndex"], 1);
    }
    let (status, _, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "blocked: even the right PUK is refused"
    );
    assert_eq!(
        device.status(&server).await.state,
        ActivationState::Active,
        "the device stays"
    );
    let (status, body, _) = recover(&server, &app, "AAAAA-AAAAA-AAAAA-AAAAA", &puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");
}

#[tokio::test]
async fn recovery_codes_can_be_switched_off() {
    let server = TestServer::start_with(Config {
        recovery_codes: false,
        ..Config::in_memory()
    })
    .await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    assert!(device.recovery.is_none());
}

#[tokio::test]
async fn the_device_confirms_its_recovery_code() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (code, _) = device.recovery.clone().unwrap();
    let body = json!({"recoveryCode": code}).to_string();
    let confirmed = device
        .signed_encrypted(
            &server,
            "/pa/v3/recovery/confirm",
            "/pa/recovery/confirm",
            powerauth::ecies::SharedInfo1::ConfirmRecoveryCode,
            body.as_bytes(),
            powerauth::signature::SignatureType::PossessionKnowledge,
        )
        .await
        .unwrap();
    assert_eq!(confirmed, json!({"alreadyConfirmed": true}));
    let foreign = json!({"recoveryCode": "AAAAA-AAAAA-AAAAA-AAAAA"}).to_string();
    let (status, body) = device
        .signed_encrypted(
            &server,
            "/pa/v3/recovery/confirm",
            "/pa/recovery/confirm",
            powerauth::ecies::SharedInfo1::ConfirmRecoveryCode,
            foreign.as_bytes(),
            powerauth::signature::SignatureType::PossessionKnowledge,
        )
        .await
        .expect_err("not this user's code");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).1, "POWER_AUTH_RECOVERY_CONFIRM_ERROR");
}
