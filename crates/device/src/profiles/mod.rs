//! Device-authentication profiles beside PowerAuth (issue 16): the phone's side of other
//! vendors' mobile SDKs. Each profile is a module here; they share:
//!
//! - [`PROFILES`]: the catalogue of profiles (name, label, what it is), read by the CLI's
//!   `tokensim profile`, the fleet's `--profile` and the app's Profiles panel;
//! - [`ProfileClient`]: HTTP through the same [`Client`] as PowerAuth calls, so every
//!   exchange goes to the same [`crate::Events`] sink (the inspector, `--trace`), with the
//!   same redaction, timeouts and response cap; it applies the catalogue's faults
//!   (`crate::catalogue`, filtered by [`crate::catalogue::for_profile`]) that are transport
//!   faults (server down, replay, slow network, clock skew);
//! - [`ProfileRecord`]: how a profile's account is kept in the user's chosen store (the
//!   wallet keeps the record in its index and the secret part in the keychain, an encrypted
//!   file or memory), never in a file of its own;
//! - [`FaultCheck`]: a faulted call's [`FaultReport`], judged by the profile's rule.
//!
//! ```text
//! let pc = ProfileClient::new(&client, "http://127.0.0.1:8780");
//! let mut account = jwt::JwtAccount::enroll(&pc, enrollment).await?;      // login, JWT kept
//! let seen = account.call(&pc, &mut |a| save(a)).await?;                 // refreshes when expired
//! ```
//!
//! A fifth profile is a module here, one entry in [`PROFILES`], and its names in the
//! catalogue's `profiles` lists for the faults it takes.

pub mod facemap;
pub mod jwt;
pub mod oauth;
pub mod signed_token;

use crate::client::{Client, Request};
use crate::events::{Events, Exchange, Recorder, Warning};
use crate::{Error, Fault, FaultReport, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// One device profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfileSpec {
    /// The name `tokensim profile NAME` and `--profile NAME` take, e.g. `jwt`.
    pub name: &'static str,
    /// A short label for a tab, e.g. `Device JWT`.
    pub label: &'static str,
    /// The sandbox's path prefix of its vendor server.
    pub prefix: &'static str,
    /// What it is, in a tester's words.
    pub description: &'static str,
}

/// Every device profile beside PowerAuth, in tab order.
pub const PROFILES: &[ProfileSpec] = &[
    ProfileSpec {
        name: "jwt",
        label: "Device JWT",
        prefix: "/profiles/jwt",
        description: "The app server logs the user in and gets a JWT for this device id from the vendor (POST /gen-jwt); the device keeps it and sends Authorization: Bearer on every call.",
    },
    ProfileSpec {
        name: "signed-token",
        label: "Signed device tokens",
        prefix: "/profiles/signed-token",
        description: "Attach and identify calls carry an HS256 token {\"user\": ID} signed with the project's API secret, from the app server (self-signed, or the vendor's counted sign endpoint); the project decides whether tokens are required.",
    },
    ProfileSpec {
        name: "api-key",
        label: "Mobile API key",
        prefix: "/profiles/jwt",
        description: "The mobile API key configured in the app is sent on every call (X-Api-Key), with the device id.",
    },
    ProfileSpec {
        name: "facemap",
        label: "Face authentication",
        prefix: "/profiles/facemap",
        description: "The bank's server starts a face authentication transaction with the enrollment's stored facemap (multipart, Basic auth with the API token and secret); the device performs the face capture; the final state (PASSED, FAILED, INVALID or EXPIRED) goes to the bank's callback URL.",
    },
    ProfileSpec {
        name: "oauth",
        label: "OAuth 2.0",
        prefix: "/oauth2",
        description: "Client credentials (an access token living 20 minutes, reused until it expires, then refreshed; the refresh token can be revoked) or RFC 8628 device authorization for a point-of-sale device, approved by the user on the sandbox's verification page. Tokens kept in memory, the keychain or a file.",
    },
];

/// The profile named `name`.
pub fn find(name: &str) -> Option<&'static ProfileSpec> {
    PROFILES.iter().find(|spec| spec.name == name)
}

/// Refuses `fault` on a call of `profile` when the catalogue does not list it there.
pub fn check_fault(profile: &str, fault: Option<Fault>) -> Result<()> {
    match fault {
        Some(fault) if !fault.spec().profiles.contains(&profile) => {
            Err(Error::FaultNotApplicable {
                fault: fault.to_string(),
                what: "this profile's calls",
            })
        }
        _ => Ok(()),
    }
}

/// A profile account as the store keeps it: the non-secret record (in the index) and the
/// secret part (a JSON object, sealed by the store's backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileRecord {
    /// The profile (`jwt`, `api-key`…).
    pub profile: String,
    /// The server's base URL.
    pub server_url: String,
    /// Who it is there: the device id, the user, the client id.
    pub subject: String,
    /// The profile's other non-secret fields.
    pub details: Value,
}

