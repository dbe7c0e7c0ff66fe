//! [`Error`]: what went wrong, in words that say what to do next.
//!
//! Every variant leaves the device usable: state changes are committed only after the
//! step that needs them succeeded (see the crate docs), so after any error the caller may
//! simply retry or fetch the status.

use powerauth::activation_code::{ActivationCodeError, QrPayloadError, SignatureMismatch};
use powerauth::status::{CounterDeadlock, StatusError};
use std::time::Duration;

/// Why an operation of the simulated token failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The activation code does not parse: a typo when typing it, or a damaged QR code.
    #[error("{}", activation_code_words(.0))]
    ActivationCode(#[from] QrPayloadError),
    /// The QR payload's signature is not the application's: wrong application config, or
    /// a forged or altered QR code. Nothing was sent to the server.
    #[error(
        "the activation QR code is not signed by this application's master key: it was issued for another application (check the mobile SDK configuration) or altered"
    )]
    ActivationSignature(#[from] SignatureMismatch),
    /// The application configuration (`mobileSdkConfig` or its parts) does not parse.
    #[error("the application configuration is invalid: {0}")]
    Config(#[from] powerauth::config::ConfigError),
    /// The server could not be reached: not running, wrong URL, no network.
    #[error("cannot reach {url}: {detail}. Check that the server is running and the URL is right")]
    Network {
        /// The URL called.
        url: String,
        /// What the HTTP stack said.
        detail: String,
    },
    /// No answer within the configured timeout. A signed request may have reached the
    /// server: the counter was already advanced, the next status call resynchronises.
    #[error("{url} did not answer within {after:?}; retry, or raise the timeout")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The server's answer is larger than the device reads
    /// ([`MAX_RESPONSE_BYTES`](crate::client::MAX_RESPONSE_BYTES)): not a PowerAuth server,
    /// or a broken proxy. Nothing of it was used.
    #[error(
        "the answer from {url} is larger than the {} MiB the token reads: check that the URL points at a PowerAuth server", .limit / (1024 * 1024)
    )]
    ResponseTooLarge {
        /// The URL called.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// The response was discarded by the `DropResponse` fault; the request did reach the
    /// server.
    #[error(
        "the response from {url} was dropped (fault injection); the request reached the server"
    )]
    ResponseDropped {
        /// The URL called.
        url: String,
    },
    /// The server rejected the request with an error body.
    #[error("{}", server_words(*.status, .code, .message))]
    Server {
        /// The HTTP status.
        status: u16,
        /// `responseObject.code`, e.g. `ERR_AUTHENTICATION`.
        code: String,
        /// `responseObject.message`, e.g. `POWER_AUTH_SIGNATURE_INVALID`.
        message: String,
    },
    /// The server answered something that is not the protocol's shape: a truncated or
    /// tampered response, a proxy's error page, or a server bug.
    #[error("the server's answer to {what} is not valid: {detail}")]
    InvalidResponse {
        /// Which call.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The encrypted response did not decrypt: tampered in transit, or answered with keys
    /// other than the request's.
    #[error(
        "the encrypted response to {what} does not decrypt ({detail}): it was altered in transit or the server used other keys"
    )]
    Decryption {
        /// Which call.
        what: &'static str,
        /// The ECIES error.
        detail: String,
    },
    /// The status blob did not decrypt or parse.
    #[error("the activation status could not be read: {0}")]
    Status(#[from] StatusError),
    /// The operation needs an active activation, the server says it is not.
    #[error("{}", state_words(.state, *.failed_attempts, *.max_failed_attempts))]
    NotActive {
        /// The state name (`BLOCKED`, `REMOVED`, …).
        state: &'static str,
        /// Failed PIN attempts the server counted.
        failed_attempts: u8,
        /// Attempts allowed before blocking.
        max_failed_attempts: u8,
    },
    /// The local counter cannot be reconciled with the server's.
    #[error(
        "the signature counter is out of sync: {0}. The server will reject every signature; remove the activation and activate again"
    )]
    CounterDeadlock(CounterDeadlock),
    /// A signature needs biometry, but no biometry key is enrolled on this device.
    #[error("biometry is not enabled on this device: enroll it first (it needs the PIN once)")]
    BiometryNotEnabled,
    /// The simulated biometric enrollment changed since the key was stored: like a phone,
    /// the device dropped the key.
    #[error(
        "the biometric enrollment changed, so the biometry key was invalidated: enroll biometry again"
    )]
    BiometryInvalidated,
    /// The operation (online or offline) does not accept this factor combination;
    /// nothing was signed or sent.
    #[error("{what} cannot be approved with {used}: it accepts {allowed}")]
    FactorNotAllowed {
        /// What was being approved.
        what: String,
        /// The signature type tried.
        used: String,
        /// What it accepts.
        allowed: String,
    },
    /// No token of that name is stored on the device.
    #[error("no token named {0:?} on this device: create it first")]
    UnknownToken(String),
    /// The vault key the server returned does not open this device's private key.
    #[error("the vault could not be opened: {0}")]
    Vault(#[from] powerauth::vault::VaultError),
    /// An offline QR code is invalid or not signed by the server.
    #[error("the offline QR code is not usable: {0}")]
    OfflineQr(#[from] powerauth::offline::OfflineQrError),
    /// A QR image could not be read or holds no code.
    #[error(transparent)]
    QrImage(#[from] crate::qr_image::QrImageError),
    /// The device state could not be saved before a signed request; nothing was sent.
    #[error("the device state could not be saved, so nothing was sent: {0}")]
    Persist(String),
    /// The fault cannot be applied to this call (e.g. `CorruptMac` on a call without
    /// encryption).
    #[error("the fault {fault} does not apply to {what}")]
    FaultNotApplicable {
        /// The fault.
        fault: String,
        /// The call.
        what: &'static str,
    },
    /// A protocol building block refused its input (a bug or a corrupt stored state).
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether the server rejected the request's authentication (HTTP 401). The mobile
    /// API's 401 `OPERATION_FAILED` is not one: the signature was good, PowerAuth Server
    /// refused the approval itself (data, factor, user or proximity OTP).
    pub fn is_authentication_failure(&self) -> bool {
        matches!(self, Error::Server { status: 401, code, .. } if code != "OPERATION_FAILED" && !is_profile_code(code))
    }

    /// Whether a device profile's vendor (JWT, API key, signed token, OAuth) refused the
    /// device's credential: a 401 with the profile's lower-case code (`jwt_expired`), never a
    /// PowerAuth signature (no PIN, no counter).
    pub fn is_profile_refusal(&self) -> bool {
        matches!(self, Error::Server { status: 401, code, .. } if is_profile_code(code))
    }

    /// The HTTP status of a server error, if this is one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Server { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Error::InvalidResponse {
            what,
            detail: detail.into(),
        }
    }
}

