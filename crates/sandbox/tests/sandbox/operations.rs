//! Operations end to end: `/rest/v3/operation/*` on the backend side, the mobile API
//! (`/api/auth/token/app/operation/*`, `/api/push/*`) on the device side.

use crate::common::{TestServer, error_parts, read};
use crate::device::{Device, activate_user};
use powerauth::signature::SignatureType;
use powerauth::token::TokenHeader;
use powerauth::{ProtocolVersion, SymmetricKey, SystemRandom};
use reqwest::StatusCode;
use serde_json::{Value, json};

const IBAN: &str = "CZ6508000000192000145399";

/// A device with a token, as the mtoken SDK holds one (shared with other areas).
pub struct Phone {
    device: Device,
    token_id: String,
    token_secret: SymmetricKey,
}

impl Phone {
    pub async fn new(server: &TestServer) -> Self {
        Self::of(server, "alice").await
    }

    /// A phone of `user`.
    pub async fn of(server: &TestServer, user: &str) -> Self {
        let mut device = activate_user(server, ProtocolVersion::V3_3, user).await;
        let (token_id, token_secret) = device
            .create_token(server, SignatureType::Possession)
            .await
            .unwrap();
        Self {
            device,
            token_id,
            token_secret,
        }
    }

    /// A fresh `X-PowerAuth-Token` value.
    pub fn token_header(&self, server: &TestServer) -> String {
        let now = u64::try_from(server.clock_ms()).unwrap();
        TokenHeader::make(
            &self.token_id,
            &self.token_secret,
            ProtocolVersion::V3_3,
            now,
            &SystemRandom::new(),
        )
        .to_header_value()
    }

