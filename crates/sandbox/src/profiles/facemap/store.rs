//! The facemap profile's rows: API credentials and transactions (with their callback's
//! delivery state, so a stop or a kill loses no callback). Every state change is a
//! compare-and-swap on the state it expects, as in the rest of the store.

use crate::store::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// How long a newer transaction for the same enrollment reference supersedes older ones,
/// and the longest a transaction lives: 15 minutes.
pub(crate) const MAX_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// A transaction's `transactionResult`: Jumio's retrieval values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxResult {
    /// Initiated; the user has not opened the capture yet.
    Created,
    /// The capture was opened.
    Started,
    /// Live, and the same person as the enrollment.
    Passed,
    /// Live, but another person.
    Failed,
    /// Not a live face (a spoof).
    Invalid,
    /// Not finished in time, or superseded by a newer transaction.
    Expired,
}

impl TxResult {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TxResult::Created => "CREATED",
            TxResult::Started => "STARTED",
            TxResult::Passed => "PASSED",
            TxResult::Failed => "FAILED",
            TxResult::Invalid => "INVALID",
            TxResult::Expired => "EXPIRED",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "CREATED" => TxResult::Created,
            "STARTED" => TxResult::Started,
            "PASSED" => TxResult::Passed,
            "FAILED" => TxResult::Failed,
            "INVALID" => TxResult::Invalid,
            "EXPIRED" => TxResult::Expired,
            _ => return None,
        })
    }

    /// Whether the transaction has ended.
    pub(crate) fn is_final(self) -> bool {
        !matches!(self, TxResult::Created | TxResult::Started)
    }
}

/// One authentication transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// `authenticationTransactionReference` (a UUID).
    pub reference: String,
    /// The sandbox application whose credentials made it.
    pub application_id: String,
    /// The API token that made it.
    pub api_token: String,
    /// `enrollmentTransactionReference`.
    pub enrollment_reference: String,
    /// `userReference`.
    pub user_reference: Option<String>,
    /// `callbackUrl`.
    pub callback_url: Option<String>,
    /// `successUrl` (web).
    pub success_url: Option<String>,
    /// `errorUrl` (web).
    pub error_url: Option<String>,
    /// `locale` (web).
    pub locale: Option<String>,
    /// `SDK` or `WEB`.
    pub scan_source: String,
    /// The web redirect URL's token.
    pub authorization_token: Option<String>,
    /// Bytes of the facemap sent (the bytes themselves are not kept).
    pub facemap_size: i64,
    /// The state.
    pub result: TxResult,
    /// What ended it: `LIVE_MATCH`, `SPOOF`, `DIFFERENT_PERSON`, `TIMEOUT`, `SUPERSEDED`.
    pub reason: Option<String>,
    /// Unix ms.
    pub created_ms: i64,
    /// Unix ms; open transactions past it are EXPIRED.
    pub expires_ms: i64,
    /// Unix ms of the final state.
    pub finished_ms: Option<i64>,
    /// The callback's delivery: `PENDING`, `SENDING`, `COMPLETED`, `FAILED`; `None` when
    /// none is due.
    pub callback_status: Option<String>,
    /// Delivery attempts so far.
    pub callback_attempts: i64,
    /// The last attempt's HTTP status.
    pub callback_http_status: Option<i64>,
    /// The last attempt's error.
    pub callback_error: Option<String>,
}

const COLUMNS: &str = "transaction_reference, application_id, api_token, \
    enrollment_transaction_reference, user_reference, callback_url, success_url, error_url, \
    locale, scan_source, authorization_token, facemap_size, result, reason, timestamp_created, \
    timestamp_expires, timestamp_finished, callback_status, callback_attempts, \
    callback_http_status, callback_error";

/// The SQL that ends open transactions: the callback becomes due when there is a URL.
const END: &str = "result = $1, reason = $2, timestamp_finished = $3, \
    callback_status = CASE WHEN callback_url IS NULL THEN NULL ELSE 'PENDING' END, \
    callback_next_ms = $3";