fn activation_code_words(error: &QrPayloadError) -> String {
    match error {
        QrPayloadError::InvalidCode(ActivationCodeError::ChecksumMismatch) => {
            "the activation code's checksum doesn't match: a character was mistyped or two were swapped".to_owned()
        }
        QrPayloadError::InvalidCode(inner) => format!("the activation code is not valid: {inner}"),
        other => format!("the activation QR payload is not valid: {other}"),
    }
}

/// A device profile's error code: lower-case words joined by `_` (`jwt_expired`,
/// `invalid_client`), where PowerAuth's are upper case (`ERR_AUTHENTICATION`).
fn is_profile_code(code: &str) -> bool {
    !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// What a device profile's 401 `code` means, in the profile's words.
pub fn profile_refusal_words(code: &str) -> &'static str {
    match code {
        "jwt_expired" => {
            "the JWT expired: the device logs in to the app server again for a new one"
        }
        "jwt_invalid_signature" => {
            "the JWT is not signed with the project's key: forged, or issued by another vendor"
        }
        "jwt_instance_mismatch" => "the JWT was issued for another device id (instance_id)",
        "jwt_malformed" => "the bearer token is not this vendor's JWT",
        "invalid_api_key" => "the API key is wrong: configure the one the project was created with",
        "missing_credentials" => "the call carried no credential",
        "invalid_credentials" => "the user name and password (or the API key and secret) are wrong",
        "token_required" => "the project requires a signed token on this call",
        "token_invalid" => "the signed token is not signed with the project's API secret",
        "token_expired" => "the signed token expired: the app server signs a new one",
        "token_user_mismatch" => "the signed token was signed for another user",
        "invalid_token" => {
            "the access token expired or was revoked: refresh it or authenticate again"
        }
        "invalid_client" => "the client secret is wrong, or the client id unknown",
        "invalid_grant" => {
            "the refresh token or device code is no longer valid: authenticate again"
        }
        _ => "the vendor refused this device's credential",
    }
}

