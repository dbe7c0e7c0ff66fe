//! The sandbox as OAuth 2.0 authorization server, checked against RFC 6749 §5.2, RFC 7009
//! and RFC 8628 §3.5: a table of request -> expected status and `error`, then the device
//! flow's states in order, driven by the test clock.

use crate::common::TestServer;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FORM: &str = "application/x-www-form-urlencoded";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// (name, path, Basic credentials, content type, body, status, error)
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a (String, String)>,
    &'a str,
    String,
    u16,
    Option<&'a str>,
);

struct Clients {
    /// Confidential: client_credentials + refresh_token, scope "api read".
    cc: (String, String),
    /// Confidential, device grant only.
    device_only: (String, String),
    /// Public, device grant + refresh.
    public: String,
}

async fn register(server: &TestServer, body: Value) -> Value {
    let (status, answer) = server.post("/oauth2/register", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

async fn clients(server: &TestServer) -> Clients {
    let cc = register(
        server,
        json!({"client_name": "backend", "scope": "api read"}),
    )
    .await;
    let device_only = register(
        server,
        json!({"client_name": "kiosk", "grant_types": [DEVICE_GRANT]}),
    )
    .await;
    let public = register(
        server,
        json!({"client_name": "Till 7", "grant_types": [DEVICE_GRANT, "refresh_token"], "token_endpoint_auth_method": "none"}),
    )
    .await;
    assert!(public.get("client_secret").is_none(), "{public}");
    let pair = |v: &Value| {
        (
            v["client_id"].as_str().unwrap().to_owned(),
            v["client_secret"].as_str().unwrap().to_owned(),
        )
    };
    Clients {
        cc: pair(&cc),
        device_only: pair(&device_only),
        public: public["client_id"].as_str().unwrap().to_owned(),
    }
}

/// POSTs a form; `basic` as (id, secret).
async fn form(
    server: &TestServer,
    path: &str,
    basic: Option<&(String, String)>,
    content_type: &str,
    body: &str,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(path))
        .header("content-type", content_type)
        .body(body.to_owned());
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().await.expect("the sandbox answers")
}

/// Checks an OAuth answer's status, `error`, `Cache-Control: no-store` and JSON type;
/// returns the body.
async fn expect(
    response: reqwest::Response,
    status: u16,
    error: Option<&str>,
    case: &str,
) -> Value {
    assert_eq!(response.status().as_u16(), status, "{case}");
    let headers = response.headers().clone();
    assert_eq!(
        headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "{case}: Cache-Control"
    );
    if status == 401 {
        let challenge = headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            !challenge.is_empty(),
            "{case}: 401 without WWW-Authenticate"
        );
    }
    let text = response.text().await.unwrap();
    if text.is_empty() {
        assert!(error.is_none(), "{case}: empty body");
        return Value::Null;
    }
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json")),
        "{case}: content type"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{case}: {text}"));
    match error {
        Some(error) => {
            assert_eq!(body["error"], error, "{case}: {body}");
            assert!(body["error_description"].is_string(), "{case}: {body}");
        }
        None => assert!(body.get("error").is_none(), "{case}: {body}"),
    }
    body
}

