//! MAC tokens (`X-PowerAuth-Token`) and the nonces their digests already used.

use super::sweep::Table;
use super::{Store, StoreError};
use powerauth::SymmetricKey;
use powerauth::encoding::{b64, b64_decode};
use powerauth::signature::SignatureType;
use sqlx::Row;

/// A token: an id, a 16-byte secret, the activation it speaks for and the factors the
/// signature that created it proved.
#[derive(Debug, Clone)]
pub struct Token {
    /// UUID v4.
    pub token_id: String,
    /// The activation.
    pub activation_id: String,
    /// The 16-byte secret (redacted in `Debug`).
    pub token_secret: SymmetricKey,
    /// The signature type of the creating request.
    pub signature_type: SignatureType,
}

impl Store {
    /// Stores a new token.
    pub(crate) async fn insert_token(&self, token: &Token, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tokens (token_id, activation_id, token_secret, signature_type, timestamp_created) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.token_id)
        .bind(&token.activation_id)
        .bind(b64(token.token_secret.expose_bytes()))
        .bind(token.signature_type.as_str())
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A token by id.
    pub async fn token(&self, token_id: &str) -> Result<Option<Token>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT token_id, activation_id, token_secret, signature_type FROM tokens WHERE token_id = $1",
        )
        .bind(token_id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let secret: String = row.try_get("token_secret")?;
        let signature_type: String = row.try_get("signature_type")?;
        Ok(Some(Token {
            token_id: row.try_get("token_id")?,
            activation_id: row.try_get("activation_id")?,
            token_secret: b64_decode(&secret)
                .ok()
                .and_then(|bytes| SymmetricKey::from_slice(&bytes).ok())
                .ok_or(StoreError::Corrupt("tokens.token_secret"))?,
            signature_type: signature_type
                .parse()
                .map_err(|_| StoreError::Corrupt("tokens.signature_type"))?,
        }))
    }

    /// Deletes a token of `activation_id`. Returns `false` when there was none.
    pub async fn remove_token(
        &self,
        token_id: &str,
        activation_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM tokens WHERE token_id = $1 AND activation_id = $2")
            .bind(token_id)
            .bind(activation_id)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    /// Records a digest nonce of a token as used until `expires_ms`. Returns `false` when
    /// it was used before: a replayed header.
    pub async fn use_token_nonce(
        &self,
        token_id: &str,
        nonce: &[u8; 16],
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<bool, StoreError> {
        if self.sweeps.due(Table::UsedTokenNonces, now_ms) {
            sqlx::query("DELETE FROM used_token_nonces WHERE timestamp_expires < $1")
                .bind(now_ms)
                .execute(self.pool())
                .await?;
        }
        // An expired use of the same nonce is taken over, not counted as a replay.
        let inserted = sqlx::query(
            "INSERT INTO used_token_nonces (token_id, nonce, timestamp_expires) VALUES ($1, $2, $3) \
             ON CONFLICT (token_id, nonce) DO UPDATE SET timestamp_expires = excluded.timestamp_expires \
             WHERE used_token_nonces.timestamp_expires < $4",
        )
        .bind(token_id)
        .bind(b64(nonce))
        .bind(expires_ms)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }
}
