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
        /// The protocol's message (fixed per code on `/rest/v3`, as PowerAuth Server's
        /// `errors.properties` has it, e.g. "Invalid request received.").
        message: Cow<'static, str>,
        /// Detail for a human (`localizedMessage` on `/rest/v3`).
        detail: Option<String>,
    },
    /// The body is not the JSON the endpoint expects (syntax, missing field, wrong type),
    /// or a field has an invalid value. The text says which.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A request the sandbox will not serve whatever its body says: a foreign `Origin` or
    /// `Host` (a web page trying to drive it), a form or text content type (415).
    #[error("{1}")]
    Refused(StatusCode, String),
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
    /// No application (or application version) with the given id or key.
    #[error("unknown application")]
    UnknownApplication,
    /// No activation with the given id.
    #[error("unknown activation")]
    UnknownActivation,
    /// No operation with the given id.
    #[error("unknown operation")]
    UnknownOperation,
    /// The activation's state (or expiry) forbids the call. The text says which.
    #[error("activation state forbids this: {0}")]
    ActivationState(String),
    /// A recovery code that does not exist, is blocked or used up, or a wrong PUK. The
    /// answer names the PUK index the user should type next, if the code has one left.
    #[error("invalid recovery code or PUK")]
    Recovery {
        /// `currentRecoveryPukIndex`; `None` when every PUK is used.
        current_puk_index: Option<i64>,
    },
    /// The same on PowerAuth Server's API (`/rest/v3/activation/recovery/create`): 400
    /// `ERR0028` with `currentRecoveryPukIndex`.
    #[error("invalid recovery code or PUK")]
    RestRecovery {
        /// `currentRecoveryPukIndex`; `None` when every PUK is used.
        current_puk_index: Option<i64>,
    },
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
    /// ERR0014: a callback URL that is not a URL.
    InvalidUrlFormat,
    /// ERR0012: a signature (type) that cannot be used here.
    InvalidSignature,
    /// ERR0015: no such application or application version.
    InvalidApplication,
    /// ERR0018: an ECIES request that cannot be decrypted.
    DecryptionFailed,
    /// ERR0024: a request the server cannot act on.
    InvalidRequest,
    /// ERR0025: the user already holds a live postcard recovery code.
    RecoveryCodeAlreadyExists,
    /// ERR0026: no recovery code that differs from every existing one.
    UnableToGenerateRecoveryCode,
    /// ERR0027: no such recovery code.
    RecoveryCodeNotFound,
    /// ERR0028: a recovery code that cannot be used, or a wrong PUK.
    InvalidRecoveryCode,
    /// ERR0029: the recovery configuration lacks a key postcards need.
    InvalidRecoveryConfiguration,
    /// ERR0033: no operation template with that name or id.
    OperationTemplateNotFound,
    /// ERR0034: no operation with that id.
    OperationNotFound,
    /// ERR0036: the operation is not `PENDING` (approval failure, cancel).
    OperationInvalidState,
    /// ERR0037: no such operation, or not `PENDING`, on approve.
    OperationApproveFailure,
    /// ERR0038: no such operation, or not `PENDING`, on reject.
    OperationRejectFailure,
    /// ERR0039: an operation template with that name exists.
    OperationTemplateAlreadyExists,
    /// ERR0042: an operation template that cannot be saved or removed.
    OperationTemplateError,
    /// ERR0045: no usable temporary key with that id for this scope.
    MissingTemporaryKey,
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
            RestCode::InvalidUrlFormat => ("ERR0014", "Invalid URL format."),
            RestCode::InvalidSignature => ("ERR0012", "Invalid Signature Provided."),
            RestCode::InvalidApplication => (
                "ERR0015",
                "Application or application version does not exist.",
            ),
            RestCode::DecryptionFailed => ("ERR0018", "Data decryption failed."),
            RestCode::InvalidRequest => ("ERR0024", "Invalid request received."),
            RestCode::RecoveryCodeAlreadyExists => ("ERR0025", "Recovery code already exists."),
            RestCode::UnableToGenerateRecoveryCode => (
                "ERR0026",
                "Too many failed attempts to generate recovery code.",
            ),
            RestCode::RecoveryCodeNotFound => ("ERR0027", "Recovery code was not found."),
            RestCode::InvalidRecoveryCode => ("ERR0028", "Invalid recovery code."),
            RestCode::InvalidRecoveryConfiguration => (
                "ERR0029",
                "Recovery code configuration is missing or incomplete.",
            ),
            RestCode::OperationTemplateNotFound => ("ERR0033", "Operation template was not found."),
            RestCode::OperationNotFound => ("ERR0034", "Operation was not found."),
            RestCode::OperationInvalidState => (
                "ERR0036",
                "Operation state is invalid for the requested change.",
            ),
            RestCode::OperationApproveFailure => ("ERR0037", "Operation cannot be approved."),
            RestCode::OperationRejectFailure => ("ERR0038", "Operation cannot be rejected."),
            RestCode::OperationTemplateAlreadyExists => {
                ("ERR0039", "Operation template already exists.")
            }
            RestCode::OperationTemplateError => {
                ("ERR0042", "Operation template related error occurred.")
            }
            RestCode::MissingTemporaryKey => ("ERR0045", "Missing temporary key pair."),
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

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Error::Api { status, .. } => *status,
            Error::InvalidRequest(_)
            | Error::UnknownApplication
            | Error::UnknownActivation
            | Error::UnknownOperation
            | Error::ActivationState(_)
            | Error::Recovery { .. }
            | Error::RestRecovery { .. } => StatusCode::BAD_REQUEST,
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Refused(status, _) => *status,
            Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What a shared error was, kept on its response so a family layer can restate it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SharedKind {
    /// Malformed or invalid input, unknown path or method, oversized body.
    InvalidRequest,
    /// [`Error::UnknownApplication`].
    UnknownApplication,
    /// [`Error::UnknownActivation`].
    UnknownActivation,
    /// [`Error::UnknownOperation`].
    UnknownOperation,
    /// [`Error::ActivationState`].
    ActivationState,
    /// [`Error::Internal`].
    Internal,
}

