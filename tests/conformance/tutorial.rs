//! Wultra's onboarding tutorial ("Mobile Token SDK and PowerAuth Cloud Onboarding"),
//! replayed call by call in its order with its literal payloads (`<client-name>` = `acme`,
//! `{userId}` = `alice`), the rows of the reference's final table. A real device activates
//! between registration create and commit, approves the login operation, and signs the
//! data whose signature the back end verifies.

use crate::harness::{Checks, Kind, PIN, Server, activate_device};
use serde_json::{Value, json};
use tokensim_device::{Factors, Session};

const USER: &str = "alice";
const EMPLOYEE: &str = "employee-7";

/// The tutorial's sample header: a made-up activation id, so it must verify as invalid.
const TUTORIAL_AUTH_HEADER: &str = r#"PowerAuth pa_activation_id=\"a4452997-45c0-4667-bb24-c7d39337b9c0\", pa_application_key=\"GlxZ1Qe70pGAG/ek0BvNXw==\", pa_nonce=\"2I9gzcP5uJtX3RUr9Qp5Bg==\", pa_signature_type=\"possession_knowledge\", pa_signature=\"LLUZvtWpXwXWZlPzwRFG7PBFQdQkp5h/K/dxWiUi2A8=\", pa_version=\"3.1\""#;

const REGISTRATION_FIELDS: [(&str, Kind); 6] = [
    ("registrationId", Kind::Str),
    ("registrationStatus", Kind::Str),
    ("applicationId", Kind::Str),
    ("flags", Kind::Strings),
    ("timestampCreated", Kind::Int),
    ("timestampLastUsed", Kind::Int),
];

const OPERATION_FIELDS: [(&str, Kind); 10] = [
    ("operationId", Kind::Str),
    ("userId", Kind::Str),
    ("status", Kind::Str),
    ("operationType", Kind::Str),
    ("template", Kind::Str),
    ("parameters", Kind::Object),
    ("failureCount", Kind::Int),
    ("maxFailureCount", Kind::Int),
    ("timestampCreated", Kind::Int),
    ("timestampExpires", Kind::Int),
];

