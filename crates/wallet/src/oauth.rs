//! The OAuth 2.0 profile's accounts in the profile store: the secret part's layout (the
//! client secret and the tokens, JSON) and [`AccountTokens`], the engine's [`TokenStorage`]
//! over it. The `tokensim profile oauth` command and the desktop app's OAuth tab both keep
//! their accounts through this module, so either reads what the other wrote.

use serde::{Deserialize, Serialize};
use tokensim_device::profiles::ProfileRecord;
use tokensim_device::profiles::oauth::{OAuthSettings, StorageError, StoredTokens, TokenStorage};
use zeroize::{Zeroize, Zeroizing};

use crate::{DeviceId, ProfileStore};

/// The profile's name in the catalogue and in an account's record.
pub const OAUTH_PROFILE: &str = "oauth";

/// The secret part of an OAuth account: the client secret (a confidential client) and the
/// tokens. Zeroized on drop; `Debug` shows neither.
#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthSecrets {
    /// `client_secret`; `None` for a public (device-flow) client.
    pub client_secret: Option<String>,
    /// The stored tokens, if any.
    pub tokens: Option<StoredTokens>,
}

impl Drop for OAuthSecrets {
    fn drop(&mut self) {
        if let Some(secret) = &mut self.client_secret {
            secret.zeroize();
        }
    }
}

impl std::fmt::Debug for OAuthSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSecrets")
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl OAuthSecrets {
    /// Reads an account's secret part.
    pub fn read(bytes: &[u8]) -> Result<Self, StorageError> {
        serde_json::from_slice(bytes).map_err(|_| {
            StorageError(
                "the stored OAuth account cannot be read: remove it and register again".into(),
            )
        })
    }

    /// The secret part as the profile store keeps it.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, StorageError> {
        serde_json::to_vec(self)
            .map(Zeroizing::new)
            .map_err(|e| StorageError(format!("the OAuth account cannot be written: {e}")))
    }

    /// The engine's settings for account `id` with `record`: its server, client id, this
    /// client secret, the record's scope, and the account's id as the token slot.
    pub fn settings(&self, id: &DeviceId, record: &ProfileRecord) -> OAuthSettings {
        OAuthSettings {
            server: record.server_url.clone(),
            client_id: record.subject.clone(),
            client_secret: self.client_secret.clone().map(Zeroizing::new),
            scope: record.details["scope"].as_str().map(str::to_owned),
            slot: id.as_str().to_owned(),
        }
    }
}

/// An OAuth account's tokens in its secret part (the wallet's keychain, encrypted file or
/// memory), written atomically by the profile store: the engine's [`TokenStorage`]. The
/// client secret beside them is kept as it is.
#[derive(Debug)]
pub struct AccountTokens {
    store: ProfileStore,
    id: DeviceId,
    record: ProfileRecord,
}

impl AccountTokens {
    /// The tokens of account `id` (with `record`) in `store`.
    pub fn new(store: ProfileStore, id: DeviceId, record: ProfileRecord) -> Self {
        Self { store, id, record }
    }

    fn secrets(&self) -> Result<OAuthSecrets, StorageError> {
        let (_, bytes) = self
            .store
            .load(&self.id)
            .map_err(|e| StorageError(e.to_string()))?;
        OAuthSecrets::read(&bytes)
    }

    fn write(&self, secrets: &OAuthSecrets) -> Result<(), StorageError> {
        self.store
            .save(&self.id, &self.record, &secrets.to_bytes()?)
            .map_err(|e| StorageError(e.to_string()))
    }
}

impl TokenStorage for AccountTokens {
    fn load(&self, _slot: &str) -> Result<Option<StoredTokens>, StorageError> {
        Ok(self.secrets()?.tokens.clone())
    }

    fn save(&self, _slot: &str, tokens: &StoredTokens) -> Result<(), StorageError> {
        let mut secrets = self.secrets()?;
        secrets.tokens = Some(tokens.clone());
        self.write(&secrets)
    }

    fn clear(&self, _slot: &str) -> Result<(), StorageError> {
        let mut secrets = self.secrets()?;
        secrets.tokens = None;
        self.write(&secrets)
    }
}
