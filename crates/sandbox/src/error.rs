//! One error type for every handler. Each becomes the protocol's error JSON,
//! `{"status":"ERROR","responseObject":{"code":…,"message":…}}`, with the HTTP status the
//! API family uses. Client errors keep their message; server faults answer a generic
//! body and send the cause to `tracing`.
//!
//! Errors that every family shares (malformed JSON, oversized body, internal faults) are
//! written in the common shape (`INVALID_REQUEST`, `ERROR_GENERIC`); the PowerAuth Server
//! family (`/rest/v3`) rewrites them into its own codes (`ERR0024`, `ERR0000`) with
//! [`rest_error_codes`], applied as a layer on that router.

use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A protocol error with the family's own code, e.g. 400 `ERR0015` on `/rest/v3`.
    #[error("{code}: {message}")]
    Api {
        /// HTTP status.
        status: StatusCode,
        /// The protocol's error code.
        code: &'static str,
        /// The protocol's message (fixed per code on `/rest/v3`, e.g. "Invalid application.").
        message: Cow<'static, str>,
        /// Detail for a human (`localizedMessage` on `/rest/v3`).
        detail: Option<String>,
    },
    /// The body is not the JSON the endpoint expects (syntax, missing field, wrong type),
    /// or a field has an invalid value. The text says which.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The body is larger than the configured limit (`Config::body_limit`).
    #[error("request body is larger than the sandbox accepts")]
    TooLarge,
    /// HTTP Basic credentials missing or wrong (Cloud API).
    #[error("authentication required: {0}")]
    Unauthenticated(&'static str),
    /// Credentials are right but the user's role may not call this endpoint.
    #[error("the user's role may not call this endpoint")]
    Forbidden,
    /// No such endpoint.
    #[error("no endpoint at this path")]
    NotFound,
    /// The endpoint exists but not with this HTTP method.
    #[error("this endpoint does not accept this HTTP method")]
    MethodNotAllowed,
    /// The sandbox's own fault (database, broken invariant). Logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Codes of PowerAuth Server's `/rest/v3` API (its `Server-Error-Codes` list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestCode {
    /// ERR0007: the activation expired before it was completed.
    ActivationExpired,
    /// ERR0008: the activation is in a state that forbids the call.
    IncorrectActivationState,
    /// ERR0009: no activation with that id.
    ActivationNotFound,
    /// ERR0010: a key that does not parse.
    InvalidKeyFormat,
    /// ERR0011: a value in the wrong format (Base64, date).
    InvalidInputFormat,
    /// ERR0015: no such application or application version.
    InvalidApplication,
    /// ERR0024: a request the server cannot act on.
    InvalidRequest,
}

impl RestCode {
    /// The code and PowerAuth Server's fixed message.
    pub fn parts(self) -> (&'static str, &'static str) {
        match self {
            RestCode::ActivationExpired => ("ERR0007", "This activation is already expired."),
            RestCode::IncorrectActivationState => ("ERR0008", "Incorrect activation state."),
            RestCode::ActivationNotFound => (
                "ERR0009",
                "Activation with given activation ID was not found.",
            ),
            RestCode::InvalidKeyFormat => ("ERR0010", "Key with invalid format was provided."),
            RestCode::InvalidInputFormat => ("ERR0011", "Invalid input parameter format."),
            RestCode::InvalidApplication => ("ERR0015", "Invalid application."),
            RestCode::InvalidRequest => ("ERR0024", "Invalid request."),
        }
    }
}

impl Error {
    /// A `/rest/v3` error (HTTP 400) with a detail for humans.
    pub fn rest(code: RestCode, detail: impl Into<String>) -> Self {
        let (code, message) = code.parts();
        Error::Api {
            status: StatusCode::BAD_REQUEST,
            code,
            message: Cow::Borrowed(message),
            detail: Some(detail.into()),
        }
    }

    /// An error with a given status, code and message (RESTful, mobile and Cloud APIs).
    pub fn api(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error::Api {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Error::Api { status, .. } => *status,
            Error::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Marks a response made from a shared error, so a family layer can restate it.
#[derive(Debug, Clone)]
struct SharedError {
    internal: bool,
    detail: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let (code, message, detail): (&str, Cow<'static, str>, Option<String>) = match &self {
            Error::Api {
                code,
                message,
                detail,
                ..
            } => (code, message.clone(), detail.clone()),
            Error::InvalidRequest(_)
            | Error::TooLarge
            | Error::NotFound
            | Error::MethodNotAllowed => ("INVALID_REQUEST", self.to_string().into(), None),
            Error::Unauthenticated(_) => ("ERR_AUTHENTICATION", self.to_string().into(), None),
            Error::Forbidden => ("ERR_AUTHORIZATION", self.to_string().into(), None),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ("ERROR_GENERIC", "Internal server error.".into(), None)
            }
        };
        let mut response =
            (status, Json(error_body(code, &message, detail.as_deref()))).into_response();
        match &self {
            Error::Unauthenticated(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tokensim-sandbox\""),
                );
            }
            Error::InvalidRequest(_)
            | Error::TooLarge
            | Error::NotFound
            | Error::MethodNotAllowed => {
                response.extensions_mut().insert(SharedError {
                    internal: false,
                    detail: self.to_string(),
                });
            }
            Error::Internal(_) => {
                response.extensions_mut().insert(SharedError {
                    internal: true,
                    detail: String::new(),
                });
            }
            Error::Api { .. } | Error::Forbidden => {}
        }
        response
    }
}

#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    status: &'static str,
    #[serde(rename = "responseObject")]
    response_object: ErrorObject<'a>,
}

#[derive(serde::Serialize)]
struct ErrorObject<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(rename = "localizedMessage", skip_serializing_if = "Option::is_none")]
    localized_message: Option<&'a str>,
}

fn error_body<'a>(code: &'a str, message: &'a str, detail: Option<&'a str>) -> ErrorBody<'a> {
    ErrorBody {
        status: "ERROR",
        response_object: ErrorObject {
            code,
            message,
            localized_message: detail,
        },
    }
}

/// Restates shared errors in PowerAuth Server's codes: `ERR0024` for bad requests,
/// `ERR0000` for internal faults. Used with `axum::middleware::map_response`.
pub async fn rest_error_codes(response: Response) -> Response {
    let Some(shared) = response.extensions().get::<SharedError>().cloned() else {
        return response;
    };
    let status = response.status();
    let body = if shared.internal {
        error_body("ERR0000", "Unknown error occurred.", None)
    } else {
        let (code, message) = RestCode::InvalidRequest.parts();
        error_body(code, message, Some(&shared.detail))
    };
    (status, Json(body)).into_response()
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        Error::Internal(error.to_string())
    }
}

/// The answer to a path no router knows, in the same JSON shape.
pub async fn not_found() -> Error {
    Error::NotFound
}

/// The answer to a known path called with the wrong method.
pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
