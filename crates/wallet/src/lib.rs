//! The device wallet: the glue between the device engine (`tokensim-device`) and the device
//! store (`tokensim-store`) that the `tokensim` command and the desktop app share.
//!
//! ```text
//! Wallet::open(folder, backend, passphrase)   keychain / encrypted file / memory, never a silent fallback
//!   .list()            -> Vec<DeviceSummary>   name, server, activation id, state, version
//!   .resolve(selector) -> DeviceId             by id, name or activation id; the only device if None
//!   .lease(&id)        -> Lease                 held from load to save: one counter user at a time, across processes
//!   .load(&id)         -> DeviceState          .load_active(&id) -> ActiveDevice for a Session
//!   .persister(&id)    -> WalletPersist        a `Persist` that saves through the store atomically
//!   .add(&state)       -> DeviceId             after an activation: an id made from the name
//!   .save / .rename / .remove / .export / .import
//!   .profiles()        -> ProfileStore          the device profiles' accounts (jwt, oauth…)
//!     .account(id)     -> ProfileAccount        leased and loaded; .persist(parts) saves a renewed token
//! ```
//!
//! [`oauth`] is the OAuth profile's account layout and its token storage over the profile
//! store, which the CLI and the app share.
//!
//! # What it refuses to do
//!
//! It never chooses a plain-text or different backend on its own: when the keychain cannot be
//! used and no passphrase was given, [`Wallet::open`] fails with the reason and what to do.
//! It talks to no server (removing a device on the server is the engine's `Session::remove`),
//! prints nothing, and never puts a secret in an error or `Debug` output.

#![warn(unreachable_pub)]

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use tokensim_device::state::PartsError;
use tokensim_device::{ActiveDevice, DeviceRecord, DeviceState, Persist};
pub use tokensim_store::Error as StoreError;
pub use tokensim_store::{
    BackendKind, DeviceId, KdfParams, KeychainStatus, KeychainUnavailable, Lease, MemorySecrets,
    Passphrase, Secrets, default_folder, detect,
};
use tokensim_store::{Conflict, Secret, Store};

pub mod oauth;
mod profiles;
mod snapshot;
pub use profiles::{ProfileAccount, ProfileStore, ProfileSummary};
pub use snapshot::{SnapshotInfo, Snapshots};

/// What can go wrong in the wallet. Each message says what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed (I/O, keychain, passphrase, damaged index...).
    #[error(transparent)]
    Store(#[from] tokensim_store::Error),
    /// The keychain was wanted (no `--store` and no passphrase given) but cannot be used.
    #[error("{0}")]
    NoKeychain(KeychainUnavailable),
    /// An encrypted file store was asked for, or found, without a passphrase.
    #[error(
        "the devices in {folder} are in a passphrase-encrypted file: give its passphrase (--passphrase-env VAR)"
    )]
    PassphraseNeeded {
        /// The store folder.
        folder: String,
    },
    /// The stored record and secret do not make a device.
    #[error("device \"{id}\" cannot be read: {source}")]
    Parts {
        /// The device.
        id: DeviceId,
        /// What is wrong with it.
        #[source]
        source: PartsError,
    },
    /// The device exists but was never activated.
    #[error("device \"{id}\" is not activated: activate it first, or remove it")]
    NotActivated {
        /// The device.
        id: DeviceId,
    },
    /// The store holds no device.
    #[error("there is no device yet: activate one first (tokensim activate)")]
    NoDevices,
    /// A snapshot name that cannot be a store id.
    #[error("\"{name}\" cannot name a snapshot: use up to 64 letters, digits, '-' and '_'")]
    SnapshotName {
        /// The name given.
        name: String,
    },
    /// A snapshot of that name exists.
    #[error(
        "the device already has a snapshot \"{name}\": choose another name, or replace it (--replace)"
    )]
    SnapshotExists {
        /// The name given.
        name: String,
    },
    /// No snapshot of that name.
    #[error("the device has no snapshot \"{name}\": its snapshots are {}", list(.available))]
    SnapshotNotFound {
        /// The name given.
        name: String,
        /// The device's snapshots.
        available: Vec<String>,
    },
    /// No device matches the selector.
    #[error("there is no device \"{selector}\": the devices are {}", list(.available))]
    NotFound {
        /// What was asked for.
        selector: String,
        /// The ids of every device.
        available: Vec<String>,
    },
    /// Several devices match, or several exist and none was named.
    #[error("{} devices match \"{selector}\" ({}): name one by its id (--device ID)", .candidates.len(), list(.candidates))]
    Ambiguous {
        /// What was asked for (`*` when nothing was).
        selector: String,
        /// The matching ids.
        candidates: Vec<String>,
    },
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

