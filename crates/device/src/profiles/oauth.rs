//! The OAuth 2.0 profile's device side: client credentials with refresh, and RFC 8628
//! device authorization with polling, through the `oauth2` crate over reqwest.
//!
//! ```text
//! OAuthClient::new(settings, storage)      storage: memory, keychain or file (TokenStorage)
//!   .authorize()          stored token if still valid -> refresh if expired -> client credentials
//!   .start_device(id)     -> DeviceCode { user_code, verification_uri(_complete), interval }
//!   .finish_device(&code) polls at the server's interval, +5 s on slow_down, stores the tokens
//!   .call_api()           GET /oauth2/api/me with the token; one refresh on 401 invalid_token
//!   .revoke()             RFC 7009 revocation of the refresh token, then clears storage
//! ```
//!
//! Storage comes first, always: a stored access token is reused until it expires, then the
//! stored refresh token is used; clearing the storage makes the client authenticate again.
//! Every HTTP exchange goes to [`Events`] with secrets (client secret, tokens, device and
//! user codes) redacted unless `reveal_secrets` is set; errors never carry a secret.
//!
//! Faults ([`OAuthFault`], named as in the catalogue): `expired-token` skips the local expiry
//! check, `wrong-secret` authenticates with a changed secret, `replay` presents a spent
//! device code (or a revoked refresh token) again, `clock-skew` shifts the device's clock,
//! `server-down` sends every request to a loopback port nobody listens on.

