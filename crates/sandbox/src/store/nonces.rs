//! The ECIES replay store: a request's `(ephemeral key, nonce, scope)` may be seen once.

use super::{Store, StoreError};

impl Store {
    /// Records `key` as used until `expires_ms`. Returns `false` when it was already used:
    /// the request is a replay. Expired entries are swept on the way.
    pub async fn use_nonce(
        &self,
        key: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM used_nonces WHERE timestamp_expires < $1")
            .bind(now_ms)
            .execute(self.pool())
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO used_nonces (nonce_key, timestamp_expires) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(key)
        .bind(expires_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