#[tokio::test]
async fn the_onboarding_tutorial_replays_call_by_call() {
    let server = Server::start().await;
    let mut c = Checks::new("tutorial", &server);
    let admin = server.admin();

    // 1. Creating Integration Users.
    let row = "1 POST /admin/users";
    let user = admin
        .call(
            "POST",
            "/admin/users",
            Some(
                r#"{
"username": "acme-integration-user"
}"#,
            ),
        )
        .await;
    c.ok(
        row,
        &user,
        &[
            ("username", Kind::Str),
            ("password", Kind::Str),
            ("enabled", Kind::Bool),
            ("role", Kind::Strings),
            ("applications", Kind::Strings),
        ],
    );
    c.equal(row, &user.body, "username", "acme-integration-user");
    c.equal(row, &user.body, "enabled", true);
    c.equal(row, &user.body, "role", json!(["ROLE_USER"]));
    c.equal(row, &user.body, "applications", json!([]));
    let password = user.body["password"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    c.check(
        format!("{row}: the generated password is strong"),
        password.len() >= 16 && password.chars().all(|ch| ch.is_ascii_alphanumeric()),
        format!("{} characters", password.len()),
    );
    let int = server.cloud("acme-integration-user", &password);

    // 2. Creating Application.
    let row = "2 POST /admin/applications";
    let app = admin
        .call(
            "POST",
            "/admin/applications",
            Some(
                r#"{
"id": "acme-mobile-banking"
}"#,
            ),
        )
        .await;
    c.ok(
        row,
        &app,
        &[
            ("id", Kind::Str),
            ("serviceBaseUrl", Kind::Str),
            ("appKey", Kind::Str),
            ("appSecret", Kind::Str),
            ("masterServerPublicKey", Kind::Str),
            ("mobileSdkConfig", Kind::Str),
            ("roles", Kind::Strings),
        ],
    );
    c.equal(row, &app.body, "id", "acme-mobile-banking");
    let master = powerauth::encoding::b64_decode(
        app.body["masterServerPublicKey"]
            .as_str()
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    c.check(
        format!("{row}: masterServerPublicKey is a raw 65-byte P-256 point"),
        master.len() == 65 && master[0] == 4,
        format!("{} bytes", master.len()),
    );
    let config = powerauth::config::ApplicationConfig::from_mobile_sdk_config(
        app.body["mobileSdkConfig"].as_str().unwrap_or_default(),
    );
    c.check(
        format!("{row}: mobileSdkConfig holds the same appKey and appSecret"),
        config.as_ref().is_ok_and(|config| {
            app.body["appKey"] == config.application_key.to_b64()
                && app.body["appSecret"] == config.application_secret.expose_b64().to_string()
        }),
        format!("{:?}", config.as_ref().err()),
    );

    // 2b. Assigning the integration user to the application (the tutorial's body).
    let row = "3 POST /admin/users/{user}/applications/{app}";
    let assigned = admin
        .call(
            "POST",
            "/admin/users/acme-integration-user/applications/acme-mobile-banking",
            Some(
                r#"{
"username": "acme-integration-user",
"appId": "acme-mobile-banking"
}"#,
            ),
        )
        .await;
    c.ok(
        row,
        &assigned,
        &[
            ("username", Kind::Str),
            ("enabled", Kind::Bool),
            ("role", Kind::Strings),
            ("applications", Kind::Strings),
        ],
    );
    c.equal(
        row,
        &assigned.body,
        "applications",
        json!(["acme-mobile-banking"]),
    );
    c.fields(row, &assigned.body, &[("password", Kind::Null)]);

    // 4. Creating Activation Code.
    let row = "4 POST /v2/registrations";
    let create_body = r#"{
