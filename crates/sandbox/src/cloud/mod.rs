//! The PowerAuth Cloud API, `/powerauth-cloud/*`, in Wultra's shapes (the reference is
//! `shared/docs/powerauth-cloud.md`; a conformance suite in `tests/conformance` replays
//! Wultra's onboarding tutorial and SDK harnesses against it). HTTP Basic authentication:
//! the admin manages users and applications (`/admin/*`), integration users drive
//! registrations, operations, signature and token checks, push and inbox (`/v2/*`) for
//! the applications assigned to them.
//!
//! Bodies are plain JSON (no envelope); success is always HTTP 200 with a JSON object
//! (`{"status":"OK"}` where there is no resource); unknown request fields are ignored;
//! every error, including a path or body the extractors reject, is the Cloud's envelope
//! `{"status":"ERROR","responseObject":{"code":"ERROR_…","message":…}}`. The OpenAPI
//! document is at `/powerauth-cloud/openapi.json`, Swagger UI at `/powerauth-cloud/swagger-ui/`.
//!
//! Sandbox extensions, not in Wultra's API: the push outbox and its live streams
//! (`/v2/push/*`), operation listing (`GET /v2/operations?userId=`), inbox listing, the
//! QR code images of a registration, and user listing and removal.

mod access;
mod admin;
pub mod auth;
mod docs;
mod inbox;
mod operations;
mod push;
mod registrations;
mod verify;

use crate::error::{Error, SharedKind};
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Every Cloud API route, relative to `/powerauth-cloud`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(docs::router())
        .merge(registrations::router())
        .merge(operations::router())
        .merge(verify::router())
        .merge(push::router())
        .merge(inbox::router())
        .fallback(crate::error::not_found)
        .method_not_allowed_fallback(crate::error::method_not_allowed)
        .layer(axum::middleware::map_response(cloud_errors))
}

/// `{"status":"OK"}`: the answer of an action with no resource to return.
fn status_ok() -> Response {
    crate::extract::json_response(&json!({"status": "OK"}))
}

/// A Cloud error: HTTP `status`, `code`, `message`.
fn error(status: StatusCode, code: &'static str, message: impl Into<String>) -> Error {
    Error::api(status, code, message.into())
}

/// An optional JSON body: none (or only whitespace) reads as `T::default()`.
fn optional_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// A request timestamp (ambiguity A6 of the reference): epoch milliseconds as a number or
/// a numeric string, or an ISO-8601 date-time (`Z` or `±HH:MM`). `null` is none.
fn timestamp(field: &str, value: Option<&Value>) -> Result<Option<i64>, Error> {
    let invalid = || {
        Error::InvalidRequest(format!(
            "{field} must be epoch milliseconds or an ISO-8601 date-time"
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(invalid),
        Some(Value::String(text)) => {
            if let Ok(ms) = text.parse::<i64>() {
                return Ok(Some(ms));
            }
            iso8601_ms(text).map(Some).ok_or_else(invalid)
        }
        Some(_) => Err(invalid()),
    }
}

fn iso8601_ms(text: &str) -> Option<i64> {
    let (base, offset_minutes) = if let Some(base) = text.strip_suffix('Z') {
        (base, 0)
    } else {
        let split = text.len().checked_sub(6)?;
        let (base, offset) = (text.get(..split)?, text.get(split..)?);
        let sign = match offset.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i64 = offset.get(1..3)?.parse().ok()?;
        let minutes: i64 = offset.get(4..6)?.parse().ok()?;
        (base, sign * (hours * 60 + minutes))
    };
    let utc = humantime::parse_rfc3339_weak(&format!("{base}Z")).ok()?;
    let ms = i64::try_from(utc.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()?;
    Some(ms - offset_minutes * 60_000)
}

/// Restates every error under `/powerauth-cloud` in the Cloud's codes: shared errors
/// (`ERROR_REQUEST`, `ERROR_REGISTRATION_NOT_FOUND`, `ERROR_OPERATION_NOT_FOUND`,
/// `ERROR_REGISTRATION_CHANGE`, `ERROR_NOT_FOUND`, `ERROR_GENERIC`), missing or wrong
/// credentials and a role that may not call the endpoint (401 `HTTP_401`), and any answer
/// an extractor wrote in plain text (a path parameter that is not UTF-8, a bad query).
async fn cloud_errors(response: Response) -> Response {
    let status = response.status();
    if let Some(shared) = response
        .extensions()
        .get::<crate::error::SharedError>()
        .cloned()
    {
        let (status, code, message) = match shared.kind {
            SharedKind::InvalidRequest if status == StatusCode::NOT_FOUND => {
                (status, "ERROR_NOT_FOUND", shared.detail)
            }
            SharedKind::InvalidRequest => (status, "ERROR_REQUEST", shared.detail),
            SharedKind::UnknownApplication => {
                (StatusCode::BAD_REQUEST, "ERROR_REQUEST", shared.detail)
            }
            SharedKind::UnknownActivation => (
                StatusCode::BAD_REQUEST,
                "ERROR_REGISTRATION_NOT_FOUND",
                shared.detail,
            ),
            SharedKind::UnknownOperation => (
                StatusCode::BAD_REQUEST,
                "ERROR_OPERATION_NOT_FOUND",
                shared.detail,
            ),
            SharedKind::ActivationState => (
                StatusCode::BAD_REQUEST,
                "ERROR_REGISTRATION_CHANGE",
                shared.detail,
            ),
            SharedKind::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "ERROR_GENERIC",
                "Internal server error.".to_owned(),
            ),
        };
        return envelope(status, code, &message);
    }
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        let mut answer = envelope(StatusCode::UNAUTHORIZED, "HTTP_401", "Unauthorized");
        answer.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tokensim-sandbox\""),
        );
        return answer;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap_or_default();
        let message = String::from_utf8_lossy(&body).into_owned();
        return match status {
            StatusCode::NOT_FOUND => envelope(status, "ERROR_NOT_FOUND", &message),
            s if s.is_server_error() => envelope(s, "ERROR_GENERIC", "Internal server error."),
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                envelope(StatusCode::BAD_REQUEST, "ERROR_REQUEST", &message)
            }
            s => envelope(s, "ERROR_REQUEST", &message),
        };
    }
    response
}

fn envelope(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "status": "ERROR",
            "responseObject": {"code": code, "message": message},
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timestamps_take_the_three_forms() {
        let at = |v: Value| timestamp("t", Some(&v)).ok().flatten();
        assert_eq!(at(json!(1_703_852_368_813_i64)), Some(1_703_852_368_813));
        assert_eq!(at(json!("1703852368813")), Some(1_703_852_368_813));
        assert_eq!(
            at(json!("2023-12-29T12:19:28.813Z")),
            Some(1_703_852_368_813)
        );
        assert_eq!(
            at(json!("2023-12-29T13:19:28.813+01:00")),
            Some(1_703_852_368_813)
        );
        assert_eq!(at(json!("2023-12-29T12:19:28Z")), Some(1_703_852_368_000));
        assert!(timestamp("t", Some(&json!("soon"))).is_err());
        assert!(timestamp("t", Some(&json!(true))).is_err());
        assert!(timestamp("t", Some(&json!(1.5))).is_err());
        assert_eq!(timestamp("t", None).ok(), Some(None));
    }
}
