//! The sandbox as an OAuth 2.0 authorization server and the API it protects, under `/oauth2`:
//!
//! - `POST /oauth2/register`: a client (RFC 7591 shape; the secret is shown once);
//! - `POST /oauth2/token`: `client_credentials`, `refresh_token` and
//!   `urn:ietf:params:oauth:grant-type:device_code` (RFC 6749 §4.4, §6; RFC 8628 §3.4);
//! - `POST /oauth2/revoke`: RFC 7009 revocation;
//! - `POST /oauth2/device_authorization`: RFC 8628 §3.1, the device naming itself by a
//!   `device_id` made of key/value pairs (`/vendor/acme/serial/1234`);
//! - `GET /oauth2/device`: the verification page (pick the device, type the user code,
//!   approve or deny), backed by `GET /oauth2/device/pending` and `POST /oauth2/device/verify`;
//! - `GET /oauth2/api/me`: the protected resource (RFC 6750 bearer token);
//! - `GET /.well-known/oauth-authorization-server`: RFC 8414 metadata.
//!
//! Errors are RFC 6749 §5.2 / RFC 8628 §3.5 JSON (`error`, `error_description`) with
//! `Cache-Control: no-store`. Access tokens live 20 minutes, device codes 10 minutes, all
//! measured on the sandbox's [`Clock`](crate::Clock). Refresh tokens are not rotated: a
//! refresh answers a new access token and no new refresh token (RFC 6749 §6 "MAY"), so a
//! client killed during a refresh still holds a valid refresh token.
//!
//! Secrets (client secrets, tokens, device and user codes) are stored as digests only and
//! never logged. `verification_uri_complete` carries the user code in the URL's fragment,
//! which browsers never send, so it does not reach the sandbox's request log either.

pub(crate) mod store;

use crate::state::AppState;
use crate::store::StoreError;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use store::{Client, DeviceAuthorization, DeviceStatus, NewToken, TokenKind, digest};

/// How long an access token lives: 20 minutes.
pub(crate) const ACCESS_TOKEN_TTL_MS: i64 = 20 * 60 * 1000;
/// How long a device code and its user code live: 10 minutes.
pub(crate) const DEVICE_CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// The polling interval a device is told to keep, seconds (RFC 8628's default).
pub(crate) const DEVICE_POLL_INTERVAL_S: i64 = 5;
/// What `slow_down` adds to the interval, seconds (RFC 8628 §3.5).
pub(crate) const SLOW_DOWN_STEP_S: i64 = 5;

/// `grant_type` of the client credentials grant.
pub(crate) const CLIENT_CREDENTIALS: &str = "client_credentials";
/// `grant_type` of the refresh grant.
pub(crate) const REFRESH_TOKEN: &str = "refresh_token";
/// `grant_type` of the device authorization grant (RFC 8628 §3.4).
pub(crate) const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The endpoints that take `application/x-www-form-urlencoded`, as RFC 6749, 7009 and
/// 8628 require; the guard lets forms through to these paths only.
pub(crate) const FORM_ENDPOINTS: [&str; 3] = [
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/device_authorization",
];

/// The user code alphabet: consonants only, no vowels (no words), no ambiguous letters
/// (RFC 8628 §6.1's example).
const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Characters of a user code (shown as two groups of four).
const USER_CODE_LEN: usize = 8;

/// The routes, merged into the sandbox's router.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/oauth2/register", post(register))
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
        .route("/oauth2/device_authorization", post(device_authorization))
        .route("/oauth2/device", get(page))
        .route("/oauth2/device/pending", get(pending))
        .route("/oauth2/device/verify", post(verify))
        .route("/oauth2/api/me", get(me))
}

/// An OAuth error answer: RFC 6749 §5.2 JSON with `Cache-Control: no-store`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: Cow<'static, str>,
    challenge: Option<&'static str>,
}