use crate::client::{Clock, SystemClock};
use crate::events::{Events, Exchange, NoEvents, REDACTED, redact_json};
use oauth2::basic::{BasicClient, BasicTokenType};
use oauth2::{
    ClientId, ClientSecret, DeviceAuthorizationUrl, EmptyExtraTokenFields, HttpRequest,
    HttpResponse, RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How far before its expiry a stored access token counts as expired (a request in flight
/// must not arrive with a token that died on the way).
pub const EXPIRY_MARGIN_MS: i64 = 5_000;

/// Where the client finds the authorization server and who it is.
#[derive(Clone)]
pub struct OAuthSettings {
    /// The server's base URL, e.g. `http://127.0.0.1:8780` (the sandbox).
    pub server: String,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`; `None` for a public client (device flow only).
    pub client_secret: Option<Zeroizing<String>>,
    /// The scope to ask for; the client's whole scope when `None`.
    pub scope: Option<String>,
    /// The storage slot of this client's tokens (a store id: letters, digits, `-`, `_`).
    pub slot: String,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("server", &self.server)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| REDACTED),
            )
            .field("scope", &self.scope)
            .field("slot", &self.slot)
            .finish()
    }
}

/// Tokens as the storage keeps them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The bearer access token.
    pub access_token: String,
    /// When it expires, Unix ms on the device's clock.
    pub access_expires_ms: i64,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<String>,
    /// The granted scope.
    pub scope: String,
    /// The device id, for a device authorization.
    pub device_id: Option<String>,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens")
            .field("access_token", &REDACTED)
            .field("access_expires_ms", &self.access_expires_ms)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| REDACTED),
            )
            .field("scope", &self.scope)
            .field("device_id", &self.device_id)
            .finish()
    }
}

impl Drop for StoredTokens {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.access_token.zeroize();
        if let Some(refresh) = &mut self.refresh_token {
            refresh.zeroize();
        }
    }
}

/// Why the token storage failed, in words for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

/// Where tokens live: the user's choice (memory, keychain, encrypted file). The wallet crate
/// implements it over the device store's backends; [`MemoryTokens`] keeps them in the process.
pub trait TokenStorage: Send + Sync {
    /// The tokens of `slot`, if any.
    fn load(&self, slot: &str) -> Result<Option<StoredTokens>, StorageError>;
    /// Replaces the tokens of `slot` (atomically: the old ones or the new ones, never half).
    fn save(&self, slot: &str, tokens: &StoredTokens) -> Result<(), StorageError>;
    /// Forgets the tokens of `slot`.
    fn clear(&self, slot: &str) -> Result<(), StorageError>;
}

/// Tokens kept in this process only.
#[derive(Debug, Default)]
pub struct MemoryTokens(Mutex<HashMap<String, StoredTokens>>);

impl MemoryTokens {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStorage for MemoryTokens {
    fn load(&self, slot: &str) -> Result<Option<StoredTokens>, StorageError> {
        Ok(self.0.lock().map_err(|_| poisoned())?.get(slot).cloned())
    }
    fn save(&self, slot: &str, tokens: &StoredTokens) -> Result<(), StorageError> {
        self.0
            .lock()
            .map_err(|_| poisoned())?
            .insert(slot.to_owned(), tokens.clone());
        Ok(())
    }
    fn clear(&self, slot: &str) -> Result<(), StorageError> {
        self.0.lock().map_err(|_| poisoned())?.remove(slot);
        Ok(())
    }
}

fn poisoned() -> StorageError {
    StorageError("the in-memory token storage is unusable after a crash in another thread".into())
}

/// A fault to inject, by its catalogue name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "fault", content = "value")]
pub enum OAuthFault {
    /// `expired-token`: use the stored access token even past its expiry.
    ExpiredToken,
    /// `wrong-secret`: authenticate with a changed client secret.
    WrongSecret,
    /// `replay`: present a spent device code, or a revoked refresh token, again.
    Replay,
    /// `clock-skew=MS`: the device's clock is this many ms ahead (negative: behind).
    ClockSkew(i64),
    /// `server-down`: nothing answers at the server's address.
    ServerDown,
}

/// The profile's name in the fault catalogue ([`crate::catalogue`]).
pub const PROFILE: &str = "oauth";

/// The names [`OAuthFault`] takes: the catalogue's faults for `oauth`.
pub fn fault_names() -> Vec<&'static str> {
    crate::catalogue::for_profile(PROFILE)
        .map(|spec| spec.name)
        .collect()
}

impl TryFrom<crate::Fault> for OAuthFault {
    type Error = String;

    /// The catalogue's fault as the OAuth client applies it; refused when the catalogue
    /// does not list it for `oauth`.
    fn try_from(fault: crate::Fault) -> Result<Self, String> {
        use crate::Fault;
        let refused = || {
            format!(
                "--fault {} does not apply to profile oauth; its faults: {}",
                fault.spec().name,
                fault_names().join(", ")
            )
        };
        if !fault.spec().profiles.contains(&PROFILE) {
            return Err(refused());
        }
        match fault {
            Fault::ExpiredToken => Ok(Self::ExpiredToken),
            Fault::WrongSecret => Ok(Self::WrongSecret),
            Fault::ReplaySignature => Ok(Self::Replay),
            Fault::ClockSkew(ms) => Ok(Self::ClockSkew(ms)),
            Fault::ServerDown => Ok(Self::ServerDown),
            _ => Err(refused()),
        }
    }
}

impl std::str::FromStr for OAuthFault {
    type Err = String;

    /// A catalogue name (`expired-token`, `wrong-secret`, `replay`, `clock-skew[=MS]`,
    /// `server-down`, or an alias), with the catalogue's defaults.
    fn from_str(text: &str) -> Result<Self, String> {
        text.parse::<crate::Fault>()?.try_into()
    }
}

impl std::fmt::Display for OAuthFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ExpiredToken => f.write_str("expired-token"),
            Self::WrongSecret => f.write_str("wrong-secret"),
            Self::Replay => f.write_str("replay"),
            Self::ClockSkew(ms) => write!(f, "clock-skew({ms} ms)"),
            Self::ServerDown => f.write_str("server-down"),
        }
    }
}

/// The grant types of a public point-of-sale client (RFC 8628 and its refresh).
pub const DEVICE_GRANT_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:grant-type:device_code",
    "refresh_token",
];

/// An RFC 7591 §2 client registration request: the metadata the sandbox's
/// `POST /oauth2/register` reads. Fields left `None` take the server's defaults (the
/// sandbox: `client_credentials` and `refresh_token`, `client_secret_basic`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientRegistration {
    /// `client_name`, what the verification page shows.
    pub client_name: String,
    /// `grant_types`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
    /// `token_endpoint_auth_method`: `none` for a public client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `scope`, space-separated.
    pub scope: String,
}

impl ClientRegistration {
    /// A confidential client for the client credentials grant (the server gives it a secret).
    pub fn confidential(client_name: &str, scope: &str) -> Self {
        Self {
            client_name: client_name.to_owned(),
            grant_types: None,
            token_endpoint_auth_method: None,
            scope: scope.to_owned(),
        }
    }

    /// A public point-of-sale client for the device authorization grant (no secret).
    pub fn device(client_name: &str, scope: &str) -> Self {
        Self {
            client_name: client_name.to_owned(),
            grant_types: Some(DEVICE_GRANT_TYPES.map(str::to_owned).to_vec()),
            token_endpoint_auth_method: Some("none".to_owned()),
            scope: scope.to_owned(),
        }
    }

    /// Whether the server must answer with a `client_secret`.
    pub fn is_confidential(&self) -> bool {
        self.token_endpoint_auth_method.as_deref() != Some("none")
    }
}

/// An RFC 7591 §3.2.1 registration answer (the fields the project reads).
#[derive(Clone, Deserialize)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, shown once; `None` for a public client.
    #[serde(default, deserialize_with = "zeroizing")]
    pub client_secret: Option<Zeroizing<String>>,
    /// `client_name` as the server kept it.
    #[serde(default)]
    pub client_name: Option<String>,
    /// `grant_types` as the server kept them.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// `scope` as granted.
    #[serde(default)]
    pub scope: Option<String>,
    /// `token_endpoint_auth_method`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
}

impl std::fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| REDACTED),
            )
            .field("client_name", &self.client_name)
            .field("grant_types", &self.grant_types)
            .field("scope", &self.scope)
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

fn zeroizing<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Zeroizing<String>>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Zeroizing::new))
}

/// The label of the registration exchange in the events (inspector, `--trace`).
pub const REGISTER_LABEL: &str = "profile/oauth/register";

/// Registers a client (RFC 7591 dynamic client registration, `POST /oauth2/register`)
/// through `pc`, so the exchange goes to the same [`Events`] sink as the other profile
/// calls, with the secret redacted. A refusal is [`crate::Error::Server`] with the RFC's
/// `error` (e.g. `invalid_client_metadata`); an answer without `client_id`, or a
/// confidential client's answer without `client_secret`, is
/// [`crate::Error::InvalidResponse`].
pub async fn register_client(
    pc: &crate::profiles::ProfileClient,
    registration: &ClientRegistration,
) -> crate::Result<RegisteredClient> {
    let body = serde_json::to_value(registration).map_err(|e| crate::Error::InvalidResponse {
        what: REGISTER_LABEL,
        detail: format!("cannot write the registration request: {e}"),
    })?;
    let answer = pc
        .send(
            REGISTER_LABEL,
            reqwest::Method::POST,
            "/oauth2/register",
            Vec::new(),
            Some(&body),
        )
        .await?;
    let registered: RegisteredClient =
        serde_json::from_value(answer.body).map_err(|e| crate::Error::InvalidResponse {
            what: REGISTER_LABEL,
            detail: format!(
                "it is not an RFC 7591 client registration ({e}): is the server a TokenSim sandbox?"
            ),
        })?;
    if registered.client_id.is_empty() {
        return Err(crate::Error::InvalidResponse {
            what: REGISTER_LABEL,
            detail: "the client_id is empty".to_owned(),
        });
    }
    if registration.is_confidential() && registered.client_secret.is_none() {
        return Err(crate::Error::InvalidResponse {
            what: REGISTER_LABEL,
            detail: format!(
                "a confidential client {} came back without a client_secret",
                registered.client_id
            ),
        });
    }
    tracing::debug!(client_id = %registered.client_id, "oauth: client registered");
    Ok(registered)
}

/// What went wrong. Messages say what to do and never carry a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The authorization server or the API refused, with an RFC 6749/8628/6750 `error`.
    #[error("the server refused ({status}): {error}{}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default(), hint(error))]
    Refused {
        /// HTTP status.
        status: u16,
        /// The `error` code, e.g. `invalid_client`.
        error: String,
        /// The server's `error_description`.
        description: Option<String>,
    },
    /// No answer: connection refused, timeout.
    #[error(
        "cannot reach {url}: {reason} (is the sandbox running? start it with `tokensim sandbox`)"
    )]
    Network {
        /// The URL called.
        url: String,
        /// Why.
        reason: String,
    },
    /// An answer that is not what RFC 6749 describes.
    #[error("the server's answer is not an OAuth answer: {0}")]
    Protocol(String),
    /// Nothing stored and nothing to authenticate with.
    #[error(
        "no stored tokens and no client secret: run the device authorization (tokensim profile oauth device)"
    )]
    NeedsDeviceAuthorization,
    /// The settings cannot work (bad URL, bad slot).
    #[error("{0}")]
    Settings(String),
    /// The token storage failed.
    #[error("token storage: {0}")]
    Storage(#[from] StorageError),
}

impl OAuthError {
    /// The RFC `error` code of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn hint(error: &str) -> &'static str {
    match error {
        "invalid_client" => " (check the client id and secret)",
        "invalid_grant" => {
            " (the refresh token or device code is no longer valid: authenticate again)"
        }
        "access_denied" => " (the user denied the device on the verification page)",
        "expired_token" => " (nobody approved in time: start the device authorization again)",
        "invalid_token" => " (the access token is expired or revoked)",
        _ => "",
    }
}

/// Where an access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenSource {
    /// Storage, still valid: no request made.
    Stored,
    /// Storage held an expired access token; the refresh token made a new one.
    Refreshed,
    /// The client credentials grant.
    ClientCredentials,
    /// The device authorization grant.
    DeviceAuthorization,
}

/// A valid access token and where it came from.
#[derive(Debug, Clone)]
pub struct Authorized {
    /// How it was obtained.
    pub source: TokenSource,
    /// The tokens (as stored).
    pub tokens: StoredTokens,
}

/// A started device authorization: what the user needs, and the device code (secret).
pub struct DeviceCode {
    response: StandardDeviceAuthorizationResponse,
    device_id: String,
}

impl DeviceCode {
    /// The code the user types on the verification page, e.g. `BCDF-GHJK`.
    pub fn user_code(&self) -> &str {
        self.response.user_code().secret()
    }
    /// Where the user goes.
    pub fn verification_uri(&self) -> &str {
        self.response.verification_uri()
    }
    /// The same with the user code filled in.
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.response
            .verification_uri_complete()
            .map(|uri| uri.secret().as_str())
    }
    /// How long the codes live.
    pub fn expires_in(&self) -> Duration {
        self.response.expires_in()
    }
    /// The polling interval the server asked for.
    pub fn interval(&self) -> Duration {
        self.response.interval()
    }
    /// The device id it was started for.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }
}

impl std::fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCode")
            .field("device_id", &self.device_id)
            .field("verification_uri", &self.verification_uri())
            .field("user_code", &REDACTED)
            .field("device_code", &REDACTED)
            .finish()
    }
}

/// What the protected API answered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiAnswer {
    /// Where the token came from.
    pub source: TokenSource,
    /// Whether the API refused the first token (401) and a refresh made it work.
    pub refreshed_after_401: bool,
    /// The API's JSON.
    pub body: serde_json::Value,
}

/// How the poll loop waits; tests move a test clock instead of sleeping.
pub type Sleep = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

type Tokens = StandardTokenResponse<EmptyExtraTokenFields, BasicTokenType>;

/// The device's OAuth client.
pub struct OAuthClient {
    settings: OAuthSettings,
    storage: Arc<dyn TokenStorage>,
    events: Arc<dyn Events>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    sleep: Sleep,
    fault: Option<OAuthFault>,
    reveal_secrets: bool,
    /// The HTTP status of the last answer (the `oauth2` crate keeps only the body).
    last_status: Arc<Mutex<u16>>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("settings", &self.settings)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

/// A closed loopback port: `server-down` sends there, so the failure is a real refused
/// connection.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9)
}

/// The HTTP client an [`OAuthClient`] uses: a 30 s timeout and no redirects. Many clients
/// may share one (its connection pool), as a fleet's devices do.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        // RFC 6749 §3.1: the token endpoint must not redirect credentials elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

impl OAuthClient {
    /// A client over `storage`, with the system clock and no events.
    pub fn new(settings: OAuthSettings, storage: Arc<dyn TokenStorage>) -> Self {
        Self {
            settings,
            storage,
            events: Arc::new(NoEvents),
            http: http_client(),
            clock: Arc::new(SystemClock),
            sleep: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
            fault: None,
            reveal_secrets: false,
            last_status: Arc::new(Mutex::new(0)),
        }
    }

    /// Reports every exchange to `events`.
    pub fn with_events(mut self, events: Arc<dyn Events>) -> Self {
        self.events = events;
        self
    }

    /// Sends through `http` (one made by [`http_client`], shared with other clients).
    pub fn with_http(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Reads "now" from `clock` (expiry of stored tokens).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Waits between polls with `sleep`.
    pub fn with_sleep(mut self, sleep: Sleep) -> Self {
        self.sleep = sleep;
        self
    }

    /// Injects `fault`.
    pub fn with_fault(mut self, fault: Option<OAuthFault>) -> Self {
        self.fault = fault;
        self
    }

    /// Shows secrets in events (the tester asked).
    pub fn reveal_secrets(mut self, reveal: bool) -> Self {
        self.reveal_secrets = reveal;
        self
    }

    /// The settings.
    pub fn settings(&self) -> &OAuthSettings {
        &self.settings
    }

    fn now_ms(&self) -> i64 {
        let now = self.clock.now_ms();
        match self.fault {
            Some(OAuthFault::ClockSkew(ms)) => now.saturating_add(ms),
            _ => now,
        }
    }

    fn base(&self) -> String {
        if self.fault == Some(OAuthFault::ServerDown) {
            return format!("http://127.0.0.1:{}", closed_port());
        }
        self.settings.server.trim_end_matches('/').to_owned()
    }

    fn url<T>(
        &self,
        path: &str,
        make: fn(String) -> Result<T, oauth2::url::ParseError>,
    ) -> Result<T, OAuthError> {
        make(format!("{}{path}", self.base())).map_err(|e| {
            OAuthError::Settings(format!(
                "the server URL {:?} is not a URL: {e}",
                self.settings.server
            ))
        })
    }

    fn secret(&self) -> Option<ClientSecret> {
        self.settings.client_secret.as_ref().map(|secret| {
            let mut secret = secret.to_string();
            if self.fault == Some(OAuthFault::WrongSecret) {
                secret.push('x');
            }
            ClientSecret::new(secret)
        })
    }

    /// The `oauth2` crate's client for our endpoints.
    #[allow(clippy::type_complexity)]
    fn oauth(
        &self,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        OAuthError,
    > {
        let mut client = BasicClient::new(ClientId::new(self.settings.client_id.clone()))
            .set_token_uri(self.url("/oauth2/token", TokenUrl::new)?)
            .set_device_authorization_url(
                self.url("/oauth2/device_authorization", DeviceAuthorizationUrl::new)?,
            );
        if let Some(secret) = self.secret() {
            client = client.set_client_secret(secret);
        }
        Ok(client)
    }

    /// The HTTP client the `oauth2` crate calls: reqwest, reporting each exchange.
    fn transport(
        &self,
        label: &'static str,
    ) -> impl Fn(
        HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse, HttpFailure>> + Send>>
    + '_ {
        move |request: HttpRequest| {
            let http = self.http.clone();
            let events = self.events.clone();
            let reveal = self.reveal_secrets;
            let fault = self.fault.map(|f| f.to_string());
            let last_status = self.last_status.clone();
            Box::pin(async move {
                let answer = send(&http, &*events, reveal, fault, label, request).await;
                if let (Ok(response), Ok(mut last)) = (&answer, last_status.lock()) {
                    *last = response.status().as_u16();
                }
                answer
            })
        }
    }

    fn store(&self, tokens: &StoredTokens) -> Result<(), OAuthError> {
        Ok(self.storage.save(&self.settings.slot, tokens)?)
    }

    fn to_stored(
        &self,
        answer: &Tokens,
        previous: Option<&StoredTokens>,
        device_id: Option<String>,
    ) -> StoredTokens {
        let lifetime = answer
            .expires_in()
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        StoredTokens {
            access_token: answer.access_token().secret().clone(),
            access_expires_ms: self.now_ms().saturating_add(lifetime),
            refresh_token: answer
                .refresh_token()
                .map(|r| r.secret().clone())
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            scope: answer
                .scopes()
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
                .or_else(|| previous.map(|p| p.scope.clone()))
                .unwrap_or_default(),
            device_id: device_id.or_else(|| previous.and_then(|p| p.device_id.clone())),
        }
    }

    fn scopes(&self) -> Vec<Scope> {
        self.settings
            .scope
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(|s| Scope::new(s.to_owned()))
            .collect()
    }

    /// A valid access token: from storage if it has not expired, else by refreshing the stored
    /// refresh token, else by the client credentials grant. A refresh refused with
    /// `invalid_grant` (revoked) clears the storage and, with a client secret, authenticates
    /// anew.
    pub async fn authorize(&self) -> Result<Authorized, OAuthError> {
        let stored = self.storage.load(&self.settings.slot)?;
        if let Some(tokens) = stored {
            let valid = self.now_ms() + EXPIRY_MARGIN_MS < tokens.access_expires_ms;
            if valid || self.fault == Some(OAuthFault::ExpiredToken) {
                return Ok(Authorized {
                    source: TokenSource::Stored,
                    tokens,
                });
            }
            if tokens.refresh_token.is_some() {
                match self.refresh(&tokens).await {
                    Ok(tokens) => {
                        return Ok(Authorized {
                            source: TokenSource::Refreshed,
                            tokens,
                        });
                    }
                    Err(error) if error.code() == Some("invalid_grant") => {
                        self.storage.clear(&self.settings.slot)?;
                        if self.settings.client_secret.is_none() {
                            return Err(error);
                        }
                    }
                    Err(error) => return Err(error),
                }
            }
        }
        if self.settings.client_secret.is_none() {
            return Err(OAuthError::NeedsDeviceAuthorization);
        }
        let tokens = self.client_credentials().await?;
        Ok(Authorized {
            source: TokenSource::ClientCredentials,
            tokens,
        })
    }

    /// The client credentials grant; stores the tokens.
    pub async fn client_credentials(&self) -> Result<StoredTokens, OAuthError> {
        let answer = self
            .oauth()?
            .exchange_client_credentials()
            .add_scopes(self.scopes())
            .request_async(&self.transport("oauth/token client_credentials"))
            .await
            .map_err(|e| self.token_error(e, "/oauth2/token"))?;
        let tokens = self.to_stored(&answer, None, None);
        self.store(&tokens)?;
        Ok(tokens)
    }

    /// The refresh grant with `tokens`' refresh token; stores the new access token beside
    /// the refresh token (kept when the server does not send a new one).
    pub async fn refresh(&self, tokens: &StoredTokens) -> Result<StoredTokens, OAuthError> {
        let Some(refresh) = &tokens.refresh_token else {
            return Err(OAuthError::Protocol("no refresh token is stored".into()));
        };
        let refresh = RefreshToken::new(refresh.clone());
        let answer = self
            .oauth()?
            .exchange_refresh_token(&refresh)
            .request_async(&self.transport("oauth/token refresh_token"))
            .await
            .map_err(|e| self.token_error(e, "/oauth2/token"))?;
        let fresh = self.to_stored(&answer, Some(tokens), None);
        self.store(&fresh)?;
        Ok(fresh)
    }

    /// Starts an RFC 8628 device authorization for `device_id` (`/vendor/acme/serial/1234`).
    pub async fn start_device(&self, device_id: &str) -> Result<DeviceCode, OAuthError> {
        let response: StandardDeviceAuthorizationResponse = self
            .oauth()?
            .exchange_device_code()
            .add_extra_param("device_id", device_id)
            .add_scopes(self.scopes())
            .request_async(&self.transport("oauth/device_authorization"))
            .await
            .map_err(|e| self.token_error(e, "/oauth2/device_authorization"))?;
        Ok(DeviceCode {
            response,
            device_id: device_id.to_owned(),
        })
    }

    /// Polls the token endpoint for `code` at the server's interval (5 s more after each
    /// `slow_down`) until the user decides or the code expires; stores the tokens.
    pub async fn finish_device(&self, code: &DeviceCode) -> Result<Authorized, OAuthError> {
        let sleep = self.sleep.clone();
        let oauth = self.oauth()?;
        let answer = oauth
            .exchange_device_access_token(&code.response)
            .request_async(
                &self.transport("oauth/token device_code"),
                move |d| sleep(d),
                None,
            )
            .await
            .map_err(|e| self.token_error(e, "/oauth2/token"))?;
        let tokens = self.to_stored(&answer, None, Some(code.device_id.clone()));
        self.store(&tokens)?;
        if self.fault == Some(OAuthFault::Replay) {
            // The spent device code again: the server must answer invalid_grant.
            let replay = oauth
                .exchange_device_access_token(&code.response)
                .request_async(
                    &self.transport("oauth/token device_code (replay)"),
                    |_| async {},
                    None,
                )
                .await;
            return match replay {
                Ok(_) => Err(OAuthError::Protocol(
                    "the server exchanged a spent device code a second time".into(),
                )),
                Err(e) => Err(self.token_error(e, "/oauth2/token")),
            };
        }
        Ok(Authorized {
            source: TokenSource::DeviceAuthorization,
            tokens,
        })
    }

    /// Calls the protected API (`GET /oauth2/api/me`) with a token from [`Self::authorize`];
    /// a 401 `invalid_token` gets one refresh and one retry.
    pub async fn call_api(&self) -> Result<ApiAnswer, OAuthError> {
        let authorized = self.authorize().await?;
        match self.api(&authorized.tokens).await {
            Err(error)
                if error.code() == Some("invalid_token")
                    && authorized.tokens.refresh_token.is_some() =>
            {
                let tokens = match self.refresh(&authorized.tokens).await {
                    Ok(tokens) => tokens,
                    Err(refresh_error) => {
                        if refresh_error.code() == Some("invalid_grant") {
                            self.storage.clear(&self.settings.slot)?;
                        }
                        return Err(refresh_error);
                    }
                };
                let body = self.api(&tokens).await?;
                Ok(ApiAnswer {
                    source: TokenSource::Refreshed,
                    refreshed_after_401: true,
                    body,
                })
            }
            Err(error) => Err(error),
            Ok(body) => Ok(ApiAnswer {
                source: authorized.source,
                refreshed_after_401: false,
                body,
            }),
        }
    }

    async fn api(&self, tokens: &StoredTokens) -> Result<serde_json::Value, OAuthError> {
        let url = format!("{}/oauth2/api/me", self.base());
        let request = oauth2::http::Request::builder()
            .method("GET")
            .uri(&url)
            .header("authorization", format!("Bearer {}", tokens.access_token))
            .header("accept", "application/json")
            .body(Vec::new())
            .map_err(|e| OAuthError::Settings(format!("cannot build the API request: {e}")))?;
        let response = send(
            &self.http,
            &*self.events,
            self.reveal_secrets,
            self.fault.map(|f| f.to_string()),
            "oauth/api me",
            request,
        )
        .await
        .map_err(|e| OAuthError::Network {
            url: url.clone(),
            reason: e.0,
        })?;
        let status = response.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(response.body()).map_err(|_| {
            OAuthError::Protocol(format!("GET {url} answered {status} without JSON"))
        })?;
        if status == 200 {
            return Ok(body);
        }
        Err(OAuthError::Refused {
            status,
            error: body["error"].as_str().unwrap_or("unknown").to_owned(),
            description: body["error_description"].as_str().map(str::to_owned),
        })
    }

    /// Revokes the stored refresh token (RFC 7009; the server ends the access tokens made
    /// from it) and clears the storage. With the `replay` fault, then presents the revoked
    /// refresh token, which the server must refuse with `invalid_grant`.
    pub async fn revoke(&self) -> Result<(), OAuthError> {
        let Some(tokens) = self.storage.load(&self.settings.slot)? else {
            return Ok(());
        };
        // Built here rather than by the `oauth2` crate, which refuses a revocation endpoint
        // that is not HTTPS (RFC 7009 §2), and the sandbox serves plain HTTP on loopback.
        let (token, hint) = match &tokens.refresh_token {
            Some(refresh) => (refresh.as_str(), "refresh_token"),
            None => (tokens.access_token.as_str(), "access_token"),
        };
        // The form's pairs; the serializer is not `Sync`, so it lives only where it writes
        // (this future runs on any thread of a Tauri command).
        let mut pairs = vec![("token", token), ("token_type_hint", hint)];
        let url = format!("{}/oauth2/revoke", self.base());
        let mut request = oauth2::http::Request::builder()
            .method("POST")
            .uri(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        match self.secret() {
            Some(secret) => {
                // RFC 6749 §2.3.1: each half form-urlencoded, then Base64.
                let encode = |text: &str| {
                    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
                };
                let pair = format!(
                    "{}:{}",
                    encode(&self.settings.client_id),
                    encode(secret.secret())
                );
                request = request.header(
                    "authorization",
                    format!("Basic {}", powerauth::encoding::b64(pair)),
                );
            }
            None => pairs.push(("client_id", &self.settings.client_id)),
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
            .into_bytes();
        let request = request.body(body).map_err(|e| {
            OAuthError::Settings(format!("cannot build the revocation request: {e}"))
        })?;
        let response =
            self.transport("oauth/revoke")(request)
                .await
                .map_err(|e| OAuthError::Network {
                    url: url.clone(),
                    reason: e.0,
                })?;
        let status = response.status().as_u16();
        if status != 200 {
            let body: serde_json::Value =
                serde_json::from_slice(response.body()).unwrap_or_default();
            return Err(OAuthError::Refused {
                status,
                error: body["error"].as_str().unwrap_or("unknown").to_owned(),
                description: body["error_description"].as_str().map(str::to_owned),
            });
        }
        self.storage.clear(&self.settings.slot)?;
        if self.fault == Some(OAuthFault::Replay) && tokens.refresh_token.is_some() {
            return match self.refresh(&tokens).await {
                Ok(_) => Err(OAuthError::Protocol(
                    "the server accepted a revoked refresh token".into(),
                )),
                Err(error) => {
                    // Whatever the replay got, the storage stays cleared.
                    self.storage.clear(&self.settings.slot)?;
                    Err(error)
                }
            };
        }
        Ok(())
    }

    /// Forgets the stored tokens (the next call authenticates again).
    pub fn clear(&self) -> Result<(), OAuthError> {
        Ok(self.storage.clear(&self.settings.slot)?)
    }

    /// The stored tokens, if any.
    pub fn stored(&self) -> Result<Option<StoredTokens>, OAuthError> {
        Ok(self.storage.load(&self.settings.slot)?)
    }

    fn token_error<TE>(&self, error: RequestTokenError<HttpFailure, TE>, path: &str) -> OAuthError
    where
        TE: oauth2::ErrorResponse + 'static + ErrorParts,
    {
        match error {
            RequestTokenError::ServerResponse(response) => {
                let (error, description) = response.parts();
                OAuthError::Refused {
                    status: self.last_status.lock().map(|s| *s).unwrap_or(400),
                    error,
                    description,
                }
            }
            RequestTokenError::Request(failure) => OAuthError::Network {
                url: format!("{}{path}", self.base_for_errors()),
                reason: failure.0,
            },
            other => OAuthError::Protocol(describe(&other)),
        }
    }

    fn base_for_errors(&self) -> String {
        self.settings.server.trim_end_matches('/').to_owned()
    }
}

/// `error` and `error_description` of an error response of either kind.
pub trait ErrorParts {
    /// (`error`, `error_description`).
    fn parts(&self) -> (String, Option<String>);
}

impl<T> ErrorParts for oauth2::StandardErrorResponse<T>
where
    T: oauth2::ErrorResponseType + std::fmt::Display,
{
    fn parts(&self) -> (String, Option<String>) {
        (self.error().to_string(), self.error_description().cloned())
    }
}

/// What the `oauth2` crate said, without the body (which may hold a token).
fn describe<E: std::error::Error, TE: oauth2::ErrorResponse + 'static>(
    error: &RequestTokenError<E, TE>,
) -> String {
    match error {
        RequestTokenError::Parse(e, _) => format!("cannot read the answer: {}", e.inner()),
        RequestTokenError::Other(text) => text.clone(),
        RequestTokenError::Request(e) => e.to_string(),
        RequestTokenError::ServerResponse(_) => "the server refused".into(),
    }
}

/// A transport failure, in words (no secret: reqwest's error names the URL, which holds none).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpFailure(String);

/// Secret form parameters.
const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "refresh_token",
    "device_code",
    "token",
    "access_token",
];

fn redact_form(body: &[u8]) -> String {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body)
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                REDACTED.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn redact_authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) => format!("{scheme} {REDACTED}"),
        None => REDACTED.to_owned(),
    }
}

/// Sends `request` with reqwest and reports the exchange.
async fn send(
    http: &reqwest::Client,
    events: &dyn Events,
    reveal: bool,
    fault: Option<String>,
    label: &'static str,
    request: HttpRequest,
) -> Result<HttpResponse, HttpFailure> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let request_headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let text = value.to_str().unwrap_or("<binary>");
            let shown = if name == "authorization" && !reveal {
                redact_authorization(text)
            } else {
                text.to_owned()
            };
            (name.to_string(), shown)
        })
        .collect();
    let request_body = if reveal {
        String::from_utf8_lossy(&body).into_owned()
    } else {
        redact_form(&body)
    };
    let started = Instant::now();
    let sent = http
        .request(parts.method.clone(), &url)
        .headers(parts.headers.clone())
        .body(body)
        .send()
        .await;
    let mut exchange = Exchange {
        label,
        method: parts.method.to_string(),
        url: url.clone(),
        request_headers,
        request_body,
        request_plaintext: None,
        status: None,
        response_headers: Vec::new(),
        response_body: String::new(),
        response_plaintext: None,
        elapsed: Duration::ZERO,
        error: None,
        fault,
    };
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            let reason = if error.is_connect() {
                "connection refused".to_owned()
            } else if error.is_timeout() {
                "no answer within 30 s".to_owned()
            } else {
                error.without_url().to_string()
            };
            exchange.elapsed = started.elapsed();
            exchange.error = Some(reason.clone());
            events.exchange(&exchange);
            return Err(HttpFailure(reason));
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    // At most 1 MiB: an OAuth answer is a few hundred bytes.
    let bytes = read_capped(response, 1 << 20).await.map_err(|reason| {
        exchange.error = Some(reason.clone());
        events.exchange(&exchange);
        HttpFailure(reason)
    })?;
    exchange.status = Some(status.as_u16());
    exchange.response_headers = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("<binary>").to_owned()))
        .collect();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    exchange.response_body = if reveal { text } else { redact_json(&text) };
    exchange.elapsed = started.elapsed();
    events.exchange(&exchange);
    let mut builder = oauth2::http::Response::builder().status(status);
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    builder
        .body(bytes)
        .map_err(|e| HttpFailure(format!("cannot read the answer: {e}")))
}

async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if out.len() + chunk.len() > cap {
            return Err("the answer is larger than 1 MiB: this is not an OAuth server".into());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
