//! Recovery codes, their PUKs and each application's recovery configuration. A code's
//! status and failed attempts change under compare-and-swap on `revision`.

use super::{Store, StoreError, flag};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A recovery code as stored. Statuses: `CREATED` (a postcard code not yet confirmed by a
/// device), `ACTIVE` (usable), `BLOCKED` (too many wrong PUKs), `REVOKED` (revoked, or
/// used up with its activation). `Debug` shows the code masked.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryRecord {
    /// UUID v4, the row's key.
    pub recovery_code_id: String,
    /// The number PowerAuth Server's API names the code by (`recoveryCodeId`, a `long`),
    /// given by [`Store::insert_recovery`].
    pub number: i64,
    /// Compare-and-swap token.
    pub revision: i64,
    /// The application.
    pub application_id: String,
    /// The user it recovers.
    pub user_id: String,
    /// The activation it was issued with; `None` for a postcard code.
    pub activation_id: Option<String>,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub recovery_code: String,
    /// `CREATED`, `ACTIVE`, `BLOCKED` or `REVOKED`.
    pub status: String,
    /// Wrong PUKs so far.
    pub failed_attempts: i64,
    /// Wrong PUKs that block the code.
    pub max_failed_attempts: i64,
}

impl std::fmt::Debug for RecoveryRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryRecord")
            .field("recovery_code_id", &self.recovery_code_id)
            .field("number", &self.number)
            .field("revision", &self.revision)
            .field("application_id", &self.application_id)
            .field("user_id", &self.user_id)
            .field("activation_id", &self.activation_id)
            .field("recovery_code", &self.masked())
            .field("status", &self.status)
            .field("failed_attempts", &self.failed_attempts)
            .field("max_failed_attempts", &self.max_failed_attempts)
            .finish()
    }
}

impl RecoveryRecord {
    /// The code as PowerAuth Server shows it: `XXXXX-XXXXX-XXXXX-` and the last group.
    pub fn masked(&self) -> String {
        match self.recovery_code.get(18..) {
            Some(tail) if self.recovery_code.len() == 23 => format!("XXXXX-XXXXX-XXXXX-{tail}"),
            _ => String::new(),
        }
    }
}

/// One PUK of a code, without its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPuk {
    /// 1, 2, …: the order the user spends them in.
    pub index: i64,
    /// `VALID`, `USED` or `INVALID`.
    pub status: String,
}

/// An application's recovery configuration (`/rest/v3/recovery/config/*`).
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// The application.
    pub application_id: String,
    /// Codes issued with activations, activation via recovery code, confirmation.
    pub activation_recovery_enabled: bool,
    /// Postcard codes (`/rest/v3/recovery/create`).
    pub recovery_postcard_enabled: bool,
    /// Whether a user may hold more than one live postcard code.
    pub allow_multiple_recovery_codes: bool,
    /// Base64 of the postcard private key's 32-byte scalar.
    pub postcard_private_key: Option<String>,
    /// Base64 of the postcard public key (uncompressed point).
    pub postcard_public_key: Option<String>,
    /// The printing center's public key, Base64.
    pub remote_postcard_public_key: Option<String>,
}

impl std::fmt::Debug for RecoveryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryConfig")
            .field("application_id", &self.application_id)
            .field(
                "activation_recovery_enabled",
                &self.activation_recovery_enabled,
            )
            .field("recovery_postcard_enabled", &self.recovery_postcard_enabled)
            .field(
                "allow_multiple_recovery_codes",
                &self.allow_multiple_recovery_codes,
            )
            .field(
                "postcard_private_key",
                &self.postcard_private_key.as_ref().map(|_| "<redacted>"),
            )
            .field("postcard_public_key", &self.postcard_public_key)
            .field(
                "remote_postcard_public_key",
                &self.remote_postcard_public_key,
            )
            .finish()
    }
}

/// Which codes `/rest/v3/recovery/lookup` asks for; `None` matches any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryLookup {
    /// The application.
    pub application_id: Option<String>,
    /// The user.
    pub user_id: Option<String>,
    /// The activation the code was issued with.
    pub activation_id: Option<String>,
}

