//! The web console at `/`, and the Cloud API's OpenAPI document and Swagger UI.

use crate::common::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn the_console_is_served_at_the_root() {
    let server = TestServer::start().await;
    let response = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("TokenSim PowerAuth sandbox"));
    assert!(
        !page.contains("https://"),
        "the console loads nothing from the network"
    );
}

#[tokio::test]
async fn every_documented_cloud_route_exists_and_requires_credentials() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/powerauth-cloud/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{} paths", paths.len());
    let mut checked = 0;
    for (path, operations) in paths {
        let concrete = path
            .split('/')
            .map(|part| if part.starts_with('{') { "x" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let response = server
                .client
                .request(
                    method.clone(),
                    server.url(&format!("/powerauth-cloud{concrete}?userId=x")),
                )
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path}: documented routes exist and need credentials"
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} operations");
}

#[tokio::test]
async fn swagger_ui_is_served_offline() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(server.url("/powerauth-cloud/swagger-ui"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    for (path, content_type, min_len) in [
        ("/powerauth-cloud/swagger-ui/", "text/html", 200),
        (
            "/powerauth-cloud/swagger-ui/swagger-ui-bundle.js",
            "text/javascript",
            1_000_000,
        ),
        (
            "/powerauth-cloud/swagger-ui/swagger-ui.css",
            "text/css",
            100_000,
        ),
    ] {
        let response = server.client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let actual = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(actual.starts_with(content_type), "{path}: {actual}");
        assert!(response.bytes().await.unwrap().len() >= min_len, "{path}");
    }
}
