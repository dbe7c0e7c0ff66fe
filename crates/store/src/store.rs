//! The store: records in the index, secrets in a backend, kept consistent across crashes and
//! concurrent processes.
//!
//! Every write takes the store's exclusive lock and re-reads the index (read-modify-write), so
//! the CLI and the desktop app never lose each other's updates. Reads take the shared lock, so
//! a record and its secret are always read as one pair.

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::backend::{self, BackendKind, SecretBackend, Secrets, Slot};
use crate::fs::{self, Lock};
use crate::index::{Index, IndexEntry};
use crate::sealed::random;
use crate::{DeviceId, Error, KdfParams, Passphrase, Secret, bundle};

const INDEX_FILE: &str = "devices.json";
const LOCK_FILE: &str = ".lock";
/// The folder of per-device lease files.
const LEASE_FOLDER: &str = ".leases";

/// Exclusive use of one device across threads and processes, held until dropped: take it
/// before loading a device whose counter a call will use and drop it after saving, so two
/// processes (the CLI and the app, two CLIs) never sign with the same counter value.
#[derive(Debug)]
#[must_use = "the device is leased only while the lease is held"]
pub struct Lease {
    _lock: Lock,
}

/// A device as loaded: its id, record and secret.
#[derive(Debug)]
pub struct Device<T> {
    /// The device id.
    pub id: DeviceId,
    /// The caller's non-secret record.
    pub record: T,
    /// The secret blob.
    pub secret: Secret,
}

/// What to do when a device with the same id already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// Fail with [`Error::DeviceExists`].
    Refuse,
    /// Replace the existing device.
    Overwrite,
}

/// A folder of devices: an index of records of type `T` plus their secrets.
pub struct Store<T> {
    folder: PathBuf,
    index_path: PathBuf,
    lock_path: PathBuf,
    store_id: String,
    kind: BackendKind,
    backend: Box<dyn SecretBackend>,
    removed_orphans: Vec<DeviceId>,
    record: PhantomData<fn() -> T>,
}

/// The default store folder: `tokensim` in the user's data folder (`~/.local/share/tokensim`
/// on Linux, `~/Library/Application Support/tokensim` on macOS, `%APPDATA%\tokensim` on
/// Windows). The CLI's `--store` and tests pass another folder to [`Store::open`].
pub fn default_folder() -> Result<PathBuf, Error> {
    dirs::data_dir()
        .map(|data| data.join("tokensim"))
        .ok_or(Error::NoDataDir)
}

/// Where the store in `folder` keeps its secrets, as recorded in its index; `None` when no
/// store was created there yet. Reads without locking or creating anything, so a caller can
/// choose the [`Secrets`] to [`Store::open`] it with (a passphrase for an encrypted file
/// store, nothing for the keychain).
pub fn stored_backend(folder: impl AsRef<Path>) -> Result<Option<BackendKind>, Error> {
    Ok(Index::read(&folder.as_ref().join(INDEX_FILE))?.map(|index| index.secrets))
}

impl<T> Store<T> {
    /// The store's folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Where this store keeps its secrets.
    pub fn backend_kind(&self) -> BackendKind {
        self.kind
    }

    /// Devices whose secrets [`open`](Self::open) found without an index entry (left by a
    /// crash between the two writes of a save, or a failed delete) and removed.
    pub fn removed_orphans(&self) -> &[DeviceId] {
        &self.removed_orphans
    }
}

impl<T: Serialize + DeserializeOwned> Store<T> {
    /// Opens the store in `folder`, creating it if needed, with secrets where `secrets` says.
    ///
    /// Removes the orphan secrets a crash may have left (see
    /// [`removed_orphans`](Self::removed_orphans)). Fails with
    /// [`Error::KeychainUnavailable`] when the keychain was asked for and cannot be used, with
    /// [`Error::WrongPassphrase`] for a wrong encrypted file passphrase, and with
    /// [`Error::BackendMismatch`] when the store holds devices in another backend.
    pub fn open(folder: impl AsRef<Path>, secrets: Secrets) -> Result<Self, Error> {
        let folder = folder.as_ref().to_owned();
        fs::create_folder(&folder)?;
        let index_path = folder.join(INDEX_FILE);
        let lock_path = folder.join(LOCK_FILE);
        let _lock = Lock::acquire(&lock_path, true)?;
        fs::remove_stale_temporaries(&folder)?;
        let requested = secrets.kind();
        let mut index = match Index::read(&index_path)? {
            Some(index) => index,
            None => {
                let index = Index::new(hex(&random::<16>()?), requested);
                index.write(&index_path)?;
                index
            }
        };
        if index.secrets != requested {
            if !index.devices.is_empty() {
                return Err(Error::BackendMismatch {
                    stored: index.secrets,
                    requested,
                });
            }
            index.secrets = requested;
            index.write(&index_path)?;
        }
        let backend = backend::connect(secrets, &folder, &index.store_id)?;
        let removed_orphans = remove_orphans(backend.as_ref(), &index)?;
        Ok(Self {
            folder,
            index_path,
            lock_path,
            store_id: index.store_id,
            kind: requested,
            backend,
            removed_orphans,
            record: PhantomData,
        })
    }