#[tokio::test]
async fn token_revocation_and_device_endpoints_answer_rfc_error_codes() {
    let server = TestServer::start().await;
    let c = clients(&server).await;
    let wrong = (c.cc.0.clone(), "not-the-secret".to_owned());
    let unknown = ("no-such-client".to_owned(), "x".to_owned());
    let cc_post = format!("client_id={}&client_secret={}", c.cc.0, c.cc.1);
    let other_refresh = {
        let answer = form(
            &server,
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials",
        )
        .await;
        expect(answer, 200, None, "happy").await["refresh_token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let second = register(&server, json!({"client_name": "other"})).await;
    let second = (
        second["client_id"].as_str().unwrap().to_owned(),
        second["client_secret"].as_str().unwrap().to_owned(),
    );

    // (name, path, Basic credentials, content type, body, status, error)
    let table: Vec<Case> = vec![
        (
            "json body",
            "/oauth2/token",
            Some(&c.cc),
            "application/json",
            r#"{"grant_type":"client_credentials"}"#.into(),
            400,
            Some("invalid_request"),
        ),
        (
            "no grant_type",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "scope=api".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "grant_type twice",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials&grant_type=client_credentials".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "NUL in a parameter",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials&scope=a%00".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "raw NUL byte",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=\u{0}".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "unknown grant type",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=magic".into(),
            400,
            Some("unsupported_grant_type"),
        ),
        (
            "authorization code grant",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=authorization_code&code=x".into(),
            400,
            Some("unsupported_grant_type"),
        ),
        (
            "password grant",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=password&username=a&password=b".into(),
            400,
            Some("unsupported_grant_type"),
        ),
        (
            "no client authentication",
            "/oauth2/token",
            None,
            FORM,
            "grant_type=client_credentials".into(),
            401,
            Some("invalid_client"),
        ),
        (
            "wrong secret (Basic)",
            "/oauth2/token",
            Some(&wrong),
            FORM,
            "grant_type=client_credentials".into(),
            401,
            Some("invalid_client"),
        ),
        (
            "wrong secret (body)",
            "/oauth2/token",
            None,
            FORM,
            format!(
                "grant_type=client_credentials&client_id={}&client_secret=nope",
                c.cc.0
            ),
            401,
            Some("invalid_client"),
        ),
        (
            "unknown client",
            "/oauth2/token",
            Some(&unknown),
            FORM,
            "grant_type=client_credentials".into(),
            401,
            Some("invalid_client"),
        ),
        (
            "confidential client without its secret",
            "/oauth2/token",
            None,
            FORM,
            format!("grant_type=client_credentials&client_id={}", c.cc.0),
            401,
            Some("invalid_client"),
        ),
        (
            "public client with a secret",
            "/oauth2/token",
            None,
            FORM,
            format!(
                "grant_type={DEVICE_GRANT}&device_code=x&client_id={}&client_secret=x",
                c.public
            ),
            401,
            Some("invalid_client"),
        ),
        (
            "two authentication methods",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            format!("grant_type=client_credentials&client_secret={}", c.cc.1),
            400,
            Some("invalid_request"),
        ),
        (
            "public client, client credentials",
            "/oauth2/token",
            None,
            FORM,
            format!("grant_type=client_credentials&client_id={}", c.public),
            400,
            Some("unauthorized_client"),
        ),
        (
            "device-only client, client credentials",
            "/oauth2/token",
            Some(&c.device_only),
            FORM,
            "grant_type=client_credentials".into(),
            400,
            Some("unauthorized_client"),
        ),
        (
            "device-only client, refresh",
            "/oauth2/token",
            Some(&c.device_only),
            FORM,
            "grant_type=refresh_token&refresh_token=x".into(),
            400,
            Some("unauthorized_client"),
        ),
        (
            "scope beyond the client's",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials&scope=admin".into(),
            400,
            Some("invalid_scope"),
        ),
        (
            "scope with a quote",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials&scope=a%22b".into(),
            400,
            Some("invalid_scope"),
        ),
        (
            "refresh without refresh_token",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=refresh_token".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "unknown refresh token",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=refresh_token&refresh_token=forged".into(),
            400,
            Some("invalid_grant"),
        ),
        (
            "another client's refresh token",
            "/oauth2/token",
            Some(&second),
            FORM,
            format!("grant_type=refresh_token&refresh_token={other_refresh}"),
            400,
            Some("invalid_grant"),
        ),
        (
            "refresh asking a wider scope",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            format!("grant_type=refresh_token&refresh_token={other_refresh}&scope=admin"),
            400,
            Some("invalid_scope"),
        ),
        (
            "device grant without device_code",
            "/oauth2/token",
            None,
            FORM,
            format!("grant_type={DEVICE_GRANT}&client_id={}", c.public),
            400,
            Some("invalid_request"),
        ),
        (
            "unknown device code",
            "/oauth2/token",
            None,
            FORM,
            format!(
                "grant_type={DEVICE_GRANT}&device_code=forged&client_id={}",
                c.public
            ),
            400,
            Some("invalid_grant"),
        ),
        (
            "client credentials (body auth)",
            "/oauth2/token",
            None,
            FORM,
            format!("grant_type=client_credentials&{cc_post}"),
            200,
            None,
        ),
        (
            "client credentials, narrower scope",
            "/oauth2/token",
            Some(&c.cc),
            FORM,
            "grant_type=client_credentials&scope=read".into(),
            200,
            None,
        ),
        (
            "device authorization without device_id",
            "/oauth2/device_authorization",
            None,
            FORM,
            format!("client_id={}", c.public),
            400,
            Some("invalid_request"),
        ),
        (
            "device_id not key/value pairs",
            "/oauth2/device_authorization",
            None,
            FORM,
            format!("client_id={}&device_id=/vendor/acme/serial", c.public),
            400,
            Some("invalid_request"),
        ),
        (
            "device_id with a space",
            "/oauth2/device_authorization",
            None,
            FORM,
            format!("client_id={}&device_id=/vendor/ac%20me", c.public),
            400,
            Some("invalid_request"),
        ),
        (
            "device authorization, client without the grant",
            "/oauth2/device_authorization",
            Some(&c.cc),
            FORM,
            "device_id=/vendor/acme/serial/1".into(),
            400,
            Some("unauthorized_client"),
        ),
        (
            "device authorization, unknown client",
            "/oauth2/device_authorization",
            None,
            FORM,
            "client_id=nobody&device_id=/vendor/acme/serial/1".into(),
            401,
            Some("invalid_client"),
        ),
        (
            "device authorization, wrong scope",
            "/oauth2/device_authorization",
            None,
            FORM,
            format!(
                "client_id={}&device_id=/vendor/acme/serial/1&scope=admin",
                c.public
            ),
            400,
            Some("invalid_scope"),
        ),
        (
            "device authorization as JSON",
            "/oauth2/device_authorization",
            None,
            "application/json",
            "{}".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "revoke without token",
            "/oauth2/revoke",
            Some(&c.cc),
            FORM,
            "token_type_hint=refresh_token".into(),
            400,
            Some("invalid_request"),
        ),
        (
            "revoke with an unknown hint",
            "/oauth2/revoke",
            Some(&c.cc),
            FORM,
            "token=x&token_type_hint=id_token".into(),
            400,
            Some("unsupported_token_type"),
        ),
        (
            "revoke with a wrong secret",
            "/oauth2/revoke",
            Some(&wrong),
            FORM,
            "token=x".into(),
            401,
            Some("invalid_client"),
        ),
        (
            "revoke another client's token",
            "/oauth2/revoke",
            Some(&second),
            FORM,
            format!("token={other_refresh}"),
            400,
            Some("unauthorized_client"),
        ),
        (
            "revoke an unknown token (RFC 7009 §2.2)",
            "/oauth2/revoke",
            Some(&c.cc),
            FORM,
            "token=never-issued".into(),
            200,
            None,
        ),
    ];
    let count = table.len();
    for (name, path, basic, content_type, body, status, error) in table {
        let answer = form(&server, path, basic, content_type, &body).await;
        let www = answer
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        expect(answer, status, error, name).await;
        if error == Some("invalid_client") && basic.is_some() {
            assert!(www.unwrap().starts_with("Basic "), "{name}");
        }
    }
    assert!(count >= 40);

    // The registration endpoint refuses what it cannot honour.
    for bad in [
        json!({"grant_types": ["implicit"]}),
        json!({"grant_types": []}),
        json!({"token_endpoint_auth_method": "private_key_jwt"}),
        json!({"token_endpoint_auth_method": "none"}),
        json!({"scope": "a\"b"}),
        json!({"client_name": ""}),
    ] {
        let (status, body) = server.post("/oauth2/register", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_client_metadata", "{bad}: {body}");
    }
    let (status, body) = server.post_raw("/oauth2/register", "{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn client_credentials_tokens_expire_refresh_and_revoke() {
    let server = TestServer::start().await;
    let c = clients(&server).await;
    let answer = form(
        &server,
        "/oauth2/token",
        Some(&c.cc),
        FORM,
        "grant_type=client_credentials",
    )
    .await;
    let tokens = expect(answer, 200, None, "client credentials").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 1200, "access tokens live 20 minutes");
    assert_eq!(tokens["scope"], "api read");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let me = |token: String| {
        let server = &server;
        async move {
            let mut request = server.client.get(server.url("/oauth2/api/me"));
            if !token.is_empty() {
                request = request.bearer_auth(token);
            }
            request.send().await.unwrap()
        }
    };
    let answer = me(access.to_owned()).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["client_id"], c.cc.0.as_str());
    assert_eq!(body["expires_in"], 1200);

    // RFC 6750 §3: no token -> 401 with a bare challenge; a bad one -> invalid_token.
    let answer = me(String::new()).await;
    assert_eq!(answer.status(), 401);
    assert_eq!(
        answer.headers()["www-authenticate"],
        "Bearer realm=\"tokensim-oauth\""
    );
    let answer = me("forged".into()).await;
    assert_eq!(answer.status(), 401);
    assert!(
        answer.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let answer = me(refresh.to_owned()).await;
    assert_eq!(
        answer.status(),
        401,
        "a refresh token is not an access token"
    );

    // One second before 20 minutes: still good; at 20 minutes: expired.
    server.clock.advance(20 * 60 * 1000 - 1000);
    assert_eq!(me(access.to_owned()).await.status(), 200);
    server.clock.advance(1000);
    let answer = me(access.to_owned()).await;
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");

    // Refresh: a new access token, no new refresh token (not rotated).
    let answer = form(
        &server,
        "/oauth2/token",
        Some(&c.cc),
        FORM,
        &format!("grant_type=refresh_token&refresh_token={refresh}&scope=read"),
    )
    .await;
    let refreshed = expect(answer, 200, None, "refresh").await;
    assert!(refreshed.get("refresh_token").is_none(), "{refreshed}");
    assert_eq!(refreshed["scope"], "read");
    let fresh = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, access);
    assert_eq!(me(fresh.clone()).await.status(), 200);

    // Revoking the refresh token ends the grant: it cannot refresh, and its access tokens stop.
    let answer = form(
        &server,
        "/oauth2/revoke",
        Some(&c.cc),
        FORM,
        &format!("token={refresh}&token_type_hint=refresh_token"),
    )
    .await;
    expect(answer, 200, None, "revoke").await;
    assert_eq!(me(fresh.clone()).await.status(), 401);
    let answer = form(
        &server,
        "/oauth2/token",
        Some(&c.cc),
        FORM,
        &format!("grant_type=refresh_token&refresh_token={refresh}"),
    )
    .await;
    expect(
        answer,
        400,
        Some("invalid_grant"),
        "refresh after revocation",
    )
    .await;
    // Revoking again is still 200 (RFC 7009 §2.2).
    let answer = form(
        &server,
        "/oauth2/revoke",
        Some(&c.cc),
        FORM,
        &format!("token={refresh}"),
    )
    .await;
    expect(answer, 200, None, "revoke twice").await;
}

async fn start_device(server: &TestServer, client_id: &str, device_id: &str) -> Value {
    let answer = form(
        server,
        "/oauth2/device_authorization",
        None,
        FORM,
        &format!("client_id={client_id}&device_id={device_id}"),
    )
    .await;
    expect(answer, 200, None, "device authorization").await
}

async fn poll(server: &TestServer, client_id: &str, device_code: &str) -> reqwest::Response {
    form(
        server,
        "/oauth2/token",
        None,
        FORM,
        &format!("grant_type={DEVICE_GRANT}&device_code={device_code}&client_id={client_id}"),
    )
    .await
}

async fn decide(
    server: &TestServer,
    user_code: &str,
    device_id: &str,
    decision: &str,
) -> (StatusCode, Value) {
    server
        .post(
            "/oauth2/device/verify",
            &json!({"user_code": user_code, "device_id": device_id, "decision": decision}),
        )
        .await
}

#[tokio::test]
async fn device_flow_walks_rfc_8628_states_on_the_test_clock() {
    let server = TestServer::start().await;
    let c = clients(&server).await;
    let device_id = "/vendor/acme/serial/1234";
    let started = start_device(&server, &c.public, device_id).await;
    assert_eq!(started["expires_in"], 600);
    assert_eq!(started["interval"], 5);
    let user_code = started["user_code"].as_str().unwrap();
    assert!(
        user_code.len() == 9 && user_code.as_bytes()[4] == b'-',
        "XXXX-XXXX: {user_code}"
    );
    let uri = started["verification_uri"].as_str().unwrap();
    assert_eq!(uri, server.url("/oauth2/device"));
    assert_eq!(
        started["verification_uri_complete"],
        format!("{uri}#user_code={user_code}"),
        "the code rides in the fragment, which browsers never send"
    );
    let device_code = started["device_code"].as_str().unwrap();

    // The page lists the device without its code.
    let pending: Value = server
        .client
        .get(server.url("/oauth2/device/pending"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["devices"][0]["device_id"], device_id);
    assert_eq!(pending["devices"][0]["client_name"], "Till 7");
    assert!(!pending.to_string().contains(&user_code[..4]), "{pending}");
    let page = server
        .client
        .get(server.url("/oauth2/device"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("id=\"approve\"")
            && html.contains("id=\"deny\"")
            && html.contains("user_code")
    );

    // authorization_pending, then slow_down for polling too fast (interval grows by 5 s).
    expect(
        poll(&server, &c.public, device_code).await,
        400,
        Some("authorization_pending"),
        "first poll",
    )
    .await;
    server.clock.advance(4_000);
    expect(
        poll(&server, &c.public, device_code).await,
        400,
        Some("slow_down"),
        "too fast",
    )
    .await;
    server.clock.advance(9_000);
    expect(
        poll(&server, &c.public, device_code).await,
        400,
        Some("slow_down"),
        "interval is now 10 s",
    )
    .await;
    server.clock.advance(15_000);
    expect(
        poll(&server, &c.public, device_code).await,
        400,
        Some("authorization_pending"),
        "waited 15 s",
    )
    .await;

    // The page refuses a wrong code, the right code for another device, and a bad body.
    let (status, body) = decide(&server, "BBBB-BBBB", device_id, "approve").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_user_code"))
    );
    let (status, _) = decide(&server, user_code, "/vendor/acme/serial/9999", "approve").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = decide(&server, user_code, device_id, "maybe").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, _) = server.post_raw("/oauth2/device/verify", "[]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Approve (typed in lower case without the dash): tokens at the next poll, once.
    let typed = user_code.replace('-', "").to_lowercase();
    let (status, body) = decide(&server, &typed, device_id, "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "APPROVED");
    let (status, _) = decide(&server, user_code, device_id, "deny").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a used code cannot be used again"
    );
    server.clock.advance(15_000);
    let tokens = expect(
        poll(&server, &c.public, device_code).await,
        200,
        None,
        "approved",
    )
    .await;
    assert!(tokens["refresh_token"].is_string());
    let me: Value = server
        .client
        .get(server.url("/oauth2/api/me"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["device_id"], device_id);
    // Replaying the device code: invalid_grant.
    expect(
        poll(&server, &c.public, device_code).await,
        400,
        Some("invalid_grant"),
        "replay",
    )
    .await;
    // The device refreshes with its refresh token.
    let answer = form(
        &server,
        "/oauth2/token",
        None,
        FORM,
        &format!(
            "grant_type=refresh_token&refresh_token={}&client_id={}",
            tokens["refresh_token"].as_str().unwrap(),
            c.public
        ),
    )
    .await;
    expect(answer, 200, None, "device refresh").await;

    // Denied: access_denied.
    let denied = start_device(&server, &c.public, "/vendor/acme/serial/2").await;
    let (status, body) = decide(
        &server,
        denied["user_code"].as_str().unwrap(),
        "/vendor/acme/serial/2",
        "deny",
    )
    .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("DENIED"))
    );
    expect(
        poll(&server, &c.public, denied["device_code"].as_str().unwrap()).await,
        400,
        Some("access_denied"),
        "denied",
    )
    .await;

    // Nobody answers for 10 minutes: expired_token, and the page no longer takes the code.
    let late = start_device(&server, &c.public, "/vendor/acme/serial/3").await;
    server.clock.advance(600_000);
    expect(
        poll(&server, &c.public, late["device_code"].as_str().unwrap()).await,
        400,
        Some("expired_token"),
        "expired",
    )
    .await;
    let (status, _) = decide(
        &server,
        late["user_code"].as_str().unwrap(),
        "/vendor/acme/serial/3",
        "approve",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A device code polled by another client: invalid_grant.
    let mine = start_device(&server, &c.public, "/vendor/acme/serial/4").await;
    let answer = form(
        &server,
        "/oauth2/token",
        Some(&c.device_only),
        FORM,
        &format!(
            "grant_type={DEVICE_GRANT}&device_code={}",
            mine["device_code"].as_str().unwrap()
        ),
    )
    .await;
    expect(
        answer,
        400,
        Some("invalid_grant"),
        "another client's device code",
    )
    .await;
}

#[tokio::test]
async fn forms_are_accepted_only_on_the_oauth_endpoints() {
    let server = TestServer::start().await;
    // A form to another endpoint is still refused by the guard.
    let answer = form(&server, "/oauth2/register", None, FORM, "client_name=x").await;
    assert_eq!(answer.status(), 415);
    // A foreign web page cannot reach the token endpoint, form or not.
    let answer = server
        .client
        .post(server.url("/oauth2/token"))
        .header("content-type", FORM)
        .header("origin", "https://evil.example")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    let metadata: Value = server
        .client
        .get(server.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["token_endpoint"], server.url("/oauth2/token"));
    assert_eq!(
        metadata["device_authorization_endpoint"],
        server.url("/oauth2/device_authorization")
    );
}

/// The binary's log at `trace` over every OAuth flow holds none of the secrets it handled.
#[tokio::test]
async fn the_sandbox_log_never_shows_an_oauth_secret() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args(["--in-memory", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log.reopen().unwrap()))
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = stdout.next().unwrap().unwrap();
    let url = first
        .strip_prefix("PowerAuth sandbox listening on ")
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    let post_form = |path: &str, body: String, basic: Option<(&str, &str)>| {
        let mut request = http
            .post(format!("{url}{path}"))
            .header("content-type", FORM)
            .body(body);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send()
    };
    let register = |body: Value| {
        http.post(format!("{url}/oauth2/register"))
            .json(&body)
            .send()
    };
    let cc: Value = register(json!({})).await.unwrap().json().await.unwrap();
    let (id, secret) = (
        cc["client_id"].as_str().unwrap().to_owned(),
        cc["client_secret"].as_str().unwrap().to_owned(),
    );
    let tokens: Value = post_form(
        "/oauth2/token",
        "grant_type=client_credentials".into(),
        Some((&id, &secret)),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    post_form(
        "/oauth2/token",
        format!("grant_type=refresh_token&refresh_token={refresh}"),
        Some((&id, &secret)),
    )
    .await
    .unwrap();
    post_form(
        "/oauth2/token",
        "grant_type=client_credentials".into(),
        Some((&id, "wrong")),
    )
    .await
    .unwrap();
    let public: Value =
        register(json!({"grant_types": [DEVICE_GRANT], "token_endpoint_auth_method": "none"}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let public_id = public["client_id"].as_str().unwrap().to_owned();
    let started: Value = post_form(
        "/oauth2/device_authorization",
        format!("client_id={public_id}&device_id=/vendor/acme/serial/1"),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let user_code = started["user_code"].as_str().unwrap().to_owned();
    let device_code = started["device_code"].as_str().unwrap().to_owned();
    http.post(format!("{url}/oauth2/device/verify"))
        .json(&json!({"user_code": user_code, "device_id": "/vendor/acme/serial/1", "decision": "approve"}))
        .send()
        .await
        .unwrap();
    let device_tokens: Value = post_form(
        "/oauth2/token",
        format!("grant_type={DEVICE_GRANT}&device_code={device_code}&client_id={public_id}"),
        None,
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let access = device_tokens["access_token"].as_str().unwrap().to_owned();
    http.get(format!("{url}/oauth2/api/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    post_form(
        "/oauth2/revoke",
        format!("token={refresh}"),
        Some((&id, &secret)),
    )
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        text.contains("oauth: access token issued"),
        "the log was written at trace"
    );
    for (what, secret) in [
        ("client secret", secret.as_str()),
        ("refresh token", &refresh),
        ("access token", tokens["access_token"].as_str().unwrap()),
        ("device access token", &access),
        ("device code", &device_code),
        ("user code", &user_code),
        ("user code without dash", &user_code.replace('-', "")),
    ] {
        assert!(!text.contains(secret), "the {what} is in the sandbox log");
    }
}

#[tokio::test]
async fn expired_device_authorizations_are_swept_after_an_hour() {
    let server = TestServer::start().await;
    let c = clients(&server).await;
    let old = start_device(&server, &c.public, "/vendor/acme/serial/1").await;
    let code = old["device_code"].as_str().unwrap();
    server.clock.advance(10 * 60 * 1000);
    expect(
        poll(&server, &c.public, code).await,
        400,
        Some("expired_token"),
        "expired",
    )
    .await;
    // An hour after its expiry, the next device authorization sweeps it away.
    server.clock.advance(60 * 60 * 1000 + 1);
    start_device(&server, &c.public, "/vendor/acme/serial/2").await;
    expect(
        poll(&server, &c.public, code).await,
        400,
        Some("invalid_grant"),
        "swept",
    )
    .await;
}
