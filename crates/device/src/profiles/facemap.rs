//! Profile `facemap`: both sides of a face authentication transaction in Jumio's shapes
//! (the sandbox's `/profiles/facemap`): the bank's server initiating it with a stored
//! facemap (`multipart/form-data` through reqwest's `multipart`), the device performing
//! the face capture for a transaction reference, and the retrieval of its state.
//!
//! The tester chooses the face the device shows ([`Face`]); the final states it leads to:
//!
//! | Face | `transactionResult` |
//! |---|---|
//! | a live face of the enrolled person (`live`) | `PASSED` |
//! | a spoof: photo, screen or mask (`spoof`) | `INVALID` |
//! | a live face of another person (`different-person`) | `FAILED` |
//! | no capture in time (`timeout`) | `EXPIRED` (once its lifetime, at most 15 minutes, has passed) |
//!
//! Every exchange goes to the [`Events`] stream like the PowerAuth flows'. The API secret
//! (the `Authorization` header) and the facemap bytes are never shown: a request body is
//! shown as its parts, the facemap as its size.
//!
//! Faults ([`FacemapFault`], named like the catalogue's): `wrong-secret` (Basic auth with
//! another secret: 403), `replay` (the capture sent twice: the second is refused 409),
//! `clock-skew` (the capture's timestamp off by the given ms: 400 beyond 5 minutes),
//! `expired-token` (the capture of a transaction that already ended: 409 with its state),
//! `server-down` (the call goes to a port nobody listens on: a network error).

use crate::events::{Events, Exchange};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The face the device shows to the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Face {
    /// The enrolled person, live.
    Live,
    /// A photo, screen or mask.
    Spoof,
    /// Another person, live.
    DifferentPerson,
    /// Nobody: the capture is opened and never finished.
    Timeout,
}

impl Face {
    /// Every choice, in menu order.
    pub const ALL: [Face; 4] = [
        Face::Live,
        Face::Spoof,
        Face::DifferentPerson,
        Face::Timeout,
    ];

    /// The name the CLI takes.
    pub fn name(self) -> &'static str {
        match self {
            Face::Live => "live",
            Face::Spoof => "spoof",
            Face::DifferentPerson => "different-person",
            Face::Timeout => "timeout",
        }
    }

    /// The final state this face leads to.
    pub fn expected_result(self) -> &'static str {
        match self {
            Face::Live => "PASSED",
            Face::Spoof => "INVALID",
            Face::DifferentPerson => "FAILED",
            Face::Timeout => "EXPIRED",
        }
    }

    fn wire(self) -> Option<&'static str> {
        match self {
            Face::Live => Some("LIVE_MATCH"),
            Face::Spoof => Some("SPOOF"),
            Face::DifferentPerson => Some("DIFFERENT_PERSON"),
            Face::Timeout => None,
        }
    }
}

impl std::str::FromStr for Face {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Face::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                format!("unknown face {text:?}; choose live, spoof, different-person or timeout")
            })
    }
}

/// A fault applied to the profile's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FacemapFault {
    /// Basic auth with a wrong API secret.
    WrongSecret,
    /// The capture sent twice.
    Replay,
    /// The device clock off by this many ms.
    ClockSkew(i64),
    /// Capture a transaction that has already ended.
    ExpiredToken,
    /// The server is not reachable.
    ServerDown,
}

impl FacemapFault {
    /// The fault named `name` (the catalogue's names), with `value` for `clock-skew`.
    pub fn named(name: &str, value: Option<i64>) -> Option<Self> {
        Some(match name {
            "wrong-secret" => FacemapFault::WrongSecret,
            "replay" | "replay-signature" => FacemapFault::Replay,
            "clock-skew" => {
                FacemapFault::ClockSkew(value.unwrap_or(crate::catalogue::CLOCK_SKEW_MS))
            }
            "expired-token" => FacemapFault::ExpiredToken,
            "server-down" => FacemapFault::ServerDown,
            _ => return None,
        })
    }
}

impl std::str::FromStr for FacemapFault {
    type Err = String;

    /// `NAME` or `clock-skew=MS`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => {
                let number = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{name} takes a whole number of ms, not {value:?}"))?;
                (name.trim(), Some(number))
            }
            None => (text.trim(), None),
        };
        if value.is_some() && name != "clock-skew" {
            return Err(format!("{name} takes no value"));
        }
        FacemapFault::named(name, value).ok_or_else(|| {
            format!(
                "the facemap profile has no fault {name:?}; faults: wrong-secret, replay, clock-skew[=MS], expired-token, server-down"
            )
        })
    }
}

