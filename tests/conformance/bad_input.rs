//! Bad input: every malformed body, unknown id, wrong state transition and wrong
//! credential answers the reference's error code and HTTP status in the Cloud's envelope,
//! and a refused change leaves the record as it was.

use crate::harness::{Api, Checks, Server};
use serde_json::json;

async fn integration(server: &Server, c: &mut Checks) -> Api {
    let admin = server.admin();
    let user = admin
        .call(
            "POST",
            "/admin/users",
            Some(r#"{"username":"bad-input-user"}"#),
        )
        .await;
    c.status("POST /admin/users", &user, 200);
    admin
        .call(
            "POST",
            "/admin/applications",
            Some(r#"{"id":"bad-input-app"}"#),
        )
        .await;
    admin
        .call(
            "POST",
            "/admin/users/bad-input-user/applications/bad-input-app",
            None,
        )
        .await;
    server.cloud(
        "bad-input-user",
        user.body["password"].as_str().unwrap_or_default(),
    )
}

#[tokio::test]
async fn credentials_and_roles() {
    let server = Server::start().await;
    let mut c = Checks::new("bad credentials", &server);
    let int = integration(&server, &mut c).await;
    let none = server
        .anonymous()
        .call("GET", "/v2/registrations?userId=a", None)
        .await;
    c.error("no credentials", &none, 401, "HTTP_401");
    let wrong = server
        .cloud("bad-input-user", "wrong-password")
        .call("GET", "/v2/registrations?userId=a", None)
        .await;
    c.error("wrong password", &wrong, 401, "HTTP_401");
    let unknown = server
        .cloud("nobody", "x")
        .call("GET", "/v2/operations/x", None)
        .await;
    c.error("unknown user", &unknown, 401, "HTTP_401");
    let role = int
        .call("POST", "/admin/users", Some(r#"{"username":"x"}"#))
        .await;
    c.error("integration user on /admin", &role, 401, "HTTP_401");
    c.finish();
}

#[tokio::test]
async fn admin_errors() {
    let server = Server::start().await;
    let mut c = Checks::new("admin errors", &server);
    let admin = server.admin();
    integration(&server, &mut c).await;
    let again = admin
        .call(
            "POST",
            "/admin/users",
            Some(r#"{"username":"bad-input-user"}"#),
        )
        .await;
    c.error("duplicate user", &again, 400, "ERROR_REQUEST");
    let again = admin
        .call(
            "POST",
            "/admin/applications",
            Some(r#"{"id":"bad-input-app"}"#),
        )
        .await;
    c.error("duplicate application", &again, 400, "ERROR_REQUEST");
    let missing = admin
        .call("POST", "/admin/applications", Some(r#"{"name":"x"}"#))
        .await;
    c.error("application without id", &missing, 400, "ERROR_REQUEST");
    let blank = admin
        .call("POST", "/admin/users", Some(r#"{"username":""}"#))
        .await;
    c.error("blank username", &blank, 400, "ERROR_REQUEST");
    let unknown = admin
        .call("GET", "/admin/applications/no-such-app", None)
        .await;
    c.error("unknown application detail", &unknown, 400, "ERROR_REQUEST");
    let unknown = admin
        .call(
            "POST",
            "/admin/users/no-such-user/applications/bad-input-app",
            None,
        )
        .await;
    c.error("assign an unknown user", &unknown, 400, "ERROR_REQUEST");
    let unknown = admin
        .call(
            "POST",
            "/admin/users/bad-input-user/applications/no-such-app",
            None,
        )
        .await;
    c.error(
        "assign an unknown application",
        &unknown,
        400,
        "ERROR_REQUEST",
    );
    let not_json = admin.call("POST", "/admin/users", Some("{username")).await;
    c.error("malformed JSON", &not_json, 400, "ERROR_REQUEST");
    let nowhere = admin.call("GET", "/admin/nothing-here", None).await;
    c.error("unmapped URL", &nowhere, 404, "ERROR_NOT_FOUND");
    c.finish();
}

#[tokio::test]
async fn registration_errors() {
    let server = Server::start().await;
    let mut c = Checks::new("registration errors", &server);
    let int = integration(&server, &mut c).await;
    for (what, body) in [
        ("malformed JSON", "{\"userId\": "),
        (
            "a number for userId",
            r#"{"userId": 5, "appId": "bad-input-app"}"#,
        ),
        ("no userId", r#"{"appId": "bad-input-app"}"#),
        ("no appId", r#"{"userId": "u"}"#),
        (
            "an unknown appId",
            r#"{"userId": "u", "appId": "no-such-app"}"#,
        ),
        (
            "an application not assigned to the caller",
            r#"{"userId": "u", "appId": "tokensim"}"#,
        ),
        (
            "an unknown commitPhase",
            r#"{"userId": "u", "appId": "bad-input-app", "commitPhase": "LATER"}"#,
        ),
        (
            "an unparsable timestampRegistrationExpire",
            r#"{"userId": "u", "appId": "bad-input-app", "timestampRegistrationExpire": "soon"}"#,
        ),
        ("a JSON array", "[]"),
    ] {
        let answer = int.call("POST", "/v2/registrations", Some(body)).await;
        c.error(
            &format!("create with {what}"),
            &answer,
            400,
            "ERROR_REQUEST",
        );
    }
    let list = int.call("GET", "/v2/registrations", None).await;
    c.error("list without userId", &list, 400, "ERROR_REQUEST");

    let unknown = "00000000-0000-4000-8000-000000000000";
    for (method, path, body) in [
        ("GET", format!("/v2/registrations/{unknown}"), None),
        ("DELETE", format!("/v2/registrations/{unknown}"), None),
        (
            "POST",
            format!("/v2/registrations/{unknown}/commit"),
            Some("{}"),
        ),
        (
            "PUT",
            format!("/v2/registrations/{unknown}"),
            Some(r#"{"change":"BLOCK"}"#),
        ),
    ] {
        let answer = int.call(method, &path, body).await;
        c.error(
            &format!("{method} an unknown registration"),
            &answer,
            400,
            "ERROR_REGISTRATION_NOT_FOUND",
        );
    }
    let bad_path = int.call("GET", "/v2/registrations/%ff", None).await;
    c.error("GET /v2/registrations/%ff", &bad_path, 400, "ERROR_REQUEST");

    // A CREATED registration: commit, block and unblock are refused and change nothing.
    let created = int
        .call(
            "POST",
            "/v2/registrations",
            Some(r#"{"userId":"u","appId":"bad-input-app"}"#),
        )
        .await;
    let id = created.body["registrationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let before = int
        .call("GET", &format!("/v2/registrations/{id}"), None)
        .await;
    let commit = int
        .call(
            "POST",
            &format!("/v2/registrations/{id}/commit"),
            Some("{}"),
        )
        .await;
    c.error(
        "commit a CREATED registration",
        &commit,
        400,
        "ERROR_REGISTRATION_CHANGE",
    );
    for change in ["BLOCK", "UNBLOCK"] {
        let answer = int
            .call(
                "PUT",
                &format!("/v2/registrations/{id}"),
                Some(&json!({"change": change}).to_string()),
            )
            .await;
        c.error(
            &format!("{change} a CREATED registration"),
            &answer,
            400,
            "ERROR_REGISTRATION_CHANGE",
        );
    }
    for body in [r#"{"change":"FREEZE"}"#, r#"{"blockReason":"x"}"#, "{"] {
        let answer = int
            .call("PUT", &format!("/v2/registrations/{id}"), Some(body))
            .await;
        c.error(&format!("PUT {body}"), &answer, 400, "ERROR_REQUEST");
    }
    let after = int
        .call("GET", &format!("/v2/registrations/{id}"), None)
        .await;
    c.check(
        "refused changes leave the registration as it was",
        before.body == after.body && after.body["registrationStatus"] == "CREATED",
        format!("{} -> {}", before.text, after.text),
    );
    // incompleteStatusCheck: the user already has one in progress.
    let again = int
        .call(
            "POST",
            "/v2/registrations?incompleteStatusCheck=true",
            Some(r#"{"userId":"u","appId":"bad-input-app"}"#),
        )
        .await;
    c.error(
        "incompleteStatusCheck with one in progress",
        &again,
        400,
        "ERROR_REGISTRATION_NOT_ALLOWED",
    );
    // REMOVED is terminal for BLOCK/UNBLOCK; DELETE again is idempotent.
    int.call("DELETE", &format!("/v2/registrations/{id}"), None)
        .await;
    let block = int
        .call(
            "PUT",
            &format!("/v2/registrations/{id}"),
            Some(r#"{"change":"BLOCK"}"#),
        )
        .await;
    c.error(
        "BLOCK a REMOVED registration",
        &block,
        400,
        "ERROR_REGISTRATION_CHANGE",
    );
    let again = int
        .call("DELETE", &format!("/v2/registrations/{id}"), None)
        .await;
    c.status("DELETE a REMOVED registration again", &again, 200);
    c.finish();
}

#[tokio::test]
async fn operation_errors() {
    let server = Server::start().await;
    let mut c = Checks::new("operation errors", &server);
    let int = integration(&server, &mut c).await;
    for (what, body) in [
        ("malformed JSON", "{"),
        ("no template", r#"{"userId":"u"}"#),
        (
            "an unknown template",
            r#"{"userId":"u","template":"no-such-template"}"#,
        ),
        (
            "a number for parameters",
            r#"{"userId":"u","template":"login","parameters":5}"#,
        ),
        (
            "an unparsable timestampExpires",
            r#"{"userId":"u","template":"login","timestampExpires":"tomorrow"}"#,
        ),
    ] {
        let answer = int.call("POST", "/v2/operations", Some(body)).await;
        c.error(
            &format!("create with {what}"),
            &answer,
            400,
            "ERROR_REQUEST",
        );
    }
    let unknown = "00000000-0000-4000-8000-000000000000";
    let answer = int
        .call("GET", &format!("/v2/operations/{unknown}"), None)
        .await;
    c.error(
        "GET an unknown operation",
        &answer,
        400,
        "ERROR_OPERATION_NOT_FOUND",
    );
    let answer = int
        .call("DELETE", &format!("/v2/operations/{unknown}"), None)
        .await;
    c.error(
        "DELETE an unknown operation",
        &answer,
        400,
        "ERROR_OPERATION_NOT_FOUND",
    );
    let answer = int.call("GET", "/v2/operations/%ff", None).await;
    c.error("GET /v2/operations/%ff", &answer, 400, "ERROR_REQUEST");

    let created = int
        .call(
            "POST",
            "/v2/operations",
            Some(r#"{"userId":"u","template":"login","timestampExpires":"2099-01-01T00:00:00Z"}"#),
        )
        .await;
    c.status("create with an ISO-8601 timestampExpires", &created, 200);
    c.equal(
        "create with an ISO-8601 timestampExpires",
        &created.body,
        "timestampExpires",
        4_070_908_800_000_i64,
    );
    let id = created.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    int.call("DELETE", &format!("/v2/operations/{id}"), None)
        .await;
    let again = int
        .call("DELETE", &format!("/v2/operations/{id}"), None)
        .await;
    c.error(
        "cancel a CANCELED operation",
        &again,
        400,
        "ERROR_OPERATION_STATE_CHANGE",
    );

    let created = int
        .call(
            "POST",
            "/v2/operations",
            Some(r#"{"userId":"u","template":"login"}"#),
        )
        .await;
    let id = created.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let otp = int
        .call(
            "POST",
            &format!("/v2/operations/{id}/offline/otp"),
            Some(&json!({"otp": "not-an-otp", "nonce": "AAAAAAAAAAAAAAAAAAAAAA==", "registrationId": unknown}).to_string()),
        )
        .await;
    c.error("a malformed offline OTP", &otp, 400, "ERROR_OTP_INVALID");
    let qr = int
        .call(
            "GET",
            &format!("/v2/operations/{id}/offline/qr?registrationId={unknown}"),
            None,
        )
        .await;
    c.error(
        "offline QR for an unknown registration",
        &qr,
        400,
        "ERROR_REGISTRATION_NOT_FOUND",
    );
    c.finish();
}

#[tokio::test]
async fn authentication_and_communication_errors() {
    let server = Server::start().await;
    let mut c = Checks::new("verification and messaging errors", &server);
    let int = integration(&server, &mut c).await;
    for header in ["Basic abc", "PowerAuth pa_activation_id=\"x\"", ""] {
        let body =
            json!({"method": "POST", "uriId": "/x", "authHeader": header, "requestBody": "e30="});
        let answer = int
            .call("POST", "/v2/signature/verify", Some(&body.to_string()))
            .await;
        c.error(
            &format!("signature header {header:?}"),
            &answer,
            400,
            "ERROR_SIGNATURE_INVALID",
        );
    }
    let answer = int
        .call(
            "POST",
            "/v2/signature/verify",
            Some(r#"{"uriId":"/x","authHeader":"PowerAuth"}"#),
        )
        .await;
    c.error(
        "signature verify without method",
        &answer,
        400,
        "ERROR_REQUEST",
    );
    for header in ["PowerAuth token_id=\"x\"", "nonsense"] {
        let body = json!({"authHeader": header});
        let answer = int
            .call("POST", "/v2/token/verify", Some(&body.to_string()))
            .await;
        c.error(
            &format!("token header {header:?}"),
            &answer,
            400,
            "ERROR_TOKEN_INVALID",
        );
    }
    let answer = int
        .call(
            "POST",
            "/v2/messages/send",
            Some(r#"{"userId":"u","title":"","message":"m"}"#),
        )
        .await;
    c.error(
        "push with a blank title",
        &answer,
        400,
        "ERROR_PUSH_MESSAGE",
    );
    let answer = int
        .call("POST", "/v2/messages/send", Some(r#"{"title":"t"}"#))
        .await;
    c.error("push without userId", &answer, 400, "ERROR_REQUEST");
    let answer = int
        .call(
            "POST",
            "/v2/inbox/messages",
            Some(r#"{"userId":"u","type":"pdf","subject":"s","summary":"s","body":"b"}"#),
        )
        .await;
    c.error(
        "inbox message of an unknown type",
        &answer,
        400,
        "ERROR_REQUEST",
    );
    let answer = int
        .call(
            "POST",
            "/v2/inbox/messages",
            Some(r#"{"userId":"u","type":"text"}"#),
        )
        .await;
    c.error(
        "inbox message without subject",
        &answer,
        400,
        "ERROR_REQUEST",
    );
    c.finish();
}
