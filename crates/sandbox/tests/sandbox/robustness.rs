//! Every POST endpoint against garbage: bodies, headers, nesting. The answer is never a
//! 5xx, and every error uses the protocol's JSON shape.

use crate::common::{TestServer, error_parts, read};
use reqwest::StatusCode;

pub(crate) const ENDPOINTS: &[&str] = &[
    "/pa/v3/status",
    "/pa/v3/activation/create",
    "/pa/v3/activation/status",
    "/pa/v3/activation/remove",
    "/pa/v3/activation/detail",
    "/pa/v3/activation/rename",
    "/pa/v3/keystore/create",
    "/pa/v3/signature/validate",
    "/pa/v3/token/create",
    "/pa/v3/token/remove",
    "/pa/v3/vault/unlock",
    "/pa/v3/user/info",
    "/pa/v3/recovery/confirm",
    "/exchange/v3/application",
    "/exchange/v3/activation",
    "/exchange/v3/signed",
    "/exchange/v3/signed/string",
    "/exchange/v3/signed/raw",
    "/exchange/v3/signed/generics",
    "/rest/v3/status",
    "/rest/v3/application/create",
    "/rest/v3/application/list",
    "/rest/v3/application/detail",
    "/rest/v3/application/detail/version",
    "/rest/v3/application/version/create",
    "/rest/v3/application/version/support",
    "/rest/v3/application/version/unsupport",
    "/rest/v3/activation/init",
    "/rest/v3/activation/status",
    "/rest/v3/activation/commit",
    "/rest/v3/activation/remove",
    "/rest/v3/activation/block",
    "/rest/v3/activation/unblock",
    "/rest/v3/activation/prepare",
    "/rest/v3/activation/list",
    "/rest/v3/activation/flags/list",
    "/rest/v3/activation/flags/create",
    "/rest/v3/activation/flags/update",
    "/rest/v3/activation/flags/remove",
    "/rest/v3/activation/otp/update",
    "/rest/v3/signature/verify",
    "/rest/v3/signature/offline/personalized/create",
    "/rest/v3/signature/offline/non-personalized/create",
    "/rest/v3/signature/offline/verify",
    "/rest/v3/token/validate",
    "/rest/v3/operation/create",
    "/rest/v3/operation/detail",
    "/rest/v3/operation/claim",
    "/rest/v3/operation/list",
    "/rest/v3/operation/list/pending",
    "/rest/v3/operation/approve",
    "/rest/v3/operation/approve/fail",
    "/rest/v3/operation/reject",
    "/rest/v3/operation/cancel",
    "/rest/v3/operation/template/list",
    "/rest/v3/operation/template/detail",
    "/rest/v3/operation/template/create",
    "/rest/v3/operation/template/update",
    "/rest/v3/operation/template/remove",
    "/rest/v3/ecies/decryptor",
    "/api/auth/token/app/operation/list",
    "/api/auth/token/app/operation/detail",
    "/api/auth/token/app/operation/detail/claim",
    "/api/auth/token/app/operation/history",
    "/api/auth/token/app/operation/authorize",
    "/api/auth/token/app/operation/cancel",
    "/api/push/device/register",
    "/api/push/device/register/token",
    "/api/inbox/count",
    "/api/inbox/message/list",
    "/api/inbox/message/detail",
    "/api/inbox/message/read",
    "/api/inbox/message/read-all",
];

pub(crate) fn bodies() -> Vec<String> {
    vec![
        String::new(),
        "{".into(),
        "null".into(),
        "[]".into(),
        "\"text\"".into(),
        r#"{"requestObject":null}"#.into(),
        r#"{"requestObject":[]}"#.into(),
        r#"{"requestObject":{"activationId":"x","applicationId":"x","operationId":"x","id":"x","userId":"x"}}"#
            .into(),
        r#"{"ephemeralPublicKey":"AAAA","encryptedData":"AAAA","mac":"AAAA","nonce":"AAAA","timestamp":-1}"#
            .into(),
        r#"{"requestObject":{"id":9223372036854775807,"templateName":"t","operationType":"o","dataTemplate":"${","signatureType":["POSSESSION"],"expiration":-1,"maxFailureCount":1}}"#
            .into(),
        r#"{"requestObject":{"applicationKey":"x","ephemeralPublicKey":"AAAA","protocolVersion":"3.3","temporaryKeyId":"x","nonce":"AAAA","timestamp":18446744073709551615}}"#
            .into(),
        "[".repeat(10_000),
        "\u{0}\u{ff}\u{fffd}".into(),
    ]
}

pub(crate) const HEADERS: &[(&str, &str)] = &[
    (
        "X-PowerAuth-Authorization",
        "PowerAuth pa_activation_id=\"x\", pa_version=\"3.3\"",
    ),
    (
        "X-PowerAuth-Authorization",
        "PowerAuth pa_activation_id=\"00000000-0000-4000-8000-000000000000\", pa_application_key=\"AAAAAAAAAAAAAAAAAAAAAA==\", pa_nonce=\"AAAAAAAAAAAAAAAAAAAAAA==\", pa_signature_type=\"possession\", pa_signature=\"AAAAAAAAAAAAAAAAAAAAAA==\", pa_version=\"3.3\"",
    ),
    (
        "X-PowerAuth-Token",
        "PowerAuth token_id=\"x\", token_digest=\"y\"",
    ),
    (
        "X-PowerAuth-Encryption",
        "PowerAuth application_key=\"AAAAAAAAAAAAAAAAAAAAAA==\", version=\"3.3\"",
    ),
    ("X-PowerAuth-Encryption", "garbage \u{e9}"),
];

#[tokio::test]
async fn no_endpoint_answers_5xx_to_garbage() {
    let server = TestServer::start().await;
    let mut requests = 0;
    for endpoint in ENDPOINTS {
        for body in bodies() {
            for header in std::iter::once(None).chain(HEADERS.iter().map(Some)) {
                let mut request = server
                    .client
                    .post(server.url(endpoint))
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some((name, value)) = header {
                    request = request.header(*name, *value);
                }
                let (status, response) = read(request.send().await.unwrap()).await;
                assert!(
                    status.as_u16() < 500,
                    "{endpoint} {header:?} {:?}: {status} {response}",
                    &body[..body.len().min(40)]
                );
                if status.as_u16() >= 400 {
                    error_parts(&response);
                }
                requests += 1;
            }
        }
    }
    assert_eq!(
        requests,
        ENDPOINTS.len() * bodies().len() * (HEADERS.len() + 1)
    );
    // And the server still works.
    let (status, _) = server.post("/pa/v3/status", &serde_json::json!({})).await;
    assert_eq!(status, StatusCode::OK);
}