/// Why a facemap call failed, in words that say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FacemapError {
    /// The server could not be reached.
    #[error("cannot reach {url}: {detail}. Check that the sandbox is running and the URL is right")]
    Network {
        /// The URL called (no credentials in it).
        url: String,
        /// What the HTTP stack said.
        detail: String,
    },
    /// No answer in time.
    #[error("{url} did not answer within {after:?}; retry, or raise the timeout")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The server refused the call.
    #[error("the server answered HTTP {status}: {message}{}", hint(*.status))]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's `message`.
        message: String,
        /// The transaction's state, when the refusal names one (a capture of an ended
        /// transaction).
        transaction_result: Option<String>,
    },
    /// The answer is not the shape expected.
    #[error("the server's answer to {what} is not valid: {detail}")]
    InvalidResponse {
        /// Which call.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A facemap file could not be read.
    #[error("cannot read the facemap: {0}")]
    Facemap(String),
}

fn hint(status: u16) -> &'static str {
    match status {
        403 => " (check the API token and secret, and that a User-Agent is sent)",
        404 => " (check the transaction reference and that it was made with these credentials)",
        409 => " (initiate a new transaction)",
        413 => " (the facemap is too large)",
        _ => "",
    }
}

/// The credentials of a sandbox application: API token (user) and secret (password).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiCredentials {
    /// The API token.
    pub api_token: String,
    /// The API secret.
    pub api_secret: String,
}

impl std::fmt::Debug for ApiCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCredentials")
            .field("api_token", &self.api_token)
            .field("api_secret", &crate::events::REDACTED)
            .finish()
    }
}

/// What initiates a transaction (Jumio's `enrollmentMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentMetadata {
    /// The enrollment the face is compared with. Required.
    pub enrollment_transaction_reference: String,
    /// The bank's reference for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_reference: Option<String>,
    /// Where the final state is POSTed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Web: after success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Web: after an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_url: Option<String>,
    /// Web: language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Web: lifetime of the redirect URL (5–86400; the transaction lives at most 15).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_lifetime_in_minutes: Option<i64>,
}

/// The answer to initiate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Initiated {
    /// The new transaction's reference.
    pub authentication_transaction_reference: String,
    /// Web: the page the user opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// Jumio's authentication retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDetail {
    /// The transaction.
    pub transaction_reference: String,
    /// Its enrollment.
    pub enrollment_transaction_reference: String,
    /// `CREATED`, `STARTED`, `PASSED`, `FAILED`, `INVALID` or `EXPIRED`.
    pub transaction_result: String,
    /// When it was made (`YYYY-MM-DDThh:mm:ss.SSSZ`).
    pub transaction_date: String,
    /// `SDK` or `WEB`.
    pub scan_source: String,
    /// The bank's reference for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_reference: Option<String>,
}

/// What the device saw of a capture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureOutcome {
    /// The transaction.
    pub transaction_reference: String,
    /// The face shown.
    pub face: Face,
    /// The state after the capture (`STARTED` for a timeout: nothing was sent).
    pub transaction_result: String,
    /// Unix ms when the transaction expires.
    pub timestamp_expires: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceView {
    transaction_reference: String,
    transaction_result: String,
    timestamp_expires: i64,
}

/// The `User-Agent` sent (Jumio asks for the company and application).
pub const USER_AGENT: &str = concat!("TokenSim tokensim/", env!("CARGO_PKG_VERSION"));

/// A client of the sandbox's facemap profile. Cheap to clone.
#[derive(Clone)]
pub struct FacemapClient {
    http: reqwest::Client,
    base_url: String,
    credentials: ApiCredentials,
    events: Arc<dyn Events>,
    fault: Option<FacemapFault>,
    timeout: Duration,
    user_agent: Option<String>,
}

impl std::fmt::Debug for FacemapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacemapClient")
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

/// One request, as data, before it is sent.
enum Body {
    Empty,
    Json(serde_json::Value),
    Multipart { facemap: Vec<u8>, metadata: String },
}

