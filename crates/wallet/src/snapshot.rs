//! Snapshots of one device: its whole state (counter, `CTR_DATA`, keys, tokens, biometry)
//! saved under a name and put back on purpose, to reproduce a desynchronised counter, a
//! replayed signature or a phone restored from a backup.
//!
//! A device's snapshots live in their own store under `snapshots/<device id>` in the
//! wallet's folder, with the wallet's backend: in the keychain when the devices are, sealed
//! under the same passphrase when they are in an encrypted file. The snapshot's name is its
//! id there; its record is the device's non-secret record and the time it was saved.

use serde::{Deserialize, Serialize};
use tokensim_device::state::{FieldChange, diff};
use tokensim_device::{DeviceRecord, DeviceState};
use tokensim_store::{Lease, Secret, Store};

use crate::{DeviceId, Error, Result, Wallet};

/// A snapshot as stored: when, and the device's record at that time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotRecord {
    saved_at_ms: u64,
    device: DeviceRecord,
}

/// A snapshot as listed: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotInfo {
    /// Its name.
    pub name: String,
    /// When it was saved (Unix ms).
    pub saved_at_ms: u64,
    /// The device's counter then (steps `CTR_DATA` had moved).
    pub counter: u64,
    /// The last status the device had seen then (`ACTIVE`, `BLOCKED`...), if any.
    pub state: Option<String>,
    /// Failed PIN attempts in that status.
    pub failed_attempts: Option<u8>,
    /// Token names the device held.
    pub tokens: Vec<String>,
    /// Whether a biometry key was stored.
    pub biometry: bool,
}

impl SnapshotInfo {
    fn new(id: &DeviceId, record: &SnapshotRecord) -> Self {
        let activation = record.device.activation.as_ref();
        let status = activation.and_then(|a| a.last_status.as_ref());
        Self {
            name: id.to_string(),
            saved_at_ms: record.saved_at_ms,
            counter: activation.map_or(0, |a| a.counter),
            state: status.map(|s| s.state.clone()),
            failed_attempts: status.map(|s| s.failed_attempts),
            tokens: activation
                .map(|a| a.tokens.keys().cloned().collect())
                .unwrap_or_default(),
            biometry: activation.is_some_and(|a| a.biometry_enrollment.is_some()),
        }
    }
}

/// The snapshots of one device.
pub struct Snapshots {
    wallet: Wallet,
    device: DeviceId,
    store: Store<SnapshotRecord>,
}

impl Wallet {
    /// The snapshots of device `id` (opening their store creates it).
    pub fn snapshots(&self, id: &DeviceId) -> Result<Snapshots> {
        self.store.record(id)?;
        let folder = self.folder().join("snapshots").join(id.as_str());
        let store = Store::open(folder, self.twin.secrets())?;
        Ok(Snapshots {
            wallet: self.clone(),
            device: id.clone(),
            store,
        })
    }
}

impl Snapshots {
    /// Saves the device's current state as `name`, at `now_ms`. Refuses a name in use
    /// unless `replace`.
    pub fn save(&self, name: &str, now_ms: u64, replace: bool) -> Result<SnapshotInfo> {
        let id = snapshot_id(name)?;
        let state = self.wallet.load(&self.device)?;
        let (device, blob) = state.to_parts();
        let record = SnapshotRecord {
            saved_at_ms: now_ms,
            device,
        };
        let secret = Secret::from(blob);
        if replace {
            self.store.save(&id, &record, &secret)?;
        } else {
            self.store
                .create(&id, &record, &secret)
                .map_err(|e| match e {
                    tokensim_store::Error::DeviceExists { .. } => Error::SnapshotExists {
                        name: name.to_owned(),
                    },
                    other => other.into(),
                })?;
        }
        Ok(SnapshotInfo::new(&id, &record))
    }

