//! The shared harness: a running sandbox, a client, and the clock that drives it.

use reqwest::StatusCode;
use sandbox::{Config, Sandbox, TestClock};
use serde_json::{Value, json};
use std::sync::Arc;

/// 2026-06-01T00:00:00Z, an arbitrary fixed start for the test clock.
pub const START_MS: i64 = 1_780_272_000_000;

pub struct TestServer {
    pub sandbox: Sandbox,
    pub client: reqwest::Client,
    pub clock: TestClock,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Config::in_memory()).await
    }

    pub async fn start_with(mut config: Config) -> Self {
        if config.database_url == "sqlite::memory:" {
            config.database_url = test_database_url().await;
        }
        let clock = TestClock::at(START_MS);
        let sandbox = Sandbox::start_with(
            config,
            Arc::new(clock.clone()),
            Arc::new(powerauth::SystemRandom::new()),
        )
        .await
        .expect("the sandbox starts on an in-memory database");
        Self {
            sandbox,
            client: reqwest::Client::new(),
            clock,
        }
    }

    pub fn clock_ms(&self) -> i64 {
        use sandbox::Clock;
        self.clock.now_ms()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.url())
    }

    /// POSTs raw bytes as JSON; returns the status and the parsed body (`Null` if empty).
    pub async fn post_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the sandbox answers");
        read(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(path, body.to_string()).await
    }

    /// A `/rest/v3` call: wraps `request` in `{"requestObject": …}`.
    pub async fn rest(&self, path: &str, request: Value) -> (StatusCode, Value) {
        self.post(path, &json!({ "requestObject": request })).await
    }

    /// A `/rest/v3` call that must succeed; returns its `responseObject`.
    pub async fn rest_ok(&self, path: &str, request: Value) -> Value {
        let (status, body) = self.rest(path, request).await;
        assert_eq!(status, StatusCode::OK, "{path} failed: {body}");
        assert_eq!(body["status"], "OK", "{path}: {body}");
        body["responseObject"].clone()
    }

    /// A Cloud API request with Basic credentials.
    pub fn cloud(
        &self,
        method: reqwest::Method,
        path: &str,
        credentials: Option<(&str, &str)>,
    ) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, self.url(&format!("/powerauth-cloud{path}")));
        match credentials {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }

    pub fn admin(&self) -> (&str, &str) {
        let admin = self.sandbox.admin();
        (&admin.username, &admin.password)
    }

    pub fn integration(&self) -> (&str, &str) {
        let integration = self.sandbox.integration();
        (&integration.username, &integration.password)
    }
}

pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let bytes = response.bytes().await.expect("a complete body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    (status, body)
}

/// Asserts the protocol error shape and returns `(code, message)`.
#[track_caller]
pub fn error_parts(body: &Value) -> (String, String) {
    assert_eq!(body["status"], "ERROR", "not an error body: {body}");
    let code = body["responseObject"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error without code: {body}"));
    let message = body["responseObject"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error without message: {body}"));
    (code.to_owned(), message.to_owned())
}

/// The database of one test: in-memory SQLite, or with `TOKENSIM_TEST_POSTGRES_URL` set a
/// fresh PostgreSQL schema.
pub async fn test_database_url() -> String {
    match std::env::var("TOKENSIM_TEST_POSTGRES_URL") {
        Ok(url) => fresh_postgres_schema(&url).await,
        Err(_) => "sqlite::memory:".to_owned(),
    }
}

/// With `TOKENSIM_TEST_POSTGRES_URL` set, every test gets its own PostgreSQL schema, so
/// the whole suite runs on PostgreSQL with the same migrations.
async fn fresh_postgres_schema(url: &str) -> String {
    use sqlx::Connection;
    let schema = format!("t_{}", uuid_simple());
    let mut connection = sqlx::postgres::PgConnection::connect(url)
        .await
        .expect("TOKENSIM_TEST_POSTGRES_URL is reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut connection)
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

fn uuid_simple() -> String {
    use powerauth::RandomSource;
    let bytes: [u8; 12] = powerauth::SystemRandom::new().array();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Alice's device (3.3) with a possession token, registered for push on `platform` with
/// `push_token` through `/api/push/device/register`.
pub async fn push_registered_device(
    server: &TestServer,
    platform: &str,
    push_token: &str,
) -> crate::device::Device {
    use powerauth::ProtocolVersion;
    use powerauth::signature::SignatureType;
    use powerauth::token::TokenHeader;
    let mut device = crate::device::activate(server, ProtocolVersion::V3_3).await;
    let (token_id, token_secret) = device
        .create_token(server, SignatureType::Possession)
        .await
        .unwrap();
    let header = TokenHeader::make(
        &token_id,
        &token_secret,
        ProtocolVersion::V3_3,
        u64::try_from(server.clock_ms()).unwrap(),
        &powerauth::SystemRandom::new(),
    );
    let response = server
        .client
        .post(server.url("/api/push/device/register"))
        .header(TokenHeader::NAME, header.to_header_value())
        .json(&json!({"requestObject": {"platform": platform, "token": push_token}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    device
}