/// The result type of the wallet.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One device as listed: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    /// The id the store keys it by (`--device`).
    pub id: String,
    /// The name the tester gave it.
    pub name: String,
    /// The server's base URL.
    pub server_url: String,
    /// The protocol version it speaks, e.g. `3.3`.
    pub version: String,
    /// The activation id, once activated.
    pub activation_id: Option<String>,
    /// The activation fingerprint, once activated.
    pub fingerprint: Option<String>,
    /// `NOT_ACTIVATED`, `UNKNOWN` (activated, no status fetched yet), or the last status
    /// fetched: `PENDING_COMMIT`, `ACTIVE`, `BLOCKED`, `REMOVED`...
    pub state: String,
    /// When that status was fetched (device clock, Unix ms).
    pub status_fetched_at_ms: Option<u64>,
}

impl DeviceSummary {
    fn new(id: &DeviceId, record: &DeviceRecord) -> Self {
        let activation = record.activation.as_ref();
        let status = activation.and_then(|a| a.last_status.as_ref());
        let state = match (activation, status) {
            (None, _) => "NOT_ACTIVATED".to_owned(),
            (Some(_), None) => "UNKNOWN".to_owned(),
            (Some(_), Some(status)) => status.state.clone(),
        };
        Self {
            id: id.to_string(),
            name: record.name.clone(),
            server_url: record.server_url.clone(),
            version: record.version.to_string(),
            activation_id: activation.map(|a| a.activation_id.clone()),
            fingerprint: activation.map(|a| a.fingerprint.clone()),
            state,
            status_fetched_at_ms: status.map(|s| s.fetched_at_ms),
        }
    }
}

/// The devices in one store folder. Cheap to clone; `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Wallet {
    store: Arc<Store<DeviceRecord>>,
    twin: snapshot::Twin,
}

impl Wallet {
    /// Opens the wallet in `folder`. `backend` is where the tester asked secrets to be;
    /// without one: the backend an existing store was created with, else an encrypted file
    /// when a `passphrase` is given, else the OS keychain if [`detect`] finds it usable,
    /// else [`Error::NoKeychain`] (the reason and the encrypted file as the way out). A store
    /// last opened in memory counts as new.
    /// [`BackendKind::Memory`] keeps secrets only as long as this process runs.
    pub fn open(
        folder: impl AsRef<Path>,
        backend: Option<BackendKind>,
        passphrase: Option<Passphrase>,
    ) -> Result<Self> {
        let folder = folder.as_ref();
        let backend = match backend {
            Some(backend) => backend,
            // A memory store never kept a device past its process: choose afresh.
            None => match tokensim_store::stored_backend(folder)? {
                Some(stored) if stored != BackendKind::Memory => stored,
                _ if passphrase.is_some() => BackendKind::EncryptedFile,
                _ => match detect() {
                    KeychainStatus::Available => BackendKind::Keychain,
                    KeychainStatus::Unavailable(reason) => return Err(Error::NoKeychain(reason)),
                },
            },
        };
        let secrets = match (backend, passphrase) {
            (BackendKind::EncryptedFile, Some(passphrase)) => Secrets::encrypted_file(passphrase),
            (BackendKind::EncryptedFile, None) => {
                return Err(Error::PassphraseNeeded {
                    folder: folder.display().to_string(),
                });
            }
            (BackendKind::Memory, _) => Secrets::Memory(MemorySecrets::new()),
            _ => Secrets::Keychain,
        };
        Self::open_with(folder, secrets)
    }

