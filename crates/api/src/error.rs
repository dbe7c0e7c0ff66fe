//! What a failed use case reports, to the CLI and the app alike: a stable [`ErrorKind`], a
//! [`Class`] (the CLI's exit code), the message, and a hint saying what to do.

use serde::Serialize;
use tokensim_device::Error as DeviceError;
use tokensim_wallet::Error as WalletError;

/// The classes of failure (the CLI's exit codes, documented in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// 1: server failure, network, timeout, file I/O.
    Error,
    /// 2: a bad argument.
    Usage,
    /// 3: the server refused, a verification failed, a fault was answered wrongly.
    Rejected,
    /// 4: no such device, keychain unavailable, wrong passphrase, damaged store.
    Device,
}

impl Class {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Class::Error => 1,
            Class::Usage => 2,
            Class::Rejected => 3,
            Class::Device => 4,
        }
    }
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// A stable, machine-readable kind of failure: the CLI's `--json` `kind`, the app's
        /// `AppError.kind` (a TypeScript string union). Scripts and the UI branch on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in declaration order.
            pub const ALL: &[ErrorKind] = &[$(ErrorKind::$variant,)*];

            /// The kind's name, e.g. `device-not-found`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $name,)*
                }
            }
        }
    };
}

kinds! {
    /// Anything without a kind of its own.
    Error = "error",
    /// A bad argument or option.
    Usage = "usage",
    /// A file could not be read or written.
    Io = "io",
    /// The async runtime did not start.
    Runtime = "runtime",
    /// The activation code does not parse (typo, damaged QR, recovery code).
    ActivationCode = "activation-code",
    /// The activation code's signature is not the application's.
    ActivationSignature = "activation-signature",
    /// The mobile SDK configuration or the server URL is wrong.
    Config = "config",
    /// The server cannot be reached.
    Network = "network",
    /// The server did not answer in time, or a wait ran out.
    Timeout = "timeout",
    /// The response was dropped (a fault): the counter may be out of sync.
    ResponseDropped = "response-dropped",
    /// The answer was larger than the device reads (16 MiB): not a PowerAuth server.
    ResponseTooLarge = "response-too-large",
    /// The server failed (HTTP 5xx).
    ServerError = "server-error",
    /// The server refused the request (wrong PIN, invalid activation...).
    Rejected = "rejected",
    /// The server's answer is not what the protocol says.
    InvalidResponse = "invalid-response",
    /// The activation is not active (pending commit, blocked, removed).
    NotActive = "not-active",
    /// The counters cannot be reconciled any more.
    CounterDeadlock = "counter-deadlock",
    /// Biometry is not enrolled, or was invalidated.
    Biometry = "biometry",
    /// The operation does not allow these factors.
    FactorNotAllowed = "factor-not-allowed",
    /// No token of that name.
    UnknownToken = "unknown-token",
    /// The vault could not be unlocked.
    Vault = "vault",
    /// The offline QR code is not usable by this device.
    OfflineQr = "offline-qr",
    /// No QR code could be read from the image.
    QrImage = "qr-image",
    /// The device store failed.
    Store = "store",
    /// The fault cannot be injected into this call.
    FaultNotApplicable = "fault-not-applicable",
    /// The OS keychain cannot be used.
    KeychainUnavailable = "keychain-unavailable",
    /// The OS keychain failed.
    Keychain = "keychain",
    /// The encrypted file store needs its passphrase.
    PassphraseNeeded = "passphrase-needed",
    /// The two passphrases typed differ.
    PassphraseMismatch = "passphrase-mismatch",
    /// The passphrase is wrong.
    WrongPassphrase = "wrong-passphrase",
    /// A stored device cannot be read.
    StoreDamaged = "store-damaged",
    /// The store was created with another backend.
    StoreMismatch = "store-mismatch",
    /// The device is not activated yet.
    NotActivated = "not-activated",
    /// There is no device yet.
    NoDevice = "no-device",
    /// No device matches.
    DeviceNotFound = "device-not-found",
    /// Several devices match.
    AmbiguousDevice = "ambiguous-device",
    /// A device with that id exists already.
    DeviceExists = "device-exists",
    /// No PIN was given.
    NoPin = "no-pin",
    /// No bundle passphrase was given.
    NoPassphrase = "no-passphrase",
    /// No Cloud API password was given.
    NoPassword = "no-password",
    /// A path that is not a path.
    BadPath = "bad-path",
    /// A signed ECIES exchange needs the activation scope.
    SignNeedsActivationScope = "sign-needs-activation-scope",
    /// The server says the signature is not valid.
    SignatureInvalid = "signature-invalid",
    /// The diagnostics bundle could not be written.
    Diagnose = "diagnose",
    /// The sandbox did not start or failed.
    Sandbox = "sandbox",
    /// The fleet failed or its options are wrong.
    Fleet = "fleet",
    /// No server is configured (the app).
    NoServer = "no-server",
    /// The Cloud API failed (the app's sandbox panel).
    Cloud = "cloud",
    /// No frame could be scanned: camera, screen, image or region (the app).
    Scan = "scan",
    /// Another run is in progress (the app).
    Busy = "busy",
    /// The PIN does not unlock an imported knowledge key (checked offline).
    WrongPin = "wrong-pin",
    /// A cmd-tool status file cannot be read or is not a finished activation.
    CmdtoolFile = "cmdtool-file",
    /// A cmd-tool status file's keys do not belong to one activation.
    CmdtoolKeys = "cmdtool-keys",
    /// A snapshot name that cannot be one.
    SnapshotName = "snapshot-name",
    /// A snapshot of that name exists.
    SnapshotExists = "snapshot-exists",
    /// No snapshot of that name.
    SnapshotNotFound = "snapshot-not-found",
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed use case, ready to show.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The class (the CLI's exit code).
    pub class: Class,
    /// The stable kind.
    pub kind: ErrorKind,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// The HTTP status of the server's refusal, when a server refused (401: a signature
    /// was refused, and the server counted a failed attempt; the mobile API's 401
    /// `OPERATION_FAILED`, a refused approval, carries none).
    pub http_status: Option<u16>,
}

impl Error {
    /// A failure of `class` and `kind`.
    pub fn new(class: Class, kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            class,
            kind,
            message: message.into(),
            hint: None,
            http_status: None,
        }
    }

    /// The same, with a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A file that could not be read or written.
    pub fn io(action: &str, path: &std::path::Path, error: &std::io::Error) -> Self {
        Self::new(
            Class::Error,
            ErrorKind::Io,
            format!("cannot {action} {}: {error}", path.display()),
        )
        .hint("check the path and its permissions")
    }
}

