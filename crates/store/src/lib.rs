//! Where simulated devices live, shared by the `tokensim` command and the desktop app.
//!
//! A [`Store`] keeps, per device id, one non-secret **record** (any `Serialize +
//! DeserializeOwned` type: name, server URL, activation id, last status...) in an index file,
//! and one **secret** (opaque bytes, [`Secret`]) in a secret backend:
//!
//! - [`Secrets::Keychain`]: the OS keychain (Secret Service on Linux, Keychain on macOS,
//!   Credential Manager on Windows) through `keyring`, service name `tokensim`.
//! - [`Secrets::EncryptedFile`]: files beside the index, sealed with ChaCha20-Poly1305 under a
//!   key stretched from a passphrase by Argon2id.
//! - [`Secrets::Memory`]: nothing leaves the process (fleets, tests).
//!
//! [`detect`] says whether the keychain can be used and, if not, why, in words for the user.
//! The store never falls back on its own: the caller chooses the encrypted file explicitly.
//!
//! # Guarantees
//!
//! - The index is written atomically (temporary file, fsync, rename, fsync of the folder) under
//!   a cross-process lock, read-modify-write, so the CLI and the app never lose each other's
//!   updates.
//! - Saving writes the secret first (under a fresh slot), then the index; a crash in between
//!   leaves at worst an orphan secret, which [`Store::open`] removes and reports. An index entry
//!   always has its secret, and a record always comes back with the secret it was saved with.
//! - One device travels as an encrypted, versioned bundle ([`Store::export`],
//!   [`Store::import`]).
//!
//! # What it refuses to do
//!
//! It does not know PowerAuth: what the record and the secret mean is the device crate's
//! business. It never writes a secret in plain text, never puts one in an error or `Debug`
//! output, and never decides on its own where secrets go.
//!
//! ```
//! use tokensim_store::{DeviceId, MemorySecrets, Secret, Secrets, Store};
//!
//! # fn main() -> Result<(), tokensim_store::Error> {
//! # let folder = tempfile::tempdir().unwrap();
//! let store: Store<String> = Store::open(folder.path(), Secrets::Memory(MemorySecrets::new()))?;
//! let id = DeviceId::parse("alice-phone")?;
//! store.save(&id, &"Alice's phone".to_string(), &Secret::new(b"keys and counters".to_vec()))?;
//! let device = store.load(&id)?;
//! assert_eq!(device.record, "Alice's phone");
//! assert_eq!(device.secret.expose_secret(), b"keys and counters");
//! # Ok(())
//! # }
//! ```

#![warn(unreachable_pub)]

mod backend;
mod bundle;
mod error;
mod fs;
mod id;
mod index;
mod sealed;
mod secret;
mod store;

pub use backend::keychain::{KeychainStatus, KeychainUnavailable, detect};
pub use backend::memory::MemorySecrets;
pub use backend::{BackendKind, Secrets};
pub use error::Error;
pub use id::DeviceId;
pub use sealed::KdfParams;
pub use secret::{Passphrase, Secret};
pub use store::{Conflict, Device, Lease, Store, default_folder, stored_backend};
