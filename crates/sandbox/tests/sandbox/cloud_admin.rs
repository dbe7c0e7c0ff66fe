//! `/powerauth-cloud/admin/*` behind HTTP Basic: credentials, roles, users, applications.

use crate::common::{TestServer, error_parts, read};
use powerauth::PublicKey;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn missing_or_wrong_credentials_are_401_with_a_challenge() {
    let server = TestServer::start().await;
    let (_, admin_password) = server.admin();
    let attempts = [
        None,
        Some(("admin", "wrong")),
        Some(("nobody", admin_password)),
        Some(("admin", "")),
    ];
    for credentials in attempts {
        let response = server
            .cloud(Method::GET, "/admin/users", credentials)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.starts_with("Basic "), "{challenge}");
        let (_, body) = read(response).await;
        assert_eq!(error_parts(&body).0, "HTTP_401");
    }
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let server = TestServer::start().await;
    for header in [
        "Basic",
        "Basic !!!",
        "Basic YWRtaW4=",
        "Bearer abc",
        "Basic /w==",
        "",
    ] {
        let response = server
            .client
            .get(server.url("/powerauth-cloud/admin/users"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "header {header:?}"
        );
    }
}

#[tokio::test]
async fn integration_users_may_not_administer() {
    let server = TestServer::start().await;
    let response = server
        .cloud(Method::GET, "/admin/users", Some(server.integration()))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    // The Cloud answers a role that may not call `/admin` like missing credentials.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).0, "HTTP_401");
}

#[tokio::test]
async fn admin_manages_users() {
    let server = TestServer::start().await;
    let response = server
        .cloud(Method::POST, "/admin/users", Some(server.admin()))
        .json(&json!({"username": "ci-bot"}))
        .send()
        .await
        .unwrap();
    let (status, created) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["role"], json!(["ROLE_USER"]));
    assert_eq!(created["enabled"], true);
    let password = created["password"].as_str().unwrap().to_owned();
    assert!(password.len() >= 20);

    // The new user authenticates on /v2, but its role may not call /admin (401 HTTP_401).
    let response = server
        .cloud(Method::GET, "/admin/users", Some(("ci-bot", &password)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = server
        .cloud(
            Method::GET,
            "/v2/registrations?userId=nobody",
            Some(("ci-bot", &password)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let response = server
        .cloud(Method::GET, "/admin/users", Some(server.admin()))
        .send()
        .await
        .unwrap();
    let (_, users) = read(response).await;
    let names: Vec<_> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("admin"), json!("ci-bot"), json!("integration")]
    );
    assert!(
        users.to_string().find("password").is_none(),
        "hashes never leave: {users}"
    );

    let response = server
        .cloud(Method::POST, "/admin/users", Some(server.admin()))
        .json(&json!({"username": "ci-bot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = server
        .cloud(Method::DELETE, "/admin/users/ci-bot", Some(server.admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = server
        .cloud(Method::GET, "/admin/users", Some(("ci-bot", &password)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a deleted user cannot log in"
    );

    let response = server
        .cloud(Method::DELETE, "/admin/users/ci-bot", Some(server.admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server
        .cloud(Method::DELETE, "/admin/users/admin", Some(server.admin()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "admin cannot delete itself"
    );
}

#[tokio::test]
async fn bad_user_requests_are_400() {
    let server = TestServer::start().await;
    let bodies = [
        "{",
        "{}",
        r#"{"username":""}"#,
        r#"{"username":"has space"}"#,
        r#"{"username":5}"#,
    ];
    for body in bodies {
        let response = server
            .cloud(Method::POST, "/admin/users", Some(server.admin()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, response) = read(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "body {body}: {response}");
        assert_eq!(error_parts(&response).0, "ERROR_REQUEST");
    }
}

#[tokio::test]
async fn admin_manages_applications() {
    let server = TestServer::start().await;
    let response = server
        .cloud(Method::POST, "/admin/applications", Some(server.admin()))
        .json(&json!({"id": "bank"}))
        .send()
        .await
        .unwrap();
    let (status, created) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["id"], "bank");
    PublicKey::from_b64(created["masterServerPublicKey"].as_str().unwrap()).unwrap();
    assert_eq!(created["serviceBaseUrl"], server.sandbox.url());
    let config = powerauth::config::ApplicationConfig::from_mobile_sdk_config(
        created["mobileSdkConfig"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(config.application_key.to_b64(), created["appKey"]);

    let response = server
        .cloud(
            Method::GET,
            "/admin/applications/bank",
            Some(server.admin()),
        )
        .send()
        .await
        .unwrap();
    let (status, detail) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail, created);

    let response = server
        .cloud(Method::GET, "/admin/applications", Some(server.admin()))
        .send()
        .await
        .unwrap();
    let (_, list) = read(response).await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    let response = server
        .cloud(Method::POST, "/admin/applications", Some(server.admin()))
        .json(&json!({"id": "bank"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server
        .cloud(
            Method::GET,
            "/admin/applications/nope",
            Some(server.admin()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = server
        .cloud(Method::POST, "/admin/applications", Some(server.admin()))
        .header("content-type", "application/json")
        .body(r#"{"id":""}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