const TRACE_HINT: &str = "run again with --trace to see the exchange; `tokensim diagnose --out FILE` writes a redacted bundle for a bug report";

impl From<DeviceError> for Error {
    fn from(error: DeviceError) -> Self {
        Self::from(&error)
    }
}

impl From<&DeviceError> for Error {
    fn from(error: &DeviceError) -> Self {
        use Class::*;
        let message = error.to_string();
        let (class, kind, hint): (Class, ErrorKind, String) = match error {
            DeviceError::ActivationCode(_) => (
                Rejected,
                ErrorKind::ActivationCode,
                "check the code for typos (it reads XXXXX-XXXXX-XXXXX-XXXXX, optionally #SIGNATURE), or scan the QR image with --image".into(),
            ),
            DeviceError::ActivationSignature(_) => (
                Rejected,
                ErrorKind::ActivationSignature,
                "give --config the mobile SDK configuration of the application that issued this code (tokensim sandbox prints it)".into(),
            ),
            DeviceError::Config(_) => (
                Usage,
                ErrorKind::Config,
                "pass the mobileSdkConfig string exactly as the server hands it out".into(),
            ),
            DeviceError::Network { .. } => (
                Error,
                ErrorKind::Network,
                "check that the server is running and that its URL is right".into(),
            ),
            DeviceError::Timeout { .. } => (
                Error,
                ErrorKind::Timeout,
                "retry, or raise --timeout; `tokensim status` afterwards resynchronises the counter".into(),
            ),
            DeviceError::ResponseTooLarge { .. } => (
                Error,
                ErrorKind::ResponseTooLarge,
                "check that --server points at a PowerAuth server, not a file server or a proxy page".into(),
            ),
            DeviceError::ResponseDropped { .. } => (
                Error,
                ErrorKind::ResponseDropped,
                "run `tokensim status`: it shows whether the counters are still in sync".into(),
            ),
            // The mobile API's refused approval: the signature was good (no PIN to check).
            DeviceError::Server { code, .. } if code == "OPERATION_FAILED" => (
                Rejected,
                ErrorKind::Rejected,
                "the server refused the approval itself: the operation's data, the proximity OTP, the user or the activation does not match; refresh the operation and try again".into(),
            ),
            // A device profile's vendor refused the credential: its words are the message;
            // no PIN or counter is involved.
            DeviceError::Server { .. } if error.is_profile_refusal() => (
                Rejected,
                ErrorKind::Rejected,
                "the vendor refused the device's credential (no PIN or counter involved): see the exchange with --trace".into(),
            ),
            DeviceError::Server { status, message, .. } => match (status, message.as_str()) {
                (500..=599, _) => (Error, ErrorKind::ServerError, "retry later; the device is unchanged".into()),
                (401, _) => (
                    Rejected,
                    ErrorKind::Rejected,
                    "check the PIN and the factors; `tokensim status` shows failed attempts and whether the counters are in sync".into(),
                ),
                (_, "POWER_AUTH_ACTIVATION_INVALID") => (
                    Rejected,
                    ErrorKind::Rejected,
                    "the code is expired, already used, or for another application: ask the server for a new activation code".into(),
                ),
                _ => (Rejected, ErrorKind::Rejected, TRACE_HINT.into()),
            },
            DeviceError::InvalidResponse { .. }
            | DeviceError::Decryption { .. }
            | DeviceError::Status(_)
            | DeviceError::Protocol(_) => (Error, ErrorKind::InvalidResponse, TRACE_HINT.into()),
            DeviceError::NotActive { state, .. } => (
                Rejected,
                ErrorKind::NotActive,
                match *state {
                    "REMOVED" => "remove the device (tokensim devices remove-local) and activate again".into(),
                    "BLOCKED" => "unblock the activation on the server, then retry".into(),
                    _ => "commit the activation on the server, then run tokensim status".into(),
                },
            ),
            DeviceError::CounterDeadlock(_) => (
                Device,
                ErrorKind::CounterDeadlock,
                "remove the activation (tokensim remove) and activate again".into(),
            ),
            DeviceError::BiometryNotEnabled | DeviceError::BiometryInvalidated => (
                Device,
                ErrorKind::Biometry,
                "run tokensim biometry enroll (it needs the PIN once)".into(),
            ),
            DeviceError::FactorNotAllowed { .. } => (
                Rejected,
                ErrorKind::FactorNotAllowed,
                "choose --factors among those the operation allows".into(),
            ),
            DeviceError::UnknownToken(name) => (
                Device,
                ErrorKind::UnknownToken,
                format!("create it: tokensim tokens create --name {name}"),
            ),
            DeviceError::Vault(_) => (Rejected, ErrorKind::Vault, TRACE_HINT.into()),
            DeviceError::OfflineQr(_) => (
                Rejected,
                ErrorKind::OfflineQr,
                "scan the QR code this device's server issued for this device".into(),
            ),
            DeviceError::QrImage(_) => (
                Error,
                ErrorKind::QrImage,
                "use a sharper or closer image, or pass the text with --qr / --payload".into(),
            ),
            DeviceError::Persist(_) => (
                Device,
                ErrorKind::Store,
                "check the data folder's permissions and free space; nothing was sent".into(),
            ),
            DeviceError::FaultNotApplicable { .. } => (
                Usage,
                ErrorKind::FaultNotApplicable,
                "choose a fault this command's call can carry".into(),
            ),
            _ => (Error, ErrorKind::Error, TRACE_HINT.into()),
        };
        // A 401 `OPERATION_FAILED` is the mobile API's refused approval: the signature was
        // good, so it is not reported as a refused signature (no PIN attempt was spent).
        let http_status = error.http_status().filter(|status| {
            *status != 401 || error.is_authentication_failure() || error.is_profile_refusal()
        });
        Self {
            http_status,
            ..Self::new(class, kind, message).hint(hint)
        }
    }
}

