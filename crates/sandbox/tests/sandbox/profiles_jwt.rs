//! Profile `jwt` (issue 16 §1) over real HTTP: the vendor server and the app server of the
//! sandbox against the device's client (`tokensim_device::profiles::jwt`), on the test
//! clock (the device reads the same clock, so expiry is moved, never slept).

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokensim_device::profiles::ProfileClient;
use tokensim_device::profiles::jwt::{Enrollment, JwtAccount, Mode};
use tokensim_device::{Client, ClientConfig, Error, Fault, NoEvents};
use zeroize::Zeroizing;

fn device_client(server: &TestServer, events: Arc<dyn tokensim_device::Events>) -> ProfileClient {
    let client = Client::with(
        ClientConfig::default(),
        events,
        Arc::new(powerauth::SystemRandom::new()),
        Arc::new(server.clock.clone()),
    )
    .unwrap();
    ProfileClient::new(&client, server.sandbox.url())
}

struct Project {
    id: String,
    api_key: String,
    mobile_api_key: String,
}

async fn project(server: &TestServer, lifetime: i64) -> Project {
    let (status, body) = server
        .post(
            "/profiles/jwt/projects",
            &json!({ "jwtLifetimeSeconds": lifetime }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let text = |k: &str| body[k].as_str().unwrap().to_owned();
    Project {
        id: text("projectId"),
        api_key: text("apiKey"),
        mobile_api_key: text("mobileApiKey"),
    }
}

async fn user(server: &TestServer, project: &Project, name: &str) {
    let (status, body) = server
        .post(
            "/profiles/jwt/app/users",
            &json!({ "projectId": project.id, "username": name, "password": "correct horse" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

fn enrollment(project: &Project, mode: Mode, user: &str) -> Enrollment {
    Enrollment {
        mode,
        project_id: project.id.clone(),
        device_id: Some(format!("phone-of-{user}")),
        username: Some(user.to_owned()),
        password: Some(Zeroizing::new("correct horse".to_owned())),
        mobile_api_key: Some(Zeroizing::new(project.mobile_api_key.clone())),
    }
}

async fn api(server: &TestServer, headers: &[(&str, &str)]) -> (StatusCode, Value) {
    let mut request = server.client.get(server.url("/profiles/jwt/api/device"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    crate::common::read(request.send().await.unwrap()).await
}

async fn get(server: &TestServer, path: &str) -> (StatusCode, Value) {
    crate::common::read(server.client.get(server.url(path)).send().await.unwrap()).await
}

#[track_caller]
fn refused(answer: (StatusCode, Value), code: &str) {
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
    assert!(
        answer.1["message"].as_str().is_some_and(|m| m.len() > 20),
        "{}",
        answer.1
    );
}

#[tokio::test]
async fn jwt_mode_happy_path_refusals_and_expiry_on_the_test_clock() {
    let server = TestServer::start().await;
    let project = project(&server, 600).await;
    user(&server, &project, "alice").await;
    let pc = device_client(&server, Arc::new(NoEvents));
    let mut saved = 0;
    let mut save = |_: &JwtAccount| {
        saved += 1;
        Ok(())
    };
    let mut alice = JwtAccount::enroll(&pc, enrollment(&project, Mode::Jwt, "alice"))
        .await
        .unwrap();
    assert!(alice.has_jwt());
    let issued_exp = alice.jwt_expires_at.unwrap();
    assert_eq!(issued_exp, server.clock_ms() / 1000 + 600);
    let seen = alice.call(&pc, &mut save).await.unwrap();
    assert_eq!(seen.instance_id, "phone-of-alice");
    assert_eq!(seen.credential, "jwt");
    assert!(!seen.refreshed);

    // The token's own expiry has not passed: no new login.
    server.clock.advance(599_000);
    assert!(!alice.call(&pc, &mut save).await.unwrap().refreshed);

    // Past it: the vendor refuses the old JWT, and the device logs in again first.
    let (record, secret) = alice.to_parts();
    server.clock.advance(1_000);
    let stale = JwtAccount::from_parts(&record, &secret).unwrap();
    let stale_jwt = login_jwt(&server, &project, "alice", "phone-of-alice", Some(0)).await;
    refused(
        api(
            &server,
            &[
                ("authorization", &format!("Bearer {stale_jwt}")),
                ("x-instance-id", "phone-of-alice"),
            ],
        )
        .await,
        "jwt_expired",
    );
    let again = alice.call(&pc, &mut save).await.unwrap();
    assert!(again.refreshed);
    assert!(alice.jwt_expires_at.unwrap() > issued_exp);
    assert_eq!(saved, 1, "the new JWT is saved before it is used");
    drop(stale);

    // A JWT for another instance.
    let jwt = login_jwt(&server, &project, "alice", "phone-of-alice", None).await;
    refused(
        api(
            &server,
            &[
                ("authorization", &format!("Bearer {jwt}")),
                ("x-instance-id", "phone-of-mallory"),
            ],
        )
        .await,
        "jwt_instance_mismatch",
    );
    // A JWT signed with another key: the device's wrong-secret fault forges one.
    let report = alice
        .call_faulted(&pc, Fault::WrongSecret, &mut |_| Ok(()))
        .await
        .unwrap();
    assert!(report.matched, "{report:#?}");
    assert!(
        report.answered.contains("jwt_invalid_signature"),
        "{report:#?}"
    );
    // A token born expired: refused as expired.
    let report = alice
        .call_faulted(&pc, Fault::ExpiredToken, &mut |_| Ok(()))
        .await
        .unwrap();
    assert!(report.matched, "{report:#?}");
    // Not a JWT at all.
    refused(
        api(
            &server,
            &[
                ("authorization", "Bearer not-a-jwt"),
                ("x-instance-id", "phone-of-alice"),
            ],
        )
        .await,
        "jwt_malformed",
    );
    refused(
        api(&server, &[("x-instance-id", "phone-of-alice")]).await,
        "missing_credentials",
    );

    // The access history says who, how, accepted or why not; nothing secret.
    let (status, body) = get(
        &server,
        &format!(
            "/profiles/accesses?profile=jwt&subject=phone-of-alice&projectId={}",
            project.id
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let accesses = body["accesses"].as_array().unwrap();
    let reasons: Vec<&str> = accesses
        .iter()
        .filter_map(|a| a["reason"].as_str())
        .collect();
    for code in ["jwt_expired", "jwt_invalid_signature"] {
        assert!(reasons.contains(&code), "{body}");
    }
    assert!(
        accesses
            .iter()
            .any(|a| a["accepted"] == true && a["signed"] == true)
    );
    assert!(!body.to_string().contains(&jwt));
}

async fn login_jwt(
    server: &TestServer,
    project: &Project,
    user: &str,
    device: &str,
    lifetime: Option<i64>,
) -> String {
    let mut body = json!({ "projectId": project.id, "username": user, "password": "correct horse", "deviceId": device });
    if let Some(seconds) = lifetime {
        body["tokenLifetimeSeconds"] = json!(seconds);
    }
    let (status, answer) = server.post("/profiles/jwt/app/login", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer["jwt"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_vendor_refuses_a_wrong_api_key_and_the_app_server_a_wrong_password() {
    let server = TestServer::start().await;
    let project = project(&server, 3600).await;
    user(&server, &project, "bob").await;
    let (status, body) = server
        .post(
            "/profiles/jwt/gen-jwt",
            &json!({ "api_key": "not-the-key", "instance_id": "phone" }),
        )
        .await;
    refused((status, body), "invalid_api_key");
    let (status, body) = server
        .post(
            "/profiles/jwt/gen-jwt",
            &json!({ "api_key": project.api_key, "instance_id": "phone" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_at"], server.clock_ms() / 1000 + 3600);
    let (status, body) = server
        .post(
            "/profiles/jwt/app/login",
            &json!({ "projectId": project.id, "username": "bob", "password": "wrong", "deviceId": "phone" }),
        )
        .await;
    refused((status, body), "invalid_credentials");
    // Bad input is a 400 with the reason, never a 500.
    for (path, bad) in [
        ("/profiles/jwt/gen-jwt", "{".to_owned()),
        (
            "/profiles/jwt/gen-jwt",
            json!({"api_key": project.api_key, "instance_id": "a b"}).to_string(),
        ),
        (
            "/profiles/jwt/gen-jwt",
            json!({"api_key": project.api_key, "instance_id": "p", "expires_in": 99999})
                .to_string(),
        ),
        (
            "/profiles/jwt/projects",
            json!({"jwtLifetimeSeconds": 0}).to_string(),
        ),
        (
            "/profiles/jwt/app/users",
            json!({"projectId": project.id, "username": "x\u{0}", "password": "p"}).to_string(),
        ),
        (
            "/profiles/jwt/app/login",
            json!({"projectId": project.id, "username": "bob", "password": "p"}).to_string(),
        ),
    ] {
        let (status, body) = server.post_raw(path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {bad}: {body}");
        assert_eq!(body["error"], "invalid_request", "{body}");
    }
    let (status, _) = api(&server, &[("x-api-key", &project.mobile_api_key)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the device id is required");
}

#[tokio::test]
async fn api_key_mode_and_the_transport_faults() {
    let server = TestServer::start().await;
    let project = project(&server, 3600).await;
    let recorder = Arc::new(tokensim_device::Recorder::default());
    let pc = device_client(&server, recorder.clone());
    let mut device = JwtAccount::enroll(&pc, enrollment(&project, Mode::ApiKey, "carol"))
        .await
        .unwrap();
    let seen = device.call(&pc, &mut |_| Ok(())).await.unwrap();
    assert_eq!(seen.credential, "api-key");
    // The key never reaches the inspector.
    let exchanges = serde_json::to_string(&recorder.exchanges()).unwrap();
    assert!(!exchanges.contains(&project.mobile_api_key), "{exchanges}");
    refused(
        api(
            &server,
            &[("x-api-key", "wrong"), ("x-instance-id", "phone-of-carol")],
        )
        .await,
        "invalid_api_key",
    );
    for fault in [
        Fault::WrongSecret,
        Fault::ServerDown,
        Fault::ReplaySignature,
        Fault::ClockSkew(600_000),
    ] {
        let report = device
            .call_faulted(&pc, fault, &mut |_| Ok(()))
            .await
            .unwrap();
        assert!(report.matched, "{fault}: {report:#?}");
    }
    // A PowerAuth-only fault is refused before anything is sent.
    assert!(matches!(
        device
            .call_faulted(&pc, Fault::WrongPin, &mut |_| Ok(()))
            .await,
        Err(Error::FaultNotApplicable { .. })
    ));
    // Server down leaves the device usable.
    assert!(device.call(&pc, &mut |_| Ok(())).await.is_ok());
}
