//! The accounts of the device profiles beside PowerAuth (`jwt`, `api-key`…): kept like
//! devices, in their own store under `profiles/` in the wallet's folder with the wallet's
//! backend. The record ([`ProfileRecord`]: profile, server, subject, non-secret details) is
//! in the index; the secret part (tokens, keys, passwords) is in the keychain, the
//! passphrase-encrypted file or memory, as the user chose for the wallet. A new token is
//! written atomically (secret under a fresh slot, then the index): a process killed during a
//! refresh leaves the old token or the new one, never neither.

use serde::Serialize;
use tokensim_device::profiles::ProfileRecord;
use tokensim_store::{Secret, Store};
use zeroize::Zeroizing;

use crate::{DeviceId, Error, Lease, Result, Wallet};

/// One account as listed: nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSummary {
    /// The id it is kept under (`--device`).
    pub id: String,
    /// The profile.
    pub profile: String,
    /// The server's base URL.
    pub server_url: String,
    /// Who it is there (device id, user, client id).
    pub subject: String,
}

/// The profile accounts of one wallet.
#[derive(Debug)]
pub struct ProfileStore {
    store: Store<ProfileRecord>,
}

impl Wallet {
    /// The profile accounts (opening their store creates it).
    pub fn profiles(&self) -> Result<ProfileStore> {
        let folder = self.folder().join("profiles");
        Ok(ProfileStore {
            store: Store::open(folder, self.twin.secrets())?,
        })
    }
}

impl ProfileStore {
    /// Every account, sorted by id.
    pub fn list(&self) -> Result<Vec<ProfileSummary>> {
        Ok(self
            .store
            .list()?
            .into_iter()
            .map(|(id, record)| ProfileSummary {
                id: id.to_string(),
                profile: record.profile,
                server_url: record.server_url,
                subject: record.subject,
            })
            .collect())
    }

    /// The account `selector` names (its id), or the only account of `profile`.
    pub fn resolve(&self, selector: Option<&str>, profile: &str) -> Result<DeviceId> {
        let all = self.list()?;
        let of_profile: Vec<&ProfileSummary> =
            all.iter().filter(|a| a.profile == profile).collect();
        let ids = |list: &[&ProfileSummary]| list.iter().map(|a| a.id.clone()).collect();
        match selector {
            Some(selector) => of_profile
                .iter()
                .find(|a| a.id == selector || a.subject == selector)
                .map(|a| DeviceId::parse(&a.id))
                .transpose()?
                .ok_or_else(|| Error::NotFound {
                    selector: selector.to_owned(),
                    available: ids(&of_profile),
                }),
            None => match of_profile.as_slice() {
                [] => Err(Error::NotFound {
                    selector: format!("(a {profile} account)"),
                    available: Vec::new(),
                }),
                [only] => Ok(DeviceId::parse(&only.id)?),
                several => Err(Error::Ambiguous {
                    selector: "*".to_owned(),
                    candidates: ids(several),
                }),
            },
        }
    }

    /// Holds account `id` for this process until the lease is dropped (one refresher at a
    /// time, across processes).
    pub fn lease(&self, id: &DeviceId) -> Result<Lease> {
        Ok(self.store.lease(id)?)
    }

    /// The record and the secret part of `id`.
    pub fn load(&self, id: &DeviceId) -> Result<(ProfileRecord, Zeroizing<Vec<u8>>)> {
        let stored = self.store.load(id)?;
        Ok((
            stored.record,
            Zeroizing::new(stored.secret.expose_secret().to_vec()),
        ))
    }

    /// Adds a new account; refuses an id in use.
    pub fn create(&self, id: &DeviceId, record: &ProfileRecord, secret: &[u8]) -> Result<()> {
        Ok(self
            .store
            .create(id, record, &Secret::new(secret.to_vec()))?)
    }

    /// Saves account `id` (atomically: the secret first, then the index).
    pub fn save(&self, id: &DeviceId, record: &ProfileRecord, secret: &[u8]) -> Result<()> {
        Ok(self.store.save(id, record, &Secret::new(secret.to_vec()))?)
    }

    /// Forgets account `id` here (the server is not told).
    pub fn remove(&self, id: &DeviceId) -> Result<()> {
        Ok(self.store.delete(id)?)
    }

    /// Account `id`, leased (one user at a time, across processes) and loaded: what every
    /// call that may write the account back (a renewed token) starts from.
    pub fn account(self, id: DeviceId) -> Result<ProfileAccount> {
        let lease = self.lease(&id)?;
        let (record, secret) = self.load(&id)?;
        Ok(ProfileAccount {
            store: self,
            id,
            record,
            secret,
            _lease: lease,
        })
    }
}

/// A profile account held for one call: its store, id, record and secret part, with the
/// account's lease until it is dropped.
#[derive(Debug)]
pub struct ProfileAccount {
    /// The store it lives in.
    pub store: ProfileStore,
    /// Its id.
    pub id: DeviceId,
    /// Its record as loaded.
    pub record: ProfileRecord,
    /// Its secret part as loaded.
    pub secret: Zeroizing<Vec<u8>>,
    _lease: Lease,
}

impl ProfileAccount {
    /// Saves the account's new `parts` (record and secret, from the engine's `to_parts`), in
    /// the engine's error type: what a profile client's persist callback returns.
    pub fn persist(
        &self,
        (record, secret): (ProfileRecord, Zeroizing<Vec<u8>>),
    ) -> tokensim_device::Result<()> {
        self.store
            .save(&self.id, &record, &secret)
            .map_err(|e| tokensim_device::Error::Persist(e.to_string()))
    }
}