    /// Opens the wallet in `folder` with exactly these `secrets` (the app's shared memory
    /// secrets, custom Argon2id costs...).
    pub fn open_with(folder: impl AsRef<Path>, secrets: Secrets) -> Result<Self> {
        let twin = snapshot::Twin::of(&secrets);
        let store = Store::open(folder, secrets)?;
        for orphan in store.removed_orphans() {
            tracing::info!(device = %orphan, "removed secrets a crash left without a device");
        }
        Ok(Self {
            store: Arc::new(store),
            twin,
        })
    }

    /// The store folder.
    pub fn folder(&self) -> &Path {
        self.store.folder()
    }

    /// Where this wallet keeps secrets.
    pub fn backend(&self) -> BackendKind {
        self.store.backend_kind()
    }

    /// Every device, sorted by id.
    pub fn list(&self) -> Result<Vec<DeviceSummary>> {
        Ok(self
            .store
            .list()?
            .iter()
            .map(|(id, record)| DeviceSummary::new(id, record))
            .collect())
    }

    /// The summary of device `id`.
    pub fn summary(&self, id: &DeviceId) -> Result<DeviceSummary> {
        Ok(DeviceSummary::new(id, &self.store.record(id)?))
    }

    /// The non-secret record of device `id` (no keychain access).
    pub fn record(&self, id: &DeviceId) -> Result<DeviceRecord> {
        Ok(self.store.record(id)?)
    }

    /// The device a tester means: `selector` is an id, a name (exact, then ignoring case) or
    /// an activation id; without one, the only device. Errors list the devices to pick from.
    pub fn resolve(&self, selector: Option<&str>) -> Result<DeviceId> {
        let devices = self.list()?;
        let ids = || devices.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
        let Some(selector) = selector else {
            return match devices.as_slice() {
                [] => Err(Error::NoDevices),
                [only] => Ok(DeviceId::parse(&only.id)?),
                _ => Err(Error::Ambiguous {
                    selector: "*".to_owned(),
                    candidates: ids(),
                }),
            };
        };
        let matches: [&dyn Fn(&DeviceSummary) -> bool; 4] = [
            &|d| d.id == selector,
            &|d| d.name == selector,
            &|d| d.name.eq_ignore_ascii_case(selector),
            &|d| d.activation_id.as_deref() == Some(selector),
        ];
        for matches in matches {
            let found: Vec<&DeviceSummary> = devices.iter().filter(|d| matches(d)).collect();
            match found.as_slice() {
                [] => continue,
                [one] => return Ok(DeviceId::parse(&one.id)?),
                many => {
                    return Err(Error::Ambiguous {
                        selector: selector.to_owned(),
                        candidates: many.iter().map(|d| d.id.clone()).collect(),
                    });
                }
            }
        }
        if devices.is_empty() {
            return Err(Error::NoDevices);
        }
        Err(Error::NotFound {
            selector: selector.to_owned(),
            available: ids(),
        })
    }

    /// Leases device `id` (blocks while another thread or process holds it). Hold the lease
    /// from [`Self::load`] to the last save around every call that uses the counter: two
    /// holders of one loaded device would sign with the same counter value.
    pub fn lease(&self, id: &DeviceId) -> Result<Lease> {
        Ok(self.store.lease(id)?)
    }

    /// Device `id`, pending or active.
    pub fn load(&self, id: &DeviceId) -> Result<DeviceState> {
        let device = self.store.load(id)?;
        DeviceState::from_parts(&device.record, device.secret.expose_secret()).map_err(|source| {
            Error::Parts {
                id: id.clone(),
                source,
            }
        })
    }

    /// Device `id`, which must be activated, ready for a `Session`.
    pub fn load_active(&self, id: &DeviceId) -> Result<ActiveDevice> {
        match self.load(id)? {
            DeviceState::Active(device) => Ok(device),
            DeviceState::Pending(_) => Err(Error::NotActivated { id: id.clone() }),
        }
    }

    /// Saves device `id` (record and secret, atomically), adding it if needed.
    pub fn save(&self, id: &DeviceId, state: &DeviceState) -> Result<()> {
        save(&self.store, id, state)
    }

