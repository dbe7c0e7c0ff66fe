//! The ECIES replay store: a request's `(ephemeral key, nonce, scope)` may be seen once.

use super::sweep::Table;
use super::{Store, StoreError};

impl Store {
    /// Records `key` as used until `expires_ms`. Returns `false` when it was already used
    /// and that use has not expired: the request is a replay. An expired entry is taken
    /// over; the table is swept now and then ([`super::SWEEP_INTERVAL_MS`]).
    pub async fn use_nonce(
        &self,
        key: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool, StoreError> {
        if self.sweeps.due(Table::UsedNonces, now_ms) {
            sqlx::query("DELETE FROM used_nonces WHERE timestamp_expires < $1")
                .bind(now_ms)
                .execute(self.pool())
                .await?;
        }
        let inserted = sqlx::query(
            "INSERT INTO used_nonces (nonce_key, timestamp_expires) VALUES ($1, $2) \
             ON CONFLICT (nonce_key) DO UPDATE SET timestamp_expires = excluded.timestamp_expires \
             WHERE used_nonces.timestamp_expires < $3",
        )
        .bind(key)
        .bind(expires_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