"userId": "alice",
"appId": "acme-mobile-banking"
}"#;
    let first = int
        .call("POST", "/v2/registrations", Some(create_body))
        .await;
    check_created_registration(&mut c, row, &first);
    let first_id = first.body["registrationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();

    // 5. Checking Activation Status, with the trailing slash the tutorial writes.
    let row = "5 GET /v2/registrations/?userId=";
    let list = int
        .call("GET", "/v2/registrations/?userId=alice", None)
        .await;
    c.ok(row, &list, &[("registrations", Kind::Array)]);
    let listed = list.body["registrations"][0].clone();
    c.fields(row, &listed, &REGISTRATION_FIELDS);
    c.equal(row, &listed, "registrationId", first_id.as_str());
    c.equal(row, &listed, "registrationStatus", "CREATED");
    c.equal(row, &listed, "applicationId", "acme-mobile-banking");
    let row = "5 GET /v2/registrations?userId= (no slash)";
    let list = int
        .call("GET", "/v2/registrations?userId=alice", None)
        .await;
    c.ok(row, &list, &[("registrations", Kind::Array)]);

    // 6. Removing Activation (a CREATED one), with the tutorial's body.
    let row = "6 DELETE /v2/registrations/{id}";
    let removed = int
        .call(
            "DELETE",
            &format!("/v2/registrations/{first_id}"),
            Some(
                r#"{
"registrationId": "alice",
"externalUserId": "employee-7"
}"#,
            ),
        )
        .await;
    c.ok(row, &removed, &[("status", Kind::Str)]);
    c.equal(row, &removed.body, "status", "OK");
    let detail = int
        .call("GET", &format!("/v2/registrations/{first_id}"), None)
        .await;
    c.ok(
        "6 then GET /v2/registrations/{id}",
        &detail,
        &REGISTRATION_FIELDS,
    );
    c.equal(
        "6 then GET /v2/registrations/{id}",
        &detail.body,
        "registrationStatus",
        "REMOVED",
    );

    // 4 again, then the device scans the QR code (Using QR Activation Code).
    let second = int
        .call("POST", "/v2/registrations", Some(create_body))
        .await;
    check_created_registration(&mut c, "4 POST /v2/registrations (again)", &second);
    let registration_id = second.body["registrationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let detail = int
        .call("GET", &format!("/v2/registrations/{registration_id}"), None)
        .await;
    let row = "GET /v2/registrations/{id} (CREATED)";
    c.ok(row, &detail, &REGISTRATION_FIELDS);
    c.equal(row, &detail.body, "registrationStatus", "CREATED");
    c.equal(row, &detail.body, "userId", USER);
    c.equal(
        row,
        &detail.body,
        "activationQrCodeData",
        second.body["activationQrCodeData"].clone(),
    );

    let activated = activate_device(
        app.body["serviceBaseUrl"].as_str().unwrap_or_default(),
        app.body["mobileSdkConfig"].as_str().unwrap_or_default(),
        second.body["activationQrCodeData"]
            .as_str()
            .unwrap_or_default(),
    )
    .await;
    c.check(
        "the device activates with the QR code data",
        activated.is_ok(),
        format!("{:?}", activated.as_ref().err()),
    );
    let Ok((client, mut device)) = activated else {
        return c.finish();
    };
    c.check(
        "registrationId is the device's activation id",
        device.activation_id == registration_id,
        &device.activation_id,
    );
    let row = "GET /v2/registrations/{id} (PENDING_COMMIT)";
    let detail = int
        .call("GET", &format!("/v2/registrations/{registration_id}"), None)
        .await;
    c.ok(row, &detail, &REGISTRATION_FIELDS);
    c.equal(row, &detail.body, "registrationStatus", "PENDING_COMMIT");
    c.equal(
        row,
        &detail.body,
        "activationFingerprint",
        device.fingerprint.as_str(),
    );
    c.fields(
        row,
        &detail.body,
        &[("name", Kind::Str), ("platform", Kind::Str)],
    );

    // 7. Committing Activation, with the tutorial's body.
    let row = "7 POST /v2/registrations/{id}/commit";
    let committed = int
        .call(
            "POST",
            &format!("/v2/registrations/{registration_id}/commit"),
            Some(
                r#"{
"registrationId": "alice",
"externalUserId": "employee-7"
}"#,
            ),
        )
        .await;
    c.ok(row, &committed, &[("status", Kind::Str)]);
    c.equal(row, &committed.body, "status", "OK");
    let row = "7 then GET /v2/registrations/{id}";
    let detail = int
        .call("GET", &format!("/v2/registrations/{registration_id}"), None)
        .await;
    c.ok(row, &detail, &REGISTRATION_FIELDS);
    c.equal(row, &detail.body, "registrationStatus", "ACTIVE");
    c.fields(row, &detail.body, &[("activationFingerprint", Kind::Null)]);

    // 8. Blocking and Unblocking Activation.
    for (change, status) in [("BLOCK", "BLOCKED"), ("UNBLOCK", "ACTIVE")] {
        let row = format!("8 PUT /v2/registrations/{{id}} {change}");
        let body = format!(
            r#"{{
"change": "{change}",
"blockReason": "The reason for blocking",
"externalUserId": "{EMPLOYEE}"
}}"#
        );
        let changed = int
            .call(
                "PUT",
                &format!("/v2/registrations/{registration_id}"),
                Some(&body),
            )
            .await;
        c.ok(&row, &changed, &[("status", Kind::Str)]);
        let detail = int
            .call("GET", &format!("/v2/registrations/{registration_id}"), None)
            .await;
        c.ok(&format!("{row} then GET"), &detail, &REGISTRATION_FIELDS);
        c.equal(&row, &detail.body, "registrationStatus", status);
        if change == "BLOCK" {
            c.equal(
                &row,
                &detail.body,
                "blockedReason",
                "The reason for blocking",
            );
        } else {
            c.fields(&row, &detail.body, &[("blockedReason", Kind::Null)]);
        }
    }

    // 9. Login.
    let row = "9 POST /v2/operations (login)";
    let login = int
        .call(
            "POST",
            "/v2/operations",
            Some(
                r#"{
"userId": "alice",
"template": "login",
"language": "en"
}"#,
            ),
        )
        .await;
    c.ok(row, &login, &OPERATION_FIELDS);
    c.equal(row, &login.body, "status", "PENDING");
    c.equal(row, &login.body, "userId", USER);
    c.equal(row, &login.body, "operationType", "login");
    let login_id = login.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();

    // 10. Payment (the tutorial's body names the login template, with parameters).
    let row = "10 POST /v2/operations (payment body)";
    let payment = int
        .call(
            "POST",
            "/v2/operations",
            Some(
                r#"{
"userId": "alice",
"template": "login",
"language": "en",
"parameters": {
"amount": "1000000000.00",
"currency": "EUR",
"iban": "CZ5508000000001234567899"
}
}"#,
            ),
        )
        .await;
    c.ok(row, &payment, &OPERATION_FIELDS);
    c.equal(
        row,
        &payment.body,
        "parameters",
        json!({
            "amount": "1000000000.00", "currency": "EUR", "iban": "CZ5508000000001234567899"
        }),
    );
    let payment_id = payment.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let created = payment.body["timestampCreated"]
        .as_i64()
        .unwrap_or_default();
    let expires = payment.body["timestampExpires"]
        .as_i64()
        .unwrap_or_default();
    c.check(
        format!("{row}: timestamps are epoch milliseconds, 5 minutes apart"),
        created > 1_600_000_000_000 && expires - created == 300_000,
        format!("{created} .. {expires}"),
    );

    // The device approves the login operation (Approving an Operation in a Mobile Application).
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let mut session = Session::new(&client, &mut device, &mut persist);
    let approved = match session.operation_detail(&login_id).await {
        Ok(operation) => session
            .approve_operation(&operation, &Factors::pin(PIN), None)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    c.check(
        "the device approves the login operation",
        approved.is_ok(),
        format!("{approved:?}"),
    );

    // 11. Checking Operation Status (an extra ?operationId= as the tutorial lists it).
    let row = "11 GET /v2/operations/{id}";
    let detail = int
        .call(
            "GET",
            &format!("/v2/operations/{login_id}?operationId={login_id}"),
            None,
        )
        .await;
    c.ok(row, &detail, &OPERATION_FIELDS);
    c.fields(row, &detail.body, &[("additionalData", Kind::Object)]);
    c.equal(row, &detail.body, "status", "APPROVED");

    // 12. Removing Operation, with the tutorial's body.
    let row = "12 DELETE /v2/operations/{id}";
    let canceled = int
        .call(
            "DELETE",
            &format!("/v2/operations/{payment_id}"),
            Some(&format!("{{\n\"operationId\": \"{payment_id}\"\n}}")),
        )
        .await;
    c.ok(row, &canceled, &[("status", Kind::Str)]);
    c.equal(row, &canceled.body, "status", "OK");
    let detail = int
        .call("GET", &format!("/v2/operations/{payment_id}"), None)
        .await;
    c.ok(
        "12 then GET /v2/operations/{id}",
        &detail,
        &OPERATION_FIELDS,
    );
    c.equal(
        "12 then GET /v2/operations/{id}",
        &detail.body,
        "status",
        "CANCELED",
    );

    // 13. Message Signing: the tutorial's literal body (a made-up activation)...
    let row = "13 POST /v2/signature/verify (tutorial body)";
    let literal = format!(
        r#"{{
"method": "POST",
"uriId": "/mobile/login",
"authHeader": "{TUTORIAL_AUTH_HEADER}",
"requestBody": "bG9n"
}}"#
    );
    let verified = int
        .call("POST", "/v2/signature/verify", Some(&literal))
        .await;
    c.ok(
        row,
        &verified,
        &[
            ("signatureValid", Kind::Bool),
            ("registrationId", Kind::Str),
            ("registrationStatus", Kind::Str),
            ("userId", Kind::OptStr),
            ("signatureType", Kind::OptStr),
            ("remainingAttempts", Kind::OptInt),
        ],
    );
    c.equal(row, &verified.body, "signatureValid", false);
    c.equal(
        row,
        &verified.body,
        "registrationId",
        "a4452997-45c0-4667-bb24-c7d39337b9c0",
    );
    c.equal(row, &verified.body, "registrationStatus", "REMOVED");

    // ... and the same call with data the device signed: valid once, then a replay.
    let header = session.sign(&Factors::pin(PIN), "POST", "/mobile/login", b"log");
    c.check(
        "the device signs the data",
        header.is_ok(),
        format!("{:?}", header.as_ref().err()),
    );
    let header = header.unwrap_or_default();
    let body = json!({
        "method": "POST", "uriId": "/mobile/login", "authHeader": header, "requestBody": "bG9n"
    })
    .to_string();
    let row = "13 POST /v2/signature/verify (device signature)";
    let verified = int.call("POST", "/v2/signature/verify", Some(&body)).await;
    c.ok(
        row,
        &verified,
        &[
            ("signatureValid", Kind::Bool),
            ("registrationId", Kind::Str),
            ("registrationStatus", Kind::Str),
            ("userId", Kind::Str),
            ("signatureType", Kind::Str),
            ("remainingAttempts", Kind::Int),
        ],
    );
    c.equal(row, &verified.body, "signatureValid", true);
    c.equal(
        row,
        &verified.body,
        "registrationId",
        registration_id.as_str(),
    );
    c.equal(row, &verified.body, "registrationStatus", "ACTIVE");
    c.equal(row, &verified.body, "userId", USER);
    c.equal(row, &verified.body, "signatureType", "POSSESSION_KNOWLEDGE");
    c.equal(row, &verified.body, "remainingAttempts", 5);
    let replay = int.call("POST", "/v2/signature/verify", Some(&body)).await;
    let row = "13 POST /v2/signature/verify (replayed)";
    c.ok(
        row,
        &replay,
        &[
            ("signatureValid", Kind::Bool),
            ("remainingAttempts", Kind::Int),
        ],
    );
    c.equal(row, &replay.body, "signatureValid", false);
    c.equal(row, &replay.body, "remainingAttempts", 4);

    // 14. Push notification.
    let row = "14 POST /v2/messages/send";
    let push = int
        .call(
            "POST",
            "/v2/messages/send",
            Some(&format!(
                r#"{{
"userId": "alice",
"registrationId": "{registration_id}",
"silent": false,
"title": "Balance Update",
"message": "We just updated your balance. You can review it in mobile banking.",
"sound": "default"
}}"#
            )),
        )
        .await;
    c.ok(row, &push, &[("status", Kind::Str)]);
    c.equal(row, &push.body, "status", "OK");

    // 15. Inbox.
    let row = "15 POST /v2/inbox/messages";
    let inbox = int
        .call(
            "POST",
            "/v2/inbox/messages",
            Some(
                r#"{
"userId": "alice",
"type": "html",
"subject": "Message subject",
"summary": "Message summary",
"body": "Message content",
"silent": false
}"#,
            ),
        )
        .await;
    c.ok(
        row,
        &inbox,
        &[
            ("id", Kind::Str),
            ("userId", Kind::Str),
            ("type", Kind::Str),
            ("subject", Kind::Str),
            ("summary", Kind::Str),
            ("body", Kind::Str),
            ("read", Kind::Bool),
            ("timestamp", Kind::Int),
        ],
    );
    c.equal(row, &inbox.body, "read", false);
    c.equal(row, &inbox.body, "type", "html");

    console_urls(&server, &mut c).await;
    c.finish();
}

