//! Device-authentication profiles beside PowerAuth (issue 16): the vendor servers (and the
//! bank's minimal app servers) that other mobile SDKs talk to, each under its own path
//! prefix, with its own tables (its own migration file) and its own module here.
//!
//! ```text
//! /profiles/jwt/*            device JWT (ES256) or mobile API key; app server with a user/password login
//! /profiles/signed-token/*   HS256 signed device tokens on attach and identify; the counted sign endpoint; per-user rate limit
//! /oauth2/*, /.well-known/oauth-authorization-server   OAuth 2.0 (§2), its own prefix (RFC 8414)
//! /profiles/facemap/* (facemap::PREFIX)               facemap authentication transactions (§3)
//! /profiles/accesses         every profile's access history (who, when, how authenticated, accepted or why not)
//! ```
//!
//! What every profile shares, from this module:
//! - [`Refusal`]: a 4xx with `{"error": CODE, "message": REASON}` (never a 500 for bad
//!   input; a database failure is the one 500);
//! - [`body`]: a JSON body parsed with the sandbox's rules (size limit, NUL refused);
//! - [`access`]: the access history, recorded by the profile and shown by the console and
//!   the desktop app's inspector;
//! - every expiry and rate read the sandbox's injectable clock ([`AppState::now_ms`]), so
//!   tests move time instead of sleeping.
//!
//! A new profile is a module here, one `.nest` line in [`router`], one migration file and one
//! entry in the store's migration list (ARCHITECTURE.md, "Where a fifth profile goes").

mod access;
pub mod facemap;
mod jwt;
pub(crate) mod oauth;
mod signed_token;

/// Whether `path` is an endpoint that takes `multipart/form-data` (the guard lets such a
/// body through to it; it checks its own credentials and content type).
pub(crate) fn takes_multipart(path: &str) -> bool {
    path == facemap::INITIATE_PATH
}

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Every profile's routes, each under its own prefix.
pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/profiles/jwt", jwt::router())
        .nest("/profiles/signed-token", signed_token::router())
        // RFC 8414 wants /.well-known at the root; the OAuth server keeps its own /oauth2.
        .merge(oauth::router())
        .nest(facemap::PREFIX, facemap::router())
        .merge(access::router())
}

/// State the profiles keep in memory (rate limiters); everything else is in the database.
#[derive(Debug, Default)]
pub struct State {
    /// `signed-token`: the per-user rate limiters of the app server's sign endpoint.
    pub signed_token: signed_token::Limits,
}

/// A refused request: a 4xx (or, for a database failure, 500) with a stable code and a
/// reason that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine code, e.g. `jwt_expired`.
    pub error: &'static str,
    /// The reason, for a person.
    pub message: String,
    /// `WWW-Authenticate` on a 401, `Retry-After` on a 429.
    pub header: Option<(header::HeaderName, String)>,
}

impl Refusal {
    /// A refusal with `status`, `error` and `message`.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
            header: None,
        }
    }

    /// 400 `invalid_request`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 with `error`, and `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).
    pub fn unauthorized(error: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        let challenge = format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            message.replace(['"', '\\'], "'")
        );
        Self {
            header: Some((header::WWW_AUTHENTICATE, challenge)),
            ..Self::new(StatusCode::UNAUTHORIZED, error, message)
        }
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(error: crate::store::StoreError) -> Self {
        tracing::error!(%error, "profile store failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the sandbox's database failed; see its log",
        )
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        crate::store::StoreError::from(error).into()
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error, "message": self.message });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if let Some((name, value)) = self.header
            && let Ok(value) = HeaderValue::from_str(&value)
        {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// A profile handler's result.
pub type Answer<T> = Result<T, Refusal>;

/// Parses a JSON body with the sandbox's rules (NUL refused), as a 400 with the reason.
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Answer<T> {
    crate::extract::parse(bytes).map_err(|error| Refusal::bad_request(error.to_string()))
}

/// A JSON answer with `status`.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(error) => Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the answer could not be encoded: {error}"),
        )
        .into_response(),
    }
}

/// A random secret of 32 bytes as URL-safe Base64 without padding (API keys, secrets).
pub(crate) fn random_secret(state: &AppState) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(state.random::<32>())
}

/// The `Authorization: Bearer` token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A header's text value, if present and visible ASCII.
pub(crate) fn header_text<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// Unix seconds of `now_ms`.
pub fn seconds(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_json_with_its_code_and_challenge() {
        let response =
            Refusal::unauthorized("jwt_expired", "the JWT \"x\" expired").into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let challenge = response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap();
        assert!(challenge.contains("invalid_token"), "{challenge}");
        assert!(!challenge.contains("\"x\""), "{challenge}");
    }
}
