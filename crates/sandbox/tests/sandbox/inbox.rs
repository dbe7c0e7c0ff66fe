//! The inbox: messages posted with the Cloud API, read on the device with a token.

use crate::common::{TestServer, error_parts, read};
use crate::operations::Phone;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn post_message(server: &TestServer, body: Value) -> (StatusCode, Value) {
    let response = server
        .cloud(
            Method::POST,
            "/v2/inbox/messages",
            Some(server.integration()),
        )
        .json(&body)
        .send()
        .await
        .unwrap();
    read(response).await
}

#[tokio::test]
async fn messages_are_counted_listed_read() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let (status, first) = post_message(
        &server,
        json!({"userId": "alice", "type": "text", "subject": "Hello", "summary": "Welcome", "body": "Welcome aboard."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    server.clock.advance(1_000);
    post_message(
        &server,
        json!({"userId": "alice", "type": "html", "subject": "Offer", "summary": "New", "body": "<b>Hi</b>"}),
    )
    .await;
    post_message(
        &server,
        json!({"userId": "bob", "type": "text", "subject": "Not yours", "summary": "", "body": ""}),
    )
    .await;

    let (_, count) = phone
        .token_post(&server, "/api/inbox/count", json!({}))
        .await;
    assert_eq!(count["responseObject"]["countUnread"], 2);
    let (status, list) = phone
        .token_post(
            &server,
            "/api/inbox/message/list",
            json!({"requestObject": {"page": 0, "size": 10}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list["responseObject"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["subject"], "Offer", "newest first");
    assert!(list[0].get("body").is_none(), "the list carries no bodies");

    let id = first["id"].as_str().unwrap();
    let (_, detail) = phone
        .token_post(
            &server,
            "/api/inbox/message/detail",
            json!({"requestObject": {"id": id}}),
        )
        .await;
    assert_eq!(detail["responseObject"]["body"], "Welcome aboard.");
    let (status, _) = phone
        .token_post(
            &server,
            "/api/inbox/message/read",
            json!({"requestObject": {"id": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, count) = phone
        .token_post(&server, "/api/inbox/count", json!({}))
        .await;
    assert_eq!(count["responseObject"]["countUnread"], 1);
    let (_, unread) = phone
        .token_post(
            &server,
            "/api/inbox/message/list",
            json!({"requestObject": {"onlyUnread": true}}),
        )
        .await;
    assert_eq!(unread["responseObject"].as_array().unwrap().len(), 1);
    phone
        .token_post(&server, "/api/inbox/message/read-all", json!({}))
        .await;
    let (_, count) = phone
        .token_post(&server, "/api/inbox/count", json!({}))
        .await;
    assert_eq!(count["responseObject"]["countUnread"], 0);
}

#[tokio::test]
async fn inbox_refuses_bad_input() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    for body in [
        json!({"userId": "alice", "subject": "s", "summary": "s", "body": "b", "type": "pdf"}),
        json!({"userId": "", "subject": "s", "summary": "s", "body": "b"}),
        json!({"userId": "alice"}),
        json!({"userId": "alice", "appId": "nope", "subject": "s", "summary": "s", "body": "b"}),
    ] {
        let (status, response) = post_message(&server, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
    }
    let (status, body) = phone
        .token_post(
            &server,
            "/api/inbox/message/detail",
            json!({"requestObject": {"id": "00000000-0000-4000-8000-000000000000"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "INBOX_FAILED");
    let (status, _) = phone
        .token_post(
            &server,
            "/api/inbox/message/list",
            json!({"requestObject": {"size": 0}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = server
        .client
        .post(server.url("/api/inbox/count"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