    /// A token-authenticated POST.
    pub async fn token_post(
        &self,
        server: &TestServer,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = server
            .client
            .post(server.url(path))
            .header(TokenHeader::NAME, self.token_header(server))
            .json(&body)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// A signed POST of `body` with resource id `uri_id`.
    async fn signed_post(
        &mut self,
        server: &TestServer,
        path: &str,
        uri_id: &str,
        body: Value,
        signature_type: SignatureType,
    ) -> (StatusCode, Value) {
        self.device
            .post_signed(server, path, uri_id, &body.to_string(), signature_type)
            .await
    }

    pub async fn list(&self, server: &TestServer) -> Vec<Value> {
        let (status, body) = self
            .token_post(server, "/api/auth/token/app/operation/list", json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["currentTimestamp"].is_string());
        body["responseObject"].as_array().unwrap().clone()
    }

    pub async fn authorize(
        &mut self,
        server: &TestServer,
        id: &str,
        data: &str,
        signature_type: SignatureType,
    ) -> (StatusCode, Value) {
        self.signed_post(
            server,
            "/api/auth/token/app/operation/authorize",
            "/operation/authorize",
            json!({"requestObject": {"id": id, "data": data}}),
            signature_type,
        )
        .await
    }
}

async fn create_payment(server: &TestServer, user: Option<&str>) -> Value {
    let mut request = json!({
        "applications": ["tokensim"],
        "templateName": "payment",
        "parameters": {"amount": "100.50", "currency": "CZK", "iban": IBAN},
    });
    if let Some(user) = user {
        request["userId"] = json!(user);
    }
    server.rest_ok("/rest/v3/operation/create", request).await
}

async fn rest_detail(server: &TestServer, id: &str) -> Value {
    server
        .rest_ok("/rest/v3/operation/detail", json!({"operationId": id}))
        .await
}

#[tokio::test]
async fn a_payment_is_listed_rendered_and_approved() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let created = create_payment(&server, Some("alice")).await;
    assert_eq!(created["data"], format!("A1*A100.50CZK*I{IBAN}"));
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["operationType"], "authorize_payment");
    let id = created["id"].as_str().unwrap().to_owned();

    let list = phone.list(&server).await;
    assert_eq!(list.len(), 1);
    let operation = &list[0];
    assert_eq!(operation["id"], id.as_str());
    assert_eq!(operation["name"], "authorize_payment");
    assert_eq!(
        operation["allowedSignatureType"],
        json!({"type": "2FA", "variants": ["possession_knowledge", "possession_biometry"]})
    );
    assert_eq!(operation["formData"]["title"], "Confirm payment");
    assert_eq!(
        operation["formData"]["message"],
        format!("Please confirm the payment of 100.50 CZK to {IBAN}.")
    );
    let amount = &operation["formData"]["attributes"][0];
    assert_eq!(amount["type"], "AMOUNT");
    assert_eq!(amount["amount"], 100.5);
    assert_eq!(amount["currency"], "CZK");
    // No Accept-Language: the JDK's English, as the enrollment server's MonetaryConverter.
    assert_eq!(amount["amountFormatted"], "100.50");
    assert_eq!(amount["currencyFormatted"], "CZK");
    assert_eq!(amount["valueFormatted"], "CZK100.50");
    assert!(operation.get("statusReason").is_none(), "nulls are omitted");
    // The template asks for QR_SCAN, but this operation has no proximity OTP.
    assert_eq!(
        operation["ui"],
        json!({"flipButtons": false, "blockApprovalOnCall": false})
    );

    let data = operation["data"].as_str().unwrap().to_owned();
    let (status, body) = phone
        .authorize(&server, &id, &data, SignatureType::PossessionKnowledge)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "OK"}));
    assert_eq!(rest_detail(&server, &id).await["status"], "APPROVED");
    assert!(phone.list(&server).await.is_empty());
    let (status, body) = phone
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail",
            json!({"requestObject": {"id": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        (
            "OPERATION_ALREADY_FINISHED".into(),
            "Operation was already completed".into()
        )
    );
}

#[tokio::test]
async fn amounts_follow_accept_language() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let request = json!({
        "applications": ["tokensim"], "templateName": "payment", "userId": "alice",
        "parameters": {"amount": "1710.9867", "currency": "CZK", "iban": IBAN},
    });
    let id = server.rest_ok("/rest/v3/operation/create", request).await["id"].clone();
    for (language, amount, currency, value) in [
        (
            "cs-CZ,cs;q=0.9,en;q=0.8",
            "1\u{a0}710,9867",
            "Kč",
            "1\u{a0}710,9867\u{a0}Kč",
        ),
        ("de", "1.710,9867", "CZK", "1.710,9867\u{a0}CZK"),
        ("en-US", "1,710.9867", "CZK", "CZK1,710.9867"),
    ] {
        let response = server
            .client
            .post(server.url("/api/auth/token/app/operation/detail"))
            .header(TokenHeader::NAME, phone.token_header(&server))
            .header("Accept-Language", language)
            .json(&json!({"requestObject": {"id": id}}))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let attribute = &body["responseObject"]["formData"]["attributes"][0];
        assert_eq!(attribute["amount"], 1710.9867, "{language}");
        assert_eq!(attribute["amountFormatted"], amount, "{language}");
        assert_eq!(attribute["currencyFormatted"], currency, "{language}");
        assert_eq!(attribute["valueFormatted"], value, "{language}");
    }
    // An amount that is not a number: no `amount`, its text where the formatted one goes.
    let request = json!({
        "applications": ["tokensim"], "templateName": "payment", "userId": "alice",
        "parameters": {"amount": "lots", "currency": "EUR", "iban": IBAN},
    });
    let lots = server.rest_ok("/rest/v3/operation/create", request).await["id"].clone();
    let listed = phone.list(&server).await;
    let lots = listed.iter().find(|o| o["id"] == lots).unwrap();
    let attribute = &lots["formData"]["attributes"][0];
    assert!(attribute.get("amount").is_none(), "{attribute}");
    assert_eq!(attribute["amountFormatted"], "lots");
    assert_eq!(attribute["currencyFormatted"], "€");
    assert_eq!(attribute["valueFormatted"], "lots EUR");
}