impl FacemapClient {
    /// A client of the profile at `base_url` (the sandbox's URL followed by
    /// `/profiles/facemap`).
    pub fn new(
        base_url: &str,
        credentials: ApiCredentials,
        events: Arc<dyn Events>,
        timeout: Duration,
    ) -> Result<Self, FacemapError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()
            .map_err(|e| FacemapError::Network {
                url: base_url.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            credentials,
            events,
            fault: None,
            timeout,
            user_agent: Some(USER_AGENT.to_owned()),
        })
    }

    /// The same client with a fault armed.
    pub fn with_fault(&self, fault: Option<FacemapFault>) -> Self {
        Self {
            fault,
            ..self.clone()
        }
    }

    /// The same client sending another `User-Agent` (`None`: none at all).
    pub fn with_user_agent(&self, user_agent: Option<String>) -> Self {
        Self {
            user_agent,
            ..self.clone()
        }
    }

    /// The bank's server: `POST …/api/authentication/v1/facemap/initiate`.
    pub async fn initiate(
        &self,
        facemap: Vec<u8>,
        metadata: &EnrollmentMetadata,
    ) -> Result<Initiated, FacemapError> {
        let metadata = serde_json::json!({ "enrollmentMetadata": metadata }).to_string();
        let reply = self
            .send(
                "facemap/initiate",
                reqwest::Method::POST,
                "/api/authentication/v1/facemap/initiate",
                Body::Multipart { facemap, metadata },
            )
            .await?;
        parse("facemap/initiate", &reply)
    }

    /// Jumio's retrieval: `GET …/api/netverify/v2/authentications/{reference}`.
    pub async fn detail(&self, reference: &str) -> Result<TransactionDetail, FacemapError> {
        let reply = self
            .send(
                "facemap/detail",
                reqwest::Method::GET,
                &format!("/api/netverify/v2/authentications/{}", path_part(reference)),
                Body::Empty,
            )
            .await?;
        parse("facemap/detail", &reply)
    }

    /// The device performs the face capture for `reference` showing `face`: opens the
    /// capture (`STARTED`), then, unless the face is [`Face::Timeout`], sends it.
    pub async fn capture(
        &self,
        reference: &str,
        face: Face,
        now_ms: i64,
    ) -> Result<CaptureOutcome, FacemapError> {
        let path = format!("/sdk/v1/authentications/{}", path_part(reference));
        let started = self
            .send(
                "facemap/capture/start",
                reqwest::Method::POST,
                &format!("{path}/start"),
                Body::Empty,
            )
            .await;
        let view: DeviceView = match started {
            Ok(reply) => parse("facemap/capture/start", &reply)?,
            // The expired-token fault goes on to capture an ended transaction.
            Err(FacemapError::Refused { status: 409, .. })
                if self.fault == Some(FacemapFault::ExpiredToken) =>
            {
                DeviceView {
                    transaction_reference: reference.to_owned(),
                    transaction_result: String::new(),
                    timestamp_expires: 0,
                }
            }
            Err(error) => return Err(error),
        };
        let Some(wire) = face.wire() else {
            return Ok(CaptureOutcome {
                transaction_reference: view.transaction_reference,
                face,
                transaction_result: view.transaction_result,
                timestamp_expires: view.timestamp_expires,
            });
        };
        let skew = match self.fault {
            Some(FacemapFault::ClockSkew(ms)) => ms,
            _ => 0,
        };
        let body = serde_json::json!({"face": wire, "timestamp": now_ms.saturating_add(skew)});
        let reply = self
            .send(
                "facemap/capture",
                reqwest::Method::POST,
                &format!("{path}/capture"),
                Body::Json(body.clone()),
            )
            .await?;
        let view: DeviceView = parse("facemap/capture", &reply)?;
        if self.fault == Some(FacemapFault::Replay) {
            // The identical capture again: the server must refuse it.
            let replay = self
                .send(
                    "replay",
                    reqwest::Method::POST,
                    &format!("{path}/capture"),
                    Body::Json(body),
                )
                .await;
            if replay.is_ok() {
                return Err(FacemapError::InvalidResponse {
                    what: "facemap/capture",
                    detail: "the server accepted the same capture twice".to_owned(),
                });
            }
        }
        Ok(CaptureOutcome {
            transaction_reference: view.transaction_reference,
            face,
            transaction_result: view.transaction_result,
            timestamp_expires: view.timestamp_expires,
        })
    }

    async fn send(
        &self,
        label: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Body,
    ) -> Result<(u16, Vec<u8>), FacemapError> {
        let base = if self.fault == Some(FacemapFault::ServerDown) {
            // Port 9 (discard) on loopback: nobody listens there on a test machine.
            "http://127.0.0.1:9".to_owned()
        } else {
            self.base_url.clone()
        };
        let url = format!("{base}{path}");
        let secret = if self.fault == Some(FacemapFault::WrongSecret) {
            format!("{}-wrong", self.credentials.api_secret)
        } else {
            self.credentials.api_secret.clone()
        };
        let mut request = self
            .http
            .request(method.clone(), &url)
            .basic_auth(&self.credentials.api_token, Some(secret))
            .header("Accept", "application/json");
        if let Some(agent) = &self.user_agent {
            request = request.header("User-Agent", agent);
        }
        let mut shown_headers = vec![
            ("Accept".to_owned(), "application/json".to_owned()),
            (
                "Authorization".to_owned(),
                format!("Basic {}", crate::events::REDACTED),
            ),
        ];
        if let Some(agent) = &self.user_agent {
            shown_headers.push(("User-Agent".to_owned(), agent.clone()));
        }
        let shown_body = match body {
            Body::Empty => String::new(),
            Body::Json(value) => {
                shown_headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
                let text = value.to_string();
                request = request
                    .header("Content-Type", "application/json")
                    .body(text.clone());
                text
            }
            Body::Multipart { facemap, metadata } => {
                shown_headers.push(("Content-Type".to_owned(), "multipart/form-data".to_owned()));
                let size = facemap.len();
                let facemap_part = reqwest::multipart::Part::bytes(facemap)
                    .file_name("facemap.bin")
                    .mime_str("application/octet-stream")
                    .map_err(|e| FacemapError::Facemap(e.to_string()))?;
                let metadata_part = reqwest::multipart::Part::text(metadata.clone())
                    .mime_str("application/json")
                    .map_err(|e| FacemapError::Facemap(e.to_string()))?;
                let form = reqwest::multipart::Form::new()
                    .part("facemap", facemap_part)
                    .part("enrollmentMetadata", metadata_part);
                request = request.multipart(form);
                format!(
                    "facemap: {size} bytes {}\nenrollmentMetadata: {metadata}",
                    crate::events::REDACTED
                )
            }
        };
        let started = Instant::now();
        let outcome = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, bytes.to_vec()))
        }
        .await;
        let elapsed = started.elapsed();
        let (reply, error) = match outcome {
            Ok(reply) => (Some(reply), None),
            Err(e) if e.is_timeout() => (
                None,
                Some(FacemapError::Timeout {
                    url: url.clone(),
                    after: self.timeout,
                }),
            ),
            Err(e) => (
                None,
                Some(FacemapError::Network {
                    url: url.clone(),
                    detail: error_chain(&e),
                }),
            ),
        };
        self.events.exchange(&Exchange {
            label,
            method: method.to_string(),
            url: url.clone(),
            request_headers: shown_headers,
            request_body: shown_body,
            request_plaintext: None,
            status: reply.as_ref().map(|r| r.0),
            response_headers: reply.as_ref().map(|r| r.1.clone()).unwrap_or_default(),
            response_body: reply
                .as_ref()
                .map(|r| String::from_utf8_lossy(&r.2).into_owned())
                .unwrap_or_default(),
            response_plaintext: None,
            elapsed,
            error: error.as_ref().map(ToString::to_string),
            fault: self.fault.map(|f| format!("{f:?}")),
        });
        if let Some(error) = error {
            return Err(error);
        }
        let (status, _, body) = reply.unwrap_or_default();
        if !(200..300).contains(&status) {
            let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            return Err(FacemapError::Refused {
                status,
                message: value["message"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(200).collect()),
                transaction_result: value["transactionResult"].as_str().map(str::to_owned),
            });
        }
        Ok((status, body))
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    what: &'static str,
    reply: &(u16, Vec<u8>),
) -> Result<T, FacemapError> {
    serde_json::from_slice(&reply.1).map_err(|e| FacemapError::InvalidResponse {
        what,
        detail: e.to_string(),
    })
}

