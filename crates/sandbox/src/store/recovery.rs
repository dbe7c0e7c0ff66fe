//! Recovery codes and their PUKs. A code's status and failed attempts change under
//! compare-and-swap on `revision`.

use super::{Store, StoreError};
use sqlx::Row;

/// A recovery code as stored. Statuses: `ACTIVE` (usable), `BLOCKED` (too many wrong
/// PUKs), `REVOKED` (used up or its activation removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryRecord {
    /// UUID v4.
    pub recovery_code_id: String,
    /// Compare-and-swap token.
    pub revision: i64,
    /// The application.
    pub application_id: String,
    /// The user it recovers.
    pub user_id: String,
    /// The activation it was issued with.
    pub activation_id: Option<String>,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub recovery_code: String,
    /// `ACTIVE`, `BLOCKED` or `REVOKED`.
    pub status: String,
    /// Wrong PUKs so far.
    pub failed_attempts: i64,
    /// Wrong PUKs that block the code.
    pub max_failed_attempts: i64,
}

impl Store {
    /// Stores a code with its PUK hashes (index 1, 2, …), in one transaction.
    pub async fn insert_recovery(
        &self,
        record: &RecoveryRecord,
        puk_hashes: &[String],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO recovery_codes (recovery_code_id, revision, application_id, user_id, activation_id, \
             recovery_code, status, failed_attempts, max_failed_attempts, timestamp_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&record.recovery_code_id)
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
        Ok(())
    }

    /// The `ACTIVE` or `BLOCKED` code `recovery_code` of an application (newest first).
    pub async fn recovery_by_code(
        &self,
        application_id: &str,
        recovery_code: &str,
    ) -> Result<Option<RecoveryRecord>, StoreError> {
        sqlx::query(
            "SELECT recovery_code_id, revision, application_id, user_id, activation_id, recovery_code, \
             status, failed_attempts, max_failed_attempts FROM recovery_codes \
             WHERE application_id = $1 AND recovery_code = $2 AND status IN ('ACTIVE', 'BLOCKED') \
             ORDER BY timestamp_created DESC",
        )
        .bind(application_id)
        .bind(recovery_code)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(|row| {
            Ok(RecoveryRecord {
                recovery_code_id: row.try_get("recovery_code_id")?,
                revision: row.try_get("revision")?,
                application_id: row.try_get("application_id")?,
                user_id: row.try_get("user_id")?,
                activation_id: row.try_get("activation_id")?,
                recovery_code: row.try_get("recovery_code")?,
                status: row.try_get("status")?,
                failed_attempts: row.try_get("failed_attempts")?,
                max_failed_attempts: row.try_get("max_failed_attempts")?,
            })
        })
        .transpose()
    }

    /// The first `VALID` PUK of a code: `(index, hash)`.
    pub async fn current_puk(
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

    /// Saves status and failed attempts if unchanged since read (CAS on `revision`);
    /// marks PUK `used_puk` USED in the same transaction. Returns `false` on a lost race.
    pub async fn save_recovery(
        &self,
        record: &mut RecoveryRecord,
        used_puk: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE recovery_codes SET revision = $1, status = $2, failed_attempts = $3 \
             WHERE recovery_code_id = $4 AND revision = $5",
        )
        .bind(record.revision + 1)
        .bind(&record.status)
        .bind(record.failed_attempts)
        .bind(&record.recovery_code_id)
        .bind(record.revision)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        if let Some(index) = used_puk {
            sqlx::query("UPDATE recovery_puks SET status = 'USED' WHERE recovery_code_id = $1 AND puk_index = $2")
                .bind(&record.recovery_code_id)
                .bind(index)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        record.revision += 1;
        Ok(true)
    }
}