impl OAuthError {
    fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            challenge: None,
        }
    }

    fn bad(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }

    fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::bad("invalid_request", description)
    }

    /// 401 `invalid_client` with the Basic challenge RFC 6749 §5.2 asks for.
    fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            challenge: Some("Basic realm=\"tokensim-oauth\", charset=\"UTF-8\""),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
    }

    /// 401 for the protected API (RFC 6750 §3).
    fn invalid_token(description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            challenge: Some("Bearer realm=\"tokensim-oauth\", error=\"invalid_token\""),
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
        }
    }

    /// The `error` code.
    #[cfg(test)]
    fn code(&self) -> &'static str {
        self.error
    }
}

impl From<StoreError> for OAuthError {
    fn from(error: StoreError) -> Self {
        tracing::error!(%error, "oauth: database failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the sandbox's database failed; see its log",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            no_store(),
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, no_store(), Json(body)).into_response()
}

/// Parameters of a form body: each at most once (RFC 6749 §3.2), an empty one counts as
/// absent (§3.1).
#[derive(Debug)]
struct Form(HashMap<String, String>);

impl Form {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if media.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "send the parameters as application/x-www-form-urlencoded (RFC 6749 §3.2)",
            ));
        }
        if std::str::from_utf8(body).is_err() {
            return Err(OAuthError::invalid_request("the body is not UTF-8"));
        }
        let mut map = HashMap::new();
        for (name, value) in form_urlencoded::parse(body) {
            if name.contains('\0') || value.contains('\0') {
                return Err(OAuthError::invalid_request(
                    "a parameter contains a NUL byte",
                ));
            }
            if value.is_empty() {
                continue;
            }
            if map.insert(name.to_string(), value.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} is included more than once",
                    printable(&name)
                )));
            }
        }
        Ok(Self(map))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is missing")))
    }
}

/// A name from the request, shortened and quoted for an error message.
fn printable(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    format!("{short:?}")
}

/// How the client said who it is (RFC 6749 §2.3).
#[derive(Debug)]
enum ClientAuth {
    /// `Authorization: Basic` (client_secret_basic).
    Basic { id: String, secret: String },
    /// `client_id` and `client_secret` in the body (client_secret_post).
    Post { id: String, secret: String },
    /// `client_id` alone: a public client (RFC 8628 devices).
    Public { id: String },
}

impl ClientAuth {
    fn read(headers: &HeaderMap, form: &Form) -> Result<Self, OAuthError> {
        if let Some(value) = headers.get(header::AUTHORIZATION) {
            let value = value
                .to_str()
                .map_err(|_| OAuthError::invalid_client("the Authorization header is not text"))?;
            let Some(encoded) = value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
            else {
                return Err(OAuthError::invalid_client(
                    "authenticate the client with HTTP Basic (client_secret_basic) or client_secret in the body",
                ));
            };
            let decoded = powerauth::encoding::b64_decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    OAuthError::invalid_client("the Basic credentials are not Base64 of id:secret")
                })?;
            let (id, secret) = decoded.split_once(':').ok_or_else(|| {
                OAuthError::invalid_client("the Basic credentials are not id:secret")
            })?;
            // RFC 6749 §2.3.1: both halves are form-urlencoded before Base64.
            let id = url_decode(id);
            let secret = url_decode(secret);
            if form.get("client_secret").is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method: Basic or client_secret in the body, not both",
                ));
            }
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            return Ok(Self::Basic { id, secret });
        }
        match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => Ok(Self::Post {
                id: id.to_owned(),
                secret: secret.to_owned(),
            }),
            (Some(id), None) => Ok(Self::Public { id: id.to_owned() }),
            (None, _) => Err(OAuthError::invalid_client(
                "no client authentication: send Basic credentials or client_id",
            )),
        }
    }

    fn id(&self) -> &str {
        match self {
            Self::Basic { id, .. } | Self::Post { id, .. } | Self::Public { id } => id,
        }
    }

    fn secret(&self) -> Option<&str> {
        match self {
            Self::Basic { secret, .. } | Self::Post { secret, .. } => Some(secret),
            Self::Public { .. } => None,
        }
    }

    /// Checks the credentials against the registered client.
    async fn authenticate(&self, state: &AppState) -> Result<Client, OAuthError> {
        let unknown = || OAuthError::invalid_client("unknown client or wrong client secret");
        let client = state
            .store
            .oauth_client(self.id())
            .await?
            .ok_or_else(unknown)?;
        match (&client.secret_digest, self.secret()) {
            (Some(expected), Some(secret)) => {
                // Digests are compared, not secrets: a timing difference tells nothing
                // about the secret.
                if *expected != digest(secret) {
                    return Err(unknown());
                }
            }
            (Some(_), None) => {
                return Err(OAuthError::invalid_client(
                    "this client is confidential: authenticate with its client secret",
                ));
            }
            (None, Some(_)) => {
                return Err(OAuthError::invalid_client(
                    "this client is public: send client_id without a secret",
                ));
            }
            (None, None) => {}
        }
        Ok(client)
    }
}