const RECORD_COLUMNS: &str = "recovery_code_id, recovery_code_number, revision, application_id, \
     user_id, activation_id, recovery_code, status, failed_attempts, max_failed_attempts";

fn record_from_row(row: &AnyRow) -> Result<RecoveryRecord, StoreError> {
    Ok(RecoveryRecord {
        recovery_code_id: row.try_get("recovery_code_id")?,
        number: row
            .try_get::<Option<i64>, _>("recovery_code_number")?
            .ok_or(StoreError::Corrupt("recovery_codes.recovery_code_number"))?,
        revision: row.try_get("revision")?,
        application_id: row.try_get("application_id")?,
        user_id: row.try_get("user_id")?,
        activation_id: row.try_get("activation_id")?,
        recovery_code: row.try_get("recovery_code")?,
        status: row.try_get("status")?,
        failed_attempts: row.try_get("failed_attempts")?,
        max_failed_attempts: row.try_get("max_failed_attempts")?,
    })
}

fn config_from_row(row: &AnyRow) -> Result<RecoveryConfig, StoreError> {
    Ok(RecoveryConfig {
        application_id: row.try_get("application_id")?,
        activation_recovery_enabled: row.try_get::<i64, _>("activation_recovery_enabled")? != 0,
        recovery_postcard_enabled: row.try_get::<i64, _>("recovery_postcard_enabled")? != 0,
        allow_multiple_recovery_codes: row.try_get::<i64, _>("allow_multiple_recovery_codes")? != 0,
        postcard_private_key: row.try_get("postcard_private_key")?,
        postcard_public_key: row.try_get("postcard_public_key")?,
        remote_postcard_public_key: row.try_get("remote_postcard_public_key")?,
    })
}