impl From<WalletError> for Error {
    fn from(error: WalletError) -> Self {
        const LIST: &str = "`tokensim devices` lists them; choose one with --device";
        const FILE_STORE: &str = "keep devices in a passphrase-encrypted file instead: --store file (the passphrase comes from $TOKENSIM_PASSPHRASE, or is asked)";
        let message = error.to_string();
        let (kind, hint): (ErrorKind, String) = match &error {
            WalletError::NoKeychain(_) => (ErrorKind::KeychainUnavailable, FILE_STORE.into()),
            WalletError::PassphraseNeeded { .. } => (
                ErrorKind::PassphraseNeeded,
                "set the passphrase in $TOKENSIM_PASSPHRASE (or the variable --passphrase-env names), or run in a terminal to be asked".into(),
            ),
            WalletError::Parts { .. } => (
                ErrorKind::StoreDamaged,
                "export what still works, then remove the device and activate again".into(),
            ),
            WalletError::NotActivated { .. } => (ErrorKind::NotActivated, LIST.into()),
            WalletError::NoDevices => (
                ErrorKind::NoDevice,
                "tokensim activate --server URL --config CONFIG --qr 'CODE#SIGNATURE'".into(),
            ),
            WalletError::NotFound { .. } => (ErrorKind::DeviceNotFound, LIST.into()),
            WalletError::Ambiguous { .. } => (ErrorKind::AmbiguousDevice, LIST.into()),
            WalletError::SnapshotName { .. } => (
                ErrorKind::SnapshotName,
                "name snapshots like before-approve or day_2".into(),
            ),
            WalletError::SnapshotExists { .. } => (
                ErrorKind::SnapshotExists,
                "tokensim snapshot list DEVICE shows the names in use".into(),
            ),
            WalletError::SnapshotNotFound { .. } => (
                ErrorKind::SnapshotNotFound,
                "tokensim snapshot list DEVICE shows the device's snapshots".into(),
            ),
            WalletError::Store(store) => {
                use tokensim_wallet::StoreError as S;
                match store {
                    S::KeychainUnavailable(_) => (ErrorKind::KeychainUnavailable, FILE_STORE.into()),
                    S::Keychain { .. } => (ErrorKind::Keychain, FILE_STORE.into()),
                    S::WrongPassphrase { .. } => (
                        ErrorKind::WrongPassphrase,
                        "check $TOKENSIM_PASSPHRASE (passphrases are case-sensitive)".into(),
                    ),
                    S::DeviceNotFound { .. } => (ErrorKind::DeviceNotFound, LIST.into()),
                    S::DeviceExists { .. } => (
                        ErrorKind::DeviceExists,
                        "import it under another name with --name".into(),
                    ),
                    S::BackendMismatch { .. } => (
                        ErrorKind::StoreMismatch,
                        "drop --store to use what the store was created with, or choose another --data-dir".into(),
                    ),
                    _ => (ErrorKind::Store, "check --data-dir and its permissions".into()),
                }
            }
            _ => (ErrorKind::Store, "check --data-dir and its permissions".into()),
        };
        Self::new(Class::Device, kind, message).hint(hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(status: u16, code: &str) -> Error {
        Error::from(DeviceError::Server {
            status,
            code: code.into(),
            message: "refused".into(),
        })
    }

    #[test]
    fn a_refused_signature_keeps_its_401_and_a_refused_approval_does_not() {
        assert_eq!(server(401, "ERR_AUTHENTICATION").http_status, Some(401));
        assert_eq!(server(401, "POWERAUTH_AUTH_FAIL").http_status, Some(401));
        let approval = server(401, "OPERATION_FAILED");
        assert_eq!(approval.http_status, None);
        assert_eq!(approval.kind, ErrorKind::Rejected);
        assert_eq!(
            server(400, "OPERATION_ALREADY_FAILED").http_status,
            Some(400)
        );
    }
}
