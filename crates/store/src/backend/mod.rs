//! Where secrets go: the OS keychain, a passphrase-encrypted file, or memory, behind one trait.
//!
//! Backends store secrets in **slots** named `<device id>.<generation>`. Saving a device
//! writes a new generation before the index points at it, so a crash never leaves the index
//! pointing at a half-written or missing secret; older generations and orphans are removed
//! afterwards, or by the next [`Store::open`](crate::Store::open).

pub(crate) mod file;
pub(crate) mod keychain;
pub(crate) mod memory;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{DeviceId, Error, KdfParams, MemorySecrets, Passphrase, Secret};

/// Which backend a store uses, as recorded in its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BackendKind {
    /// The OS keychain.
    Keychain,
    /// Passphrase-encrypted files beside the index.
    EncryptedFile,
    /// The memory of the process that opened the store.
    Memory,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Keychain => "the OS keychain",
            Self::EncryptedFile => "a passphrase-encrypted file",
            Self::Memory => "memory",
        })
    }
}

/// The caller's choice of secret backend for [`Store::open`](crate::Store::open). There is no
/// default and no fallback: when [`detect`](crate::detect) says the keychain is unavailable,
/// the caller asks the user for a passphrase and chooses [`Secrets::EncryptedFile`].
#[derive(Debug)]
pub enum Secrets {
    /// The OS keychain, service `tokensim`, one entry per device.
    Keychain,
    /// Files in the store's `secrets` folder, sealed under a key derived from `passphrase`.
    EncryptedFile {
        /// Opens (or, for a new store, protects) the files.
        passphrase: Passphrase,
        /// Argon2id costs used when the store's key file is first created; an existing store
        /// keeps the costs written in its header.
        kdf: KdfParams,
    },
    /// A process-local map, shared by every store opened with a clone of it.
    Memory(MemorySecrets),
}

impl Secrets {
    /// An encrypted file store with the default Argon2id costs.
    pub fn encrypted_file(passphrase: Passphrase) -> Self {
        Self::EncryptedFile {
            passphrase,
            kdf: KdfParams::default(),
        }
    }

    /// Which backend this choice is.
    pub fn kind(&self) -> BackendKind {
        match self {
            Self::Keychain => BackendKind::Keychain,
            Self::EncryptedFile { .. } => BackendKind::EncryptedFile,
            Self::Memory(_) => BackendKind::Memory,
        }
    }
}

/// The secret of one device at one generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) id: DeviceId,
    pub(crate) generation: u64,
}

impl Slot {
    /// `<id>.<generation>`: the name under which backends keep the secret.
    pub(crate) fn name(&self) -> String {
        format!("{}.{}", self.id, self.generation)
    }

    /// Reverses [`name`](Self::name); `None` for names that are not slots.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let (id, generation) = name.rsplit_once('.')?;
        Some(Self {
            id: DeviceId::parse(id).ok()?,
            generation: generation.parse().ok()?,
        })
    }
}

/// What every secret backend does. Implementations are bound to one store (they namespace
/// their entries with it) and must be safe to share between threads.
pub(crate) trait SecretBackend: Send + Sync {
    /// Stores `secret` in `slot`, replacing what was there.
    fn put(&self, slot: &Slot, secret: &Secret) -> Result<(), Error>;
    /// The secret in `slot`, `None` if there is none.
    fn get(&self, slot: &Slot) -> Result<Option<Secret>, Error>;
    /// Removes `slot`; removing an empty slot is not an error.
    fn delete(&self, slot: &Slot) -> Result<(), Error>;
    /// Every slot this store has in the backend.
    fn slots(&self) -> Result<Vec<Slot>, Error>;
}

/// Turns the caller's choice into a backend bound to the store at `folder` with `store_id`.
/// Call under the store's exclusive lock: the encrypted file store may create its key file.
pub(crate) fn connect(
    secrets: Secrets,
    folder: &Path,
    store_id: &str,
) -> Result<Box<dyn SecretBackend>, Error> {
    Ok(match secrets {
        Secrets::Keychain => Box::new(keychain::Keychain::connect(store_id)?),
        Secrets::EncryptedFile { passphrase, kdf } => {
            Box::new(file::EncryptedFile::open(folder, &passphrase, kdf)?)
        }
        Secrets::Memory(memory) => Box::new(memory.bind(store_id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_round_trip() {
        let slot = Slot {
            id: DeviceId::parse("dev-1").unwrap(),
            generation: 42,
        };
        assert_eq!(slot.name(), "dev-1.42");
        assert_eq!(Slot::parse("dev-1.42"), Some(slot));
        for not_a_slot in ["dev", "dev.", ".1", "a/b.1", "dev.x", "header"] {
            assert_eq!(Slot::parse(not_a_slot), None, "{not_a_slot}");
        }
    }
}