    /// Adds a new device (typically just activated) under an id made from its name
    /// (`Alice's phone` → `alice-s-phone`, then `-2`, `-3`... if taken); returns the id.
    pub fn add(&self, state: &DeviceState) -> Result<DeviceId> {
        let (record, blob) = state.to_parts();
        let secret = Secret::from(blob);
        self.with_fresh_id(state.name(), |id| self.store.create(id, &record, &secret))
    }

    /// A [`Persist`] that saves device `id` through the store: give it to `Session::new`.
    pub fn persister(&self, id: &DeviceId) -> WalletPersist {
        WalletPersist {
            store: self.store.clone(),
            id: id.clone(),
        }
    }

    /// Renames device `id` (its id stays: scripts keep working).
    pub fn rename(&self, id: &DeviceId, name: &str) -> Result<()> {
        let mut record = self.store.record(id)?;
        record.name = name.to_owned();
        Ok(self.store.update_record(id, &record)?)
    }

    /// Forgets device `id` here: its record and secrets. The server is not told.
    pub fn remove(&self, id: &DeviceId) -> Result<()> {
        Ok(self.store.delete(id)?)
    }

    /// Device `id` as a bundle encrypted under `passphrase` (Argon2id, ChaCha20-Poly1305).
    pub fn export(&self, id: &DeviceId, passphrase: &Passphrase) -> Result<Vec<u8>> {
        Ok(self.store.export(id, passphrase, KdfParams::default())?)
    }

    /// Adds the device in `bundle`: under its exported id, or, with `name`, renamed and under
    /// an id made from that name. Refuses to replace an existing device.
    pub fn import(
        &self,
        bundle: &[u8],
        passphrase: &Passphrase,
        name: Option<&str>,
    ) -> Result<DeviceId> {
        let Some(name) = name else {
            return Ok(self.store.import(bundle, passphrase, Conflict::Refuse)?);
        };
        let id = self.with_fresh_id(name, |id| {
            self.store
                .import_as(bundle, passphrase, id, Conflict::Refuse)
        })?;
        self.rename(&id, name)?;
        Ok(id)
    }

    /// Runs `create` with ids made from `name` until one is free.
    fn with_fresh_id(
        &self,
        name: &str,
        create: impl Fn(&DeviceId) -> Result<(), tokensim_store::Error>,
    ) -> Result<DeviceId> {
        let base = slug(name);
        for n in 1u32.. {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let id = DeviceId::parse(&candidate)?;
            match create(&id) {
                Ok(()) => return Ok(id),
                Err(tokensim_store::Error::DeviceExists { .. }) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        unreachable!("u32 ids are not exhausted by one store")
    }
}

/// Saves a device through the store; see [`Wallet::persister`].
#[derive(Debug)]
pub struct WalletPersist {
    store: Arc<Store<DeviceRecord>>,
    id: DeviceId,
}

impl Persist for WalletPersist {
    fn persist(&mut self, device: &ActiveDevice) -> std::result::Result<(), String> {
        save(&self.store, &self.id, &DeviceState::Active(device.clone()))
            .map_err(|error| error.to_string())
    }
}

fn save(store: &Store<DeviceRecord>, id: &DeviceId, state: &DeviceState) -> Result<()> {
    let (record, blob) = state.to_parts();
    Ok(store.save(id, &record, &Secret::from(blob))?)
}

/// A device id from a name: lower-case ASCII letters and digits, other runs become `-`, at
/// most 48 characters; `device` when nothing is left.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 48 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "device".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_valid_ids() {
        for (name, expected) in [
            ("Alice's phone", "alice-s-phone"),
            ("  --", "device"),
            ("Žluťoučký kůň 3.3", "lu-ou-k-k-3-3"),
            ("phone 3.3", "phone-3-3"),
        ] {
            assert_eq!(slug(name), expected);
            assert!(tokensim_store::DeviceId::parse(&slug(name)).is_ok());
        }
        let long = slug(&"x".repeat(500));
        assert_eq!(long.len(), 48);
    }
}