fn transaction(row: &AnyRow) -> Result<Transaction, StoreError> {
    let result: String = row.try_get("result")?;
    Ok(Transaction {
        reference: row.try_get("transaction_reference")?,
        application_id: row.try_get("application_id")?,
        api_token: row.try_get("api_token")?,
        enrollment_reference: row.try_get("enrollment_transaction_reference")?,
        user_reference: row.try_get("user_reference")?,
        callback_url: row.try_get("callback_url")?,
        success_url: row.try_get("success_url")?,
        error_url: row.try_get("error_url")?,
        locale: row.try_get("locale")?,
        scan_source: row.try_get("scan_source")?,
        authorization_token: row.try_get("authorization_token")?,
        facemap_size: row.try_get("facemap_size")?,
        result: TxResult::parse(&result)
            .ok_or(StoreError::Corrupt("facemap_transactions.result"))?,
        reason: row.try_get("reason")?,
        created_ms: row.try_get("timestamp_created")?,
        expires_ms: row.try_get("timestamp_expires")?,
        finished_ms: row.try_get("timestamp_finished")?,
        callback_status: row.try_get("callback_status")?,
        callback_attempts: row.try_get("callback_attempts")?,
        callback_http_status: row.try_get("callback_http_status")?,
        callback_error: row.try_get("callback_error")?,
    })
}

/// Stores a new API credential of `application_id`.
pub(crate) async fn insert_credentials(
    store: &Store,
    api_token: &str,
    application_id: &str,
    secret_hash: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO facemap_credentials (api_token, application_id, secret_hash, timestamp_created) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(api_token)
    .bind(application_id)
    .bind(secret_hash)
    .bind(now_ms)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The application and secret hash of `api_token`.
pub async fn credentials(
    store: &Store,
    api_token: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT application_id, secret_hash FROM facemap_credentials WHERE api_token = $1",
    )
    .bind(api_token)
    .fetch_optional(store.pool())
    .await?;
    row.map(|row| Ok((row.try_get("application_id")?, row.try_get("secret_hash")?)))
        .transpose()
}

/// Stores `new` and ends, as `EXPIRED` (`SUPERSEDED`), the open transactions of the same
/// application and enrollment reference made in the last 15 minutes: only the newest can
/// finish. Returns how many were superseded.
pub(crate) async fn insert_superseding(
    store: &Store,
    new: &Transaction,
) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let superseded = sqlx::query(&format!(
        "UPDATE facemap_transactions SET {END} \
         WHERE application_id = $4 AND enrollment_transaction_reference = $5 \
         AND result IN ('CREATED', 'STARTED') AND timestamp_created > $6"
    ))
    .bind(TxResult::Expired.as_str())
    .bind("SUPERSEDED")
    .bind(new.created_ms)
    .bind(&new.application_id)
    .bind(&new.enrollment_reference)
    .bind(new.created_ms - MAX_LIFETIME_MS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(&format!(
        "INSERT INTO facemap_transactions ({COLUMNS}, callback_next_ms) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, NULL)"
    ))
    .bind(&new.reference)
    .bind(&new.application_id)
    .bind(&new.api_token)
    .bind(&new.enrollment_reference)
    .bind(&new.user_reference)
    .bind(&new.callback_url)
    .bind(&new.success_url)
    .bind(&new.error_url)
    .bind(&new.locale)
    .bind(&new.scan_source)
    .bind(&new.authorization_token)
    .bind(new.facemap_size)
    .bind(new.result.as_str())
    .bind(&new.reason)
    .bind(new.created_ms)
    .bind(new.expires_ms)
    .bind(new.finished_ms)
    .bind(&new.callback_status)
    .bind(new.callback_attempts)
    .bind(new.callback_http_status)
    .bind(&new.callback_error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(superseded)
}

/// The transaction `reference`.
pub async fn get(store: &Store, reference: &str) -> Result<Option<Transaction>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM facemap_transactions WHERE transaction_reference = $1"
    ))
    .bind(reference)
    .fetch_optional(store.pool())
    .await?
    .as_ref()
    .map(transaction)
    .transpose()
}

