//! `/rest/v3/activation/create`: a record for a user and its key exchange in one call, as
//! an intermediate server running the custom-credentials flow uses it (digest §4.3).

use crate::common::{TestServer, error_parts};
use crate::device::{self, AppConfig};
use powerauth::ProtocolVersion;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The layer-2 request of a fresh device, as the intermediate server forwards it, with
/// the create fields; and its response decryptor. 3.3 encrypts to a temporary key.
async fn create_request(
    server: &TestServer,
    app: &AppConfig,
    protocol: ProtocolVersion,
    user: &str,
) -> (Value, powerauth::ecies::ResponseDecryptor) {
    let now = u64::try_from(server.clock_ms()).unwrap();
    let temporary = if protocol == ProtocolVersion::V3_3 {
        Some(
            device::application_temporary_key(server, app)
                .await
                .expect("a temporary key"),
        )
    } else {
        None
    };
    let recipient = match &temporary {
        Some(key) => key.recipient(),
        None => powerauth::ecies::Recipient::Static(&app.master_public_key),
    };
    let (_device, layer2, decryptor) = device::layer2_request(app, protocol, recipient, None, now);
    let mut request: Value = serde_json::from_str(&layer2.to_json()).unwrap();
    request["userId"] = json!(user);
    request["applicationKey"] = json!(app.application_key);
    request["protocolVersion"] = json!(protocol.as_str());
    request["generateRecoveryCodes"] = json!(true);
    (request, decryptor)
}

#[tokio::test]
async fn one_call_creates_and_exchanges_keys_then_commit_activates() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    for protocol in ProtocolVersion::ALL {
        let (request, decryptor) = create_request(&server, &app, protocol, "ivan").await;
        let created = server.rest_ok("/rest/v3/activation/create", request).await;
        assert_eq!(created["activationStatus"], "PENDING_COMMIT", "{protocol}");
        assert_eq!(created["userId"], "ivan");
        assert_eq!(created["applicationId"], "tokensim");
        let response =
            powerauth::ecies::EncryptedResponse::from_json(created.to_string().as_bytes()).unwrap();
        let plain: Value =
            serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap();
        let id = created["activationId"].as_str().unwrap();
        assert_eq!(plain["activationId"], id);
        assert!(powerauth::PublicKey::from_b64(plain["serverPublicKey"].as_str().unwrap()).is_ok());
        assert!(
            plain["activationRecovery"]["recoveryCode"].is_string(),
            "generateRecoveryCodes: {plain}"
        );
        let committed = server
            .rest_ok("/rest/v3/activation/commit", json!({"activationId": id}))
            .await;
        assert_eq!(committed["activated"], true);
        let status = server
            .rest_ok("/rest/v3/activation/status", json!({"activationId": id}))
            .await;
        assert_eq!(status["activationStatus"], "ACTIVE");
    }
}

#[tokio::test]
async fn a_refused_exchange_leaves_no_usable_record() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (mut request, _) = create_request(&server, &app, ProtocolVersion::V3_2, "mallory").await;
    request["mac"] = json!(powerauth::encoding::b64([0u8; 32]));
    let (status, body) = server.rest("/rest/v3/activation/create", request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "ERR0024", "{body}");
    let list = server
        .rest_ok("/rest/v3/activation/list", json!({"userId": "mallory"}))
        .await;
    // Layer 2 is decrypted before the record is made: nothing was created.
    assert_eq!(list["activations"], json!([]));
}

#[tokio::test]
async fn bad_input_gets_the_documented_error() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let (good, _) = create_request(&server, &app, ProtocolVersion::V3_1, "ivan").await;
    let cases = [
        ("userId", json!("")),
        ("protocolVersion", json!("2.1")),
        ("maxFailureCount", json!(0)),
        ("activationOtp", json!("")),
        ("ephemeralPublicKey", json!("not base64")),
    ];
    for (field, value) in cases {
        let mut request = good.clone();
        request[field] = value;
        let (status, body) = server.rest("/rest/v3/activation/create", request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert_eq!(error_parts(&body).0, "ERR0024", "{field}: {body}");
    }
    let mut request = good.clone();
    request["applicationKey"] = json!(powerauth::encoding::b64([7u8; 16]));
    let (status, body) = server.rest("/rest/v3/activation/create", request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (code, _) = error_parts(&body);
    assert_ne!(
        code, "ERR0024",
        "an unknown application is not a format error"
    );
    let mut request = good;
    request.as_object_mut().unwrap().remove("userId");
    let (status, body) = server.rest("/rest/v3/activation/create", request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Nothing was made by any of these.
    let list = server
        .rest_ok("/rest/v3/activation/list", json!({"userId": "ivan"}))
        .await;
    assert!(list["activations"].as_array().unwrap().is_empty(), "{list}");
}
