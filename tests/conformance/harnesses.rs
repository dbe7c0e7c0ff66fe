//! The Cloud API calls of Wultra's own SDK integration harnesses, with their payloads and
//! the fields they decode: mtoken-sdk-android `IntegrationUtils.kt` (AND), the Flutter
//! PowerAuth SDK's `integration_helper.dart` (FLT), the React Native harness (RN), and the
//! iOS / networking-android proxies (IOS, NET: `GET /admin/applications/{id}`).

use crate::harness::{Api, Checks, Kind, PIN, Server, activate_device};
use serde_json::{Value, json};
use tokensim_device::{ActiveDevice, Client, Factors, Session};

/// The integration user and the application of the checks, made through the admin API.
async fn integration(server: &Server, c: &mut Checks, app: &str) -> (Api, Value) {
    let admin = server.admin();
    let user = admin
        .call(
            "POST",
            "/admin/users",
            Some(&json!({"username": format!("{app}-user")}).to_string()),
        )
        .await;
    c.status("POST /admin/users", &user, 200);
    let created = admin
        .call(
            "POST",
            "/admin/applications",
            Some(&json!({"id": app}).to_string()),
        )
        .await;
    c.status("POST /admin/applications", &created, 200);
    // WD-DEP and SC assign with an empty body and no content type.
    let assigned = admin
        .send(
            "POST",
            &format!("/admin/users/{app}-user/applications/{app}"),
            Some(""),
            None,
        )
        .await;
    c.status(
        "POST /admin/users/{user}/applications/{app} (empty body)",
        &assigned,
        200,
    );
    // RN (2025), IOS (2026) and NET read the application before activating.
    let row = "GET /admin/applications/{id}";
    let detail = admin
        .call("GET", &format!("/admin/applications/{app}"), None)
        .await;
    c.ok(
        row,
        &detail,
        &[
            ("id", Kind::Str),
            ("serviceBaseUrl", Kind::Str),
            ("appKey", Kind::Str),
            ("appSecret", Kind::Str),
            ("mobileSdkConfig", Kind::Str),
            ("masterServerPublicKey", Kind::Str),
        ],
    );
    c.equal(
        row,
        &detail.body,
        "mobileSdkConfig",
        created.body["mobileSdkConfig"].clone(),
    );
    let password = user.body["password"].as_str().unwrap_or_default();
    (server.cloud(&format!("{app}-user"), password), detail.body)
}

/// A registration made with `body`, and the device activated from its QR code data.
async fn registered_device(
    c: &mut Checks,
    int: &Api,
    app: &Value,
    body: &Value,
) -> Option<(String, Client, ActiveDevice)> {
    let row = "POST /v2/registrations (harness body)";
    let created = int
        .call("POST", "/v2/registrations", Some(&body.to_string()))
        .await;
    c.ok(
        row,
        &created,
        &[
            ("activationQrCodeData", Kind::Str),
            ("activationCode", Kind::Str),
            ("activationCodeSignature", Kind::Str),
            ("registrationId", Kind::Str),
        ],
    );
    let activated = activate_device(
        app["serviceBaseUrl"].as_str().unwrap_or_default(),
        app["mobileSdkConfig"].as_str().unwrap_or_default(),
        created.body["activationQrCodeData"]
            .as_str()
            .unwrap_or_default(),
    )
    .await;
    c.check(
        "the device activates",
        activated.is_ok(),
        format!("{:?}", activated.as_ref().err()),
    );
    let (client, device) = activated.ok()?;
    Some((created.text_of("registrationId"), client, device))
}

