//! What can go wrong talking to a back end.

/// A failed call. Each names the call (`POST /powerauth-cloud/v2/registrations`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No answer: connection refused, DNS, TLS, timeout.
    #[error("{what}: {url} is not reachable: {detail}")]
    Unreachable {
        /// The call.
        what: String,
        /// The server's URL.
        url: String,
        /// The transport's error chain.
        detail: String,
    },
    /// An answer other than success: the HTTP status, and the server's error code and
    /// message when the body is the PowerAuth error envelope.
    #[error("{what}: HTTP {status}{}", refusal(code.as_deref(), message))]
    Refused {
        /// The call.
        what: String,
        /// HTTP status.
        status: u16,
        /// `responseObject.code`, e.g. `ERROR_REGISTRATION_CHANGE` or `ERR0024`.
        code: Option<String>,
        /// `responseObject.message`, or the start of the body.
        message: String,
    },
    /// A success whose body is not the documented shape (not JSON, a missing field).
    #[error("{what}: the answer is not the documented shape: {detail}")]
    Malformed {
        /// The call.
        what: String,
        /// What was wrong.
        detail: String,
    },
}

fn refusal(code: Option<&str>, message: &str) -> String {
    match code {
        Some(code) => format!(" {code}: {message}"),
        None if message.is_empty() => String::new(),
        None => format!(": {message}"),
    }
}

impl Error {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error code of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Refused { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