    /// Leases device `id`: blocks until no other thread or process holds its lease. The
    /// lease file (`.leases/<id>`) is empty and stays; only the OS lock on it matters, and
    /// the OS releases it when the holder exits, however it exits.
    pub fn lease(&self, id: &DeviceId) -> Result<Lease, Error> {
        let folder = self.folder.join(LEASE_FOLDER);
        fs::create_folder(&folder)?;
        Ok(Lease {
            _lock: Lock::acquire(&folder.join(id.as_str()), true)?,
        })
    }

    /// The ids of every device, sorted.
    pub fn ids(&self) -> Result<Vec<DeviceId>, Error> {
        let _lock = self.lock(false)?;
        Ok(self.read_index()?.devices.into_keys().collect())
    }

    /// Every device's record, sorted by id (secrets are not read).
    pub fn list(&self) -> Result<Vec<(DeviceId, T)>, Error> {
        let _lock = self.lock(false)?;
        self.read_index()?
            .devices
            .into_iter()
            .map(|(id, entry)| {
                let record = decode(&id, entry.record)?;
                Ok((id, record))
            })
            .collect()
    }

    /// Whether a device `id` exists.
    pub fn contains(&self, id: &DeviceId) -> Result<bool, Error> {
        let _lock = self.lock(false)?;
        Ok(self.read_index()?.devices.contains_key(id))
    }

    /// The record of device `id`, without reading its secret.
    pub fn record(&self, id: &DeviceId) -> Result<T, Error> {
        let _lock = self.lock(false)?;
        let entry = self.entry(&self.read_index()?, id)?;
        decode(id, entry.record)
    }

    /// Device `id` with its record and secret.
    pub fn load(&self, id: &DeviceId) -> Result<Device<T>, Error> {
        let _lock = self.lock(false)?;
        let (record, secret) = self.read_pair(id)?;
        Ok(Device {
            id: id.clone(),
            record: decode(id, record)?,
            secret,
        })
    }

    /// Saves device `id`, adding it or replacing it. The secret is written first, under a new
    /// slot, then the index; the old secret is deleted last.
    pub fn save(&self, id: &DeviceId, record: &T, secret: &Secret) -> Result<(), Error> {
        self.write(id, encode(id, record)?, secret, Conflict::Overwrite)
    }

    /// Adds device `id`; fails with [`Error::DeviceExists`] if it is already there.
    pub fn create(&self, id: &DeviceId, record: &T, secret: &Secret) -> Result<(), Error> {
        self.write(id, encode(id, record)?, secret, Conflict::Refuse)
    }

    /// Replaces the record of an existing device, keeping its secret (for a new status, a new
    /// name...). Only the index is written.
    pub fn update_record(&self, id: &DeviceId, record: &T) -> Result<(), Error> {
        let record = encode(id, record)?;
        let _lock = self.lock(true)?;
        let mut index = self.read_index()?;
        let entry = index
            .devices
            .get_mut(id)
            .ok_or_else(|| Error::DeviceNotFound { id: id.clone() })?;
        entry.record = record;
        index.write(&self.index_path)
    }

    /// Deletes device `id`: its index entry first, then its secret (a crash between leaves an
    /// orphan secret that the next [`open`](Self::open) removes).
    pub fn delete(&self, id: &DeviceId) -> Result<(), Error> {
        let _lock = self.lock(true)?;
        let mut index = self.read_index()?;
        let entry = index
            .devices
            .remove(id)
            .ok_or_else(|| Error::DeviceNotFound { id: id.clone() })?;
        index.write(&self.index_path)?;
        self.backend.delete(&Slot {
            id: id.clone(),
            generation: entry.generation,
        })
    }