/// mtoken-sdk-android: registration with `flags: []`, commit with `externalUserId`,
/// login operation with dotted parameters, offline QR and OTP, cancel with a
/// `statusReason` query, a non-personalized operation with a proximity OTP, silent inbox
/// messages, and a body-less DELETE of the registration.
#[tokio::test]
async fn android_mtoken_harness() {
    let server = Server::start().await;
    let mut c = Checks::new("mtoken-sdk-android", &server);
    let (int, app) = integration(&server, &mut c, "and-app").await;
    // The harness's environment has a `login_preApproval` template; made here through
    // PowerAuth Server's template API, as an operator configures one.
    let template = server
        .http
        .post(format!(
            "{}/rest/v3/operation/template/create",
            server.sandbox.url()
        ))
        .json(&json!({"requestObject": {
            "templateName": "login_preApproval",
            "operationType": "login_preApproval",
            "dataTemplate": "A2",
            "signatureType": ["POSSESSION_KNOWLEDGE", "POSSESSION_BIOMETRY"],
            "maxFailureCount": 5,
            "expiration": 300,
            "proximityCheckEnabled": false,
            "ui": {"preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan the code",
                                         "message": "Scan the QR code on the other screen."}},
        }}))
        .send()
        .await
        .map(|r| r.status().as_u16());
    c.check(
        "the login_preApproval template is configured",
        matches!(template, Ok(200)),
        format!("{template:?}"),
    );
    let user = "and-user-1";
    let Some((registration_id, client, mut device)) = registered_device(
        &mut c,
        &int,
        &app,
        &json!({"userId": user, "flags": [], "appId": "and-app"}),
    )
    .await
    else {
        return c.finish();
    };
    let row = "AND commit";
    let commit = int
        .call(
            "POST",
            &format!("/v2/registrations/{registration_id}/commit"),
            Some("{\n  \"externalUserId\": \"test\"\n}"),
        )
        .await;
    c.ok(row, &commit, &[("status", Kind::Str)]);

    let login = r#"{
  "userId": "and-user-1",
  "template": "login",
   "parameters": {
     "party.id": "666",
     "party.name": "Datová schránka",
         "session.id": "123",
         "session.ip-address": "192.168.0.1"
   }
}"#;
    let operation_fields = [
        ("operationId", Kind::Str),
        ("userId", Kind::Str),
        ("status", Kind::Str),
        ("operationType", Kind::Str),
        ("failureCount", Kind::Int),
        ("maxFailureCount", Kind::Int),
        ("timestampCreated", Kind::Int),
        ("timestampExpires", Kind::Int),
    ];
    let row = "AND createOperation";
    let created = int.call("POST", "/v2/operations", Some(login)).await;
    c.ok(row, &created, &operation_fields);
    let operation_id = created.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();

    // Offline: the QR code the back end shows, the OTP the device computes from it.
    let row = "AND getQROperation";
    let qr = int
        .call(
            "GET",
            &format!("/v2/operations/{operation_id}/offline/qr?registrationId={registration_id}"),
            None,
        )
        .await;
    c.ok(
        row,
        &qr,
        &[("operationQrCodeData", Kind::Str), ("nonce", Kind::Str)],
    );
    let mut persist = |_: &ActiveDevice| Ok(());
    let mut session = Session::new(&client, &mut device, &mut persist);
    let code = session.sign_offline(
        qr.body["operationQrCodeData"].as_str().unwrap_or_default(),
        &Factors::pin(PIN),
    );
    c.check(
        "the device verifies the offline QR code and signs it",
        code.is_ok(),
        format!("{:?}", code.as_ref().err()),
    );
    let otp = code.map(|code| code.signature).unwrap_or_default();
    let row = "AND verifyQROperation";
    let verified = int
        .call(
            "POST",
            &format!("/v2/operations/{operation_id}/offline/otp"),
            Some(&format!(
                "{{\n  \"otp\": \"{otp}\",\n  \"nonce\": \"{}\",\n  \"registrationId\": \"{registration_id}\"\n}}",
                qr.body["nonce"].as_str().unwrap_or_default()
            )),
        )
        .await;
    c.ok(
        row,
        &verified,
        &[
            ("otpValid", Kind::Bool),
            ("userId", Kind::Str),
            ("registrationId", Kind::Str),
            ("registrationStatus", Kind::Str),
            ("signatureType", Kind::Str),
            ("remainingAttempts", Kind::Int),
        ],
    );
    c.equal(row, &verified.body, "otpValid", true);
    c.equal(row, &verified.body, "registrationStatus", "ACTIVE");

    // Cancel with a reason in the query and an empty body.
    let second = int.call("POST", "/v2/operations", Some(login)).await;
    let second_id = second.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let row = "AND cancelOperation";
    let canceled = int
        .call(
            "DELETE",
            &format!("/v2/operations/{second_id}?statusReason=PREARRANGED_REASON"),
            Some(""),
        )
        .await;
    c.ok(row, &canceled, &[("status", Kind::Str)]);
    c.equal(row, &canceled.body, "status", "OK");
    let detail = int
        .call("GET", &format!("/v2/operations/{second_id}"), None)
        .await;
    c.equal(row, &detail.body, "status", "CANCELED");
    c.equal(row, &detail.body, "statusReason", "PREARRANGED_REASON");

    // Non-personalized operation with a proximity check: GET shows its TOTP.
    let row = "AND createNonPersonalizedPACOperation";
    let created = int
        .call(
            "POST",
            "/v2/operations",
            Some(
                r#"{
  "template": "login_preApproval",
  "proximityCheckEnabled": true,
   "parameters": {
     "party.id": "666",
     "party.name": "Datová schránka",
         "session.id": "123",
         "session.ip-address": "192.168.0.1"
   }
}"#,
            ),
        )
        .await;
    c.ok(
        row,
        &created,
        &[
            ("operationId", Kind::Str),
            ("status", Kind::Str),
            ("operationType", Kind::Str),
            ("failureCount", Kind::Int),
            ("maxFailureCount", Kind::Int),
            ("timestampCreated", Kind::Int),
            ("timestampExpires", Kind::Int),
        ],
    );
    let id = created.body["operationId"].as_str().unwrap_or("none");
    let row = "AND getOperation (proximity)";
    let detail = int.call("GET", &format!("/v2/operations/{id}"), None).await;
    c.ok(
        row,
        &detail,
        &[("proximityOtp", Kind::Str), ("status", Kind::Str)],
    );
    let otp = detail.body["proximityOtp"].as_str().unwrap_or_default();
    android_device_side(&mut c, &mut session, id, otp.to_owned()).await;

    // Inbox messages, silent.
    for (i, kind) in [(1, "text"), (2, "html")] {
        let row = format!("AND createInboxMessages #{i}");
        let message = int
            .call(
                "POST",
                "/v2/inbox/messages",
                Some(&format!(
                    "{{\n    \"userId\":\"{user}\",\n    \"subject\":\"Message #{i}\",\n    \"summary\":\"This is body for message {i}\",\n    \"body\":\"This is body for message {i}\",\n    \"type\":\"{kind}\",\n    \"silent\":true\n}}"
                )),
            )
            .await;
        c.ok(
            &row,
            &message,
            &[
                ("id", Kind::Str),
                ("subject", Kind::Str),
                ("summary", Kind::Str),
                ("body", Kind::Str),
                ("read", Kind::Bool),
                ("type", Kind::Str),
                ("timestamp", Kind::Int),
            ],
        );
    }

    // removeRegistration: DELETE with no body at all.
    let row = "AND removeRegistration";
    let removed = int
        .send(
            "DELETE",
            &format!("/v2/registrations/{registration_id}"),
            None,
            None,
        )
        .await;
    c.ok(row, &removed, &[("status", Kind::Str)]);
    let detail = int
        .call("GET", &format!("/v2/registrations/{registration_id}"), None)
        .await;
    c.equal(row, &detail.body, "registrationStatus", "REMOVED");
    c.finish();
}

