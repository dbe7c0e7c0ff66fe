//! [`Client`]: HTTP over `reqwest` (rustls), with timeouts, the inspector and faults.
//!
//! Requests are built as data ([`Request`]) and answers read as data ([`Reply`]), so
//! every flow's request building and response handling is testable without a socket.
//! Nothing is retried: a signed request consumes a counter value, and a retry of a
//! non-idempotent call is the caller's decision.

pub(crate) mod envelope;
mod message;
pub mod unlocked;

use message::Answer;
pub use message::{Reply, Request};

pub use envelope::{error_parts, response_object};

use crate::Error;
use crate::events::{Events, Exchange, Warning, redact_header, redact_json};
use crate::fault::Fault;
use powerauth::RandomSource;
use powerauth::ecies::ResponseDecryptor;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The device's clock (`tokensim-clock`'s, the one the sandbox uses too), in Unix
/// milliseconds. No hidden `SystemTime::now()` in the flows.
pub use tokensim_clock::{Clock, SystemClock};

/// The largest response body the device reads (16 MiB). The protocol's answers are a few
/// kilobytes; an operation list of thousands stays far below this.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How the client talks HTTP.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Whole-request timeout (connect, send, receive).
    pub timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Show secrets in inspector events (signatures, digests, keys).
    pub reveal_secrets: bool,
    /// `Accept-Language` for the mobile-token API's localised texts.
    pub accept_language: Option<String>,
    /// Certificates (DER) trusted as roots besides the built-in ones: a server behind a
    /// private certificate authority.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(5),
            reveal_secrets: false,
            accept_language: None,
            extra_roots: Vec::new(),
        }
    }
}

