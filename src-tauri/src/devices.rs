//! The device book: the shared [`Wallet`] (the CLI's store, same layout) plus a lock per
//! device inside the app and the wallet's lease across processes, so two calls of one device
//! never sign with the same counter.

use crate::types::AppError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokensim_device::{ActiveDevice, DeviceState};
use tokensim_wallet::{
    BackendKind, DeviceId, DeviceSummary, Lease, MemorySecrets, Passphrase, Secrets, Wallet,
    WalletPersist,
};

/// Which secret backend to open, from `TOKENSIM_STORE` (`keychain`, `file`, `memory`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChoice {
    /// The OS keychain (or whatever an existing store was created with); when there is no
    /// keychain the app says why and keeps devices in memory.
    Default,
    /// The passphrase-encrypted file (`TOKENSIM_PASSPHRASE`).
    File,
    /// Nothing leaves the process.
    Memory,
}

/// Devices and their locks.
pub struct DeviceBook {
    wallet: Wallet,
    warning: Option<String>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl DeviceBook {
    /// Opens the wallet in `folder` with the chosen backend.
    pub fn open(folder: &Path, choice: StoreChoice) -> Result<Self, AppError> {
        let passphrase = std::env::var("TOKENSIM_PASSPHRASE")
            .ok()
            .map(Passphrase::new);
        let opened = match choice {
            StoreChoice::Memory => Wallet::open(folder, Some(BackendKind::Memory), None),
            StoreChoice::File => Wallet::open(folder, Some(BackendKind::EncryptedFile), passphrase),
            StoreChoice::Default => Wallet::open(folder, None, passphrase),
        };
        let (wallet, warning) = match opened {
            Ok(wallet) => (wallet, None),
            Err(tokensim_wallet::Error::NoKeychain(reason)) => {
                // Not the store folder: its index would outlive the secrets.
                let scratch =
                    std::env::temp_dir().join(format!("tokensim-app-{}", std::process::id()));
                let wallet = Wallet::open_with(&scratch, Secrets::Memory(MemorySecrets::new()))
                    .map_err(|e| AppError::new("STORE", e))?;
                (
                    wallet,
                    Some(format!(
                        "Devices are kept in memory until the app quits: {reason}"
                    )),
                )
            }
            Err(e) => return Err(AppError::new("STORE", e)),
        };
        Ok(Self {
            wallet,
            warning,
            locks: Mutex::default(),
        })
    }

    /// `keychain`, `encrypted-file` or `memory`.
    pub fn kind(&self) -> &'static str {
        match self.wallet.backend() {
            BackendKind::Keychain => "keychain",
            BackendKind::EncryptedFile => "encrypted-file",
            BackendKind::Memory => "memory",
            _ => "other",
        }
    }

    /// Why devices are not where they were asked to be.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    /// Every device.
    pub fn list(&self) -> Result<Vec<DeviceSummary>, AppError> {
        self.wallet.list().map_err(store_error)
    }

    /// One device's summary.
    pub fn summary(&self, id: &str) -> Result<DeviceSummary, AppError> {
        self.wallet.summary(&parse_id(id)?).map_err(store_error)
    }

    /// The lock that serialises calls of one device.
    pub fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(id.to_owned()).or_default().clone()
    }

    /// Leases `id` across processes (the CLI, a second app): hold it from load to save.
    /// Waits on a blocking thread, so a lease another process holds stalls no async task.
    pub async fn lease(&self, id: &str) -> Result<Lease, AppError> {
        let id = parse_id(id)?;
        let wallet = self.wallet.clone();
        tokio::task::spawn_blocking(move || wallet.lease(&id))
            .await
            .map_err(|e| AppError::new("STORE", e))?
            .map_err(store_error)
    }

    /// Device `id`, loaded under `lease` (see [`Self::lease`]) for a use case of
    /// `tokensim-api`.
    pub fn leased(&self, id: &str, lease: Lease) -> Result<tokensim_api::Leased, AppError> {
        tokensim_api::Leased::with_lease(&self.wallet, &parse_id(id)?, lease).map_err(|e| {
            let code = if e.kind == tokensim_api::ErrorKind::NotActivated {
                "NOT_ACTIVE"
            } else {
                "STORE"
            };
            AppError::from_api(code, e)
        })
    }

    /// The wallet itself (snapshots; the use cases of `tokensim-api` take it).
    pub fn wallet(&self) -> &Wallet {
        &self.wallet
    }

    /// Loads an activated device.
    pub fn load_active(&self, id: &str) -> Result<ActiveDevice, AppError> {
        self.wallet.load_active(&parse_id(id)?).map_err(store_error)
    }

    /// Saves `device` under `id`.
    pub fn save(&self, id: &str, device: &ActiveDevice) -> Result<(), AppError> {
        self.wallet
            .save(&parse_id(id)?, &DeviceState::Active(device.clone()))
            .map_err(store_error)
    }

    /// Adds a just-activated device; returns its id.
    pub fn add(&self, device: &ActiveDevice) -> Result<String, AppError> {
        self.wallet
            .add(&DeviceState::Active(device.clone()))
            .map(|id| id.to_string())
            .map_err(store_error)
    }

    /// Renames a device (its id stays).
    pub fn rename(&self, id: &str, name: &str) -> Result<(), AppError> {
        self.wallet
            .rename(&parse_id(id)?, name)
            .map_err(store_error)
    }

    /// Forgets a device here.
    pub fn delete(&self, id: &str) -> Result<(), AppError> {
        self.wallet.remove(&parse_id(id)?).map_err(store_error)
    }

    /// The `Persist` hook for `id`: saves before each signed request.
    pub fn persister(&self, id: &str) -> Result<WalletPersist, AppError> {
        Ok(self.wallet.persister(&parse_id(id)?))
    }
}

fn store_error(error: tokensim_wallet::Error) -> AppError {
    let code = match error {
        tokensim_wallet::Error::NotActivated { .. } => "NOT_ACTIVE",
        _ => "STORE",
    };
    AppError::new(code, error)
}

fn parse_id(id: &str) -> Result<DeviceId, AppError> {
    DeviceId::parse(id).map_err(|e| AppError::new("STORE", e))
}
