//! What a failed command reports: a message, a hint saying what to do, a stable machine kind,
//! and the exit code its class maps to.

use serde::Serialize;
use tokensim_device::Error as DeviceError;
use tokensim_wallet::Error as WalletError;

/// The exit code classes (documented in `--help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// A failed command, ready to print.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Exit code class.
    pub class: Class,
    /// A stable machine-readable kind, e.g. `network`, `rejected`, `device-not-found`.
    pub kind: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Failure {
    /// A failure of `class` and `kind`.
    pub fn new(class: Class, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            class,
            kind,
            message: message.into(),
            hint: None,
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
            "io",
            format!("cannot {action} {}: {error}", path.display()),
        )
        .hint("check the path and its permissions")
    }

    /// The JSON document printed with `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": self.message,
            "kind": self.kind,
            "hint": self.hint,
            "exitCode": self.class.code(),
        })
    }
}

const TRACE_HINT: &str = "run again with --trace to see the exchange; `tokensim diagnose --out FILE` writes a redacted bundle for a bug report";

impl From<DeviceError> for Failure {
    fn from(error: DeviceError) -> Self {
        use Class::*;
        let message = error.to_string();
        let (class, kind, hint): (Class, &'static str, String) = match &error {
            DeviceError::ActivationCode(_) => (
                Rejected,
                "activation-code",
                "check the code for typos (it reads XXXXX-XXXXX-XXXXX-XXXXX, optionally #SIGNATURE), or scan the QR image with --image".into(),
            ),
            DeviceError::ActivationSignature(_) => (
                Rejected,
                "activation-signature",
                "give --config the mobile SDK configuration of the application that issued this code (tokensim sandbox prints it)".into(),
            ),
            DeviceError::Config(_) => (
                Usage,
                "config",
                "pass the mobileSdkConfig string exactly as the server hands it out".into(),
            ),
            DeviceError::Network { .. } => (
                Error,
                "network",
                "check that the server is running and that its URL is right".into(),
            ),
            DeviceError::Timeout { .. } => (
                Error,
                "timeout",
                "retry, or raise --timeout; `tokensim status` afterwards resynchronises the counter".into(),
            ),
            DeviceError::ResponseDropped { .. } => (
                Error,
                "response-dropped",
                "run `tokensim status`: it shows whether the counters are still in sync".into(),
            ),
            DeviceError::Server { status, message, .. } => match (status, message.as_str()) {
                (500..=599, _) => (Error, "server-error", "retry later; the device is unchanged".into()),
                (401, _) => (
                    Rejected,
                    "rejected",
                    "check the PIN and the factors; `tokensim status` shows failed attempts and whether the counters are in sync".into(),
                ),
                (_, "POWER_AUTH_ACTIVATION_INVALID") => (
                    Rejected,
                    "rejected",
                    "the code is expired, already used, or for another application: ask the server for a new activation code".into(),
                ),
                _ => (Rejected, "rejected", TRACE_HINT.into()),
            },
            DeviceError::InvalidResponse { .. }
            | DeviceError::Decryption { .. }
            | DeviceError::Status(_)
            | DeviceError::Protocol(_) => (Error, "invalid-response", TRACE_HINT.into()),
            DeviceError::NotActive { state, .. } => (
                Rejected,
                "not-active",
                match *state {
                    "REMOVED" => "remove the device (tokensim devices remove-local) and activate again".into(),
                    "BLOCKED" => "unblock the activation on the server, then retry".into(),
                    _ => "commit the activation on the server, then run tokensim status".into(),
                },
            ),
            DeviceError::CounterDeadlock(_) => (
                Device,
                "counter-deadlock",
                "remove the activation (tokensim remove) and activate again".into(),
            ),
            DeviceError::BiometryNotEnabled | DeviceError::BiometryInvalidated => (
                Device,
                "biometry",
                "run tokensim biometry enroll (it needs the PIN once)".into(),
            ),
            DeviceError::FactorNotAllowed { .. } => (
                Rejected,
                "factor-not-allowed",
                "choose --factors among those the operation allows".into(),
            ),
            DeviceError::UnknownToken(name) => (
                Device,
                "unknown-token",
                format!("create it: tokensim tokens create --name {name}"),
            ),
            DeviceError::Vault(_) => (Rejected, "vault", TRACE_HINT.into()),
            DeviceError::OfflineQr(_) => (
                Rejected,
                "offline-qr",
                "scan the QR code this device's server issued for this device".into(),
            ),
            DeviceError::QrImage(_) => (
                Error,
                "qr-image",
                "use a sharper or closer image, or pass the text with --qr / --payload".into(),
            ),
            DeviceError::Persist(_) => (
                Device,
                "store",
                "check the data folder's permissions and free space; nothing was sent".into(),
            ),
            DeviceError::FaultNotApplicable { .. } => (
                Usage,
                "fault-not-applicable",
                "choose a fault this command's call can carry".into(),
            ),
            _ => (Error, "error", TRACE_HINT.into()),
        };
        Failure::new(class, kind, message).hint(hint)
    }
}

impl From<WalletError> for Failure {
    fn from(error: WalletError) -> Self {
        const LIST: &str = "`tokensim devices` lists them; choose one with --device";
        const FILE_STORE: &str = "keep devices in a passphrase-encrypted file instead: --store file (the passphrase comes from $TOKENSIM_PASSPHRASE, or is asked)";
        let message = error.to_string();
        let (kind, hint): (&'static str, String) = match &error {
            WalletError::NoKeychain(_) => ("keychain-unavailable", FILE_STORE.into()),
            WalletError::PassphraseNeeded { .. } => (
                "passphrase-needed",
                "set the passphrase in $TOKENSIM_PASSPHRASE (or the variable --passphrase-env names), or run in a terminal to be asked".into(),
            ),
            WalletError::Parts { .. } => (
                "store-damaged",
                "export what still works, then remove the device and activate again".into(),
            ),
            WalletError::NotActivated { .. } => ("not-activated", LIST.into()),
            WalletError::NoDevices => (
                "no-device",
                "tokensim activate --server URL --config CONFIG --qr 'CODE#SIGNATURE'".into(),
            ),
            WalletError::NotFound { .. } => ("device-not-found", LIST.into()),
            WalletError::Ambiguous { .. } => ("ambiguous-device", LIST.into()),
            WalletError::Store(store) => {
                use tokensim_wallet::StoreError as S;
                match store {
                    S::KeychainUnavailable(_) => ("keychain-unavailable", FILE_STORE.into()),
                    S::Keychain { .. } => ("keychain", FILE_STORE.into()),
                    S::WrongPassphrase { .. } => (
                        "wrong-passphrase",
                        "check $TOKENSIM_PASSPHRASE (passphrases are case-sensitive)".into(),
                    ),
                    S::DeviceNotFound { .. } => ("device-not-found", LIST.into()),
                    S::DeviceExists { .. } => (
                        "device-exists",
                        "import it under another name with --name".into(),
                    ),
                    S::BackendMismatch { .. } => (
                        "store-mismatch",
                        "drop --store to use what the store was created with, or choose another --data-dir".into(),
                    ),
                    _ => ("store", "check --data-dir and its permissions".into()),
                }
            }
            _ => ("store", "check --data-dir and its permissions".into()),
        };
        Failure::new(Class::Device, kind, message).hint(hint)
    }
}