fn url_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The scope granted: the asked one if the client may have all of it, else `invalid_scope`;
/// the client's whole scope when none is asked.
fn granted_scope(asked: Option<&str>, allowed: &[String]) -> Result<String, OAuthError> {
    let Some(asked) = asked else {
        return Ok(allowed.join(" "));
    };
    let mut scope: Vec<&str> = Vec::new();
    for word in asked.split(' ').filter(|w| !w.is_empty()) {
        if !is_scope_token(word) {
            return Err(OAuthError::bad(
                "invalid_scope",
                "a scope token has characters RFC 6749 §3.3 does not allow",
            ));
        }
        if !allowed.iter().any(|a| a == word) {
            return Err(OAuthError::bad(
                "invalid_scope",
                format!("the client may not ask for scope {}", printable(word)),
            ));
        }
        if !scope.contains(&word) {
            scope.push(word);
        }
    }
    Ok(scope.join(" "))
}

/// RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`.
fn is_scope_token(word: &str) -> bool {
    word.bytes()
        .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// A fresh secret: 32 random bytes, Base64url.
fn fresh_secret(state: &AppState) -> String {
    powerauth::encoding::b64url(state.random::<32>())
}

/// A user code, `BCDF-GHJK`.
fn fresh_user_code(state: &AppState) -> String {
    let mut code = String::with_capacity(USER_CODE_LEN + 1);
    while code.len() < USER_CODE_LEN + 1 {
        for byte in state.random::<16>() {
            // 240 = 12 * 20: rejecting the rest keeps the letters equally likely.
            if byte < 240 && code.len() < USER_CODE_LEN + 1 {
                if code.len() == USER_CODE_LEN / 2 {
                    code.push('-');
                }
                code.push(char::from(USER_CODE_ALPHABET[usize::from(byte % 20)]));
            }
        }
    }
    code
}

/// A user code as typed (any case, with or without the dash or spaces) in its stored form.
fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether `device_id` is key/value pairs: `/key/value/key/value…`, at least one pair,
/// each segment 1–64 of `A-Z a-z 0-9 . _ -`, at most 256 characters.
pub(crate) fn is_device_id(device_id: &str) -> bool {
    let Some(rest) = device_id.strip_prefix('/') else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    device_id.len() <= 256
        && segments.len() >= 2
        && segments.len().is_multiple_of(2)
        && segments.iter().all(|s| {
            (1..=64).contains(&s.len())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Issues an access token (and a refresh token when `with_refresh`) for `grant_id`.
async fn issue(
    state: &AppState,
    client_id: &str,
    grant_id: &str,
    device_id: Option<&str>,
    scope: &str,
    refresh: Option<String>,
) -> Result<Response, OAuthError> {
    let now = state.now_ms();
    let access = fresh_secret(state);
    let mut rows = vec![NewToken {
        digest: digest(&access),
        kind: TokenKind::Access,
        grant_id,
        client_id,
        device_id,
        scope,
        expires_ms: Some(now + ACCESS_TOKEN_TTL_MS),
    }];
    if let Some(refresh) = &refresh {
        rows.push(NewToken {
            digest: digest(refresh),
            kind: TokenKind::Refresh,
            grant_id,
            client_id,
            device_id,
            scope,
            expires_ms: None,
        });
    }
    state.store.oauth_insert_tokens(&rows, now).await?;
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL_MS / 1000,
        "scope": scope,
    });
    if let Some(refresh) = refresh {
        body["refresh_token"] = Value::String(refresh);
    }
    tracing::info!(client_id, device_id, "oauth: access token issued");
    Ok(ok(body))
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = Form::parse(&headers, &body)?;
    let grant_type = form.require("grant_type")?;
    let client = ClientAuth::read(&headers, &form)?
        .authenticate(&state)
        .await?;
    match grant_type {
        CLIENT_CREDENTIALS | REFRESH_TOKEN | DEVICE_CODE => {}
        _ => {
            return Err(OAuthError::bad(
                "unsupported_grant_type",
                format!(
                    "grant_type {} is not supported: use client_credentials, refresh_token or {DEVICE_CODE}",
                    printable(grant_type)
                ),
            ));
        }
    }
    if !client.allows(grant_type) {
        return Err(OAuthError::bad(
            "unauthorized_client",
            format!("this client is not registered for grant_type {grant_type}"),
        ));
    }
    match grant_type {
        CLIENT_CREDENTIALS => {
            if client.secret_digest.is_none() {
                return Err(OAuthError::bad(
                    "unauthorized_client",
                    "client_credentials needs a confidential client",
                ));
            }
            let scope = granted_scope(form.get("scope"), &client.scope)?;
            let grant_id = state.make_uuid();
            let refresh = fresh_secret(&state);
            issue(
                &state,
                &client.client_id,
                &grant_id,
                None,
                &scope,
                Some(refresh),
            )
            .await
        }
        REFRESH_TOKEN => {
            let presented = form.require("refresh_token")?;
            let invalid = || {
                OAuthError::bad(
                    "invalid_grant",
                    "the refresh token is invalid, revoked or was issued to another client",
                )
            };
            let row = state
                .store
                .oauth_token(&digest(presented))
                .await?
                .ok_or_else(invalid)?;
            if row.kind != TokenKind::Refresh || row.revoked || row.client_id != client.client_id {
                return Err(invalid());
            }
            let allowed: Vec<String> = row
                .scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let scope = granted_scope(form.get("scope"), &allowed)?;
            issue(
                &state,
                &client.client_id,
                &row.grant_id,
                row.device_id.as_deref(),
                &scope,
                None,
            )
            .await
        }
        _ => device_token(&state, &client, form.require("device_code")?).await,
    }
}

/// The device access token request (RFC 8628 §3.4, §3.5).
async fn device_token(
    state: &AppState,
    client: &Client,
    device_code: &str,
) -> Result<Response, OAuthError> {
    let now = state.now_ms();
    let code_digest = digest(device_code);
    let invalid = || {
        OAuthError::bad(
            "invalid_grant",
            "unknown device code, or it was issued to another client",
        )
    };
    let device = state
        .store
        .oauth_device(&code_digest)
        .await?
        .ok_or_else(invalid)?;
    if device.client_id != client.client_id {
        return Err(invalid());
    }
    if device.status == DeviceStatus::Issued {
        return Err(OAuthError::bad(
            "invalid_grant",
            "this device code was already exchanged for tokens; start a new device authorization",
        ));
    }
    if now >= device.expires_ms {
        return Err(OAuthError::bad(
            "expired_token",
            "the device code expired before the user approved it; start a new device authorization",
        ));
    }
    match device.status {
        DeviceStatus::Denied => Err(OAuthError::bad(
            "access_denied",
            "the user denied the authorization",
        )),
        DeviceStatus::Pending => {
            let too_soon = device
                .last_poll_ms
                .is_some_and(|last| now - last < device.interval_seconds * 1000);
            if too_soon {
                let interval = device.interval_seconds + SLOW_DOWN_STEP_S;
                state
                    .store
                    .oauth_device_polled(&code_digest, now, interval)
                    .await?;
                return Err(OAuthError::bad(
                    "slow_down",
                    format!(
                        "polling faster than the interval; wait {interval} seconds between polls"
                    ),
                ));
            }
            state
                .store
                .oauth_device_polled(&code_digest, now, device.interval_seconds)
                .await?;
            Err(OAuthError::bad(
                "authorization_pending",
                "the user has not approved the device yet",
            ))
        }
        DeviceStatus::Approved => {
            if !state
                .store
                .oauth_device_transition(&code_digest, DeviceStatus::Approved, DeviceStatus::Issued)
                .await?
            {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "this device code was already exchanged for tokens",
                ));
            }
            let grant_id = state.make_uuid();
            let refresh = fresh_secret(state);
            issue(
                state,
                &client.client_id,
                &grant_id,
                Some(&device.device_id),
                &device.scope,
                Some(refresh),
            )
            .await
        }
        DeviceStatus::Issued => Err(invalid()),
    }
}