/// The device's side of mtoken-sdk-android's `testDetail` and `testClaim`: any device reads
/// an operation nobody has claimed, the claim shows the template's QR_SCAN screen, a wrong
/// password is refused and the right one with the proximity OTP approves; then
/// `testOperationCanceledWithReason`: the history shows the back end's statusReason.
async fn android_device_side(c: &mut Checks, session: &mut Session<'_>, id: &str, otp: String) {
    let detail = session.operation_detail(id).await;
    c.check(
        "AND testDetail: the device reads the unclaimed operation",
        detail.as_ref().is_ok_and(|o| o.id == id),
        format!("{:?}", detail.as_ref().err()),
    );
    let Ok(operation) = session.claim_operation(id).await else {
        c.check(
            "AND testClaim: the device claims the operation",
            false,
            "refused",
        );
        return;
    };
    let screen = operation
        .ui
        .as_ref()
        .map(|ui| ui["preApprovalScreen"]["type"].clone());
    c.check(
        "AND testClaim: the claimed operation shows the QR_SCAN screen",
        screen == Some(json!("QR_SCAN")),
        format!("{screen:?}"),
    );
    let proximity = tokensim_device::operations::ProximityCheck {
        otp,
        kind: "QR_CODE".to_owned(),
        timestamp_received: "2024-01-01T00:00:00Z".to_owned(),
        timestamp_sent: "2024-01-01T00:00:01Z".to_owned(),
    };
    let wrong = session
        .approve_operation(&operation, &Factors::pin("xxxx"), Some(&proximity))
        .await;
    c.check(
        "AND testClaim: a wrong password is refused with 401 POWERAUTH_AUTH_FAIL",
        matches!(&wrong, Err(tokensim_device::Error::Server { status: 401, code, .. }) if code == "POWERAUTH_AUTH_FAIL"),
        format!("{wrong:?}"),
    );
    let approved = session
        .approve_operation(&operation, &Factors::pin(PIN), Some(&proximity))
        .await;
    c.check(
        "AND testClaim: the right password with the proximity OTP approves",
        approved.is_ok(),
        format!("{approved:?}"),
    );
    let history = session.operation_history(&Factors::pin(PIN)).await;
    let reason = history.as_ref().ok().and_then(|ops| {
        ops.iter()
            .find(|o| o.status.as_deref() == Some("CANCELED"))
            .and_then(|o| o.extra.get("statusReason").cloned())
    });
    c.check(
        "AND testOperationCanceledWithReason: the history shows the statusReason",
        reason == Some(json!("PREARRANGED_REASON")),
        format!("{reason:?} {:?}", history.as_ref().err()),
    );
}

