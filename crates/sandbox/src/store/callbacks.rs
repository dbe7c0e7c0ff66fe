//! Callback URLs, their events and every delivery attempt (the delivery log).

use super::{Store, StoreError, flag};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A callback URL of an application (PowerAuth Server's `CallbackUrlEntity`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackUrlRecord {
    /// UUID v4.
    pub callback_id: String,
    /// The application whose changes it receives.
    pub application_id: String,
    /// For people.
    pub name: String,
    /// `ACTIVATION_STATUS_CHANGE` or `OPERATION_STATUS_CHANGE`.
    pub callback_type: String,
    /// Where to POST.
    pub callback_url: String,
    /// Payload attributes to send besides `type` and the id.
    pub attributes: Vec<String>,
    /// The `authentication` object as given (secrets included).
    pub authentication: serde_json::Value,
    /// How long finished events are kept, ms; `None` for the default.
    pub retention_period_ms: Option<i64>,
    /// Wait before the first retry, ms; `None` for the default.
    pub initial_backoff_ms: Option<i64>,
    /// Attempts per event; `None` for the default.
    pub max_attempts: Option<i64>,
    /// `false` once removed.
    pub enabled: bool,
    /// Unix ms.
    pub timestamp_created: i64,
    /// Unix ms of the last update.
    pub timestamp_last_updated: Option<i64>,
}

/// One status change to deliver to one URL.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackEvent {
    /// UUID v4.
    pub event_id: String,
    /// Order of creation.
    pub event_number: i64,
    /// The callback URL's id.
    pub callback_id: String,
    /// The application.
    pub application_id: String,
    /// The payload's `type`: `ACTIVATION` or `OPERATION`.
    pub event_type: String,
    /// activationId or operationId.
    pub subject_id: String,
    /// The state it changed to.
    pub subject_status: String,
    /// The JSON body POSTed.
    pub callback_data: serde_json::Value,
    /// `PROCESSING`, `PENDING`, `COMPLETED` or `FAILED`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Sent as the `Idempotency-Key` header.
    pub idempotency_key: String,
    /// Unix ms.
    pub timestamp_created: i64,
    /// Unix ms of the next retry, while `PENDING`.
    pub timestamp_next_call: Option<i64>,
    /// Unix ms after which the finished event is deleted.
    pub timestamp_delete_after: Option<i64>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackAttempt {
    /// The event.
    pub event_id: String,
    /// 1, 2, …
    pub attempt: i64,
    /// Unix ms.
    pub timestamp_started: i64,
    /// How long the attempt took.
    pub duration_ms: i64,
    /// The URL with credentials and query values masked.
    pub url: String,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<i64>,
    /// Why no answer counted (timeout, refused connection, …).
    pub error: Option<String>,
}

const URL_COLUMNS: &str = "callback_id, application_id, name, callback_type, callback_url, \
    attributes, authentication, retention_period_ms, initial_backoff_ms, max_attempts, enabled, \
    timestamp_created, timestamp_last_updated";

const EVENT_COLUMNS: &str = "event_id, event_number, callback_id, application_id, event_type, \
    subject_id, subject_status, callback_data, status, attempts, idempotency_key, \
    timestamp_created, timestamp_next_call, timestamp_delete_after";