/// The HTTP client of the simulated token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    events: Arc<dyn Events>,
    pub(crate) rng: Arc<dyn RandomSource>,
    clock: Arc<dyn Clock>,
    pub(crate) fault: Option<Fault>,
    knowledge_keys: Option<Arc<unlocked::UnlockedKnowledgeKeys>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the system clock and randomness.
    pub fn new(config: ClientConfig, events: Arc<dyn Events>) -> Result<Self, Error> {
        Self::with(
            config,
            events,
            Arc::new(powerauth::SystemRandom::new()),
            Arc::new(SystemClock),
        )
    }

    /// A client with an explicit random source and clock.
    pub fn with(
        config: ClientConfig,
        events: Arc<dyn Events>,
        rng: Arc<dyn RandomSource>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let failed = |e: reqwest::Error| Error::Network {
            url: String::new(),
            detail: e.to_string(),
        };
        let mut http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout);
        for der in &config.extra_roots {
            http = http.add_root_certificate(reqwest::Certificate::from_der(der).map_err(failed)?);
        }
        let http = http.build().map_err(failed)?;
        Ok(Self {
            http,
            config,
            events,
            rng,
            clock,
            fault: None,
            knowledge_keys: None,
        })
    }

    /// The same client keeping each device's knowledge key unlocked in memory once the
    /// device has held it in the clear with a PIN (at activation), instead of running the
    /// PIN's PBKDF2 (10,000 iterations) for every PIN signature as the mobile SDK does.
    /// Only the same PIN on the same protected key is answered from memory; the requests
    /// are byte for byte the same. For fleets of simulated devices, where that PBKDF2 is
    /// most of a device's CPU time; a tester's own device should not use it.
    pub fn keep_knowledge_keys_unlocked(self) -> Self {
        Self {
            knowledge_keys: Some(Arc::default()),
            ..self
        }
    }

    /// The kept knowledge keys, when [`Client::keep_knowledge_keys_unlocked`] was asked.
    pub fn unlocked_knowledge_keys(&self) -> Option<&unlocked::UnlockedKnowledgeKeys> {
        self.knowledge_keys.as_deref()
    }

    /// The knowledge key of `protected` under `pin`: from memory when kept, else PBKDF2.
    pub(crate) fn knowledge_key(
        &self,
        activation_id: &str,
        protected: &powerauth::vault::ProtectedKnowledgeKey,
        pin: &str,
    ) -> powerauth::SymmetricKey {
        self.knowledge_keys
            .as_deref()
            .and_then(|kept| kept.get(activation_id, protected, pin))
            .unwrap_or_else(|| protected.unlock(pin))
    }

    /// Keeps `key` (the clear form of `protected` under `pin`) when asked to.
    pub(crate) fn keep_knowledge_key(
        &self,
        activation_id: &str,
        protected: &powerauth::vault::ProtectedKnowledgeKey,
        pin: &str,
        key: &powerauth::SymmetricKey,
    ) {
        if let Some(kept) = &self.knowledge_keys {
            kept.keep(activation_id, protected, pin, key);
        }
    }

    /// The same client with one fault armed for the calls made through it.
    pub fn with_fault(&self, fault: Fault) -> Self {
        Self {
            fault: Some(fault),
            ..self.clone()
        }
    }

    /// The same client reporting to other events.
    pub fn with_events(&self, events: Arc<dyn Events>) -> Self {
        Self {
            events,
            ..self.clone()
        }
    }

    /// The events sink.
    pub fn events(&self) -> Arc<dyn Events> {
        self.events.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The random source.
    pub fn rng(&self) -> &dyn RandomSource {
        self.rng.as_ref()
    }

    /// The device clock, shifted by a `ClockSkew` fault.
    pub fn now_ms(&self) -> u64 {
        // A clock before 1970 reads as 1970: the protocol's timestamps are unsigned.
        let now = u64::try_from(self.clock.now_ms()).unwrap_or(0);
        match self.fault {
            Some(Fault::ClockSkew(ms)) => now.saturating_add_signed(ms),
            _ => now,
        }
    }

    /// Reports a warning.
    pub fn warn(&self, code: &'static str, message: String) {
        tracing::warn!(code, "{message}");
        self.events.warning(&Warning { code, message });
    }

    /// Sends `request` to `base_url` and reads the answer. Applies `SlowNetwork`,
    /// `DropResponse` and `ReplaySignature` faults.
    pub async fn execute(&self, base_url: &str, mut request: Request) -> Result<Reply, Error> {
        let decryptor = request.decryptor.take();
        let url = format!("{base_url}{}", request.path);
        let started = Instant::now();
        let outcome = self.round_trip(&url, &request).await;
        let elapsed = started.elapsed();
        let fault = self.fault.map(|f| f.to_string());
        let (reply, error) = match outcome {
            Ok(answer) => (Some(answer.into_reply(decryptor)), None),
            Err(error) => (None, Some(error)),
        };
        self.emit(
            &url,
            request.label,
            &request.method,
            &request.headers,
            &request.body,
            request.plaintext.as_deref(),
            reply.as_ref(),
            error.as_ref(),
            elapsed,
            fault.clone(),
        );
        let reply = match (reply, error) {
            (Some(reply), None) => reply,
            (_, Some(error)) => return Err(error),
            (None, None) => return Err(Error::invalid(request.label, "no answer")),
        };
        let authenticated = request.header_value(AUTHORIZATION).is_some()
            || request
                .header_value(powerauth::token::TokenHeader::NAME)
                .is_some();
        if self.fault == Some(Fault::ReplaySignature) && authenticated {
            // The same bytes and header again: the server must reject the second one.
            let started = Instant::now();
            let replay = self.round_trip(&url, &request).await;
            let (replayed, error) = match replay {
                Ok(answer) => (Some(answer.into_reply(None)), None),
                Err(error) => (None, Some(error)),
            };
            self.emit(
                &url,
                "replay",
                &request.method,
                &request.headers,
                &request.body,
                None,
                replayed.as_ref(),
                error.as_ref(),
                started.elapsed(),
                fault,
            );
        }
        if self.fault == Some(Fault::DropResponse) {
            return Err(Error::ResponseDropped { url });
        }
        Ok(reply)
    }

    async fn round_trip(&self, url: &str, request: &Request) -> Result<Answer, Error> {
        if let Some(Fault::SlowNetwork(ms)) = self.fault {
            let delay = Duration::from_millis(ms);
            if delay >= self.config.timeout {
                tokio::time::sleep(self.config.timeout).await;
                return Err(Error::Timeout {
                    url: url.to_owned(),
                    after: self.config.timeout,
                });
            }
            tokio::time::sleep(delay).await;
        }
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        if let Some(language) = &self.config.accept_language {
            builder = builder.header("Accept-Language", language);
        }
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let network = |e: reqwest::Error| {
            if e.is_timeout() {
                Error::Timeout {
                    url: url.to_owned(),
                    after: self.config.timeout,
                }
            } else {
                Error::Network {
                    url: url.to_owned(),
                    detail: error_chain(&e),
                }
            }
        };
        let response = builder
            .body(request.body.clone())
            .send()
            .await
            .map_err(network)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let too_large = || Error::ResponseTooLarge {
            url: url.to_owned(),
            limit: MAX_RESPONSE_BYTES,
        };
        // A server (or something posing as one) may announce or send any size: read at
        // most the cap, and stop at the first byte past it.
        if response
            .content_length()
            .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &self,
        url: &str,
        label: &'static str,
        method: &reqwest::Method,
        headers: &[(String, String)],
        body: &[u8],
        plaintext: Option<&str>,
        reply: Option<&Reply>,
        error: Option<&Error>,
        elapsed: Duration,
        fault: Option<String>,
    ) {
        let reveal = self.config.reveal_secrets;
        let show = |text: &str| {
            if reveal {
                text.to_owned()
            } else {
                redact_json(text)
            }
        };
        let text = |bytes: &[u8]| show(&String::from_utf8_lossy(bytes));
        let exchange = Exchange {
            label,
            method: method.to_string(),
            url: url.to_owned(),
            request_headers: headers
                .iter()
                .map(|(n, v)| {
                    let v = if reveal {
                        v.clone()
                    } else {
                        redact_header(n, v)
                    };
                    (n.clone(), v)
                })
                .collect(),
            request_body: text(body),
            request_plaintext: plaintext.map(show),
            status: reply.map(|r| r.status),
            response_headers: reply.map(|r| r.headers.clone()).unwrap_or_default(),
            response_body: reply.map(|r| text(&r.body)).unwrap_or_default(),
            response_plaintext: reply
                .and_then(|r| r.plaintext.as_ref())
                .and_then(|p| p.as_ref().ok())
                .map(|p| text(p)),
            elapsed,
            error: error.map(|e| e.to_string()),
            fault,
        };
        tracing::debug!(label, url, status = ?exchange.status, ?elapsed, "http exchange");
        self.events.exchange(&exchange);
    }
}

/// `X-PowerAuth-Authorization`.
pub const AUTHORIZATION: &str = "X-PowerAuth-Authorization";

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

/// Encrypts a request body, applying the `CorruptMac` fault. Returns the JSON body and
/// the decryptor of the answer.
pub(crate) fn encrypt(
    client: &Client,
    encryptor: &powerauth::ecies::Encryptor<'_>,
    recipient: powerauth::ecies::Recipient<'_>,
    plaintext: &[u8],
) -> Result<(Vec<u8>, ResponseDecryptor), Error> {
    let (mut request, decryptor) = encryptor
        .encrypt_request(recipient, plaintext, client.rng(), client.now_ms())
        .map_err(|e| Error::Protocol(e.to_string()))?;
    if client.fault == Some(Fault::CorruptMac) {
        request.mac[0] ^= 0x01;
    }
    Ok((request.to_json().into_bytes(), decryptor))
}
