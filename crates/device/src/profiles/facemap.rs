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
//! Faults are the catalogue's (`crate::catalogue`, profile `facemap`), armed with
//! [`FacemapClient::with_fault`] and judged by [`FacemapClient::fault_report`]:
//!
//! | Fault | What the client does | What the sandbox must answer |
//! |---|---|---|
//! | `wrong-secret` | Basic auth with another API secret | 403 `wrong API token or secret` |
//! | `replay` | the capture of a transaction it has just finished, sent again | 409 with the final state |
//! | `clock-skew` | the capture's timestamp off by the given ms | 400 beyond 5 minutes (the transaction stays open), else accepted |
//! | `expired-token` | the capture of an expired transaction: one whose time is up (the sandbox's clock), or, while it is still open, one the bank superseded (a newer initiate for its enrollment ends it `EXPIRED`) | 409 with `EXPIRED` |
//! | `server-down` | the call to a port nobody listens on | a network error |

use crate::events::{Events, Exchange, Recorder, Warning};
use crate::{Fault, FaultReport};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The face the device shows to the camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// The profile's name in the catalogues.
pub const PROFILE: &str = "facemap";

/// How far the capture's timestamp may be from the sandbox's clock (the sandbox's rule).
pub const CLOCK_TOLERANCE_MS: i64 = 5 * 60 * 1000;

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

/// The `User-Agent` sent (Jumio asks for the company and application).
pub const USER_AGENT: &str = concat!("TokenSim tokensim/", env!("CARGO_PKG_VERSION"));

/// A client of the sandbox's facemap profile. Cheap to clone.
#[derive(Clone)]
pub struct FacemapClient {
    http: reqwest::Client,
    base_url: String,
    credentials: ApiCredentials,
    events: Arc<dyn Events>,
    fault: Option<Fault>,
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

    /// The same client with a catalogue fault armed; refused when the catalogue does not
    /// list it for profile `facemap`.
    pub fn with_fault(&self, fault: Option<Fault>) -> Result<Self, crate::Error> {
        super::check_fault(PROFILE, fault)?;
        Ok(Self {
            fault,
            ..self.clone()
        })
    }

    /// The same client, its exchanges also kept in `recorder` (for a fault report).
    pub fn recorded(&self, recorder: Arc<Recorder>) -> Self {
        Self {
            events: Arc::new(Forward(self.events.clone(), recorder)),
            ..self.clone()
        }
    }