fn check_created_registration(c: &mut Checks, row: &str, answer: &crate::harness::Answer) {
    c.ok(
        row,
        answer,
        &[
            ("activationQrCodeData", Kind::Str),
            ("activationCode", Kind::Str),
            ("activationCodeSignature", Kind::Str),
            ("registrationId", Kind::Str),
        ],
    );
    let body = &answer.body;
    let joined = format!(
        "{}#{}",
        body["activationCode"].as_str().unwrap_or("none"),
        body["activationCodeSignature"].as_str().unwrap_or("none")
    );
    c.check(
        format!("{row}: activationQrCodeData is activationCode#activationCodeSignature"),
        body["activationQrCodeData"].as_str() == Some(joined.as_str()),
        body,
    );
}

/// Every "Console URL" of the tutorial (`swagger-ui/index.html#/Tag/operationId`) names an
/// operation of the served OpenAPI document with the tutorial's method and path.
async fn console_urls(server: &Server, c: &mut Checks) {
    const LINKS: [(&str, &str, &str, &str); 14] = [
        ("System Users", "createUser", "post", "/admin/users"),
        (
            "Applications",
            "createApplication",
            "post",
            "/admin/applications",
        ),
        (
            "System Users",
            "addAppAccessToUser",
            "post",
            "/admin/users/{username}/applications/{appId}",
        ),
        (
            "Registrations",
            "createRegistration",
            "post",
            "/v2/registrations",
        ),
        (
            "Registrations",
            "getRegistrationList",
            "get",
            "/v2/registrations",
        ),
        (
            "Registrations",
            "deleteRegistration",
            "delete",
            "/v2/registrations/{registrationId}",
        ),
        (
            "Registrations",
            "commitActivation",
            "post",
            "/v2/registrations/{registrationId}/commit",
        ),
        (
            "Registrations",
            "updateRegistrationState",
            "put",
            "/v2/registrations/{registrationId}",
        ),
        ("Operations", "createOperation", "post", "/v2/operations"),
        (
            "Operations",
            "getOperation",
            "get",
            "/v2/operations/{operationId}",
        ),
        (
            "Operations",
            "cancelOperation",
            "delete",
            "/v2/operations/{operationId}",
        ),
        (
            "Signature Verification",
            "verifyOnlineSignature",
            "post",
            "/v2/signature/verify",
        ),
        (
            "Push Notifications",
            "applicationDetail",
            "post",
            "/v2/messages/send",
        ),
        ("Inbox", "sendMessage", "post", "/v2/inbox/messages"),
    ];
    let document = server.anonymous().call("GET", "/openapi.json", None).await;
    c.status("GET /powerauth-cloud/openapi.json", &document, 200);
    let index = server
        .anonymous()
        .call("GET", "/swagger-ui/index.html", None)
        .await;
    c.check(
        "GET /powerauth-cloud/swagger-ui/index.html: HTTP 200 HTML",
        index.status == 200 && index.content_type.starts_with("text/html"),
        format!("{} {}", index.status, index.content_type),
    );
    for (tag, operation_id, method, path) in LINKS {
        let operation = &document.body["paths"][path][method];
        let tagged = operation["tags"]
            .as_array()
            .is_some_and(|tags| tags.iter().any(|t| t == tag));
        c.check(
            format!(
                "Console URL #/{tag}/{operation_id} is {} {path}",
                method.to_uppercase()
            ),
            operation["operationId"] == operation_id && tagged,
            format!("found {}", short_operation(operation)),
        );
    }
}

fn short_operation(operation: &Value) -> String {
    format!(
        "operationId {} tags {}",
        operation["operationId"], operation["tags"]
    )
}