async fn device_authorization(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = Form::parse(&headers, &body)?;
    let client = ClientAuth::read(&headers, &form)?
        .authenticate(&state)
        .await?;
    if !client.allows(DEVICE_CODE) {
        return Err(OAuthError::bad(
            "unauthorized_client",
            "this client is not registered for the device authorization grant",
        ));
    }
    let device_id = form.require("device_id")?;
    if !is_device_id(device_id) {
        return Err(OAuthError::invalid_request(
            "device_id must be key/value pairs such as /vendor/acme/serial/1234 (letters, digits, . _ -)",
        ));
    }
    let scope = granted_scope(form.get("scope"), &client.scope)?;
    let now = state.now_ms();
    let device_code = fresh_secret(&state);
    let user_code = fresh_user_code(&state);
    state
        .store
        .oauth_insert_device(
            &DeviceAuthorization {
                device_code_digest: digest(&device_code),
                client_id: client.client_id.clone(),
                device_id: device_id.to_owned(),
                scope,
                status: DeviceStatus::Pending,
                interval_seconds: DEVICE_POLL_INTERVAL_S,
                last_poll_ms: None,
                expires_ms: now + DEVICE_CODE_TTL_MS,
                created_ms: now,
            },
            &digest(&normalize_user_code(&user_code)),
        )
        .await?;
    tracing::info!(client_id = %client.client_id, device_id, "oauth: device authorization started");
    let base = base_url(&headers);
    Ok(ok(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": format!("{base}/oauth2/device"),
        "verification_uri_complete": format!("{base}/oauth2/device#user_code={user_code}"),
        "expires_in": DEVICE_CODE_TTL_MS / 1000,
        "interval": DEVICE_POLL_INTERVAL_S,
    })))
}