fn server_words(status: u16, code: &str, message: &str) -> String {
    if status == 401 && is_profile_code(code) {
        return format!(
            "{} (the server answered HTTP {status} {code}: {message})",
            profile_refusal_words(code)
        );
    }
    let hint = match (status, code, message) {
        (_, "OPERATION_FAILED", _) => {
            "the signature was good but the server refused to approve or reject: the data, the factor, the user, the activation or the proximity OTP does not match the operation"
        }
        (_, "OPERATION_ALREADY_FAILED", _) => {
            "the operation has failed after too many refused approvals: the bank has to create a new one"
        }
        (
            _,
            "OPERATION_ALREADY_FINISHED" | "OPERATION_ALREADY_CANCELED" | "OPERATION_EXPIRED",
            _,
        ) => "the operation is no longer pending: refresh the list",
        (401, _, _) => {
            "the server rejected the signature or token: wrong PIN, a counter out of sync, or a factor this endpoint does not allow"
        }
        (_, _, "POWER_AUTH_ENCRYPTION_FAILED") => {
            "the server could not decrypt the request: a corrupted MAC, wrong application keys, or a clock too far off"
        }
        (_, _, "POWER_AUTH_ACTIVATION_INVALID") => {
            "the activation code is unknown, expired, already used, or belongs to another application"
        }
        (_, _, "POWER_AUTH_TEMPORARY_KEY_FAILURE") => {
            "the server refused a temporary key: wrong application secret, or the activation is not active"
        }
        (_, _, "POWER_AUTH_SECURE_VAULT_INVALID") => {
            "the vault did not open: wrong PIN (it counts as a failed attempt)"
        }
        (500..=599, _, _) => "the server failed internally; retry later, the device is unchanged",
        _ => "see the code and message",
    };
    format!("the server answered HTTP {status} {code}/{message}: {hint}")
}

fn state_words(state: &str, failed: u8, max: u8) -> String {
    match state {
        "BLOCKED" if failed >= max && max > 0 => format!(
            "the server says the activation is BLOCKED after {failed} failed PIN attempts: unblock it on the server"
        ),
        "BLOCKED" => {
            "the server says the activation is BLOCKED: unblock it on the server".to_owned()
        }
        "REMOVED" => {
            "the server says the activation is REMOVED: remove the device and activate again"
                .to_owned()
        }
        "CREATED" | "PENDING_COMMIT" => format!(
            "the activation is {state}: the server has not committed it yet; commit it there, then fetch the status"
        ),
        other => format!("the activation is {other}, not ACTIVE"),
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_what_to_do() {
        let typo = Error::from(QrPayloadError::InvalidCode(
            ActivationCodeError::ChecksumMismatch,
        ));
        assert!(
            typo.to_string()
                .contains("checksum doesn't match: a character was mistyped"),
            "{typo}"
        );
        let blocked = Error::NotActive {
            state: "BLOCKED",
            failed_attempts: 5,
            max_failed_attempts: 5,
        };
        assert_eq!(
            blocked.to_string(),
            "the server says the activation is BLOCKED after 5 failed PIN attempts: unblock it on the server"
        );
        let server = Error::Server {
            status: 401,
            code: "ERR_AUTHENTICATION".into(),
            message: "POWER_AUTH_SIGNATURE_INVALID".into(),
        };
        assert!(server.is_authentication_failure());
        assert!(server.to_string().contains("wrong PIN"), "{server}");
        let refused = Error::Server {
            status: 401,
            code: "OPERATION_FAILED".into(),
            message: "PowerAuth server operation approval fails".into(),
        };
        assert!(!refused.is_authentication_failure(), "the PIN was right");
        // A device profile's refusal is in its own words, not PowerAuth's.
        let expired = Error::Server {
            status: 401,
            code: "jwt_expired".into(),
            message: "the JWT expired 3 s ago".into(),
        };
        assert!(expired.is_profile_refusal() && !expired.is_authentication_failure());
        let text = expired.to_string();
        assert!(text.starts_with("the JWT expired: "), "{text}");
        assert!(
            !text.contains("PIN") && !text.contains("signature"),
            "{text}"
        );
        assert!(!server.is_profile_refusal());
        assert!(
            refused.to_string().contains("does not match the operation"),
            "{refused}"
        );
    }
}