/// The newest transactions of `application_id`, newest first.
pub async fn list(
    store: &Store,
    application_id: &str,
    limit: i64,
) -> Result<Vec<Transaction>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM facemap_transactions WHERE application_id = $1 \
         ORDER BY timestamp_created DESC, transaction_reference LIMIT $2"
    ))
    .bind(application_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(transaction)
    .collect()
}

/// Whether any open transaction is past its expiry (a read, so an idle sandbox never
/// takes the write lock).
pub(crate) async fn any_due(store: &Store, now_ms: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "SELECT 1 AS one FROM facemap_transactions \
         WHERE result IN ('CREATED', 'STARTED') AND timestamp_expires <= $1 LIMIT 1",
    )
    .bind(now_ms)
    .fetch_optional(store.pool())
    .await?
    .is_some())
}

/// Ends every open transaction past its expiry as `EXPIRED` (`TIMEOUT`).
pub(crate) async fn expire_due(store: &Store, now_ms: i64) -> Result<u64, StoreError> {
    Ok(sqlx::query(&format!(
        "UPDATE facemap_transactions SET {END} \
         WHERE result IN ('CREATED', 'STARTED') AND timestamp_expires <= $3"
    ))
    .bind(TxResult::Expired.as_str())
    .bind("TIMEOUT")
    .bind(now_ms)
    .execute(store.pool())
    .await?
    .rows_affected())
}

/// `CREATED` → `STARTED`, while it has not expired. `false` when it was not `CREATED`.
pub async fn start(store: &Store, reference: &str, now_ms: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE facemap_transactions SET result = 'STARTED' \
         WHERE transaction_reference = $1 AND result = 'CREATED' AND timestamp_expires > $2",
    )
    .bind(reference)
    .bind(now_ms)
    .execute(store.pool())
    .await?
    .rows_affected()
        == 1)
}

/// Ends an open, unexpired transaction with `result`. `false` when it had already ended
/// (or expired meanwhile).
pub async fn finish(
    store: &Store,
    reference: &str,
    result: TxResult,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(&format!(
        "UPDATE facemap_transactions SET {END} \
         WHERE transaction_reference = $4 AND result IN ('CREATED', 'STARTED') \
         AND timestamp_expires > $3"
    ))
    .bind(result.as_str())
    .bind(reason)
    .bind(now_ms)
    .bind(reference)
    .execute(store.pool())
    .await?
    .rows_affected()
        == 1)
}

/// Callbacks due at `now_ms`, oldest first.
pub(crate) async fn due_callbacks(
    store: &Store,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Transaction>, StoreError> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM facemap_transactions \
         WHERE callback_status = 'PENDING' AND callback_next_ms <= $1 \
         ORDER BY callback_next_ms, transaction_reference LIMIT $2"
    ))
    .bind(now_ms)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(transaction)
    .collect()
}

/// `PENDING` → `SENDING`: this sandbox delivers it. `false` when another took it.
pub(crate) async fn take_callback(store: &Store, reference: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE facemap_transactions SET callback_status = 'SENDING' \
         WHERE transaction_reference = $1 AND callback_status = 'PENDING'",
    )
    .bind(reference)
    .execute(store.pool())
    .await?
    .rows_affected()
        == 1)
}

/// Deliveries a stop or a kill interrupted go back to `PENDING`.
pub(crate) async fn resume_callbacks(store: &Store) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE facemap_transactions SET callback_status = 'PENDING' \
         WHERE callback_status = 'SENDING'",
    )
    .execute(store.pool())
    .await?
    .rows_affected())
}

/// The outcome of one delivery attempt: the new status (`COMPLETED`, `FAILED` or
/// `PENDING` with `next_ms`).
pub(crate) async fn record_callback(
    store: &Store,
    reference: &str,
    status: &str,
    attempts: i64,
    http_status: Option<i64>,
    error: Option<&str>,
    next_ms: Option<i64>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE facemap_transactions SET callback_status = $2, callback_attempts = $3, \
         callback_http_status = $4, callback_error = $5, callback_next_ms = $6 \
         WHERE transaction_reference = $1",
    )
    .bind(reference)
    .bind(status)
    .bind(attempts)
    .bind(http_status)
    .bind(error)
    .bind(next_ms)
    .execute(store.pool())
    .await?;
    Ok(())
}
