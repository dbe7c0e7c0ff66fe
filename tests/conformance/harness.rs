//! The harness: a sandbox on SQLite (or PostgreSQL with `TOKENSIM_TEST_POSTGRES_URL`), a
//! raw HTTP client that sends literal payloads, a real device (`tokensim-device`), and the
//! check recorder that counts every check and fails the test with the list of misses.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use sandbox::{Config, Sandbox};
use serde_json::Value;
use std::fmt::Display;
use std::sync::Arc;
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::{ActiveDevice, Client, ClientConfig, PendingActivation, Profile, Recorder};

/// The PIN of every device of the suite.
pub const PIN: &str = "1234";

/// A running sandbox and its built-in admin login.
pub struct Server {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    /// `sqlite` or `postgres`: which store the checks ran on.
    pub store: &'static str,
}

impl Server {
    pub async fn start() -> Self {
        let mut config = Config::in_memory();
        let store = match std::env::var("TOKENSIM_TEST_POSTGRES_URL") {
            Ok(url) => {
                config.database_url = fresh_postgres_schema(&url).await;
                "postgres"
            }
            Err(_) => "sqlite",
        };
        let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
        Self {
            sandbox,
            http: reqwest::Client::new(),
            store,
        }
    }

    /// The Cloud API (`/powerauth-cloud`) as `user`.
    pub fn cloud(&self, user: &str, password: &str) -> Api {
        Api {
            http: self.http.clone(),
            base: format!("{}/powerauth-cloud", self.sandbox.url()),
            login: Some((user.to_owned(), password.to_owned())),
        }
    }

    /// The Cloud API as the built-in admin.
    pub fn admin(&self) -> Api {
        let admin = self.sandbox.admin();
        self.cloud(&admin.username, &admin.password)
    }

    /// The Cloud API with no credentials.
    pub fn anonymous(&self) -> Api {
        Api {
            login: None,
            ..self.admin()
        }
    }
}

/// A Cloud API client that sends bodies byte for byte.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    login: Option<(String, String)>,
}

/// What came back.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub text: String,
    /// The body as JSON, `Null` when it is not JSON.
    pub body: Value,
}

impl Answer {
    /// A string field of the body, or a panic naming the call (a value later calls need).
    #[track_caller]
    pub fn text_of(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}: {}", self.status, self.text))
            .to_owned()
    }
}

impl Api {
    /// `method path` with `body` sent as `application/json` when given.
    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.send(method, path, body, Some("application/json; charset=UTF-8"))
            .await
    }

    /// The same with the content type chosen (or none).
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some((user, password)) = &self.login {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let response = request.send().await.expect("the sandbox answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("a complete body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            content_type,
            text,
            body,
        }
    }
}

/// A JSON type as the reference gives it.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Str,
    Int,
    Bool,
    Array,
    Object,
    /// An array of strings.
    Strings,
    /// `null` or absent.
    Null,
    /// `null`, absent, or a string.
    OptStr,
    /// `null`, absent, or an integer.
    OptInt,
}

impl Kind {
    fn matches(self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Kind::Str, Some(Value::String(_))) => true,
            (Kind::Int, Some(Value::Number(n))) => n.is_i64() || n.is_u64(),
            (Kind::Bool, Some(Value::Bool(_))) => true,
            (Kind::Array, Some(Value::Array(_))) => true,
            (Kind::Object, Some(Value::Object(_))) => true,
            (Kind::Strings, Some(Value::Array(items))) => items.iter().all(Value::is_string),
            (Kind::Null | Kind::OptStr | Kind::OptInt, None | Some(Value::Null)) => true,
            (Kind::OptStr, Some(Value::String(_))) => true,
            (Kind::OptInt, Some(Value::Number(n))) => n.is_i64() || n.is_u64(),
            _ => false,
        }
    }
}

/// Every check of one test, counted.
pub struct Checks {
    suite: String,
    passed: usize,
    failed: Vec<String>,
}

impl Checks {
    pub fn new(suite: &str, server: &Server) -> Self {
        Self {
            suite: format!("{suite} on {}", server.store),
            passed: 0,
            failed: Vec::new(),
        }
    }

    /// One check.
    pub fn check(&mut self, what: impl Display, ok: bool, detail: impl Display) -> bool {
        if ok {
            self.passed += 1;
        } else {
            self.failed.push(format!("{what}: {detail}"));
        }
        ok
    }

