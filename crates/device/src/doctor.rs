//! The activation doctor: why an activation cannot work, said before anything is sent
//! ([`check_code`]) or after the server answered ([`diagnose`]), in the same words
//! wherever TokenSim shows them (the CLI's `activate`, the desktop app's progress view).
//!
//! A [`Diagnosis`] names the step that failed, a stable kind (the CLI's `--json` `kind`),
//! the sentence ([`Error`]'s own words) and a hint saying what to do. It never holds a
//! secret: codes, PINs and OTPs are not repeated back.

pub mod server;
pub mod tls;

use crate::Error;
use powerauth::activation_code::{QrPayload, SignatureCheck};
use powerauth::config::ApplicationConfig;

/// The sentence for a recovery code given where an activation code belongs.
pub const RECOVERY_CODE: &str = "this is a recovery code (R:…), not an activation code";
/// What to do about a recovery code.
pub const RECOVERY_CODE_HINT: &str =
    "activation by recovery code and PUK is not supported; ask for an activation code";

/// The step of an activation a [`Diagnosis`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Reading the code: its shape and checksum.
    ReadCode,
    /// Checking the code's signature against the application's master public key.
    VerifySignature,
    /// Reaching the server at all.
    ReachServer,
    /// The key exchange (`/pa/v3/activation/create`) the server refused or failed.
    KeyExchange,
    /// Anything after the key exchange (status, storing the device).
    Finish,
}

impl Step {
    /// The step's title, as the app's progress view lists it.
    pub fn title(self) -> &'static str {
        match self {
            Step::ReadCode => "Read the activation code",
            Step::VerifySignature => "Verify the code's signature",
            Step::ReachServer => "Reach the server",
            Step::KeyExchange => "Key exchange with the server",
            Step::Finish => "Finish the activation",
        }
    }
}

/// Why an activation failed: the step, a stable kind, the sentence and the hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The step that failed.
    pub step: Step,
    /// A stable kind, the CLI's: `activation-code`, `activation-signature`, `network`,
    /// `timeout`, `server-error`, `rejected`, `invalid-response`, `error`.
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

/// Why a code cannot start an activation, found before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum CodeProblem {
    /// The code does not parse (a typo, a damaged QR), or its signature is not the
    /// application's.
    #[error(transparent)]
    Invalid(#[from] Error),
    /// A recovery code (`R:…`) where an activation code belongs.
    #[error("{RECOVERY_CODE}")]
    RecoveryCode,
}

impl CodeProblem {
    /// The diagnosis the app shows (the CLI maps the same problem to its failure).
    pub fn diagnosis(&self) -> Diagnosis {
        match self {
            CodeProblem::Invalid(error) => diagnose(error, false),
            CodeProblem::RecoveryCode => Diagnosis {
                step: Step::ReadCode,
                kind: "activation-code",
                message: RECOVERY_CODE.to_owned(),
                hint: RECOVERY_CODE_HINT.to_owned(),
            },
        }
    }
}

/// Checks `code` (`CODE[#SIGNATURE]`) before anything is sent: its checksum, and its
/// signature against `application`'s master public key when it carries one.
pub fn check_code(
    code: &str,
    application: &ApplicationConfig,
) -> Result<SignatureCheck, CodeProblem> {
    match QrPayload::parse(code.trim()).map_err(Error::from)? {
        QrPayload::Activation(qr) => Ok(qr
            .verify(&application.master_server_public_key)
            .map_err(Error::from)?),
        QrPayload::Recovery(_) => Err(CodeProblem::RecoveryCode),
    }
}

