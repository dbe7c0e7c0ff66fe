//! Push registrations and the push outbox (messages the sandbox would have sent).

use super::{Store, StoreError};
use sqlx::Row;

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushMessage {
    /// UUID v4.
    pub message_id: String,
    /// The user it is for.
    pub user_id: String,
    /// The device it would go to.
    pub activation_id: Option<String>,
    /// The payload JSON.
    pub body: serde_json::Value,
    /// Unix ms.
    pub timestamp_created: i64,
}

impl Store {
    /// Registers (or replaces) an activation's push token.
    pub(crate) async fn put_push_device(
        &self,
        activation_id: &str,
        platform: &str,
        push_token: &str,
        environment: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO push_devices (activation_id, platform, push_token, environment, timestamp_created) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (activation_id) DO UPDATE SET \
             platform = excluded.platform, push_token = excluded.push_token, environment = excluded.environment",
        )
        .bind(activation_id)
        .bind(platform)
        .bind(push_token)
        .bind(environment)
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Activations of `user_id` that are ACTIVE and have a push token.
    pub(crate) async fn push_targets(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.activation_id AS activation_id FROM activations a \
             JOIN push_devices p ON p.activation_id = a.activation_id \
             WHERE a.user_id = $1 AND a.state = 'ACTIVE' ORDER BY a.activation_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row.try_get("activation_id").map_err(StoreError::from))
            .collect()
    }

    /// Appends a message to the outbox. On PostgreSQL the same statement also sends
    /// `NOTIFY` on [`PUSH_CHANNEL`] with `ORIGIN:MESSAGE_ID` (delivered when it commits), so
    /// every sandbox instance on the database can tell its live listeners
    /// ([`crate::fanout`]); `origin` names the instance that queued it.
    pub(crate) async fn insert_push_message(
        &self,
        message: &PushMessage,
        origin: &str,
    ) -> Result<(), StoreError> {
        let statement = match self.backend() {
            super::Backend::Sqlite => {
                "INSERT INTO push_messages (message_id, user_id, activation_id, body, timestamp_created) \
                 VALUES ($1, $2, $3, $4, $5)"
            }
            // The sub-select runs once per statement; its notification goes out at commit.
            super::Backend::Postgres => {
                "INSERT INTO push_messages (message_id, user_id, activation_id, body, timestamp_created) \
                 SELECT $1, $2, $3, $4, $5 FROM (SELECT pg_notify('tokensim_push', $6::text || ':' || $1::text)) AS notified"
            }
        };
        let mut query = sqlx::query(statement)
            .bind(&message.message_id)
            .bind(&message.user_id)
            .bind(&message.activation_id)
            .bind(message.body.to_string())
            .bind(message.timestamp_created);
        if self.backend() == super::Backend::Postgres {
            query = query.bind(origin);
        }
        query.execute(self.pool()).await?;
        Ok(())
    }

    /// One outbox message by id.
    pub(crate) async fn push_message(
        &self,
        message_id: &str,
    ) -> Result<Option<PushMessage>, StoreError> {
        sqlx::query(
            "SELECT message_id, user_id, activation_id, body, timestamp_created FROM push_messages \
             WHERE message_id = $1",
        )
        .bind(message_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(push_message_from_row)
        .transpose()
    }

    /// Outbox messages, oldest first, optionally for one user.
    pub async fn push_messages(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<PushMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, user_id, activation_id, body, timestamp_created FROM push_messages \
             WHERE ($1 IS NULL OR user_id = $1) ORDER BY timestamp_created, message_id",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(push_message_from_row).collect()
    }
}

/// The `NOTIFY` channel of new outbox messages (PostgreSQL; the insert above names it too).
pub const PUSH_CHANNEL: &str = "tokensim_push";

fn push_message_from_row(row: &sqlx::any::AnyRow) -> Result<PushMessage, StoreError> {
    let body: String = row.try_get("body")?;
    Ok(PushMessage {
        message_id: row.try_get("message_id")?,
        user_id: row.try_get("user_id")?,
        activation_id: row.try_get("activation_id")?,
        body: serde_json::from_str(&body).map_err(|_| StoreError::Corrupt("push_messages.body"))?,
        timestamp_created: row.try_get("timestamp_created")?,
    })
}