    /// Device `id` as an encrypted bundle sealed under `passphrase`, for [`import`](Self::import)
    /// into another store.
    pub fn export(
        &self,
        id: &DeviceId,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<Vec<u8>, Error> {
        let (record, secret) = {
            let _lock = self.lock(false)?;
            self.read_pair(id)?
        };
        let contents = bundle::Contents {
            id: id.clone(),
            record,
            secret,
        };
        bundle::seal(&contents, passphrase, kdf)
    }

    /// Adds the device in `bundle` under the id it was exported with; returns that id.
    pub fn import(
        &self,
        bundle: &[u8],
        passphrase: &Passphrase,
        conflict: Conflict,
    ) -> Result<DeviceId, Error> {
        let contents = bundle::open(bundle, passphrase)?;
        let id = contents.id.clone();
        self.import_contents(contents, &id, conflict)?;
        Ok(id)
    }

    /// Adds the device in `bundle` under the id `id`.
    pub fn import_as(
        &self,
        bundle: &[u8],
        passphrase: &Passphrase,
        id: &DeviceId,
        conflict: Conflict,
    ) -> Result<(), Error> {
        let contents = bundle::open(bundle, passphrase)?;
        self.import_contents(contents, id, conflict)
    }

    fn import_contents(
        &self,
        contents: bundle::Contents,
        id: &DeviceId,
        conflict: Conflict,
    ) -> Result<(), Error> {
        // Refuse records this build cannot read before they reach the index.
        decode::<T>(id, contents.record.clone())?;
        self.write(id, contents.record, &contents.secret, conflict)
    }

    fn write(
        &self,
        id: &DeviceId,
        record: serde_json::Value,
        secret: &Secret,
        conflict: Conflict,
    ) -> Result<(), Error> {
        let _lock = self.lock(true)?;
        let mut index = self.read_index()?;
        let previous = index.devices.get(id).map(|entry| entry.generation);
        if previous.is_some() && conflict == Conflict::Refuse {
            return Err(Error::DeviceExists { id: id.clone() });
        }
        let slot = Slot {
            id: id.clone(),
            generation: previous.map_or(1, |generation| generation.wrapping_add(1)),
        };
        self.backend.put(&slot, secret)?;
        index.devices.insert(
            id.clone(),
            IndexEntry {
                generation: slot.generation,
                record,
            },
        );
        if let Err(error) = index.write(&self.index_path) {
            // The index still points at the old secret; the new one is not needed.
            let _ = self.backend.delete(&slot);
            return Err(error);
        }
        if let Some(generation) = previous {
            // The new secret is in place and indexed. Should this delete fail, the old
            // generation is an orphan that the next `open` removes.
            let _ = self.backend.delete(&Slot {
                id: id.clone(),
                generation,
            });
        }
        Ok(())
    }

    /// The record (as JSON) and secret of `id`. Call under a lock.
    fn read_pair(&self, id: &DeviceId) -> Result<(serde_json::Value, Secret), Error> {
        let entry = self.entry(&self.read_index()?, id)?;
        let slot = Slot {
            id: id.clone(),
            generation: entry.generation,
        };
        let secret = self
            .backend
            .get(&slot)?
            .ok_or_else(|| Error::SecretMissing {
                id: id.clone(),
                backend: self.kind,
            })?;
        Ok((entry.record, secret))
    }

    fn entry(&self, index: &Index, id: &DeviceId) -> Result<IndexEntry, Error> {
        index
            .devices
            .get(id)
            .cloned()
            .ok_or_else(|| Error::DeviceNotFound { id: id.clone() })
    }

    /// The index as it is on disk now. A store whose index was removed after opening reads as
    /// empty.
    fn read_index(&self) -> Result<Index, Error> {
        Ok(Index::read(&self.index_path)?
            .unwrap_or_else(|| Index::new(self.store_id.clone(), self.kind)))
    }

    fn lock(&self, exclusive: bool) -> Result<Lock, Error> {
        Lock::acquire(&self.lock_path, exclusive)
    }
}

impl<T> std::fmt::Debug for Store<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("folder", &self.folder)
            .field("secrets", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Deletes the backend slots the index does not point at; returns their device ids.
fn remove_orphans(backend: &dyn SecretBackend, index: &Index) -> Result<Vec<DeviceId>, Error> {
    let mut removed = BTreeSet::new();
    for slot in backend.slots()? {
        let indexed = index
            .devices
            .get(&slot.id)
            .is_some_and(|entry| entry.generation == slot.generation);
        if !indexed {
            backend.delete(&slot)?;
            removed.insert(slot.id);
        }
    }
    Ok(removed.into_iter().collect())
}

fn encode<T: Serialize>(id: &DeviceId, record: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(record).map_err(|error| Error::Record {
        id: id.clone(),
        reason: error.to_string(),
    })
}

fn decode<T: DeserializeOwned>(id: &DeviceId, record: serde_json::Value) -> Result<T, Error> {
    serde_json::from_value(record).map_err(|error| Error::Record {
        id: id.clone(),
        reason: error.to_string(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
