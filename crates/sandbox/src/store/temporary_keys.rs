//! Temporary ECIES keys of protocol 3.3, kept for their whole validity (the SDK caches
//! them and never drops one because of a server error).

use super::sweep::Table;
use super::{Store, StoreError};
use powerauth::encoding::{b64, b64_decode};
use powerauth::{KeyPair, PrivateKey, PublicKey};
use sqlx::Row;

/// One temporary key pair and what it is bound to.
#[derive(Debug, Clone)]
pub struct TemporaryKey {
    /// `sub` of the JWT, sent back as `temporaryKeyId`.
    pub key_id: String,
    /// The application key it was issued for.
    pub application_key: String,
    /// The activation it was issued for (activation scope), or `None` (application scope).
    pub activation_id: Option<String>,
    /// The key pair.
    pub key_pair: KeyPair,
    /// Unix ms after which the key is refused.
    pub timestamp_expires: i64,
}

impl Store {
    /// Stores a freshly issued key.
    pub async fn insert_temporary_key(&self, key: &TemporaryKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO temporary_keys (key_id, application_key, activation_id, private_key, public_key, timestamp_expires) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&key.key_id)
        .bind(&key.application_key)
        .bind(&key.activation_id)
        .bind(b64(&key.key_pair.private.expose_bytes()[..]))
        .bind(b64(key.key_pair.public.to_uncompressed()))
        .bind(key.timestamp_expires)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A key by id, if it exists and has not expired at `now_ms`. Expired keys are swept
    /// now and then ([`super::SWEEP_INTERVAL_MS`]).
    pub async fn temporary_key(
        &self,
        key_id: &str,
        now_ms: i64,
    ) -> Result<Option<TemporaryKey>, StoreError> {
        if self.sweeps.due(Table::TemporaryKeys, now_ms) {
            sqlx::query("DELETE FROM temporary_keys WHERE timestamp_expires < $1")
                .bind(now_ms)
                .execute(self.pool())
                .await?;
        }
        let Some(row) = sqlx::query(
            "SELECT key_id, application_key, activation_id, private_key, public_key, timestamp_expires \
             FROM temporary_keys WHERE key_id = $1 AND timestamp_expires >= $2",
        )
        .bind(key_id)
        .bind(now_ms)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let private: String = row.try_get("private_key")?;
        let private = b64_decode(&private)
            .ok()
            .and_then(|bytes| PrivateKey::from_bytes(&bytes).ok())
            .ok_or(StoreError::Corrupt("temporary_keys.private_key"))?;
        let public: String = row.try_get("public_key")?;
        let public = PublicKey::from_b64(&public)
            .map_err(|_| StoreError::Corrupt("temporary_keys.public_key"))?;
        Ok(Some(TemporaryKey {
            key_id: row.try_get("key_id")?,
            application_key: row.try_get("application_key")?,
            activation_id: row.try_get("activation_id")?,
            key_pair: KeyPair::from_parts(private, public),
            timestamp_expires: row.try_get("timestamp_expires")?,
        }))
    }

    /// [`Store::temporary_key`], and only if it was issued for `application_key` and the
    /// scope: `activation_id` for activation scope, `None` for application scope. A key of
    /// another application or scope is answered as no key at all.
    pub(crate) async fn scoped_temporary_key(
        &self,
        key_id: &str,
        application_key: &str,
        activation_id: Option<&str>,
        now_ms: i64,
    ) -> Result<Option<TemporaryKey>, StoreError> {
        Ok(self.temporary_key(key_id, now_ms).await?.filter(|key| {
            key.application_key == application_key && key.activation_id.as_deref() == activation_id
        }))
    }

    /// Deletes a key. Returns `false` when there was none.
    pub(crate) async fn remove_temporary_key(&self, key_id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM temporary_keys WHERE key_id = $1")
            .bind(key_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }
}