/// `http://<Host>`: the guard has checked the name (loopback, unless remote serving was asked).
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '#', '?', '@']))
        .unwrap_or("localhost");
    format!("http://{host}")
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let form = Form::parse(&headers, &body)?;
    let client = ClientAuth::read(&headers, &form)?
        .authenticate(&state)
        .await?;
    let token = form.require("token")?;
    if let Some(hint) = form.get("token_type_hint")
        && hint != "access_token"
        && hint != "refresh_token"
    {
        return Err(OAuthError::bad(
            "unsupported_token_type",
            "token_type_hint must be access_token or refresh_token",
        ));
    }
    let token_digest = digest(token);
    // RFC 7009 §2.2: an unknown token is not an error.
    if let Some(row) = state.store.oauth_token(&token_digest).await? {
        if row.client_id != client.client_id {
            return Err(OAuthError::bad(
                "unauthorized_client",
                "the token was issued to another client",
            ));
        }
        match row.kind {
            TokenKind::Refresh => state.store.oauth_revoke_grant(&row.grant_id).await?,
            TokenKind::Access => state.store.oauth_revoke_token(&token_digest).await?,
        }
        tracing::info!(client_id = %client.client_id, "oauth: token revoked");
    }
    Ok((StatusCode::OK, no_store()).into_response())
}

/// RFC 7591 registration request (the fields the sandbox uses).
#[derive(Debug, Deserialize)]
struct Registration {
    client_name: Option<String>,
    grant_types: Option<Vec<String>>,
    scope: Option<String>,
    token_endpoint_auth_method: Option<String>,
}

fn invalid_metadata(description: impl Into<Cow<'static, str>>) -> OAuthError {
    OAuthError::bad("invalid_client_metadata", description)
}

