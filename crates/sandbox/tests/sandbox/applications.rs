//! `/rest/v3/application/*`: the default application, create/list/detail, versions, and
//! every kind of bad input.

use crate::common::{TestServer, error_parts};
use powerauth::PublicKey;
use powerauth::config::ApplicationConfig;
use powerauth::encoding::b64_decode;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn application_ids(server: &TestServer) -> Vec<String> {
    let list = server.rest_ok("/rest/v3/application/list", json!({})).await;
    list["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["applicationId"].as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn assert_rest_error(status: StatusCode, body: &Value, code: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(body).0, code, "{body}");
}

#[tokio::test]
async fn a_fresh_sandbox_has_a_usable_default_application() {
    let server = TestServer::start().await;
    assert_eq!(application_ids(&server).await, ["tokensim"]);
    let detail = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    let master = detail["masterPublicKey"].as_str().unwrap();
    let key = PublicKey::from_b64(master).expect("the master public key is a P-256 point");
    assert_eq!(
        key.encoded().len(),
        65,
        "PowerAuth Server emits uncompressed keys"
    );
    let version = &detail["versions"][0];
    assert_eq!(version["applicationVersionId"], "default");
    assert_eq!(version["supported"], true);
    for field in ["applicationKey", "applicationSecret"] {
        let bytes = b64_decode(version[field].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 16, "{field} is 16 random bytes");
    }
    let config =
        ApplicationConfig::from_mobile_sdk_config(version["mobileSdkConfig"].as_str().unwrap())
            .expect("mobileSdkConfig parses as the mobile SDK parses it");
    assert_eq!(config.application_key.to_b64(), version["applicationKey"]);
    assert_eq!(
        *config.application_secret.expose_b64(),
        version["applicationSecret"]
    );
    assert_eq!(
        config.master_server_public_key.to_uncompressed(),
        key.to_uncompressed()
    );
}

#[tokio::test]
async fn create_list_detail_and_versions() {
    let server = TestServer::start().await;
    server.clock.advance(1_000);
    let created = server
        .rest_ok(
            "/rest/v3/application/create",
            json!({"applicationId": "bank"}),
        )
        .await;
    assert_eq!(
        created,
        json!({"applicationId": "bank", "applicationRoles": []})
    );
    assert_eq!(application_ids(&server).await, ["tokensim", "bank"]);

    server.clock.advance(1_000);
    let version = server
        .rest_ok(
            "/rest/v3/application/version/create",
            json!({"applicationId": "bank", "applicationVersionId": "2.0"}),
        )
        .await;
    assert_eq!(version["applicationVersionId"], "2.0");
    assert_eq!(version["applicationVersionName"], "2.0");
    assert_eq!(version["supported"], true);
    let key = version["applicationKey"].as_str().unwrap().to_owned();

    let owner = server
        .rest_ok(
            "/rest/v3/application/detail/version",
            json!({"applicationKey": key}),
        )
        .await;
    assert_eq!(owner["applicationId"], "bank");

    let unsupported = server
        .rest_ok(
            "/rest/v3/application/version/unsupport",
            json!({"applicationId": "bank", "applicationVersionId": "2.0"}),
        )
        .await;
    assert_eq!(
        unsupported,
        json!({"applicationVersionId": "2.0", "supported": false})
    );
    let detail = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "bank"}),
        )
        .await;
    let versions = detail["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["applicationVersionId"], "default");
    assert_eq!(versions[1]["supported"], false);

    let supported = server
        .rest_ok(
            "/rest/v3/application/version/support",
            json!({"applicationId": "bank", "applicationVersionId": "2.0"}),
        )
        .await;
    assert_eq!(supported["supported"], true);
}

#[tokio::test]
async fn each_application_gets_its_own_master_key() {
    let server = TestServer::start().await;
    server
        .rest_ok(
            "/rest/v3/application/create",
            json!({"applicationId": "other"}),
        )
        .await;
    let a = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    let b = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "other"}),
        )
        .await;
    assert_ne!(a["masterPublicKey"], b["masterPublicKey"]);
    assert_ne!(
        a["versions"][0]["applicationKey"],
        b["versions"][0]["applicationKey"]
    );
}