#[tokio::test]
async fn wrong_data_or_factor_fails_the_approval_until_the_operation_fails() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let created = create_payment(&server, Some("alice")).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let data = created["data"].as_str().unwrap().to_owned();

    // PowerAuth Server refuses the approval: 401 OPERATION_FAILED.
    let refused = (
        "OPERATION_FAILED".to_owned(),
        "PowerAuth server operation approval fails".to_owned(),
    );
    let (status, body) = phone
        .authorize(
            &server,
            &id,
            "A1*A999.00CZK*Iother",
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "changed data");
    assert_eq!(error_parts(&body), refused);
    let (status, body) = phone
        .authorize(&server, &id, &data, SignatureType::Possession)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "1FA on a 2FA operation");
    assert_eq!(error_parts(&body), refused);
    let header = phone.device.sign_wrong_pin("/operation/authorize", b"{}");
    let request = json!({"requestObject": {"id": id, "data": data}}).to_string();
    let (status, body) = crate::device::post_with_authorization(
        &server,
        "/api/auth/token/app/operation/authorize",
        &header,
        &request,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bad signature");
    assert_eq!(
        error_parts(&body),
        ("POWERAUTH_AUTH_FAIL".into(), "Authentication failed".into())
    );
    assert_eq!(rest_detail(&server, &id).await["failureCount"], 3);
    let (status, body) = phone
        .authorize(&server, &id, "wrong", SignatureType::PossessionKnowledge)
        .await;
    assert_eq!(
        (status, error_parts(&body)),
        (StatusCode::UNAUTHORIZED, refused)
    );
    // The fifth failure is the last the template allows: the operation has failed.
    let (status, body) = phone
        .authorize(&server, &id, "wrong", SignatureType::PossessionKnowledge)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        (
            "OPERATION_ALREADY_FAILED".into(),
            "Operation already failed".into()
        )
    );
    let detail = rest_detail(&server, &id).await;
    assert_eq!(detail["status"], "FAILED");
    assert_eq!(
        detail["additionalData"]["authFactor"],
        "possession_knowledge"
    );
    let (status, body) = phone
        .authorize(&server, &id, &data, SignatureType::PossessionKnowledge)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "OPERATION_ALREADY_FAILED");
}

#[tokio::test]
async fn the_user_rejects_with_a_reason() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let id = create_payment(&server, Some("alice")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancel = json!({"requestObject": {"id": id, "reason": "UNEXPECTED_OPERATION"}});
    let path = "/api/auth/token/app/operation/cancel";
    // Cancel takes a possession signature only: two factors are refused, nothing counted.
    let (status, body) = phone
        .signed_post(
            &server,
            path,
            "/operation/cancel",
            cancel.clone(),
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).0, "POWERAUTH_AUTH_FAIL");
    assert_eq!(rest_detail(&server, &id).await["status"], "PENDING");
    let (status, body) = phone
        .signed_post(
            &server,
            path,
            "/operation/cancel",
            cancel.clone(),
            SignatureType::Possession,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let detail = rest_detail(&server, &id).await;
    assert_eq!(detail["status"], "REJECTED");
    // The user's reason is the enrollment server's additionalData.rejectReason;
    // statusReason is the back end's.
    assert_eq!(detail["statusReason"], Value::Null);
    let extra = &detail["additionalData"];
    assert_eq!(extra["rejectReason"], "UNEXPECTED_OPERATION");
    assert_eq!(extra["activationId"], phone.device.activation_id.as_str());
    assert_eq!(extra["applicationId"], "tokensim");
    let (status, body) = phone
        .signed_post(
            &server,
            path,
            "/operation/cancel",
            cancel,
            SignatureType::Possession,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "OPERATION_ALREADY_FINISHED");
}