    /// The status code, and that the body is a JSON object.
    pub fn status(&mut self, call: &str, answer: &Answer, expected: u16) -> bool {
        let ok = self.check(
            format!("{call}: HTTP {expected}"),
            answer.status == expected,
            format!("got {} {}", answer.status, short(&answer.text)),
        );
        self.check(
            format!("{call}: the body is a JSON object"),
            answer.body.is_object(),
            format!("got {:?} {}", answer.content_type, short(&answer.text)),
        );
        ok
    }

    /// A success: HTTP 200, a JSON object, and each field with its type.
    pub fn ok(&mut self, call: &str, answer: &Answer, fields: &[(&str, Kind)]) -> bool {
        let ok = self.status(call, answer, 200);
        self.fields(call, &answer.body, fields);
        ok
    }

    /// Each field of `object` with its type.
    pub fn fields(&mut self, call: &str, object: &Value, fields: &[(&str, Kind)]) {
        for (name, kind) in fields {
            let value = object.get(name);
            self.check(
                format!("{call}: {name} is {kind:?}"),
                kind.matches(value),
                format!(
                    "got {}",
                    value.map_or("nothing".to_owned(), Value::to_string)
                ),
            );
        }
    }

    /// One field's value.
    pub fn equal(&mut self, call: &str, object: &Value, field: &str, expected: impl Into<Value>) {
        let expected = expected.into();
        let value = object.get(field).cloned().unwrap_or(Value::Null);
        self.check(
            format!("{call}: {field} = {expected}"),
            value == expected,
            format!("got {value}"),
        );
    }

    /// The Cloud's error envelope with `code` and HTTP `status`.
    pub fn error(&mut self, call: &str, answer: &Answer, status: u16, code: &str) {
        self.status(call, answer, status);
        self.equal(call, &answer.body, "status", "ERROR");
        let object = &answer.body["responseObject"];
        self.equal(call, object, "code", code);
        self.fields(call, object, &[("message", Kind::Str)]);
    }

    /// Prints the count and fails with every miss.
    pub fn finish(self) {
        let total = self.passed + self.failed.len();
        println!(
            "conformance [{}]: {total} checks, {} passed, {} failed",
            self.suite,
            self.passed,
            self.failed.len()
        );
        assert!(
            self.failed.is_empty(),
            "conformance [{}]: {} of {total} checks failed:\n  {}",
            self.suite,
            self.failed.len(),
            self.failed.join("\n  ")
        );
    }
}

fn short(text: &str) -> String {
    text.chars().take(300).collect()
}

/// A device activated from `qr` against the application of `mobile_sdk_config`, served
/// at `service_base_url`.
pub async fn activate_device(
    service_base_url: &str,
    mobile_sdk_config: &str,
    qr: &str,
) -> Result<(Client, ActiveDevice), String> {
    let application = ApplicationConfig::from_mobile_sdk_config(mobile_sdk_config)
        .map_err(|e| format!("mobileSdkConfig does not parse: {e}"))?;
    let client = Client::new(ClientConfig::default(), Arc::new(Recorder::default()))
        .map_err(|e| e.to_string())?;
    let pending = PendingActivation::new(Profile::new(
        "conformance phone".to_owned(),
        service_base_url,
        application,
        ProtocolVersion::V3_3,
    ));
    let device = activate(&client, pending, &ActivationInput::new(qr, PIN))
        .await
        .map_err(|e| format!("activation failed: {e}"))?;
    Ok((client, device))
}

/// With `TOKENSIM_TEST_POSTGRES_URL` set, each sandbox gets its own PostgreSQL schema.
async fn fresh_postgres_schema(url: &str) -> String {
    use powerauth::RandomSource;
    use sqlx::Connection;
    let bytes: [u8; 12] = powerauth::SystemRandom::new().array();
    let schema: String = std::iter::once("c_".to_owned())
        .chain(bytes.iter().map(|b| format!("{b:02x}")))
        .collect();
    let mut connection = sqlx::postgres::PgConnection::connect(url)
        .await
        .expect("TOKENSIM_TEST_POSTGRES_URL is reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut connection)
        .await
        .expect("a fresh schema");
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}