async fn register(State(state): State<AppState>, body: Bytes) -> Result<Response, OAuthError> {
    let request: Registration = serde_json::from_slice(&body)
        .map_err(|e| invalid_metadata(format!("the body is not a client registration: {e}")))?;
    let name = request
        .client_name
        .unwrap_or_else(|| "TokenSim client".to_owned());
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(invalid_metadata(
            "client_name must be 1-100 printable characters",
        ));
    }
    let grant_types = request
        .grant_types
        .unwrap_or_else(|| vec![CLIENT_CREDENTIALS.to_owned(), REFRESH_TOKEN.to_owned()]);
    if grant_types.is_empty() {
        return Err(invalid_metadata("grant_types is empty"));
    }
    if let Some(unknown) = grant_types
        .iter()
        .find(|g| ![CLIENT_CREDENTIALS, REFRESH_TOKEN, DEVICE_CODE].contains(&g.as_str()))
    {
        return Err(invalid_metadata(format!(
            "grant type {} is not supported",
            printable(unknown)
        )));
    }
    let method = request
        .token_endpoint_auth_method
        .unwrap_or_else(|| "client_secret_basic".to_owned());
    let public = match method.as_str() {
        "none" => true,
        "client_secret_basic" | "client_secret_post" => false,
        other => {
            return Err(invalid_metadata(format!(
                "token_endpoint_auth_method {} is not supported: none, client_secret_basic or client_secret_post",
                printable(other)
            )));
        }
    };
    if public && grant_types.iter().any(|g| g == CLIENT_CREDENTIALS) {
        return Err(invalid_metadata(
            "a public client (token_endpoint_auth_method none) cannot use client_credentials",
        ));
    }
    let scope_text = request.scope.unwrap_or_else(|| "api".to_owned());
    let scope: Vec<String> = scope_text
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    if scope.is_empty() || scope.iter().any(|w| !is_scope_token(w)) {
        return Err(invalid_metadata(
            "scope must be space-separated RFC 6749 §3.3 scope tokens",
        ));
    }
    let secret = (!public).then(|| fresh_secret(&state));
    let client = Client {
        client_id: state.make_uuid(),
        secret_digest: secret.as_deref().map(digest),
        client_name: name,
        grant_types,
        scope,
    };
    let now = state.now_ms();
    state.store.oauth_insert_client(&client, now).await?;
    tracing::info!(client_id = %client.client_id, "oauth: client registered");
    let mut body = json!({
        "client_id": client.client_id,
        "client_id_issued_at": now / 1000,
        "client_name": client.client_name,
        "grant_types": client.grant_types,
        "scope": client.scope.join(" "),
        "token_endpoint_auth_method": method,
    });
    if let Some(secret) = secret {
        body["client_secret"] = Value::String(secret);
        body["client_secret_expires_at"] = json!(0);
    }
    Ok((StatusCode::CREATED, no_store(), Json(body)).into_response())
}

async fn metadata(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/oauth2/token"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "device_authorization_endpoint": format!("{base}/oauth2/device_authorization"),
        "registration_endpoint": format!("{base}/oauth2/register"),
        "grant_types_supported": [CLIENT_CREDENTIALS, REFRESH_TOKEN, DEVICE_CODE],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "response_types_supported": [],
    }))
    .into_response()
}

async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Html(include_str!("page.html")),
    )
        .into_response()
}

async fn pending(State(state): State<AppState>) -> Result<Response, OAuthError> {
    let now = state.now_ms();
    let devices = state.store.oauth_pending_devices(now).await?;
    let list: Vec<Value> = devices
        .into_iter()
        .map(|d| {
            json!({
                "device_id": d.device_id,
                "client_name": d.client_name,
                "scope": d.scope,
                "expires_in": (d.expires_ms - now).max(0) / 1000,
            })
        })
        .collect();
    Ok(ok(json!({ "devices": list })))
}

/// The verification page's decision.
#[derive(Debug, Deserialize)]
struct Decision {
    user_code: String,
    device_id: String,
    decision: String,
}