#[tokio::test]
async fn operations_expire() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let id = create_payment(&server, Some("alice")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.clock.advance(300_001);
    assert!(phone.list(&server).await.is_empty());
    let (status, body) = phone
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail",
            json!({"requestObject": {"id": id}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "OPERATION_EXPIRED");
    assert_eq!(rest_detail(&server, &id).await["status"], "EXPIRED");
}

#[tokio::test]
async fn a_user_less_login_is_claimed_then_approved() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login"}),
        )
        .await;
    assert_eq!(created["data"], "A2");
    assert_eq!(created["userId"], Value::Null);
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(phone.list(&server).await.is_empty(), "not the user's yet");
    let request = json!({"requestObject": {"id": id}});
    // Anyone may read an operation nobody has claimed (mtoken-sdk-android's testDetail).
    let (status, body) = phone
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail",
            request.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["responseObject"]["id"], id.as_str());
    assert_eq!(rest_detail(&server, &id).await["userId"], Value::Null);
    let (status, body) = phone
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail/claim",
            request.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["currentTimestamp"].is_string());
    assert_eq!(body["responseObject"]["formData"]["title"], "Log in");
    assert_eq!(rest_detail(&server, &id).await["userId"], "alice");
    // Now it is alice's: bob may neither read nor claim it.
    let bob = Phone::of(&server, "bob").await;
    let (status, body) = bob
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail",
            request.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        ("INVALID_REQUEST".into(), "Invalid request".into())
    );
    let (status, body) = bob
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail/claim",
            request,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        (
            "INVALID_OPERATION".into(),
            "No operation was found with the provided identifier.".into()
        )
    );
    let (status, _) = phone
        .authorize(&server, &id, "A2", SignatureType::PossessionBiometry)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn history_needs_two_factors_and_shows_every_state() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let first = create_payment(&server, Some("alice")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server.clock.advance(1_000);
    create_payment(&server, Some("alice")).await;
    server
        .rest_ok(
            "/rest/v3/operation/cancel",
            json!({"operationId": first, "statusReason": "BACKEND"}),
        )
        .await;
    let uri = "/operation/history";
    let path = "/api/auth/token/app/operation/history";
    let (status, body) = phone
        .signed_post(&server, path, uri, json!({}), SignatureType::Possession)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).0, "POWERAUTH_AUTH_FAIL");
    let (status, body) = phone
        .signed_post(
            &server,
            path,
            uri,
            json!({}),
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.get("currentTimestamp").is_none(),
        "a plain ObjectResponse"
    );
    let statuses: Vec<_> = body["responseObject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("PENDING"), json!("CANCELED")]);
}