impl Store {
    /// Stores a code with its PUK hashes (index 1, 2, …), in one transaction, under the
    /// next free number (the record's own `number` is ignored). Returns that number, or
    /// `None` (and writes nothing) when `sole_postcard` is set and the user already holds
    /// a `CREATED` or `ACTIVE` postcard code in the application. Taking the number locks
    /// the counter first, so concurrent inserts check one after the other.
    pub(crate) async fn insert_recovery(
        &self,
        record: &RecoveryRecord,
        puk_hashes: &[String],
        now_ms: i64,
        sole_postcard: bool,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin().await?;
        let number: i64 = sqlx::query(
            "UPDATE sequences SET value = value + 1 WHERE name = 'recovery_codes' RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get("value")?;
        if sole_postcard {
            let live: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM recovery_codes WHERE application_id = $1 AND user_id = $2 \
                 AND activation_id IS NULL AND status IN ('CREATED', 'ACTIVE')",
            )
            .bind(&record.application_id)
            .bind(&record.user_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
            if live > 0 {
                return Ok(None);
            }
        }
        sqlx::query(
            "INSERT INTO recovery_codes (recovery_code_id, recovery_code_number, revision, application_id, \
             user_id, activation_id, recovery_code, status, failed_attempts, max_failed_attempts, \
             timestamp_created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&record.recovery_code_id)
        .bind(number)
        .bind(record.revision)
        .bind(&record.application_id)
        .bind(&record.user_id)
        .bind(&record.activation_id)
        .bind(&record.recovery_code)
        .bind(&record.status)
        .bind(record.failed_attempts)
        .bind(record.max_failed_attempts)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        for (index, hash) in (1i64..).zip(puk_hashes) {
            sqlx::query(
                "INSERT INTO recovery_puks (recovery_code_id, puk_index, puk_hash, status) VALUES ($1, $2, $3, 'VALID')",
            )
            .bind(&record.recovery_code_id)
            .bind(index)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(number))
    }

    /// The `CREATED`, `ACTIVE` or `BLOCKED` code `recovery_code` of an application (newest
    /// first).
    pub(crate) async fn recovery_by_code(
        &self,
        application_id: &str,
        recovery_code: &str,
    ) -> Result<Option<RecoveryRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {RECORD_COLUMNS} FROM recovery_codes \
             WHERE application_id = $1 AND recovery_code = $2 AND status IN ('CREATED', 'ACTIVE', 'BLOCKED') \
             ORDER BY timestamp_created DESC"
        ))
        .bind(application_id)
        .bind(recovery_code)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(record_from_row)
        .transpose()
    }

    /// Whether an application has ever had the code `recovery_code`, in any status.
    pub(crate) async fn recovery_code_exists(
        &self,
        application_id: &str,
        recovery_code: &str,
    ) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE application_id = $1 AND recovery_code = $2",
        )
        .bind(application_id)
        .bind(recovery_code)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(count > 0)
    }

    /// Whether a user holds a `CREATED` or `ACTIVE` postcard code (one issued with no
    /// activation) in an application.
    pub(crate) async fn has_live_postcard(
        &self,
        application_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE application_id = $1 AND user_id = $2 \
             AND activation_id IS NULL AND status IN ('CREATED', 'ACTIVE')",
        )
        .bind(application_id)
        .bind(user_id)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?;
        Ok(count > 0)
    }

    /// The codes that match every given filter, newest first.
    pub(crate) async fn find_recoveries(
        &self,
        lookup: &RecoveryLookup,
    ) -> Result<Vec<RecoveryRecord>, StoreError> {
        let filters = [
            ("application_id", &lookup.application_id),
            ("user_id", &lookup.user_id),
            ("activation_id", &lookup.activation_id),
        ];
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        for (column, value) in filters {
            if let Some(value) = value {
                values.push(value);
                conditions.push(format!("{column} = ${}", values.len()));
            }
        }
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM recovery_codes");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY timestamp_created DESC, recovery_code_number DESC");
        let mut query = sqlx::query(&sql);
        for value in values {
            query = query.bind(value);
        }
        query
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(record_from_row)
            .collect()
    }

    /// The PUKs of a code, by index.
    pub(crate) async fn recovery_puks(
        &self,
        recovery_code_id: &str,
    ) -> Result<Vec<RecoveryPuk>, StoreError> {
        sqlx::query(
            "SELECT puk_index, status FROM recovery_puks WHERE recovery_code_id = $1 ORDER BY puk_index",
        )
        .bind(recovery_code_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| {
            Ok(RecoveryPuk {
                index: row.try_get("puk_index")?,
                status: row.try_get("status")?,
            })
        })
        .collect()
    }

    /// The first `VALID` PUK of a code: `(index, hash)`.
    pub(crate) async fn current_puk(
        &self,
        recovery_code_id: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        sqlx::query(
            "SELECT puk_index, puk_hash FROM recovery_puks WHERE recovery_code_id = $1 AND status = 'VALID' \
             ORDER BY puk_index",
        )
        .bind(recovery_code_id)
        .fetch_optional(self.pool())
        .await?
        .map(|row| Ok((row.try_get("puk_index")?, row.try_get("puk_hash")?)))
        .transpose()
    }

    /// Saves status and failed attempts if unchanged since read (CAS on `revision`); sets
    /// PUK `puk.0` to status `puk.1` in the same transaction. Returns `false` on a lost
    /// race.
    pub(crate) async fn save_recovery(
        &self,
        record: &mut RecoveryRecord,
        puk: Option<(i64, &str)>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE recovery_codes SET revision = $1, status = $2, failed_attempts = $3, \
             timestamp_last_change = $4 WHERE recovery_code_id = $5 AND revision = $6",
        )
        .bind(record.revision + 1)
        .bind(&record.status)
        .bind(record.failed_attempts)
        .bind(now_ms)
        .bind(&record.recovery_code_id)
        .bind(record.revision)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        if let Some((index, status)) = puk {
            sqlx::query(
                "UPDATE recovery_puks SET status = $1 WHERE recovery_code_id = $2 AND puk_index = $3",
            )
            .bind(status)
            .bind(&record.recovery_code_id)
            .bind(index)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        record.revision += 1;
        Ok(true)
    }

    /// Revokes code `number` unless it is already `REVOKED`; its `VALID` PUKs become
    /// `INVALID`. Returns whether it changed.
    pub(crate) async fn revoke_recovery(
        &self,
        number: i64,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE recovery_codes SET status = 'REVOKED', revision = revision + 1, timestamp_last_change = $1 \
             WHERE recovery_code_number = $2 AND status <> 'REVOKED'",
        )
        .bind(now_ms)
        .bind(number)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 1 {
            sqlx::query(
                "UPDATE recovery_puks SET status = 'INVALID' WHERE status = 'VALID' AND recovery_code_id = \
                 (SELECT recovery_code_id FROM recovery_codes WHERE recovery_code_number = $1)",
            )
            .bind(number)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(updated == 1)
    }

    /// Revokes every code issued with `activation_id` that is not `REVOKED` yet, and
    /// invalidates their `VALID` PUKs. Returns how many codes changed.
    pub(crate) async fn revoke_activation_recoveries(
        &self,
        activation_id: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE recovery_puks SET status = 'INVALID' WHERE status = 'VALID' AND recovery_code_id IN \
             (SELECT recovery_code_id FROM recovery_codes WHERE activation_id = $1 AND status <> 'REVOKED')",
        )
        .bind(activation_id)
        .execute(&mut *tx)
        .await?;
        let revoked = sqlx::query(
            "UPDATE recovery_codes SET status = 'REVOKED', revision = revision + 1, timestamp_last_change = $1 \
             WHERE activation_id = $2 AND status <> 'REVOKED'",
        )
        .bind(now_ms)
        .bind(activation_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(revoked)
    }

    /// The stored recovery configuration of an application, if any was saved.
    pub(crate) async fn recovery_config(
        &self,
        application_id: &str,
    ) -> Result<Option<RecoveryConfig>, StoreError> {
        sqlx::query(
            "SELECT application_id, activation_recovery_enabled, recovery_postcard_enabled, \
             allow_multiple_recovery_codes, postcard_private_key, postcard_public_key, \
             remote_postcard_public_key FROM recovery_configs WHERE application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(config_from_row)
        .transpose()
    }

    /// Stores `config` only when the application has none yet. Returns the configuration
    /// stored afterwards (`config`, or the one that was there).
    pub(crate) async fn insert_recovery_config(
        &self,
        config: &RecoveryConfig,
    ) -> Result<RecoveryConfig, StoreError> {
        self.write_recovery_config(config, false).await
    }

    /// Saves `config`. The postcard key pair is written only if the application has none:
    /// once made, it stays, whatever two concurrent updates bring.
    pub(crate) async fn save_recovery_config(
        &self,
        config: &RecoveryConfig,
    ) -> Result<RecoveryConfig, StoreError> {
        self.write_recovery_config(config, true).await
    }

    async fn write_recovery_config(
        &self,
        config: &RecoveryConfig,
        overwrite: bool,
    ) -> Result<RecoveryConfig, StoreError> {
        let on_conflict = if overwrite {
            "DO UPDATE SET activation_recovery_enabled = excluded.activation_recovery_enabled, \
             recovery_postcard_enabled = excluded.recovery_postcard_enabled, \
             allow_multiple_recovery_codes = excluded.allow_multiple_recovery_codes, \
             postcard_private_key = COALESCE(recovery_configs.postcard_private_key, excluded.postcard_private_key), \
             postcard_public_key = COALESCE(recovery_configs.postcard_public_key, excluded.postcard_public_key), \
             remote_postcard_public_key = excluded.remote_postcard_public_key"
        } else {
            "DO NOTHING"
        };
        let mut tx = self.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO recovery_configs (application_id, activation_recovery_enabled, \
             recovery_postcard_enabled, allow_multiple_recovery_codes, postcard_private_key, \
             postcard_public_key, remote_postcard_public_key) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (application_id) {on_conflict}"
        ))
        .bind(&config.application_id)
        .bind(flag(config.activation_recovery_enabled))
        .bind(flag(config.recovery_postcard_enabled))
        .bind(flag(config.allow_multiple_recovery_codes))
        .bind(&config.postcard_private_key)
        .bind(&config.postcard_public_key)
        .bind(&config.remote_postcard_public_key)
        .execute(&mut *tx)
        .await?;
        let stored = sqlx::query(
            "SELECT application_id, activation_recovery_enabled, recovery_postcard_enabled, \
             allow_multiple_recovery_codes, postcard_private_key, postcard_public_key, \
             remote_postcard_public_key FROM recovery_configs WHERE application_id = $1",
        )
        .bind(&config.application_id)
        .fetch_one(&mut *tx)
        .await?;
        let stored = config_from_row(&stored)?;
        tx.commit().await?;
        Ok(stored)
    }
}
