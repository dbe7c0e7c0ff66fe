//! What a phone does beyond approve and reject: claim an operation made without a user, an
//! operation that needs a proximity OTP, and an activation that needs an activation OTP.

use crate::common::World;
use crate::device::operation_status;
use powerauth::ProtocolVersion;
use serde_json::{Value, json};

pub(crate) async fn rest_operation(world: &World, request: Value) -> String {
    let created = world.rest("/rest/v3/operation/create", request).await;
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_without_a_user_is_claimed_then_approved() {
    let world = World::start().await;
    let (id, _) = world
        .device("claimer", "phone", ProtocolVersion::V3_3)
        .await;
    let d = ["--device", id.as_str()];
    let op = rest_operation(
        &world,
        json!({
            "applications": ["tokensim"],
            "templateName": "login",
            "parameters": {},
        }),
    )
    .await;
    let listed = world.json(&[&d[..], &["ops", "list"]].concat()).await;
    assert_eq!(listed["operations"], json!([]), "not this user's yet");

    let claimed = world.json(&[&d[..], &["ops", "claim", &op]].concat()).await;
    assert_eq!(claimed["claimed"], true, "{claimed}");
    let detail = world
        .rest("/rest/v3/operation/detail", json!({"operationId": op}))
        .await;
    assert_eq!(detail["userId"], "claimer", "{detail}");

    world
        .json(&[&d[..], &["ops", "approve", &op]].concat())
        .await;
    assert_eq!(operation_status(&world, &op).await, "APPROVED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proximity_check_needs_the_otp_the_operation_shows() {
    let world = World::start().await;
    let (id, _) = world.device("near", "phone", ProtocolVersion::V3_2).await;
    let d = ["--device", id.as_str()];
    let op = rest_operation(
        &world,
        json!({
            "userId": "near",
            "applications": ["tokensim"],
            "templateName": "payment",
            "parameters": {"amount": "10.00", "currency": "EUR", "iban": "CZ6508000000192000145399"},
            "proximityCheckEnabled": true,
        }),
    )
    .await;

    let wrong = world
        .run(
            &[
                &d[..],
                &[
                    "--json",
                    "ops",
                    "approve",
                    &op,
                    "--proximity-otp",
                    "00000000",
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(
        wrong.code, 3,
        "a wrong proximity OTP is refused: {wrong:#?}"
    );
    assert_ne!(operation_status(&world, &op).await, "APPROVED");

    let detail = world
        .rest("/rest/v3/operation/detail", json!({"operationId": op}))
        .await;
    let otp = detail["proximityOtp"]
        .as_str()
        .expect("the sandbox shows the OTP")
        .to_owned();
    world
        .json(&[&d[..], &["ops", "approve", &op, "--proximity-otp", &otp]].concat())
        .await;
    assert_eq!(operation_status(&world, &op).await, "APPROVED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_otp_is_checked_at_key_exchange() {
    let world = World::start().await;
    let init = world
        .rest(
            "/rest/v3/activation/init",
            json!({
                "userId": "otp-user",
                "applicationId": "tokensim",
                "activationOtp": "84736",
                "activationOtpValidation": "ON_KEY_EXCHANGE",
            }),
        )
        .await;
    let qr = format!(
        "{}#{}",
        init["activationCode"].as_str().unwrap(),
        init["activationSignature"].as_str().unwrap()
    );
    let args = |otp: &'static str| {
        vec![
            "--json".to_owned(),
            "activate".to_owned(),
            "--server".to_owned(),
            world.url().to_owned(),
            "--config".to_owned(),
            world.config.clone(),
            "--qr".to_owned(),
            qr.clone(),
            "--name".to_owned(),
            "otp phone".to_owned(),
            "--otp".to_owned(),
            otp.to_owned(),
        ]
    };
    let wrong: Vec<String> = args("11111");
    let wrong = world
        .run(&wrong.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_ne!(
        wrong.code, 0,
        "a wrong activation OTP is refused: {wrong:#?}"
    );
    assert!(!wrong.json()["error"].as_str().unwrap().is_empty());

    let right: Vec<String> = args("84736");
    let right = world
        .run(&right.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    right.ok();
    assert_eq!(right.json()["activationId"], init["activationId"]);
}