impl Store {
    /// Stores a new callback URL.
    pub(crate) async fn insert_callback_url(
        &self,
        c: &CallbackUrlRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO callback_urls ({URL_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.callback_id)
        .bind(&c.application_id)
        .bind(&c.name)
        .bind(&c.callback_type)
        .bind(&c.callback_url)
        .bind(attributes_json(&c.attributes))
        .bind(c.authentication.to_string())
        .bind(c.retention_period_ms)
        .bind(c.initial_backoff_ms)
        .bind(c.max_attempts)
        .bind(flag(c.enabled))
        .bind(c.timestamp_created)
        .bind(c.timestamp_last_updated)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Saves everything but the id, application and creation time of an enabled URL.
    /// Returns `false` when there is no such enabled URL.
    pub(crate) async fn update_callback_url(
        &self,
        c: &CallbackUrlRecord,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE callback_urls SET name = $1, callback_type = $2, callback_url = $3, \
             attributes = $4, authentication = $5, retention_period_ms = $6, \
             initial_backoff_ms = $7, max_attempts = $8, timestamp_last_updated = $9 \
             WHERE callback_id = $10 AND application_id = $11 AND enabled = 1",
        )
        .bind(&c.name)
        .bind(&c.callback_type)
        .bind(&c.callback_url)
        .bind(attributes_json(&c.attributes))
        .bind(c.authentication.to_string())
        .bind(c.retention_period_ms)
        .bind(c.initial_backoff_ms)
        .bind(c.max_attempts)
        .bind(c.timestamp_last_updated)
        .bind(&c.callback_id)
        .bind(&c.application_id)
        .execute(self.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Disables an enabled URL. Returns whether there was one.
    pub(crate) async fn disable_callback_url(
        &self,
        callback_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE callback_urls SET enabled = 0, timestamp_last_updated = $1 \
             WHERE callback_id = $2 AND enabled = 1",
        )
        .bind(now_ms)
        .bind(callback_id)
        .execute(self.pool())
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// An enabled callback URL.
    pub async fn callback_url(
        &self,
        callback_id: &str,
    ) -> Result<Option<CallbackUrlRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {URL_COLUMNS} FROM callback_urls WHERE callback_id = $1 AND enabled = 1"
        ))
        .bind(callback_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(url_from_row)
        .transpose()
    }

    /// The application's enabled callback URLs, by name (as PowerAuth Server lists them),
    /// optionally of one type only.
    pub(crate) async fn callback_urls(
        &self,
        application_id: &str,
        callback_type: Option<&str>,
    ) -> Result<Vec<CallbackUrlRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {URL_COLUMNS} FROM callback_urls WHERE application_id = $1 AND enabled = 1 \
             AND ($2 IS NULL OR callback_type = $2) ORDER BY name, callback_id"
        ))
        .bind(application_id)
        .bind(callback_type)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(url_from_row)
        .collect()
    }

    /// Stores a new event with the next `event_number` (written back into `event`).
    pub(crate) async fn insert_callback_event(
        &self,
        event: &mut CallbackEvent,
    ) -> Result<(), StoreError> {
        // The numbers come from the table itself; two sandboxes sharing one database may
        // pick the same one, and the loser of the unique index takes the next.
        let mut last_error = None;
        for _ in 0..8 {
            let result = sqlx::query(&format!(
                "INSERT INTO callback_events ({EVENT_COLUMNS}) \
                 SELECT $1, COALESCE(MAX(event_number), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13 FROM callback_events RETURNING event_number"
            ))
            .bind(&event.event_id)
            .bind(&event.callback_id)
            .bind(&event.application_id)
            .bind(&event.event_type)
            .bind(&event.subject_id)
            .bind(&event.subject_status)
            .bind(event.callback_data.to_string())
            .bind(&event.status)
            .bind(event.attempts)
            .bind(&event.idempotency_key)
            .bind(event.timestamp_created)
            .bind(event.timestamp_next_call)
            .bind(event.timestamp_delete_after)
            .fetch_one(self.pool())
            .await;
            match result {
                Ok(row) => {
                    event.event_number = row.try_get("event_number")?;
                    return Ok(());
                }
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                    last_error = Some(sqlx::Error::Database(error));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_error.map_or(
            StoreError::Corrupt("callback_events.event_number"),
            Into::into,
        ))
    }

    /// Records an attempt and the event's state after it, in one transaction.
    pub(crate) async fn record_callback_attempt(
        &self,
        event: &CallbackEvent,
        attempt: &CallbackAttempt,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO callback_attempts (event_id, attempt, timestamp_started, duration_ms, url, \
             http_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&attempt.event_id)
        .bind(attempt.attempt)
        .bind(attempt.timestamp_started)
        .bind(attempt.duration_ms)
        .bind(&attempt.url)
        .bind(attempt.http_status)
        .bind(&attempt.error)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE callback_events SET status = $1, attempts = $2, timestamp_next_call = $3, \
             timestamp_delete_after = $4 WHERE event_id = $5",
        )
        .bind(&event.status)
        .bind(event.attempts)
        .bind(event.timestamp_next_call)
        .bind(event.timestamp_delete_after)
        .bind(&event.event_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Events not finished (`PROCESSING` or `PENDING`), oldest first.
    pub(crate) async fn unfinished_callback_events(
        &self,
    ) -> Result<Vec<CallbackEvent>, StoreError> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM callback_events \
             WHERE status IN ('PROCESSING', 'PENDING') ORDER BY event_number"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(event_from_row)
        .collect()
    }

    /// Marks an event `FAILED` without a further attempt (its URL was removed, or it had
    /// every attempt its URL allows).
    pub(crate) async fn fail_callback_event(
        &self,
        event_id: &str,
        delete_after_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE callback_events SET status = 'FAILED', timestamp_next_call = NULL, \
             timestamp_delete_after = $1 WHERE event_id = $2",
        )
        .bind(delete_after_ms)
        .bind(event_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest `limit` events of an application (all applications when `None`),
    /// newest first, each with its attempts in order, and the URL's name.
    pub(crate) async fn callback_log(
        &self,
        application_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(CallbackEvent, String, Vec<CallbackAttempt>)>, StoreError> {
        let columns = EVENT_COLUMNS
            .split(", ")
            .map(|c| format!("e.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "SELECT {columns}, u.name AS callback_name FROM callback_events e \
             JOIN callback_urls u ON u.callback_id = e.callback_id \
             WHERE ($1 IS NULL OR e.application_id = $1) \
             ORDER BY e.event_number DESC LIMIT $2"
        ))
        .bind(application_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let event = event_from_row(row)?;
            let name: String = row.try_get("callback_name")?;
            let attempts = sqlx::query(
                "SELECT event_id, attempt, timestamp_started, duration_ms, url, http_status, error \
                 FROM callback_attempts WHERE event_id = $1 ORDER BY attempt",
            )
            .bind(&event.event_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(CallbackAttempt {
                    event_id: row.try_get("event_id")?,
                    attempt: row.try_get("attempt")?,
                    timestamp_started: row.try_get("timestamp_started")?,
                    duration_ms: row.try_get("duration_ms")?,
                    url: row.try_get("url")?,
                    http_status: row.try_get("http_status")?,
                    error: row.try_get("error")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
            out.push((event, name, attempts));
        }
        Ok(out)
    }

    /// Deletes finished events (and their attempts) past their retention.
    pub(crate) async fn delete_expired_callback_events(
        &self,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM callback_attempts WHERE event_id IN (SELECT event_id FROM callback_events \
             WHERE timestamp_delete_after IS NOT NULL AND timestamp_delete_after < $1)",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query(
            "DELETE FROM callback_events \
             WHERE timestamp_delete_after IS NOT NULL AND timestamp_delete_after < $1",
        )
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected())
    }
}

fn attributes_json(attributes: &[String]) -> String {
    serde_json::Value::from(attributes.to_vec()).to_string()
}

fn url_from_row(row: &AnyRow) -> Result<CallbackUrlRecord, StoreError> {
    let attributes: String = row.try_get("attributes")?;
    let authentication: String = row.try_get("authentication")?;
    let enabled: i64 = row.try_get("enabled")?;
    Ok(CallbackUrlRecord {
        callback_id: row.try_get("callback_id")?,
        application_id: row.try_get("application_id")?,
        name: row.try_get("name")?,
        callback_type: row.try_get("callback_type")?,
        callback_url: row.try_get("callback_url")?,
        attributes: serde_json::from_str(&attributes)
            .map_err(|_| StoreError::Corrupt("callback_urls.attributes"))?,
        authentication: serde_json::from_str(&authentication)
            .map_err(|_| StoreError::Corrupt("callback_urls.authentication"))?,
        retention_period_ms: row.try_get("retention_period_ms")?,
        initial_backoff_ms: row.try_get("initial_backoff_ms")?,
        max_attempts: row.try_get("max_attempts")?,
        enabled: enabled != 0,
        timestamp_created: row.try_get("timestamp_created")?,
        timestamp_last_updated: row.try_get("timestamp_last_updated")?,
    })
}

fn event_from_row(row: &AnyRow) -> Result<CallbackEvent, StoreError> {
    let data: String = row.try_get("callback_data")?;
    Ok(CallbackEvent {
        event_id: row.try_get("event_id")?,
        event_number: row.try_get("event_number")?,
        callback_id: row.try_get("callback_id")?,
        application_id: row.try_get("application_id")?,
        event_type: row.try_get("event_type")?,
        subject_id: row.try_get("subject_id")?,
        subject_status: row.try_get("subject_status")?,
        callback_data: serde_json::from_str(&data)
            .map_err(|_| StoreError::Corrupt("callback_events.callback_data"))?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        idempotency_key: row.try_get("idempotency_key")?,
        timestamp_created: row.try_get("timestamp_created")?,
        timestamp_next_call: row.try_get("timestamp_next_call")?,
        timestamp_delete_after: row.try_get("timestamp_delete_after")?,
    })
}
