//! The Cloud integration API, `/powerauth-cloud/v2/*`: registrations, operations,
//! signature verification, push messages and their live stream.

use crate::common::{TestServer, error_parts, read};
use crate::device::{AppConfig, activation_request};
use powerauth::ProtocolVersion;
use powerauth::encoding::b64;
use powerauth::signature::SignatureType;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(
    server: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = server.cloud(method, path, Some(server.integration()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    read(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_registration_goes_from_qr_code_to_active_and_is_managed() {
    let server = TestServer::start().await;
    let (status, created) = call(
        &server,
        Method::POST,
        "/v2/registrations",
        Some(json!({"userId": "alice", "appId": "tokensim"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["registrationId"].as_str().unwrap().to_owned();
    let qr = created["activationQrCodeData"].as_str().unwrap();
    let app = AppConfig::default_of(&server).await;
    let parsed = powerauth::activation_code::ActivationQr::parse(qr).unwrap();
    assert_eq!(
        parsed.verify(&app.master_public_key),
        Ok(powerauth::activation_code::SignatureCheck::Verified)
    );

    let request = activation_request(
        &server,
        &app,
        ProtocolVersion::V3_3,
        parsed.code().as_str(),
        None,
    )
    .await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, detail) = call(
        &server,
        Method::GET,
        &format!("/v2/registrations/{id}"),
        None,
    )
    .await;
    assert_eq!(detail["registrationStatus"], "PENDING_COMMIT");
    assert_eq!(detail["name"], "Test phone");
    let (status, committed) = call(
        &server,
        Method::POST,
        &format!("/v2/registrations/{id}/commit"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{committed}");
    assert_eq!(committed, json!({"status": "OK"}));
    let (_, detail) = call(
        &server,
        Method::GET,
        &format!("/v2/registrations/{id}"),
        None,
    )
    .await;
    assert_eq!(detail["registrationStatus"], "ACTIVE");
    let (status, twice) = call(
        &server,
        Method::POST,
        &format!("/v2/registrations/{id}/commit"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "commit twice");
    assert_eq!(error_parts(&twice).0, "ERROR_REGISTRATION_CHANGE");

    let detail_path = format!("/v2/registrations/{id}");
    let (status, _) = call(
        &server,
        Method::PUT,
        &detail_path,
        Some(json!({"change": "BLOCK", "blockReason": "FRAUD"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, blocked) = call(&server, Method::GET, &detail_path, None).await;
    assert_eq!(blocked["registrationStatus"], "BLOCKED");
    assert_eq!(blocked["blockedReason"], "FRAUD");
    call(
        &server,
        Method::PUT,
        &detail_path,
        Some(json!({"change": "UNBLOCK"})),
    )
    .await;
    let (_, unblocked) = call(&server, Method::GET, &detail_path, None).await;
    assert_eq!(unblocked["registrationStatus"], "ACTIVE");
    let (_, list) = call(&server, Method::GET, "/v2/registrations?userId=alice", None).await;
    assert_eq!(list["registrations"].as_array().unwrap().len(), 1);
    let (_, removed) = call(
        &server,
        Method::DELETE,
        &format!("/v2/registrations/{id}"),
        None,
    )
    .await;
    assert_eq!(removed, json!({"status": "OK"}));
    let (_, removed) = call(&server, Method::GET, &detail_path, None).await;
    assert_eq!(removed["registrationStatus"], "REMOVED");
}

#[tokio::test]
async fn registration_endpoints_refuse_bad_input() {
    let server = TestServer::start().await;
    let unknown = "/v2/registrations/00000000-0000-4000-8000-000000000000";
    for (method, path, body, expected) in [
        (
            Method::POST,
            "/v2/registrations",
            Some(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v2/registrations",
            Some(json!({"userId": ""})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v2/registrations",
            Some(json!({"userId": "a", "appId": "nope"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::POST,
            "/v2/registrations",
            Some(json!({"userId": "a", "bogus": 1})),
            // no appId
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/v2/registrations",
            None,
            StatusCode::BAD_REQUEST,
        ),
        (Method::GET, unknown, None, StatusCode::BAD_REQUEST),
        (Method::DELETE, unknown, None, StatusCode::BAD_REQUEST),
        (
            Method::POST,
            &format!("{unknown}/commit"),
            None,
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::PUT,
            unknown,
            Some(json!({"change": 5})),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, response) = call(&server, method.clone(), path, body).await;
        assert_eq!(status, expected, "{method} {path}: {response}");
        error_parts(&response);
    }
    let response = server
        .cloud(
            Method::POST,
            "/v2/registrations",
            Some(("integration", "wrong")),
        )
        .json(&json!({"userId": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn operations_signature_verification_and_push() {
    let server = TestServer::start().await;
    // Push: a registered device, then watch the live stream while things happen.
    let mut device = crate::common::push_registered_device(&server, "apns", "apns-token").await;
    let mut stream = server
        .cloud(Method::GET, "/v2/push/stream", Some(server.integration()))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let (status, created) = call(
        &server,
        Method::POST,
        "/v2/operations",
        Some(json!({"userId": "alice", "template": "payment",
                    "parameters": {"amount": "5", "currency": "EUR", "iban": "DE02100100109307118603"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["operationId"].as_str().unwrap().to_owned();
    let stored = server
        .rest_ok("/rest/v3/operation/detail", json!({"operationId": id}))
        .await;
    assert_eq!(stored["data"], "A1*A5EUR*IDE02100100109307118603");

    let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
        .await
        .expect("a push event arrives")
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&chunk);
    assert!(text.contains("event: push") && text.contains(&id), "{text}");

    let (_, detail) = call(&server, Method::GET, &format!("/v2/operations/{id}"), None).await;
    assert_eq!(detail["status"], "PENDING");
    let (_, listed) = call(
        &server,
        Method::GET,
        "/v2/operations?userId=alice&pendingOnly=true",
        None,
    )
    .await;
    assert_eq!(listed["operations"][0]["operationId"], id.as_str());
    let (status, _) = call(&server, Method::GET, "/v2/operations", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "userId is required");
    let (_, canceled) = call(
        &server,
        Method::DELETE,
        &format!("/v2/operations/{id}"),
        None,
    )
    .await;
    assert_eq!(canceled["status"], "OK");
    let (_, detail) = call(&server, Method::GET, &format!("/v2/operations/{id}"), None).await;
    assert_eq!(detail["status"], "CANCELED");
    let (status, _) = call(
        &server,
        Method::DELETE,
        &format!("/v2/operations/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "already canceled");
    let (status, body) = call(&server, Method::GET, "/v2/operations/nope", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERROR_OPERATION_NOT_FOUND");

    let (status, sent) = call(
        &server,
        Method::POST,
        "/v2/messages/send",
        Some(json!({"userId": "alice", "title": "Hello", "message": "Hi"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent, json!({"status": "OK"}));
    let (_, outbox) = call(&server, Method::GET, "/v2/push/messages?userId=alice", None).await;
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 2);

    // Signature verification of the bank's own endpoint.
    let body = br#"{"login":"yes"}"#;
    let auth_header = device.sign("POST", "/login", body, SignatureType::PossessionKnowledge);
    let request = json!({"method": "POST", "uriId": "/login", "requestBody": b64(body), "authHeader": auth_header});
    let (status, verdict) = call(
        &server,
        Method::POST,
        "/v2/signature/verify",
        Some(request.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    assert_eq!(verdict["signatureValid"], true);
    assert_eq!(verdict["userId"], "alice");
    let (_, verdict) = call(&server, Method::POST, "/v2/signature/verify", Some(request)).await;
    assert_eq!(verdict["signatureValid"], false, "replayed");
    let (status, _) = call(
        &server,
        Method::POST,
        "/v2/signature/verify",
        Some(json!({"method": "POST", "uriId": "/x", "requestBody": "!!", "authHeader": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