/// Explains an activation's `error`; `otp_given` says whether an activation OTP went with
/// it (a server refusing the code then may be refusing the OTP: PowerAuth answers both
/// with the same `POWER_AUTH_ACTIVATION_INVALID`).
pub fn diagnose(error: &Error, otp_given: bool) -> Diagnosis {
    let message = error.to_string();
    let (step, kind, hint): (Step, &'static str, String) = match error {
        Error::ActivationCode(_) => (
            Step::ReadCode,
            "activation-code",
            "check the code for typos (it reads XXXXX-XXXXX-XXXXX-XXXXX, optionally #SIGNATURE), or scan the QR image".into(),
        ),
        Error::ActivationSignature(_) => (
            Step::VerifySignature,
            "activation-signature",
            "use the mobile SDK configuration of the application that issued this code (`tokensim activate --config`; the app's sandbox panel shows the embedded one)".into(),
        ),
        Error::Network { .. } => (
            Step::ReachServer,
            "network",
            "check that the server is running and that its URL is right".into(),
        ),
        Error::Timeout { .. } => (
            Step::ReachServer,
            "timeout",
            "retry, or raise the timeout".into(),
        ),
        Error::ResponseTooLarge { .. } => (
            Step::ReachServer,
            "response-too-large",
            "check that the URL points at a PowerAuth server, not a file server or a proxy page".into(),
        ),
        Error::Server {
            status, message, ..
        } => match (status, message.as_str()) {
            (500..=599, _) => (
                Step::KeyExchange,
                "server-error",
                "retry later; the device is unchanged".into(),
            ),
            (_, "POWER_AUTH_ACTIVATION_INVALID") if otp_given => (
                Step::KeyExchange,
                "rejected",
                "check the activation OTP (the server refuses a wrong OTP with the same answer); if it is right, the code is expired, already used, or for another application: ask the server for a new activation code".into(),
            ),
            (_, "POWER_AUTH_ACTIVATION_INVALID") => (
                Step::KeyExchange,
                "rejected",
                "the code is expired, already used, or for another application: ask the server for a new activation code".into(),
            ),
            _ => (
                Step::KeyExchange,
                "rejected",
                "the inspector shows the exchange; the diagnostics bundle is a redacted copy for a bug report".into(),
            ),
        },
        Error::InvalidResponse { .. }
        | Error::Decryption { .. }
        | Error::Status(_)
        | Error::Protocol(_) => (
            Step::KeyExchange,
            "invalid-response",
            "the inspector shows the exchange; the diagnostics bundle is a redacted copy for a bug report".into(),
        ),
        Error::Persist(_) => (
            Step::Finish,
            "store",
            "check the data folder's permissions and free space; nothing was sent".into(),
        ),
        _ => (
            Step::Finish,
            "error",
            "the inspector shows the exchange; the diagnostics bundle is a redacted copy for a bug report".into(),
        ),
    };
    Diagnosis {
        step,
        kind,
        message,
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use powerauth::activation_code::{ActivationCodeError, QrPayloadError};

    #[test]
    fn a_typo_is_a_read_code_failure_in_the_engine_s_words() {
        let error = Error::from(QrPayloadError::InvalidCode(
            ActivationCodeError::ChecksumMismatch,
        ));
        let diagnosis = diagnose(&error, false);
        assert_eq!(diagnosis.step, Step::ReadCode);
        assert_eq!(diagnosis.kind, "activation-code");
        assert_eq!(diagnosis.message, error.to_string());
        assert!(diagnosis.hint.contains("typos"), "{diagnosis:?}");
    }

    #[test]
    fn a_refused_code_mentions_the_otp_only_when_one_was_given() {
        let error = Error::Server {
            status: 400,
            code: "ERR_ACTIVATION".into(),
            message: "POWER_AUTH_ACTIVATION_INVALID".into(),
        };
        let without = diagnose(&error, false);
        let with = diagnose(&error, true);
        assert_eq!(without.step, Step::KeyExchange);
        assert!(without.message.contains("unknown, expired, already used"));
        assert!(!without.hint.contains("OTP"), "{without:?}");
        assert!(with.hint.contains("activation OTP"), "{with:?}");
        assert!(with.hint.contains("expired"), "{with:?}");
    }

    #[test]
    fn a_server_that_is_down_is_a_reach_server_failure() {
        let error = Error::Network {
            url: "http://127.0.0.1:9/pa/v3/activation/create".into(),
            detail: "connection refused".into(),
        };
        let diagnosis = diagnose(&error, false);
        assert_eq!(diagnosis.step, Step::ReachServer);
        assert_eq!(diagnosis.kind, "network");
        assert!(diagnosis.message.contains("cannot reach"), "{diagnosis:?}");
    }
}
