//! Inbox messages for a user, written by the Cloud API and read on the device.

use super::{Store, StoreError, flag};
use sqlx::Row;
use sqlx::any::AnyRow;

/// One inbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// UUID v4.
    pub message_id: String,
    /// The recipient.
    pub user_id: String,
    /// The application.
    pub application_id: String,
    /// `text` or `html`.
    pub message_type: String,
    /// Subject line.
    pub subject: String,
    /// One-line summary.
    pub summary: String,
    /// The body.
    pub body: String,
    /// Whether the user has read it.
    pub read: bool,
    /// Unix ms.
    pub timestamp_created: i64,
}

const COLUMNS: &str = "message_id, user_id, application_id, message_type, subject, summary, body, is_read, timestamp_created";

impl Store {
    /// Stores a new message.
    pub(crate) async fn insert_inbox_message(&self, m: &InboxMessage) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO inbox_messages ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        sqlx::query(&sql)
            .bind(&m.message_id)
            .bind(&m.user_id)
            .bind(&m.application_id)
            .bind(&m.message_type)
            .bind(&m.subject)
            .bind(&m.summary)
            .bind(&m.body)
            .bind(flag(m.read))
            .bind(m.timestamp_created)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// A page of a user's messages, newest first.
    pub async fn inbox_messages(
        &self,
        user_id: &str,
        only_unread: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<InboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM inbox_messages WHERE user_id = $1 AND (is_read = 0 OR $2 = 0) \
             ORDER BY timestamp_created DESC, message_id LIMIT $3 OFFSET $4"
        );
        sqlx::query(&sql)
            .bind(user_id)
            .bind(flag(only_unread))
            .bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(message_from_row)
            .collect()
    }

    /// How many unread messages a user has.
    pub(crate) async fn count_unread(&self, user_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM inbox_messages WHERE user_id = $1 AND is_read = 0",
        )
        .bind(user_id)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?)
    }

    /// One of a user's messages.
    pub(crate) async fn inbox_message(
        &self,
        user_id: &str,
        message_id: &str,
    ) -> Result<Option<InboxMessage>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM inbox_messages WHERE user_id = $1 AND message_id = $2");
        sqlx::query(&sql)
            .bind(user_id)
            .bind(message_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(message_from_row)
            .transpose()
    }

    /// Marks one message (or, with `None`, all) of a user read. Returns how many changed.
    pub(crate) async fn mark_read(
        &self,
        user_id: &str,
        message_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE inbox_messages SET is_read = 1 WHERE user_id = $1 AND ($2 IS NULL OR message_id = $2)",
        )
        .bind(user_id)
        .bind(message_id)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}

fn message_from_row(row: &AnyRow) -> Result<InboxMessage, StoreError> {
    Ok(InboxMessage {
        message_id: row.try_get("message_id")?,
        user_id: row.try_get("user_id")?,
        application_id: row.try_get("application_id")?,
        message_type: row.try_get("message_type")?,
        subject: row.try_get("subject")?,
        summary: row.try_get("summary")?,
        body: row.try_get("body")?,
        read: row.try_get::<i64, _>("is_read")? != 0,
        timestamp_created: row.try_get("timestamp_created")?,
    })
}
