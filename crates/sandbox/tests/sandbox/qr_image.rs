//! The activation QR code drawn by the server, `/powerauth-cloud/v2/registrations/{id}/qr.png`
//! and `qr.svg`: the PNG reads back (with the project's decoder) as the registration's
//! `activationQrCodeData`; only a CREATED registration has one.

use crate::common::{TestServer, error_parts, read};
use crate::device::{AppConfig, activation_request};
use powerauth::ProtocolVersion;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn register(server: &TestServer, user: &str) -> Value {
    let response = server
        .cloud(
            Method::POST,
            "/v2/registrations",
            Some(server.integration()),
        )
        .json(&json!({ "userId": user, "appId": "tokensim" }))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn image(server: &TestServer, id: &str, format: &str) -> reqwest::Response {
    server
        .cloud(
            Method::GET,
            &format!("/v2/registrations/{id}/qr.{format}"),
            Some(server.integration()),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_png_reads_back_as_the_activation_qr_code_data() {
    let server = TestServer::start().await;
    let created = register(&server, "alice").await;
    let response = image(&server, created["registrationId"].as_str().unwrap(), "png").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let png = response.bytes().await.unwrap();
    let decoded = tokensim_qr::decode_bytes(&png).expect("the server's QR code decodes");
    assert_eq!(
        decoded.text,
        created["activationQrCodeData"].as_str().unwrap()
    );
}

#[tokio::test]
async fn the_svg_is_a_scalable_drawing_of_the_same_code() {
    let server = TestServer::start().await;
    let created = register(&server, "alice").await;
    let id = created["registrationId"].as_str().unwrap();
    let response = image(&server, id, "svg").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    let svg = response.text().await.unwrap();
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    assert!(svg.contains("viewBox"), "scales to any size: {svg}");
    // The same drawing as the PNG: its view box measures the PNG's pixels.
    let png = image(&server, id, "png").await.bytes().await.unwrap();
    let png = image::load_from_memory(&png).unwrap();
    let side = png.width();
    assert!(
        svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
        "expected a {side}-unit view box: {}",
        &svg[..svg.len().min(300)]
    );
}

#[tokio::test]
async fn only_a_created_registration_has_a_qr_code() {
    let server = TestServer::start().await;
    let created = register(&server, "alice").await;
    let id = created["registrationId"].as_str().unwrap();
    let code = powerauth::activation_code::ActivationQr::parse(
        created["activationQrCodeData"].as_str().unwrap(),
    )
    .unwrap();
    let app = AppConfig::default_of(&server).await;
    let request = activation_request(
        &server,
        &app,
        ProtocolVersion::V3_3,
        code.code().as_str(),
        None,
    )
    .await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for format in ["png", "svg"] {
        let (status, body) = read(image(&server, id, format).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_parts(&body).0, "ERROR_REGISTRATION_CHANGE");
    }
}

#[tokio::test]
async fn an_unknown_registration_or_missing_login_is_refused() {
    let server = TestServer::start().await;
    let (status, body) =
        read(image(&server, "00000000-0000-4000-8000-000000000000", "png").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "ERROR_REGISTRATION_NOT_FOUND");
    let created = register(&server, "alice").await;
    let id = created["registrationId"].as_str().unwrap();
    let response = server
        .cloud(Method::GET, &format!("/v2/registrations/{id}/qr.png"), None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_listed_registration_shows_when_it_expires_until_it_is_active() {
    let server = TestServer::start().await;
    register(&server, "alice").await;
    let response = server
        .cloud(
            Method::GET,
            "/v2/registrations?userId=alice",
            Some(server.integration()),
        )
        .send()
        .await
        .unwrap();
    let (_, list) = read(response).await;
    // Epoch milliseconds, the configured 2 minutes after creation.
    assert_eq!(
        list["registrations"][0]["timestampRegistrationExpire"],
        crate::common::START_MS + 120_000
    );
}