/// HTTP for a profile's calls: the PowerAuth [`Client`]'s stack and events, against one
/// server.
#[derive(Clone, Debug)]
pub struct ProfileClient {
    client: Client,
    base_url: String,
}

/// A JSON answer of a profile call.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as JSON (`Null` when empty).
    pub body: Value,
}

impl ProfileClient {
    /// Calls `base_url` (no trailing slash needed) through `client`.
    pub fn new(client: &Client, base_url: &str) -> Self {
        Self {
            client: client.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The same with another client (a faulted one).
    pub fn with_client(&self, client: &Client) -> Self {
        Self::new(client, &self.base_url)
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The fault armed on this client, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.client.fault
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Now by the device's clock (shifted by `clock-skew`), Unix seconds.
    pub fn now_seconds(&self) -> i64 {
        i64::try_from(self.client.now_ms() / 1000).unwrap_or(i64::MAX)
    }

    /// The server's access history of the profiles (the sandbox's `GET /profiles/accesses`),
    /// newest first, narrowed by `filters` (`profile`, `projectId`, `subject`, `limit`), each
    /// value percent-encoded: the answer's `accesses` array.
    pub async fn accesses(&self, filters: &[(&str, &str)]) -> Result<Answer> {
        let query: Vec<String> = filters
            .iter()
            .map(|(name, value)| format!("{name}={}", percent(value)))
            .collect();
        let path = format!("/profiles/accesses?{}", query.join("&"));
        self.send(
            "profile/accesses",
            reqwest::Method::GET,
            &path,
            Vec::new(),
            None,
        )
        .await
    }

    /// Sends `method path` with `headers` and an optional JSON `body`; a 2xx answer comes
    /// back as JSON, anything else as [`Error::Server`] with the profile's `error` code and
    /// `message`. Applies `server-down` (the call goes to a closed port) and `replay` (the
    /// identical request again, labelled `replay`).
    pub async fn send(
        &self,
        label: &'static str,
        method: reqwest::Method,
        path: &str,
        headers: Vec<(String, String)>,
        body: Option<&Value>,
    ) -> Result<Answer> {
        let request = || Request {
            label,
            method: method.clone(),
            path: path.to_owned(),
            headers: headers.clone(),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
            plaintext: None,
            decryptor: None,
        };
        let base = match self.fault() {
            Some(Fault::ServerDown) => closed_port_url(),
            _ => self.base_url.clone(),
        };
        let reply = self.client.execute(&base, request()).await?;
        if self.fault() == Some(Fault::ReplaySignature) {
            let mut again = request();
            again.label = "replay";
            // The replay's answer is in the inspector and the fault report.
            let _ = self.client.execute(&base, again).await;
        }
        read(reply.status, &reply.body)
    }

    /// `GET path` of a page (HTML): its text when the answer is 2xx, else [`Error::Server`].
    pub async fn get_page(&self, label: &'static str, path: &str) -> Result<String> {
        let reply = self
            .client
            .execute(
                &self.base_url,
                Request {
                    label,
                    method: reqwest::Method::GET,
                    path: path.to_owned(),
                    headers: vec![("accept".to_owned(), "text/html".to_owned())],
                    body: Vec::new(),
                    plaintext: None,
                    decryptor: None,
                },
            )
            .await?;
        if !(200..300).contains(&reply.status) {
            read(reply.status, &reply.body)?;
        }
        Ok(String::from_utf8_lossy(&reply.body).into_owned())
    }
}

/// The answer as JSON, or the refusal as [`Error::Server`].
fn read(status: u16, bytes: &[u8]) -> Result<Answer> {
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(snippet(bytes)))
    };
    if (200..300).contains(&status) {
        return Ok(Answer { status, body });
    }
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    Err(Error::Server {
        status,
        code: text("error").unwrap_or_default(),
        message: text("message")
            .or_else(|| text("error_description"))
            .unwrap_or_else(|| snippet(bytes)),
    })
}

fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(160).collect()
}

/// A local URL nobody listens on (a port just bound and released).
pub(crate) fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_or(9, |address| address.port());
    format!("http://127.0.0.1:{port}")
}

/// A required string field of a profile answer.
pub fn field(answer: &Answer, key: &str, what: &'static str) -> Result<String> {
    answer
        .body
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(what, format!("the field {key} is missing")))
}

/// `text` percent-encoded for a query value (RFC 3986's unreserved characters stay).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A faulted profile call in progress: every exchange is recorded (and still reaches the
/// client's own events) so the report can show what was sent and answered.
pub struct FaultCheck {
    client: Client,
    recorder: Arc<Recorder>,
    fault: Fault,
}

struct Forward(Arc<dyn Events>, Arc<Recorder>);

