//! Profile `signed-token` (issue 16 §4) over real HTTP: the project setting, the counted
//! vendor sign endpoint, self-signed tokens, refresh only after the token's own expiry, the
//! refusals, the per-user rate limit of the app server's sign endpoint (on the test clock)
//! and the per-user access history.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use tokensim_device::profiles::ProfileClient;
use tokensim_device::profiles::signed_token::{SignedTokenAccount, Source};
use tokensim_device::{Client, ClientConfig, Fault, NoEvents};

fn device_client(server: &TestServer) -> ProfileClient {
    let client = Client::with(
        ClientConfig::default(),
        Arc::new(NoEvents),
        Arc::new(powerauth::SystemRandom::new()),
        Arc::new(server.clock.clone()),
    )
    .unwrap();
    ProfileClient::new(&client, server.sandbox.url())
}

async fn project(server: &TestServer, settings: Value) -> Value {
    let (status, body) = server
        .post("/profiles/signed-token/projects", &settings)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn call(server: &TestServer, path: &str, body: Value) -> (StatusCode, Value) {
    server.post(path, &body).await
}

/// The profile's access history on the server (`GET /profiles/accesses`), narrowed by
/// `query` (`projectId=…&subject=…`).
async fn accesses(server: &TestServer, query: &str) -> Value {
    let (status, history) = crate::common::read(
        server
            .client
            .get(server.url(&format!("/profiles/accesses?profile=signed-token&{query}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    history
}

#[track_caller]
fn refused(answer: (StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], code, "{}", answer.1);
}

#[tokio::test]
async fn signed_tokens_required_refusals_and_refresh_after_expiry() {
    let server = TestServer::start().await;
    let made = project(&server, json!({ "tokenLifetimeSeconds": 300 })).await;
    let project_id = made["projectId"].as_str().unwrap().to_owned();
    assert_eq!(made["requireSignedTokens"], true);
    let pc = device_client(&server);
    let mut alice = SignedTokenAccount::new(
        server.sandbox.url(),
        &project_id,
        "alice",
        Source::SelfSigned,
    );
    let mut saves = 0;
    let mut save = |_: &SignedTokenAccount| {
        saves += 1;
        Ok(())
    };
    // Happy path: the token is fetched once, then reused until its own expiry.
    let first = alice.attach(&pc, true, &mut save).await.unwrap();
    assert!(first.signed && first.refreshed);
    server.clock.advance(299_000);
    assert!(!alice.attach(&pc, true, &mut save).await.unwrap().refreshed);
    server.clock.advance(1_000);
    assert!(alice.attach(&pc, true, &mut save).await.unwrap().refreshed);
    assert_eq!(saves, 2);

    // Identify carries a token for the event id.
    let identified = alice.identify(&pc, "event-42", true).await.unwrap();
    assert_eq!(identified.subject, "event-42");

    // Refusals, each a 401 with its code.
    let url = "/profiles/signed-token/attach";
    refused(
        call(
            &server,
            url,
            json!({ "projectId": project_id, "user": "alice" }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_required",
    );
    refused(
        call(
            &server,
            url,
            json!({ "projectId": project_id, "user": "alice", "token": "garbage" }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    );
    // A well-formed HS256 token signed with another secret: refused, in words.
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "user": "alice", "iat": 0, "exp": 4_102_444_800_i64 }),
        &jsonwebtoken::EncodingKey::from_secret(b"not the project's API secret"),
    )
    .unwrap();
    let answer = call(
        &server,
        url,
        json!({ "projectId": project_id, "user": "alice", "token": forged }),
    )
    .await;
    let message = answer.1["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains("forged") && !message.contains("InvalidSignature"),
        "{message}"
    );
    refused(answer, StatusCode::UNAUTHORIZED, "token_invalid");
    let (_, signed) = call(
        &server,
        "/profiles/signed-token/app/sign",
        json!({ "projectId": project_id, "user": "bob" }),
    )
    .await;
    let bobs = signed["token"].as_str().unwrap().to_owned();
    refused(
        call(
            &server,
            url,
            json!({ "projectId": project_id, "user": "alice", "token": bobs }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_user_mismatch",
    );
    server.clock.advance(301_000);
    refused(
        call(
            &server,
            url,
            json!({ "projectId": project_id, "user": "bob", "token": bobs }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    );
    for fault in [
        Fault::WrongSecret,
        Fault::ExpiredToken,
        Fault::ServerDown,
        Fault::ReplaySignature,
    ] {
        let report = alice
            .attach_faulted(&pc, fault, &mut |_| Ok(()))
            .await
            .unwrap();
        assert!(report.matched, "{fault}: {report:#?}");
    }

    // The project setting: unsigned calls pass once signed tokens are optional; an invalid
    // token is still refused.
    let (status, updated) = server
        .client
        .put(server.url(&format!(
            "/profiles/signed-token/projects/{project_id}/settings"
        )))
        .json(&json!({ "requireSignedTokens": false }))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        updated.json::<Value>().await.unwrap()["requireSignedTokens"],
        false
    );
    let unsigned = alice.attach(&pc, false, &mut |_| Ok(())).await.unwrap();
    assert!(!unsigned.signed);
    refused(
        call(
            &server,
            url,
            json!({ "projectId": project_id, "user": "alice", "token": "garbage" }),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "token_invalid",
    );

    // Alice's access history says, for every access, whether it was signed.
    let history = accesses(&server, &format!("projectId={project_id}&subject=alice")).await;
    let accesses = history["accesses"].as_array().unwrap();
    assert!(
        accesses
            .iter()
            .any(|a| a["signed"] == false && a["accepted"] == true),
        "{history}"
    );
    assert!(
        accesses
            .iter()
            .any(|a| a["signed"] == true && a["accepted"] == true),
        "{history}"
    );
    assert!(
        accesses.iter().any(|a| a["reason"] == "token_required"),
        "{history}"
    );
    assert!(accesses.iter().all(|a| a["subject"] == "alice"));
}

#[tokio::test]
async fn the_vendor_sign_endpoint_counts_and_the_app_server_throttles_one_user() {
    let server = TestServer::start().await;
    let made = project(&server, json!({ "signRatePerMinute": 3 })).await;
    let project_id = made["projectId"].as_str().unwrap().to_owned();
    let (key, secret) = (
        made["apiKey"].as_str().unwrap(),
        made["apiSecret"].as_str().unwrap(),
    );
    for expected in 1..=2 {
        let response = server
            .client
            .post(server.url("/profiles/signed-token/sign"))
            .basic_auth(key, Some(secret))
            .json(&json!({ "user": "carol" }))
            .send()
            .await
            .unwrap();
        let (status, body) = crate::common::read(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["signCalls"], expected);
    }
    let wrong = server
        .client
        .post(server.url("/profiles/signed-token/sign"))
        .basic_auth(key, Some("not the secret"))
        .json(&json!({ "user": "carol" }))
        .send()
        .await
        .unwrap();
    refused(
        crate::common::read(wrong).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    // The app server's vendor-sourced token is counted too.
    let (status, _) = call(
        &server,
        "/profiles/signed-token/app/sign",
        json!({ "projectId": project_id, "user": "dan", "source": "vendor" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, shown) = crate::common::read(
        server
            .client
            .get(server.url(&format!("/profiles/signed-token/projects/{project_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(shown["signCalls"], 3, "{shown}");
    assert!(shown.get("apiSecret").is_none(), "{shown}");

    // Rate: 3 a minute per user. Dan has used one; two more pass, the fourth is throttled;
    // Erin is not affected; a minute later Dan may sign again.
    let sign = |user: &str| json!({ "projectId": project_id, "user": user });
    for _ in 0..2 {
        assert_eq!(
            call(&server, "/profiles/signed-token/app/sign", sign("dan"))
                .await
                .0,
            StatusCode::OK
        );
    }
    let throttled = server
        .client
        .post(server.url("/profiles/signed-token/app/sign"))
        .json(&sign("dan"))
        .send()
        .await
        .unwrap();
    assert!(throttled.headers().contains_key("retry-after"));
    refused(
        crate::common::read(throttled).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    assert_eq!(
        call(&server, "/profiles/signed-token/app/sign", sign("erin"))
            .await
            .0,
        StatusCode::OK
    );
    server.clock.advance(60_000);
    assert_eq!(
        call(&server, "/profiles/signed-token/app/sign", sign("dan"))
            .await
            .0,
        StatusCode::OK
    );

    // Bad input: a clear 400 or 404, never a 500.
    refused(
        call(
            &server,
            "/profiles/signed-token/app/sign",
            json!({ "projectId": "nope", "user": "x" }),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    refused(
        call(
            &server,
            "/profiles/signed-token/app/sign",
            json!({ "projectId": project_id, "user": "" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    refused(
        call(
            &server,
            "/profiles/signed-token/identify",
            json!({ "projectId": project_id }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    refused(
        call(
            &server,
            "/profiles/signed-token/projects",
            json!({ "signRatePerMinute": 0 }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

/// Accesses within one millisecond (the test clock stands still) list in the order they
/// were recorded, newest first, not by their random ids: eight in a row come back in
/// exactly the reverse order (by chance, 1 in 40,320).
#[tokio::test]
async fn accesses_at_one_instant_list_in_the_order_they_were_recorded() {
    let server = TestServer::start().await;
    let made = project(&server, json!({ "requireSignedTokens": false })).await;
    let project_id = made["projectId"].as_str().unwrap().to_owned();
    let before = server.clock_ms();
    let users: Vec<String> = (0..8).map(|n| format!("user-{n}")).collect();
    for user in &users {
        let (status, body) = call(
            &server,
            "/profiles/signed-token/attach",
            json!({ "projectId": project_id, "user": user }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    assert_eq!(server.clock_ms(), before, "the clock stood still");
    let history = accesses(&server, &format!("projectId={project_id}")).await;
    let accesses = history["accesses"].as_array().unwrap();
    assert!(accesses.iter().all(|a| a["atMs"] == before), "{history}");
    let listed: Vec<&str> = accesses
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = users.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first, "{history}");
}