/// A reference as one path segment: anything but letters, digits and `-` is
/// percent-encoded, so a reference cannot reach another path.
fn path_part(reference: &str) -> String {
    reference
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faces_and_faults_parse_by_name() {
        for face in Face::ALL {
            assert_eq!(face.name().parse::<Face>(), Ok(face));
        }
        assert!("smile".parse::<Face>().is_err());
        assert_eq!("wrong-secret".parse(), Ok(FacemapFault::WrongSecret));
        assert_eq!(
            "clock-skew=-5000".parse(),
            Ok(FacemapFault::ClockSkew(-5000))
        );
        assert_eq!(
            "clock-skew".parse(),
            Ok(FacemapFault::ClockSkew(crate::catalogue::CLOCK_SKEW_MS))
        );
        assert!("replay=3".parse::<FacemapFault>().is_err());
        assert!("wrong-pin".parse::<FacemapFault>().is_err());
    }

    #[test]
    fn references_stay_one_path_segment() {
        assert_eq!(path_part("ab-12"), "ab-12");
        assert_eq!(path_part("../x?y"), "%2E%2E%2Fx%3Fy");
    }

    #[test]
    fn the_secret_never_prints() {
        let credentials = ApiCredentials {
            api_token: "token".to_owned(),
            api_secret: "s3cret".to_owned(),
        };
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }
}