    /// Every snapshot, oldest first.
    pub fn list(&self) -> Result<Vec<SnapshotInfo>> {
        let mut all: Vec<SnapshotInfo> = self
            .store
            .list()?
            .iter()
            .map(|(id, record)| SnapshotInfo::new(id, record))
            .collect();
        all.sort_by(|a, b| (a.saved_at_ms, &a.name).cmp(&(b.saved_at_ms, &b.name)));
        Ok(all)
    }

    /// The device state saved as `name`.
    pub fn load(&self, name: &str) -> Result<(SnapshotInfo, DeviceState)> {
        let id = snapshot_id(name)?;
        let stored = self.store.load(&id).map_err(|e| self.not_found(e, name))?;
        let state = DeviceState::from_parts(&stored.record.device, stored.secret.expose_secret())
            .map_err(|source| Error::Parts {
            id: id.clone(),
            source,
        })?;
        Ok((SnapshotInfo::new(&id, &stored.record), state))
    }

    /// Puts the device back to snapshot `name`: its whole state, counter included. The
    /// server is not told: the next call meets its reaction. Like every writer of a device,
    /// the caller holds its lease ([`Wallet::lease`]) from here to its last save, so a
    /// signature in flight elsewhere cannot save over the restored state or sign from it.
    pub fn restore(&self, name: &str, _lease: &Lease) -> Result<SnapshotInfo> {
        let (info, state) = self.load(name)?;
        self.wallet.save(&self.device, &state)?;
        Ok(info)
    }

    /// What changed from snapshot `from` to snapshot `to` (the device as it is now when
    /// `to` is `None`), secrets redacted.
    pub fn diff(&self, from: &str, to: Option<&str>) -> Result<Vec<FieldChange>> {
        let (_, before) = self.load(from)?;
        let after = match to {
            Some(name) => self.load(name)?.1,
            None => self.wallet.load(&self.device)?,
        };
        Ok(diff(&before, &after))
    }

    /// Deletes snapshot `name`.
    pub fn remove(&self, name: &str) -> Result<()> {
        let id = snapshot_id(name)?;
        self.store.delete(&id).map_err(|e| self.not_found(e, name))
    }

    fn not_found(&self, error: tokensim_store::Error, name: &str) -> Error {
        match error {
            tokensim_store::Error::DeviceNotFound { .. } => Error::SnapshotNotFound {
                name: name.to_owned(),
                available: self
                    .store
                    .ids()
                    .map(|ids| ids.iter().map(ToString::to_string).collect())
                    .unwrap_or_default(),
            },
            other => other.into(),
        }
    }
}

fn snapshot_id(name: &str) -> Result<DeviceId> {
    DeviceId::parse(name).map_err(|_| Error::SnapshotName {
        name: name.to_owned(),
    })
}

/// How the wallet's secrets were chosen, to open a sibling store (snapshots) the same way.
#[derive(Debug, Clone)]
pub(crate) enum Twin {
    Keychain,
    EncryptedFile(tokensim_store::Passphrase, tokensim_store::KdfParams),
    Memory(tokensim_store::MemorySecrets),
}

impl Twin {
    pub(crate) fn of(secrets: &tokensim_store::Secrets) -> Self {
        use tokensim_store::Secrets;
        match secrets {
            Secrets::Keychain => Twin::Keychain,
            Secrets::EncryptedFile { passphrase, kdf } => {
                Twin::EncryptedFile(passphrase.clone(), *kdf)
            }
            Secrets::Memory(memory) => Twin::Memory(memory.clone()),
        }
    }

    pub(crate) fn secrets(&self) -> tokensim_store::Secrets {
        use tokensim_store::Secrets;
        match self {
            Twin::Keychain => Secrets::Keychain,
            Twin::EncryptedFile(passphrase, kdf) => Secrets::EncryptedFile {
                passphrase: passphrase.clone(),
                kdf: *kdf,
            },
            Twin::Memory(memory) => Secrets::Memory(memory.clone()),
        }
    }
}