#[tokio::test]
async fn duplicates_are_refused_and_nothing_changes() {
    let server = TestServer::start().await;
    let before = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    let (status, body) = server
        .rest(
            "/rest/v3/application/create",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_rest_error(status, &body, "ERR0024");
    let (status, body) = server
        .rest(
            "/rest/v3/application/version/create",
            json!({"applicationId": "tokensim", "applicationVersionId": "default"}),
        )
        .await;
    assert_rest_error(status, &body, "ERR0024");
    let after = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(
        before, after,
        "a refused create must not touch the existing application"
    );
}

#[tokio::test]
async fn unknown_applications_and_versions_are_err0015() {
    let server = TestServer::start().await;
    let cases = [
        (
            "/rest/v3/application/detail",
            json!({"applicationId": "nope"}),
        ),
        (
            "/rest/v3/application/detail/version",
            json!({"applicationKey": "AAAAAAAAAAAAAAAAAAAAAA=="}),
        ),
        (
            "/rest/v3/application/version/create",
            json!({"applicationId": "nope", "applicationVersionId": "1"}),
        ),
        (
            "/rest/v3/application/version/support",
            json!({"applicationId": "tokensim", "applicationVersionId": "nope"}),
        ),
        (
            "/rest/v3/application/version/unsupport",
            json!({"applicationId": "nope", "applicationVersionId": "default"}),
        ),
    ];
    for (path, request) in cases {
        let (status, body) = server.rest(path, request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        let (code, message) = error_parts(&body);
        assert_eq!(
            (code.as_str(), message.as_str()),
            (
                "ERR0015",
                "Application or application version does not exist."
            ),
            "{path}"
        );
    }
}

#[tokio::test]
async fn malformed_requests_are_err0024_on_every_endpoint() {
    let server = TestServer::start().await;
    let paths = [
        "/rest/v3/application/create",
        "/rest/v3/application/detail",
        "/rest/v3/application/detail/version",
        "/rest/v3/application/version/create",
        "/rest/v3/application/version/support",
        "/rest/v3/application/version/unsupport",
    ];
    let bodies = [
        "",
        "{",
        "null",
        "[]",
        r#"{"applicationId":"x"}"#,
        r#"{"requestObject":null}"#,
        r#"{"requestObject":{"applicationId":7,"applicationKey":7,"applicationVersionId":7}}"#,
        "\u{0}\u{1}garbage",
    ];
    for path in paths {
        for body in bodies {
            let (status, response) = server.post_raw(path, body).await;
            assert_rest_error(status, &response, "ERR0024");
        }
    }
    assert_eq!(
        application_ids(&server).await,
        ["tokensim"],
        "nothing was written"
    );
}

#[tokio::test]
async fn invalid_names_are_refused() {
    let server = TestServer::start().await;
    for name in ["", "   ", "a\nb", &"x".repeat(256)] {
        let (status, body) = server
            .rest(
                "/rest/v3/application/create",
                json!({"applicationId": name}),
            )
            .await;
        assert_rest_error(status, &body, "ERR0024");
        let (status, body) = server
            .rest(
                "/rest/v3/application/version/create",
                json!({"applicationId": "tokensim", "applicationVersionId": name}),
            )
            .await;
        assert_rest_error(status, &body, "ERR0024");
    }
    assert_eq!(application_ids(&server).await, ["tokensim"]);
}

#[tokio::test]
async fn oversized_bodies_are_413_in_the_rest_shape() {
    let server = TestServer::start().await;
    let name = "x".repeat(300 * 1024);
    let (status, body) = server
        .rest(
            "/rest/v3/application/create",
            json!({"applicationId": name}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_parts(&body).0, "ERR0024");
    assert_eq!(application_ids(&server).await, ["tokensim"]);
}
