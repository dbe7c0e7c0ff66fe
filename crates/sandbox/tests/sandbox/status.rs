//! `/rest/v3/status`, `/pa/v3/status`, and what unknown paths and methods answer.

use crate::common::{START_MS, TestServer, error_parts};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn rest_status_reports_the_clock() {
    let server = TestServer::start().await;
    let status = server.rest_ok("/rest/v3/status", json!({})).await;
    assert_eq!(status["status"], "OK");
    assert_eq!(status["timestamp"], "2026-06-01T00:00:00.000+00:00");
    server.clock.advance(1_500);
    let status = server.rest_ok("/rest/v3/status", json!({})).await;
    assert_eq!(status["timestamp"], "2026-06-01T00:00:01.500+00:00");
}

#[tokio::test]
async fn restful_status_gives_server_time_for_sdk_clock_sync() {
    let server = TestServer::start().await;
    let (status, body) = server.post("/pa/v3/status", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "OK");
    assert_eq!(body["responseObject"]["serverTime"], START_MS);
    assert_eq!(
        body["responseObject"]["application"]["name"],
        "tokensim-sandbox"
    );
    assert_eq!(body["responseObject"]["application"]["version"], "1.9.0");
}

/// Wultra's clients pick their API flavour from the reported release: the default is the
/// newest the sandbox implements, `--server-version` another.
#[tokio::test]
async fn both_statuses_report_the_emulated_server_version() {
    let server = TestServer::start().await;
    let status = server.rest_ok("/rest/v3/status", json!({})).await;
    assert_eq!(
        status["version"],
        sandbox::ServerVersion::NEWEST.to_string()
    );
    assert_eq!(status["version"], "1.9.0");
    let config = sandbox::Config {
        server_version: "1.4.2".parse().unwrap(),
        ..sandbox::Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    let status = server.rest_ok("/rest/v3/status", json!({})).await;
    assert_eq!(status["version"], "1.4.2");
    assert_eq!(status["applicationName"], "powerauth-server");
    let (_, body) = server.post("/pa/v3/status", &json!({})).await;
    assert_eq!(body["responseObject"]["application"]["version"], "1.4.2");
}

#[tokio::test]
async fn unknown_path_is_404_in_the_error_shape() {
    let server = TestServer::start().await;
    let (status, body) = server.post("/pa/v3/no/such/endpoint", &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_parts(&body).0, "INVALID_REQUEST");
}

#[tokio::test]
async fn wrong_method_is_405_in_the_error_shape() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/pa/v3/status"))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::common::read(response).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error_parts(&body);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let server = TestServer::start().await;
    let url = server.url("/pa/v3/status");
    let client = server.client.clone();
    server.sandbox.shutdown().await;
    let result = client.post(&url).body("{}").send().await;
    assert!(
        result.is_err(),
        "a stopped sandbox still answered: {result:?}"
    );
}

#[tokio::test]
async fn the_handle_gives_the_default_mobile_sdk_config() {
    let server = TestServer::start().await;
    let config = server
        .sandbox
        .default_mobile_sdk_config()
        .await
        .unwrap()
        .unwrap();
    let parsed = powerauth::config::ApplicationConfig::from_mobile_sdk_config(&config).unwrap();
    let detail = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(
        parsed.application_key.to_b64(),
        detail["versions"][0]["applicationKey"]
    );
}