/// The Flutter PowerAuth SDK harness: auto-commit (`commitPhase`), commit after it (an
/// error, still JSON), fingerprint before commit, PUT changes seen by the device, DELETE of
/// an ACTIVE registration, online signatures and tokens verified by the back end.
#[tokio::test]
async fn flutter_powerauth_harness() {
    let server = Server::start().await;
    let mut c = Checks::new("flutter-powerauth-mobile-sdk", &server);
    let (int, app) = integration(&server, &mut c, "flt-app").await;

    // autoCommit = true: ACTIVE right after the key exchange; a commit then is refused.
    let Some((auto_id, _, _)) = registered_device(
        &mut c,
        &int,
        &app,
        &json!({"userId": "flt-auto", "flags": [], "appId": "flt-app", "commitPhase": "ON_KEY_EXCHANGE"}),
    )
    .await
    else {
        return c.finish();
    };
    let detail = int
        .call("GET", &format!("/v2/registrations/{auto_id}"), None)
        .await;
    c.equal(
        "FLT autoCommit detail",
        &detail.body,
        "registrationStatus",
        "ACTIVE",
    );
    let commit = int
        .call(
            "POST",
            &format!("/v2/registrations/{auto_id}/commit"),
            Some("{}"),
        )
        .await;
    c.error(
        "FLT commitActivation after autoCommit",
        &commit,
        400,
        "ERROR_REGISTRATION_CHANGE",
    );

    // autoCommit = false: the fingerprint is shown while PENDING_COMMIT, gone once ACTIVE.
    let Some((id, client, mut device)) = registered_device(
        &mut c,
        &int,
        &app,
        &json!({"userId": "flt-user", "flags": [], "appId": "flt-app", "commitPhase": "ON_COMMIT"}),
    )
    .await
    else {
        return c.finish();
    };
    let row = "FLT getRegistrationDetail (PENDING_COMMIT)";
    let detail = int
        .call("GET", &format!("/v2/registrations/{id}"), None)
        .await;
    c.ok(
        row,
        &detail,
        &[
            ("registrationId", Kind::Str),
            ("registrationStatus", Kind::Str),
            ("applicationId", Kind::Str),
            ("userId", Kind::Str),
            ("flags", Kind::Strings),
            ("timestampCreated", Kind::Int),
            ("timestampLastUsed", Kind::Int),
            ("activationFingerprint", Kind::Str),
        ],
    );
    c.equal(
        row,
        &detail.body,
        "activationFingerprint",
        device.fingerprint.as_str(),
    );
    let commit = int
        .call(
            "POST",
            &format!("/v2/registrations/{id}/commit"),
            Some(r#"{ "externalUserId": "test" }"#),
        )
        .await;
    c.ok(
        "FLT prepareActiveActivation commit",
        &commit,
        &[("status", Kind::Str)],
    );
    let detail = int
        .call("GET", &format!("/v2/registrations/{id}"), None)
        .await;
    c.fields(
        "FLT detail (ACTIVE)",
        &detail.body,
        &[("activationFingerprint", Kind::Null)],
    );
    c.equal("FLT detail (ACTIVE)", &detail.body, "userId", "flt-user");

    let mut persist = |_: &ActiveDevice| Ok(());
    let mut session = Session::new(&client, &mut device, &mut persist);
    for (change, device_state) in [("BLOCK", "BLOCKED"), ("UNBLOCK", "ACTIVE")] {
        let row = format!("FLT changeActivation {change}");
        let answer = int
            .call(
                "PUT",
                &format!("/v2/registrations/{id}"),
                Some(&format!("{{\"change\":\"{change}\"}}")),
            )
            .await;
        c.ok(&row, &answer, &[("status", Kind::Str)]);
        let status = session
            .status()
            .await
            .map(|report| report.snapshot.state)
            .map_err(|e| e.to_string());
        c.check(
            format!("{row}: the device reads {device_state}"),
            status.as_deref() == Ok(device_state),
            format!("{status:?}"),
        );
    }

    // verifySignature: POST with a JSON body, valid, then replayed.
    let header = session
        .sign(&Factors::pin(PIN), "POST", "/some/uriId", b"{}")
        .unwrap_or_default();
    let payload = format!(
        "{{\n  \"method\": \"POST\",\n  \"uriId\": \"/some/uriId\",\n  \"authHeader\": \"{}\",\n  \"requestBody\": \"e30=\"\n}}",
        header.replace('"', "\\\"")
    );
    let row = "FLT verifySignature";
    let verified = int
        .call("POST", "/v2/signature/verify", Some(&payload))
        .await;
    c.ok(
        row,
        &verified,
        &[
            ("signatureValid", Kind::Bool),
            ("userId", Kind::Str),
            ("registrationId", Kind::Str),
            ("registrationStatus", Kind::Str),
            ("signatureType", Kind::Str),
            ("remainingAttempts", Kind::Int),
        ],
    );
    c.equal(row, &verified.body, "signatureValid", true);
    c.equal(row, &verified.body, "registrationId", id.as_str());

    // verifyToken: tokens made with possession, and with possession + knowledge.
    for (name, factors, expected) in [
        ("possession", Factors::possession(), "POSSESSION"),
        ("knowledge", Factors::pin(PIN), "POSSESSION_KNOWLEDGE"),
    ] {
        let row = format!("FLT verifyToken ({name})");
        let made = session.create_token(name, &factors).await;
        c.check(
            format!("{row}: the device gets a token"),
            made.is_ok(),
            format!("{made:?}"),
        );
        let header = session
            .device
            .token_header(name, &client)
            .unwrap_or_default();
        let payload = format!(
            "{{\n  \"authHeader\": \"{}\"\n}}",
            header.replace('"', "\\\"")
        );
        let verified = int.call("POST", "/v2/token/verify", Some(&payload)).await;
        c.ok(
            &row,
            &verified,
            &[
                ("tokenValid", Kind::Bool),
                ("userId", Kind::Str),
                ("registrationId", Kind::Str),
                ("registrationStatus", Kind::Str),
                ("signatureType", Kind::Str),
            ],
        );
        c.equal(&row, &verified.body, "tokenValid", true);
        c.equal(&row, &verified.body, "registrationId", id.as_str());
        c.equal(&row, &verified.body, "signatureType", expected);
    }

    // removeRegistration of an ACTIVE registration: DELETE, JSON content type, no body.
    let row = "FLT removeRegistration (ACTIVE)";
    let removed = int
        .call("DELETE", &format!("/v2/registrations/{id}"), None)
        .await;
    c.ok(row, &removed, &[("status", Kind::Str)]);
    let status = session
        .status()
        .await
        .map(|report| report.snapshot.state)
        .map_err(|e| e.to_string());
    c.check(
        format!("{row}: the device reads REMOVED"),
        status.as_deref() == Ok("REMOVED"),
        format!("{status:?}"),
    );
    c.finish();
}

/// The React Native harness: a signed GET verified with `queryParams` and a null
/// `requestBody`.
#[tokio::test]
async fn react_native_harness() {
    let server = Server::start().await;
    let mut c = Checks::new("react-native-powerauth-mobile-sdk", &server);
    let (int, app) = integration(&server, &mut c, "rn-app").await;
    let Some((id, client, mut device)) = registered_device(
        &mut c,
        &int,
        &app,
        &json!({"userId": "rn-user", "appId": "rn-app", "commitPhase": "ON_KEY_EXCHANGE"}),
    )
    .await
    else {
        return c.finish();
    };
    let mut persist = |_: &ActiveDevice| Ok(());
    let mut session = Session::new(&client, &mut device, &mut persist);
    let query = powerauth::signature::canonicalize_query("b=2&a=1").unwrap_or_default();
    let header = session
        .sign(
            &Factors::pin(PIN),
            "GET",
            "/some/resource",
            query.as_bytes(),
        )
        .unwrap_or_default();
    let row = "RN verifySignature (GET, queryParams)";
    let body = json!({
        "method": "GET",
        "uriId": "/some/resource",
        "authHeader": header,
        "requestBody": null,
        "queryParams": {"b": "2", "a": "1"},
    });
    let verified = int
        .call("POST", "/v2/signature/verify", Some(&body.to_string()))
        .await;
    c.ok(
        row,
        &verified,
        &[
            ("signatureValid", Kind::Bool),
            ("registrationId", Kind::Str),
        ],
    );
    c.equal(row, &verified.body, "signatureValid", true);
    c.equal(row, &verified.body, "registrationId", id.as_str());
    c.finish();
}