    /// The fault armed, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault
    }

    /// The verdict on a faulted call's `result`, from the `exchanges` it made (a client
    /// made with [`FacemapClient::recorded`]): what the sandbox must answer for the fault
    /// armed (the table in the module docs) and whether it did. `None` without a fault.
    pub fn fault_report<T>(
        &self,
        result: &Result<T, FacemapError>,
        exchanges: Vec<Exchange>,
    ) -> Option<FaultReport> {
        let fault = self.fault?;
        let refused = |code: u16| matches!(result, Err(FacemapError::Refused { status, .. }) if *status == code);
        let (required, matched) = match fault {
            Fault::WrongSecret => (
                "HTTP 403 wrong API token or secret (Jumio answers 403 to bad Basic credentials)".to_owned(),
                refused(403),
            ),
            Fault::ServerDown => (
                "a network error (nobody listens); no transaction changes".to_owned(),
                matches!(result, Err(FacemapError::Network { .. })),
            ),
            Fault::ReplaySignature => {
                let replay = exchanges.iter().find(|e| e.label == "replay");
                (
                    "the capture accepted, the same capture of the finished transaction refused with HTTP 409 and its final state".to_owned(),
                    result.is_ok() && replay.and_then(|e| e.status) == Some(409),
                )
            }
            Fault::ClockSkew(ms) if ms.abs() > CLOCK_TOLERANCE_MS => (
                format!(
                    "HTTP 400: a device clock {} s off is beyond the {} s the sandbox allows; the transaction stays open",
                    ms.abs() / 1000,
                    CLOCK_TOLERANCE_MS / 1000
                ),
                refused(400),
            ),
            Fault::ClockSkew(ms) => (
                format!("accepted: a device clock {} s off is within the {} s allowed", ms.abs() / 1000, CLOCK_TOLERANCE_MS / 1000),
                result.is_ok(),
            ),
            Fault::ExpiredToken => (
                "HTTP 409 with transactionResult EXPIRED: an expired transaction cannot be captured".to_owned(),
                matches!(result, Err(FacemapError::Refused { status: 409, transaction_result: Some(r), .. }) if r == "EXPIRED"),
            ),
            // `with_fault` refuses every other fault.
            _ => ("not applicable".to_owned(), false),
        };
        Some(FaultReport {
            fault,
            sent: exchanges
                .iter()
                .map(|e| format!("{} {}", e.method, e.url))
                .collect(),
            answered: match result {
                Ok(_) => "success".to_owned(),
                Err(e) => e.to_string(),
            },
            required,
            matched,
            exchanges,
        })
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
        if self.fault == Some(Fault::ExpiredToken) {
            self.supersede(reference).await?;
        }
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
                if self.fault == Some(Fault::ExpiredToken) =>
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
            Some(Fault::ClockSkew(ms)) => ms,
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
        if self.fault == Some(Fault::ReplaySignature) {
            // The identical capture of the now finished transaction: the server must
            // refuse it (its answer is judged by `fault_report`).
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
                    detail: "the server accepted the capture of a finished transaction again"
                        .to_owned(),
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

    /// `expired-token` on a transaction still open: the bank initiates a newer transaction
    /// for its enrollment, which ends it `EXPIRED` (only the last one can finish). One that
    /// has already ended (its time is up on the sandbox's clock) is left as it is.
    async fn supersede(&self, reference: &str) -> Result<(), FacemapError> {
        let unfaulted = Self {
            fault: None,
            ..self.clone()
        };
        let detail = unfaulted.detail(reference).await?;
        if matches!(detail.transaction_result.as_str(), "CREATED" | "STARTED") {
            unfaulted
                .initiate(
                    vec![0; 16],
                    &EnrollmentMetadata {
                        enrollment_transaction_reference: detail.enrollment_transaction_reference,
                        user_reference: detail.user_reference,
                        ..EnrollmentMetadata::default()
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn send(
        &self,
        label: &'static str,
        method: reqwest::Method,
        path: &str,
        body: Body,
    ) -> Result<(u16, Vec<u8>), FacemapError> {
        let base = if self.fault == Some(Fault::ServerDown) {
            super::closed_port_url()
        } else {
            self.base_url.clone()
        };
        let url = format!("{base}{path}");
        let secret = if self.fault == Some(Fault::WrongSecret) {
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
            fault: self.fault.map(|f| f.to_string()),
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

/// The bank's callback URL for a local sandbox: an HTTP server on a loopback port that keeps
/// each callback's `transactionReference` and `transactionResult` (Jumio's form fields). It
/// stops when dropped.
pub struct CallbackReceiver {
    url: String,
    seen: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackReceiver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl CallbackReceiver {
    /// Listens on a loopback port of this machine, on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let seen: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>> = Arc::default();
        let kept = seen.clone();
        let router = axum::Router::new().route(
            "/facemap/callback",
            axum::routing::post(
                move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                    let kept = kept.clone();
                    async move {
                        match (
                            form.get("transactionReference"),
                            form.get("transactionResult"),
                        ) {
                            (Some(reference), Some(result)) => {
                                kept.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .insert(reference.clone(), result.clone());
                                axum::http::StatusCode::OK
                            }
                            _ => axum::http::StatusCode::BAD_REQUEST,
                        }
                    }
                },
            ),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            url: format!("http://{address}/facemap/callback"),
            seen,
            _stop: stop,
        })
    }

    /// The URL to give as `callbackUrl`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The state the callback of `reference` carried, if one came.
    pub fn result_of(&self, reference: &str) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(reference)
            .cloned()
    }

    /// How many callbacks came.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A transaction as a person following it sees it (the app's Face authentication tab).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// `authenticationTransactionReference`.
    pub reference: String,
    /// The enrollment it is compared with.
    pub enrollment: String,
    /// The bank's reference for the user.
    pub user_reference: Option<String>,
    /// `CREATED`, `STARTED`, `PASSED`, `FAILED`, `INVALID` or `EXPIRED`, as the bank's
    /// server retrieves it now.
    pub state: String,
    /// The face the device showed, if it performed the capture (`live`…).
    pub face: Option<Face>,
    /// When it expires (Unix ms by the sandbox's clock as the device last heard it).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub expires_ms: i64,
    /// The newer transaction for the same enrollment that ended this one `EXPIRED`.
    pub superseded_by: Option<String>,
    /// The state the bank's callback URL received, if the callback came.
    pub callback: Option<String>,
}

/// The bank's server and one device on a local sandbox, as the app drives them: initiate
/// (with the session's callback receiver as `callbackUrl`), capture with a chosen face, and
/// every transaction made here as a user sees it.
pub struct FacemapSession {
    client: FacemapClient,
    receiver: CallbackReceiver,
    made: std::sync::Mutex<Vec<Made>>,
}

#[derive(Clone)]
struct Made {
    reference: String,
    enrollment: String,
    user_reference: Option<String>,
    expires_ms: i64,
    face: Option<Face>,
}

impl std::fmt::Debug for FacemapSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FacemapSession")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Makes API credentials for `application` with the sandbox's Cloud admin login (`POST
/// /profiles/facemap/credentials` of the sandbox at `sandbox_url`); the secret is in the
/// answer only.
pub async fn make_credentials(
    sandbox_url: &str,
    admin_user: &str,
    admin_password: &str,
    application: &str,
    timeout: Duration,
) -> Result<ApiCredentials, FacemapError> {
    let url = format!(
        "{}/profiles/facemap/credentials",
        sandbox_url.trim_end_matches('/')
    );
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| FacemapError::Network {
            url: url.clone(),
            detail: e.to_string(),
        })?;
    let answer = http
        .post(&url)
        .basic_auth(admin_user, Some(admin_password))
        .json(&serde_json::json!({ "applicationId": application }))
        .send()
        .await
        .map_err(|e| FacemapError::Network {
            url: url.clone(),
            detail: error_chain(&e),
        })?;
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    match (body["apiToken"].as_str(), body["apiSecret"].as_str()) {
        (Some(token), Some(secret)) if status == 200 => Ok(ApiCredentials {
            api_token: token.to_owned(),
            api_secret: secret.to_owned(),
        }),
        _ => Err(FacemapError::Refused {
            status,
            message: body["responseObject"]["message"]
                .as_str()
                .or(body["message"].as_str())
                .unwrap_or("no API credentials in the answer")
                .to_owned(),
            transaction_result: None,
        }),
    }
}

impl FacemapSession {
    /// A session of `client`, with a callback receiver of its own.
    pub async fn start(client: FacemapClient) -> Result<Self, FacemapError> {
        let receiver = CallbackReceiver::start()
            .await
            .map_err(|e| FacemapError::Network {
                url: "127.0.0.1 (the callback receiver)".to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Self {
            client,
            receiver,
            made: std::sync::Mutex::new(Vec::new()),
        })
    }

    fn made(&self) -> std::sync::MutexGuard<'_, Vec<Made>> {
        self.made.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// As the bank's server: a new transaction for `enrollment` with `facemap`, the
    /// session's receiver as its callback URL. `now_ms` (the device's clock) dates its
    /// expiry until the device hears the sandbox's.
    pub async fn initiate(
        &self,
        enrollment: &str,
        user_reference: Option<String>,
        facemap: Vec<u8>,
        now_ms: i64,
    ) -> Result<TransactionView, FacemapError> {
        let initiated = self
            .client
            .initiate(
                facemap,
                &EnrollmentMetadata {
                    enrollment_transaction_reference: enrollment.to_owned(),
                    user_reference: user_reference.clone(),
                    callback_url: Some(self.receiver.url().to_owned()),
                    ..EnrollmentMetadata::default()
                },
            )
            .await?;
        self.made().push(Made {
            reference: initiated.authentication_transaction_reference.clone(),
            enrollment: enrollment.to_owned(),
            user_reference,
            expires_ms: now_ms.saturating_add(15 * 60 * 1000),
            face: None,
        });
        self.view(&initiated.authentication_transaction_reference)
            .await
    }

    /// As the device: performs the face capture for `reference` showing `face`, with the
    /// catalogue's `fault` (then the result is the fault's verdict too).
    pub async fn capture(
        &self,
        reference: &str,
        face: Face,
        fault: Option<Fault>,
        now_ms: i64,
    ) -> Result<(TransactionView, Option<FaultReport>), FacemapError> {
        let recorder = Arc::new(Recorder::default());
        let client = self
            .client
            .with_fault(fault)
            .map_err(|e| FacemapError::Facemap(e.to_string()))?
            .recorded(recorder.clone());
        let result = client.capture(reference, face, now_ms).await;
        let report = client.fault_report(&result, recorder.exchanges());
        match result {
            Err(error) if report.is_none() => return Err(error),
            Err(_) => {}
            Ok(outcome) => {
                if let Some(made) = self.made().iter_mut().find(|m| m.reference == reference) {
                    made.face = Some(face);
                    if outcome.timestamp_expires > 0 {
                        made.expires_ms = outcome.timestamp_expires;
                    }
                }
            }
        }
        Ok((self.view(reference).await?, report))
    }

    /// One transaction made here, as the bank's server retrieves it now.
    pub async fn view(&self, reference: &str) -> Result<TransactionView, FacemapError> {
        let made = self
            .made()
            .iter()
            .find(|m| m.reference == reference)
            .cloned()
            .ok_or_else(|| FacemapError::Refused {
                status: 404,
                message: format!("no transaction {reference:?} was made here"),
                transaction_result: None,
            })?;
        let detail = self.client.detail(reference).await?;
        let superseded_by = (detail.transaction_result == "EXPIRED")
            .then(|| {
                self.made()
                    .iter()
                    .skip_while(|m| m.reference != reference)
                    .skip(1)
                    .find(|m| m.enrollment == made.enrollment)
                    .map(|m| m.reference.clone())
            })
            .flatten();
        Ok(TransactionView {
            reference: made.reference,
            enrollment: made.enrollment,
            user_reference: made.user_reference,
            state: detail.transaction_result,
            face: made.face,
            expires_ms: made.expires_ms,
            superseded_by,
            callback: self.receiver.result_of(reference),
        })
    }

    /// Every transaction made here, newest first.
    pub async fn transactions(&self) -> Result<Vec<TransactionView>, FacemapError> {
        let references: Vec<String> = self
            .made()
            .iter()
            .rev()
            .map(|m| m.reference.clone())
            .collect();
        let mut views = Vec::with_capacity(references.len());
        for reference in references {
            views.push(self.view(&reference).await?);
        }
        Ok(views)
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
    fn faces_parse_by_name_and_faults_come_from_the_catalogue() {
        for face in Face::ALL {
            assert_eq!(face.name().parse::<Face>(), Ok(face));
        }
        assert!("smile".parse::<Face>().is_err());
        let names: Vec<&str> = crate::catalogue::for_profile(PROFILE)
            .map(|spec| spec.name)
            .collect();
        assert_eq!(
            names,
            [
                "replay",
                "clock-skew",
                "expired-token",
                "wrong-secret",
                "server-down"
            ]
        );
        let client = FacemapClient::new(
            "http://127.0.0.1:1/profiles/facemap",
            ApiCredentials {
                api_token: "t".to_owned(),
                api_secret: "s".to_owned(),
            },
            Arc::new(Recorder::default()),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(client.with_fault(Some(Fault::WrongPin)).is_err());
        assert!(client.with_fault(Some(Fault::ClockSkew(-5000))).is_ok());
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