impl Events for Forward {
    fn exchange(&self, exchange: &Exchange) {
        self.0.exchange(exchange);
        self.1.exchange(exchange);
    }
    fn warning(&self, warning: &Warning) {
        self.0.warning(warning);
        self.1.warning(warning);
    }
}

/// What a profile requires for a fault: the rule in words and whether `result` kept it.
pub struct Rule {
    /// What the protocol requires.
    pub required: String,
    /// Whether the answer is that.
    pub matched: bool,
}

impl FaultCheck {
    /// Arms `fault` on a copy of `client` for a call of `profile` (refused when the
    /// catalogue does not list the fault for it).
    pub fn start(client: &Client, profile: &str, fault: Fault) -> Result<Self> {
        check_fault(profile, Some(fault))?;
        let recorder = Arc::new(Recorder::default());
        let events: Arc<dyn Events> = Arc::new(Forward(client.events(), recorder.clone()));
        Ok(Self {
            client: client.with_fault(fault).with_events(events),
            recorder,
            fault,
        })
    }

    /// The client to make the faulted call with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The report of `result`: the shared rules for transport faults, `refusal` (the 401
    /// code the profile's server must answer) for `expired-token` and `wrong-secret`.
    pub fn report<T>(
        &self,
        result: &Result<T>,
        refusal: impl Fn(Fault) -> &'static str,
    ) -> FaultReport {
        let exchanges = self.recorder.exchanges();
        let rule = match self.fault {
            Fault::ServerDown => Rule {
                required: "a network error (nobody listens); the stored token and device stay as they were".to_owned(),
                matched: matches!(result, Err(Error::Network { .. })),
            },
            Fault::ReplaySignature => {
                let replay = exchanges.iter().find(|e| e.label == "replay");
                Rule {
                    required: "both accepted: a bearer credential is valid on every call until it expires".to_owned(),
                    matched: result.is_ok() && replay.and_then(|e| e.status).is_some_and(|s| (200..300).contains(&s)),
                }
            }
            Fault::ClockSkew(ms) => Rule {
                required: format!("accepted: the server judges expiry by its own clock; a device clock {ms} ms off only moves when the device refreshes"),
                matched: result.is_ok(),
            },
            Fault::SlowNetwork(ms) => {
                let timeout = self.client.config().timeout;
                if u128::from(ms) >= timeout.as_millis() {
                    Rule {
                        required: format!("a timeout error after {timeout:?}; the stored token stays"),
                        matched: matches!(result, Err(Error::Timeout { .. })),
                    }
                } else {
                    Rule {
                        required: format!("accepted, after at least {ms} ms"),
                        matched: result.is_ok(),
                    }
                }
            }
            fault => {
                let code = refusal(fault);
                Rule {
                    required: format!("HTTP 401 {code}"),
                    matched: matches!(result, Err(Error::Server { status: 401, code: c, .. }) if c == code),
                }
            }
        };
        FaultReport {
            fault: self.fault,
            sent: exchanges
                .iter()
                .map(|e| format!("{} {}", e.method, e.url))
                .collect(),
            answered: match result {
                Ok(_) => "success".to_owned(),
                Err(e) => e.to_string(),
            },
            required: rule.required,
            matched: rule.matched,
            exchanges,
        }
    }
}

/// The claims of a JWT, read without checking its signature: a device reads its own token's
/// expiry to know when to refresh it (the server checks the signature).
pub fn unverified_claims(token: &str) -> Option<Value> {
    let mut validation = jsonwebtoken::Validation::default();
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let header = jsonwebtoken::decode_header(token).ok()?;
    validation.algorithms = vec![header.alg];
    jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&[]),
        &validation,
    )
    .ok()
    .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_are_unique_and_found() {
        for spec in PROFILES {
            assert_eq!(find(spec.name), Some(spec));
            assert_eq!(PROFILES.iter().filter(|s| s.name == spec.name).count(), 1);
        }
        assert!(find("powerauth").is_none());
    }

    #[test]
    fn a_refusal_reads_the_profile_error_shape() {
        let error = read(
            401,
            br#"{"error":"jwt_expired","message":"expired 3 s ago"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&error, Error::Server { status: 401, code, message } if code == "jwt_expired" && message.contains("3 s")),
            "{error:?}"
        );
        let page = read(502, b"<html>bad gateway</html>").unwrap_err();
        assert!(matches!(page, Error::Server { status: 502, .. }));
        assert_eq!(read(200, b"").unwrap().body, Value::Null);
    }

    #[test]
    fn a_powerauth_only_fault_is_refused_on_a_profile() {
        assert!(check_fault("jwt", Some(Fault::WrongPin)).is_err());
        assert!(check_fault("jwt", Some(Fault::ExpiredToken)).is_ok());
        assert!(check_fault("jwt", None).is_ok());
    }
}
