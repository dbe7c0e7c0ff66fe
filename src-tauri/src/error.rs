//! [`AppError`] (declared in [`crate::types`], exported to TypeScript): its constructors,
//! the kind an app code maps to, and a use case's error as the window shows it (a refused
//! signature with the PIN attempts left).

use crate::types::AppError;
use tokensim_api::ErrorKind;
use tokensim_device::ActiveDevice;

impl AppError {
    /// An error with an app code and a message; its kind follows from the code.
    pub fn new(code: &str, message: impl std::fmt::Display) -> Self {
        Self {
            kind: Some(kind_of(code)),
            code: code.to_owned(),
            message: message.to_string(),
            hint: None,
        }
    }

    /// A use case's error under the app's `code`: its kind, message and hint (the same the
    /// CLI prints).
    pub fn from_api(code: &str, error: tokensim_api::Error) -> Self {
        Self {
            code: code.to_owned(),
            kind: Some(error.kind),
            message: error.message,
            hint: error.hint,
        }
    }

    /// The same error with `hint`.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The engine's error in its own words, with the kind and hint `tokensim-api` gives it.
    pub fn from_device(error: &tokensim_device::Error) -> Self {
        let code = if error.is_authentication_failure() {
            "AUTHENTICATION"
        } else if error.is_profile_refusal() {
            "REFUSED"
        } else {
            "DEVICE"
        };
        Self::from_api(code, tokensim_api::Error::from(error))
    }
}

/// The kind of an app error made from its code alone.
fn kind_of(code: &str) -> ErrorKind {
    match code {
        "INPUT" | "REGION" => ErrorKind::Usage,
        "CONFIG" => ErrorKind::Config,
        "NO_SERVER" => ErrorKind::NoServer,
        "NOT_ACTIVE" => ErrorKind::NotActivated,
        "STORE" | "SAVE" => ErrorKind::Store,
        "SANDBOX" => ErrorKind::Sandbox,
        "CLOUD" => ErrorKind::Cloud,
        "FLEET" => ErrorKind::Fleet,
        "BUSY" => ErrorKind::Busy,
        "QR" | "IMAGE" => ErrorKind::QrImage,
        "SCAN" | "CAMERA" | "NO_CAMERA" | "NO_FRAME" | "NO_SOURCE" | "SCREEN" => ErrorKind::Scan,
        _ => ErrorKind::Error,
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// A use case's error; a refused signature also says how many PIN attempts are left.
pub(crate) fn api_error(error: tokensim_api::Error, device: &ActiveDevice) -> AppError {
    let authentication = error.http_status == Some(401);
    let mut app = AppError::from_api(
        if authentication {
            "AUTHENTICATION"
        } else {
            "DEVICE"
        },
        error,
    );
    if authentication && let Some(status) = &device.last_status {
        app.message = format!(
            "Wrong PIN or factor: the server refused the signature ({} of {} attempts left before the activation is blocked).",
            status.remaining_attempts(),
            status.max_failed_attempts,
        );
        app.hint = Some(
            "type the PIN again; after the last attempt the bank has to unblock the activation"
                .to_owned(),
        );
    }
    app
}