async fn verify(State(state): State<AppState>, body: Bytes) -> Result<Response, OAuthError> {
    let request: Decision = serde_json::from_slice(&body).map_err(|e| {
        OAuthError::invalid_request(format!(
            "the body must be {{\"user_code\", \"device_id\", \"decision\": \"approve\"|\"deny\"}}: {e}"
        ))
    })?;
    let to = match request.decision.as_str() {
        "approve" => DeviceStatus::Approved,
        "deny" => DeviceStatus::Denied,
        _ => {
            return Err(OAuthError::invalid_request(
                "decision must be approve or deny",
            ));
        }
    };
    let code = normalize_user_code(&request.user_code);
    let wrong = || {
        OAuthError::bad(
            "invalid_user_code",
            "the code does not match the device you picked, or it expired: check the code shown on the device",
        )
    };
    if code.len() != USER_CODE_LEN {
        return Err(wrong());
    }
    let now = state.now_ms();
    let device = state
        .store
        .oauth_device_by_user_code(&digest(&code))
        .await?
        .ok_or_else(wrong)?;
    if device.device_id != request.device_id || now >= device.expires_ms {
        return Err(wrong());
    }
    if device.status != DeviceStatus::Pending
        || !state
            .store
            .oauth_device_transition(&device.device_code_digest, DeviceStatus::Pending, to)
            .await?
    {
        return Err(OAuthError::bad(
            "invalid_user_code",
            "this code was already used: the device has its answer",
        ));
    }
    tracing::info!(device_id = %device.device_id, status = to.as_str(), "oauth: device authorization decided");
    Ok(ok(
        json!({ "device_id": device.device_id, "status": to.as_str() }),
    ))
}

/// The protected resource: who the bearer token speaks for.
async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(OAuthError {
            challenge: Some("Bearer realm=\"tokensim-oauth\""),
            ..OAuthError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "send Authorization: Bearer <access token>",
            )
        });
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_token("send Authorization: Bearer <access token>"))?;
    let now = state.now_ms();
    let row = state
        .store
        .oauth_token(&digest(token))
        .await?
        .filter(|row| row.kind == TokenKind::Access)
        .ok_or_else(|| OAuthError::invalid_token("unknown access token"))?;
    if row.revoked {
        return Err(OAuthError::invalid_token("the access token was revoked"));
    }
    let expires = row.expires_ms.unwrap_or(i64::MAX);
    if now >= expires {
        return Err(OAuthError::invalid_token(
            "the access token expired: refresh it",
        ));
    }
    Ok(ok(json!({
        "client_id": row.client_id,
        "device_id": row.device_id,
        "scope": row.scope,
        "expires_in": (expires - now) / 1000,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_key_value_pairs() {
        for good in ["/vendor/acme/serial/1234", "/pos/till-7", "/a/b/c.d/e_f"] {
            assert!(is_device_id(good), "{good}");
        }
        for bad in [
            "",
            "/",
            "vendor/acme",
            "/vendor",
            "/vendor/acme/serial",
            "/a//b/c",
            "/a/b c",
            "/a/\0",
            "/a/b/",
        ] {
            assert!(!is_device_id(bad), "{bad:?}");
        }
        assert!(!is_device_id(&format!("/k/{}", "v".repeat(65))));
    }

    #[test]
    fn user_codes_normalize() {
        assert_eq!(normalize_user_code("bcdf-ghjk"), "BCDFGHJK");
        assert_eq!(normalize_user_code(" BCDF GHJK "), "BCDFGHJK");
    }

    #[test]
    fn scope_is_checked_against_the_client() {
        let allowed = vec!["api".to_owned(), "read".to_owned()];
        assert_eq!(granted_scope(None, &allowed).unwrap(), "api read");
        assert_eq!(granted_scope(Some("read read"), &allowed).unwrap(), "read");
        assert_eq!(
            granted_scope(Some("admin"), &allowed).unwrap_err().code(),
            "invalid_scope"
        );
        assert_eq!(
            granted_scope(Some("a\"b"), &allowed).unwrap_err().code(),
            "invalid_scope"
        );
    }
}