/// The marker itself: the kind and the human detail.
#[derive(Debug, Clone)]
pub(crate) struct SharedError {
    /// Which shared error.
    pub kind: SharedKind,
    /// The detail (empty for internal faults).
    pub detail: String,
}

impl Error {
    fn shared_kind(&self) -> Option<SharedKind> {
        match self {
            Error::InvalidRequest(_)
            | Error::TooLarge
            | Error::Refused(..)
            | Error::NotFound
            | Error::MethodNotAllowed => Some(SharedKind::InvalidRequest),
            Error::UnknownApplication => Some(SharedKind::UnknownApplication),
            Error::UnknownActivation => Some(SharedKind::UnknownActivation),
            Error::UnknownOperation => Some(SharedKind::UnknownOperation),
            Error::ActivationState(_) => Some(SharedKind::ActivationState),
            Error::Internal(_) => Some(SharedKind::Internal),
            Error::Api { .. }
            | Error::Unauthenticated(_)
            | Error::Forbidden
            | Error::Recovery { .. }
            | Error::RestRecovery { .. } => None,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let text = self.to_string();
        let (code, message): (&str, Cow<'static, str>) = match &self {
            Error::Api { code, message, .. } => (code, message.clone()),
            Error::InvalidRequest(_)
            | Error::TooLarge
            | Error::Refused(..)
            | Error::NotFound
            | Error::MethodNotAllowed => ("INVALID_REQUEST", text.clone().into()),
            Error::UnknownApplication => ("INVALID_APPLICATION", text.clone().into()),
            Error::UnknownActivation => ("ACTIVATION_NOT_FOUND", text.clone().into()),
            Error::UnknownOperation => ("INVALID_REQUEST", text.clone().into()),
            Error::ActivationState(_) => ("INVALID_ACTIVATION_STATE", text.clone().into()),
            Error::Unauthenticated(_) => ("ERR_AUTHENTICATION", text.clone().into()),
            Error::Recovery { .. } => (
                "INVALID_RECOVERY_CODE",
                "POWER_AUTH_RECOVERY_INVALID".into(),
            ),
            Error::RestRecovery { .. } => {
                let (code, message) = RestCode::InvalidRecoveryCode.parts();
                (code, message.into())
            }
            Error::Forbidden => ("ERR_AUTHORIZATION", text.clone().into()),
            Error::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ("ERROR_GENERIC", "Internal server error.".into())
            }
        };
        let detail = match &self {
            Error::Api { detail, .. } => detail.clone(),
            _ => None,
        };
        let mut body = error_body(code, &message, detail.as_deref());
        if let Error::Recovery { current_puk_index } | Error::RestRecovery { current_puk_index } =
            &self
        {
            body.response_object.current_recovery_puk_index = *current_puk_index;
        }
        let mut response = (status, Json(body)).into_response();
        if let Error::Unauthenticated(_) = &self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tokensim-sandbox\""),
            );
        }
        if let Some(kind) = self.shared_kind() {
            let detail = if kind == SharedKind::Internal {
                String::new()
            } else {
                text
            };
            response
                .extensions_mut()
                .insert(SharedError { kind, detail });
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
    #[serde(
        rename = "currentRecoveryPukIndex",
        skip_serializing_if = "Option::is_none"
    )]
    current_recovery_puk_index: Option<i64>,
}

