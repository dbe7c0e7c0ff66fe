//! The store's one error type. Each message says what went wrong and what to do; none carries
//! secret bytes or a passphrase.

use std::io;
use std::path::PathBuf;

use crate::{BackendKind, DeviceId, KeychainUnavailable};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder of the store could not be read or written. Likely causes: permissions,
    /// a full disk, or a `--store` path that is not a folder.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What the store was doing ("read", "write", "lock"...).
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The system has no per-user data folder (no `HOME`, for instance), so the default store
    /// location is unknown.
    #[error("cannot find the user's data folder (is HOME set?): name a store folder explicitly")]
    NoDataDir,

    /// The index file is not valid JSON of the expected shape: edited by hand, or damaged.
    #[error(
        "the device index {} is damaged ({reason}): restore it from a backup, or move it away to start an empty store",
        path.display()
    )]
    CorruptIndex {
        /// The index file.
        path: PathBuf,
        /// What the parser found wrong.
        reason: String,
    },

    /// The index was written by a newer TokenSim with a format this one does not read.
    #[error(
        "{} was written by a newer TokenSim (format version {found}, this one reads version {supported}): upgrade TokenSim",
        path.display()
    )]
    UnsupportedIndexVersion {
        /// The index file.
        path: PathBuf,
        /// The version found in the file.
        found: u64,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// A device id with characters that are unsafe in file names or keychain entries.
    #[error("\"{id}\" is not a valid device name: {reason}")]
    InvalidDeviceId {
        /// The refused id (at most 64 characters of it).
        id: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// No device with this id in the store: a typo, or it was deleted.
    #[error("there is no device \"{id}\" in this store: list the devices to see which exist")]
    DeviceNotFound {
        /// The id asked for.
        id: DeviceId,
    },

    /// A device with this id exists and the operation was told not to overwrite it.
    #[error("a device \"{id}\" already exists: choose another name, or ask to overwrite it")]
    DeviceExists {
        /// The id in use.
        id: DeviceId,
    },

    /// The index lists the device but its secret is gone from the backend: deleted by hand in
    /// the keychain, or the store was opened with another keychain or passphrase file.
    #[error(
        "the secrets of device \"{id}\" are missing from {backend}: the device cannot sign any more; delete it and activate it again"
    )]
    SecretMissing {
        /// The device.
        id: DeviceId,
        /// Where the secret should have been.
        backend: BackendKind,
    },

    /// The stored record does not fit the record type of this TokenSim (an older or newer
    /// version wrote it), or a record could not be turned into JSON.
    #[error("the record of device \"{id}\" does not fit this TokenSim ({reason})")]
    Record {
        /// The device.
        id: DeviceId,
        /// What serde found wrong.
        reason: String,
    },

    /// The OS keychain cannot be used; the variant says why in words for the user.
    #[error(transparent)]
    KeychainUnavailable(#[from] KeychainUnavailable),

    /// The OS keychain answered an operation with an error.
    #[error(
        "the OS keychain failed to {action} the secrets of device \"{id}\": {detail}; check that the keychain is unlocked, or use --store-passphrase to keep devices in an encrypted file"
    )]
    Keychain {
        /// What the store asked ("save", "read", "delete", "list").
        action: &'static str,
        /// The device concerned (`*` for a listing).
        id: String,
        /// The keychain's own message (never secret bytes).
        detail: String,
    },

    /// The passphrase does not open the encrypted file store or the bundle.
    #[error("wrong passphrase for the {target}: try again (passphrases are case-sensitive)")]
    WrongPassphrase {
        /// What was being opened ("encrypted device file", "device bundle").
        target: &'static str,
    },

    /// The passphrase is right but the data fails authentication: the file was altered or
    /// damaged after it was written.
    #[error(
        "the {target} was altered or damaged after it was written: its contents fail authentication"
    )]
    Tampered {
        /// What failed ("device bundle", "secret of device x"...).
        target: String,
    },

    /// The bytes are not what they should be: another kind of file, or truncated.
    #[error("the {target} is not readable: {reason}")]
    Malformed {
        /// What was being read.
        target: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A bundle or encrypted file in a format version this TokenSim does not know.
    #[error(
        "the {target} uses format version {found}, which this TokenSim does not read: upgrade TokenSim"
    )]
    UnsupportedFormat {
        /// What was being read.
        target: &'static str,
        /// The version found.
        found: u8,
    },

    /// The store was created with another secret backend than the one asked for.
    #[error(
        "this store keeps its device secrets in {stored}, not in {requested}: open it the way it was created"
    )]
    BackendMismatch {
        /// The backend recorded in the index.
        stored: BackendKind,
        /// The backend asked for.
        requested: BackendKind,
    },

    /// Argon2id parameters out of the accepted range (too weak, or large enough to exhaust
    /// memory, which a tampered file could try).
    #[error("unacceptable key-derivation parameters: {reason}")]
    InvalidKdfParams {
        /// Which bound was crossed.
        reason: &'static str,
    },

    /// The operating system's random generator failed.
    #[error("the system random generator failed; try again")]
    Random,
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