#[tokio::test]
async fn push_registration_feeds_the_outbox() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let (status, body) = phone
        .token_post(
            &server,
            "/api/push/device/register/token",
            json!({"requestObject": {"platform": "fcm", "token": "push-token-1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = phone
        .token_post(
            &server,
            "/api/push/device/register",
            json!({"requestObject": {"platform": "telegraph", "token": "x"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let id = create_payment(&server, Some("alice")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let outbox = server
        .sandbox
        .state()
        .store
        .push_messages(Some("alice"))
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].activation_id.as_deref(),
        Some(phone.device.activation_id.as_str())
    );
    assert_eq!(outbox[0].body["operationId"], id.as_str());
}

#[tokio::test]
async fn mobile_api_refuses_bad_input() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let response = server
        .client
        .post(server.url("/api/auth/token/app/operation/list"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_parts(&body),
        ("POWERAUTH_AUTH_FAIL".into(), "Authentication failed".into())
    );
    let response = server
        .client
        .post(server.url("/api/auth/token/app/operation/list"))
        .header(TokenHeader::NAME, "PowerAuth token_id=\"nope\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    for body in [
        json!({}),
        json!({"requestObject": {}}),
        json!({"requestObject": {"id": 5}}),
    ] {
        let (status, response) = phone
            .token_post(
                &server,
                "/api/auth/token/app/operation/detail",
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {response}");
    }
    let (status, body) = phone
        .token_post(
            &server,
            "/api/auth/token/app/operation/detail",
            json!({"requestObject": {"id": "00000000-0000-4000-8000-000000000000"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "INVALID_OPERATION");
    // Approving without a request object or an id is an authentication failure.
    for body in [json!({}), json!({"requestObject": {"data": "A2"}})] {
        let response = server
            .client
            .post(server.url("/api/auth/token/app/operation/authorize"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let (status, response) = read(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(error_parts(&response).0, "POWERAUTH_AUTH_FAIL");
    }
}

#[tokio::test]
async fn rest_operation_endpoints_refuse_bad_input() {
    let server = TestServer::start().await;
    let unknown = "00000000-0000-4000-8000-000000000000";
    let cases = [
        (
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "nope"}),
            "ERR0033",
        ),
        (
            "/rest/v3/operation/create",
            json!({"applications": ["nope"], "templateName": "login"}),
            "ERR0015",
        ),
        (
            "/rest/v3/operation/create",
            json!({"applications": [], "templateName": "login"}),
            "ERR0024",
        ),
        (
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "payment", "parameters": {"amount": "1"}}),
            "ERR0024",
        ),
        (
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "payment",
                   "parameters": {"amount": "1", "currency": "EUR", "iban": "a\nb"}}),
            "ERR0024",
        ),
        (
            "/rest/v3/operation/detail",
            json!({"operationId": unknown}),
            "ERR0034",
        ),
        (
            "/rest/v3/operation/cancel",
            json!({"operationId": unknown}),
            "ERR0034",
        ),
        (
            "/rest/v3/operation/approve/fail",
            json!({"operationId": unknown}),
            "ERR0034",
        ),
        (
            "/rest/v3/operation/approve",
            json!({"operationId": unknown}),
            "ERR0024",
        ),
        ("/rest/v3/operation/list", json!({}), "ERR0024"),
    ];
    for (path, request, code) in cases {
        let (status, body) = server.rest(path, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {request}: {body}");
        assert_eq!(error_parts(&body).0, code, "{path} {request}: {body}");
    }
    let id = create_payment(&server, Some("alice")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .rest_ok("/rest/v3/operation/cancel", json!({"operationId": id}))
        .await;
    let (status, body) = server
        .rest("/rest/v3/operation/cancel", json!({"operationId": id}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a canceled operation stays canceled: {body}"
    );
}

#[tokio::test]
async fn rest_approve_and_reject_follow_powerauth_server() {
    let server = TestServer::start().await;
    let created = create_payment(&server, Some("alice")).await;
    let id = created["id"].as_str().unwrap();
    let data = created["data"].as_str().unwrap();
    let approve = |data: &str, user: &str| {
        json!({"operationId": id, "userId": user, "applicationId": "tokensim", "data": data,
               "signatureType": "POSSESSION_KNOWLEDGE"})
    };
    let outcome = server
        .rest_ok("/rest/v3/operation/approve", approve("A2", "alice"))
        .await;
    assert_eq!(outcome["result"], "APPROVAL_FAILED");
    assert_eq!(outcome["operation"]["failureCount"], 1);
    let outcome = server
        .rest_ok("/rest/v3/operation/approve", approve(data, "mallory"))
        .await;
    assert_eq!(outcome["result"], "APPROVAL_FAILED");
    let outcome = server
        .rest_ok("/rest/v3/operation/approve", approve(data, "alice"))
        .await;
    assert_eq!(outcome["result"], "APPROVED");
    assert_eq!(outcome["operation"]["status"], "APPROVED");

    let other = create_payment(&server, Some("alice")).await;
    let other = other["id"].as_str().unwrap();
    let outcome = server
        .rest_ok(
            "/rest/v3/operation/reject",
            json!({"operationId": other, "userId": "mallory", "applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(outcome["result"], "REJECT_FAILED");
    let outcome = server
        .rest_ok(
            "/rest/v3/operation/reject",
            json!({"operationId": other, "userId": "alice", "applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(outcome["result"], "REJECTED");
    let list = server
        .rest_ok("/rest/v3/operation/list", json!({"userId": "alice"}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let pending = server
        .rest_ok(
            "/rest/v3/operation/list/pending",
            json!({"userId": "alice"}),
        )
        .await;
    assert!(pending.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_proximity_check_needs_the_current_otp() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice",
                   "proximityCheckEnabled": true}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let otp = created["proximityOtp"].as_str().unwrap().to_owned();
    assert_eq!(otp.len(), 8);
    let listed = phone.list(&server).await;
    assert_eq!(listed[0]["ui"]["preApprovalScreen"]["type"], "QR_SCAN");

    let authorize = |otp: Option<&str>| {
        let mut request = json!({"id": id, "data": "A2"});
        if let Some(otp) = otp {
            request["proximityCheck"] = json!({"otp": otp, "type": "QR_CODE"});
        }
        json!({"requestObject": request})
    };
    let uri = "/operation/authorize";
    let path = "/api/auth/token/app/operation/authorize";
    let (status, _) = phone
        .signed_post(
            &server,
            path,
            uri,
            authorize(None),
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no OTP");
    // Two steps later the OTP read earlier is stale.
    server.clock.advance(61_000);
    let (status, _) = phone
        .signed_post(
            &server,
            path,
            uri,
            authorize(Some(&otp)),
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "stale OTP");
    let fresh = rest_detail(&server, &id).await["proximityOtp"]
        .as_str()
        .unwrap()
        .to_owned();
    server.clock.advance(30_000);
    let (status, body) = phone
        .signed_post(
            &server,
            path,
            uri,
            authorize(Some(&fresh)),
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "one step back is accepted: {body}");
    assert_eq!(rest_detail(&server, &id).await["status"], "APPROVED");
}

#[tokio::test]
async fn activation_flags_gate_approval() {
    let server = TestServer::start().await;
    let mut phone = Phone::new(&server).await;
    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice",
                   "activationFlag": "LOGIN_ENABLED"}),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, body) = phone
        .authorize(&server, &id, "A2", SignatureType::PossessionKnowledge)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "OPERATION_REQUIRES_ACTIVATION_FLAG");
    assert_eq!(rest_detail(&server, &id).await["status"], "PENDING");
}

#[tokio::test]
async fn an_activation_under_verification_cannot_approve() {
    let server = TestServer::start().await;
    let app = crate::device::AppConfig::default_of(&server).await;
    let (activation_id, code, _) =
        crate::device::init(&server, "alice", json!({"flags": ["VERIFICATION_PENDING"]})).await;
    let request =
        crate::device::activation_request(&server, &app, ProtocolVersion::V3_3, &code, None).await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut device = request.finish(&app, ProtocolVersion::V3_3, &body);
    server
        .rest_ok(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id}),
        )
        .await;
    let detail = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": activation_id}),
        )
        .await;
    assert_eq!(detail["activationFlags"], json!(["VERIFICATION_PENDING"]));
    let created = create_payment(&server, Some("alice")).await;
    let id = created["id"].as_str().unwrap();
    let body = json!({"requestObject": {"id": id, "data": created["data"]}}).to_string();
    let (status, body) = device
        .post_signed(
            &server,
            "/api/auth/token/app/operation/authorize",
            "/operation/authorize",
            &body,
            SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).0, "POWERAUTH_AUTH_FAIL");
    assert_eq!(rest_detail(&server, id).await["status"], "PENDING");
    assert_eq!(rest_detail(&server, id).await["failureCount"], 0);
}