fn error_body<'a>(code: &'a str, message: &'a str, detail: Option<&'a str>) -> ErrorBody<'a> {
    ErrorBody {
        status: "ERROR",
        response_object: ErrorObject {
            code,
            message,
            localized_message: detail,
            current_recovery_puk_index: None,
        },
    }
}

/// Restates shared errors in PowerAuth Server's codes (`ERR0024` bad request, `ERR0015`
/// unknown application, `ERR0009` unknown activation, `ERR0034` unknown operation,
/// `ERR0008` wrong state, `ERR0000` internal). Used with `axum::middleware::map_response`.
pub(crate) async fn rest_error_codes(response: Response) -> Response {
    let Some(shared) = response.extensions().get::<SharedError>().cloned() else {
        return response;
    };
    let status = response.status();
    let code = match shared.kind {
        SharedKind::InvalidRequest => RestCode::InvalidRequest,
        SharedKind::UnknownApplication => RestCode::InvalidApplication,
        SharedKind::UnknownActivation => RestCode::ActivationNotFound,
        SharedKind::UnknownOperation => RestCode::OperationNotFound,
        SharedKind::ActivationState => RestCode::IncorrectActivationState,
        SharedKind::Internal => {
            return (
                status,
                Json(error_body("ERR0000", "Unknown error occurred.", None)),
            )
                .into_response();
        }
    };
    let (code, message) = code.parts();
    (
        status,
        Json(error_body(code, message, Some(&shared.detail))),
    )
        .into_response()
}

/// Restates the shared activation errors of the RESTful API (`/pa/v3`) as its
/// `ERR_ACTIVATION` / `POWER_AUTH_ACTIVATION_INVALID` (HTTP 400).
pub(crate) async fn restful_error_codes(response: Response) -> Response {
    let Some(shared) = response.extensions().get::<SharedError>().cloned() else {
        return response;
    };
    match shared.kind {
        SharedKind::UnknownApplication
        | SharedKind::UnknownActivation
        | SharedKind::ActivationState => (
            StatusCode::BAD_REQUEST,
            Json(error_body(
                "ERR_ACTIVATION",
                "POWER_AUTH_ACTIVATION_INVALID",
                None,
            )),
        )
            .into_response(),
        SharedKind::InvalidRequest | SharedKind::UnknownOperation | SharedKind::Internal => {
            response
        }
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Self {
        // PostgreSQL refuses a NUL in a text column (SQLSTATE 22021). The extractors refuse
        // NULs in request bodies; this catches one that came another way (an encrypted
        // payload), so it is the client's 400, never a 500.
        if let StoreError::Database(sqlx::Error::Database(db)) = &error
            && db.code().as_deref() == Some("22021")
        {
            return Error::InvalidRequest(crate::extract::NUL_MESSAGE.to_owned());
        }
        Error::Internal(error.to_string())
    }
}

/// Every error in the JSON shape of the API it belongs to, whoever wrote it: a shared error
/// of a handler, the fallback or a guard outside the family's router is restated in the
/// family's codes (`/rest/v3` → [`rest_error_codes`], `/pa/v3` → [`restful_error_codes`]),
/// and a framework rejection that is not JSON (a plain-text 4xx from an extractor, a 415,
/// a 413 from a body limit) becomes the common error shape with its status kept.
pub(crate) async fn api_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error())
        && !is_json
        && response.extensions().get::<SharedError>().is_none()
    {
        let body = axum::body::to_bytes(std::mem::take(response.body_mut()), 64 * 1024)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body).trim().to_owned();
        let text = if text.is_empty() {
            status.canonical_reason().unwrap_or("refused").to_owned()
        } else {
            text
        };
        let error = match status {
            StatusCode::NOT_FOUND => Error::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Error::TooLarge,
            StatusCode::UNAUTHORIZED => {
                Error::Unauthenticated("missing Authorization: Basic header")
            }
            StatusCode::INTERNAL_SERVER_ERROR => Error::Internal(text),
            status if status.is_client_error() => Error::Refused(status, text),
            _ => Error::Internal(format!("{status}: {text}")),
        };
        let headers = std::mem::take(response.headers_mut());
        response = error.into_response();
        // Keep what the framework said besides the body (`Allow` on a 405).
        for (name, value) in &headers {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                response.headers_mut().entry(name).or_insert(value.clone());
            }
        }
    }
    if path.starts_with("/rest/") {
        rest_error_codes(response).await
    } else if path.starts_with("/pa/") {
        restful_error_codes(response).await
    } else {
        response
    }
}

/// The answer to a path no router knows, in the same JSON shape.
pub(crate) async fn not_found() -> Error {
    Error::NotFound
}

/// The answer to a known path called with the wrong method.
pub(crate) async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}
