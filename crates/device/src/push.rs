//! Push registration and the inbox (digest §11.6, §16.6), both with the
//! `possession_universal` token.

use crate::client::envelope;
use crate::session::Session;
use crate::token::{POSSESSION_UNIVERSAL, token_post};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A message header in the inbox list; `body` is filled by the detail call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxMessage {
    /// Message id.
    pub id: String,
    /// Message type, e.g. `text`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Subject line.
    #[serde(default)]
    pub subject: String,
    /// Summary line.
    #[serde(default)]
    pub summary: String,
    /// Whether it was read.
    #[serde(default)]
    pub read: bool,
    /// Creation time (ISO-8601).
    #[serde(default)]
    pub timestamp_created: Option<String>,
    /// The body (detail only).
    #[serde(default)]
    pub body: Option<String>,
}

impl Session<'_> {
    /// Registers `push_token` for `platform` (`apns`, `fcm`, `hms`, or the older `ios`,
    /// `android`, `huawei`).
    pub async fn register_push(&mut self, platform: &str, push_token: &str) -> Result<()> {
        self.token_call(
            "push/register",
            "/api/push/device/register",
            Some(json!({ "platform": platform, "token": push_token })),
        )
        .await
        .map(|_| ())
    }

    /// Unread messages count.
    pub async fn inbox_count(&mut self) -> Result<u64> {
        let object = self
            .token_call("inbox/count", "/api/inbox/count", Some(json!({})))
            .await?;
        object
            .get("countUnread")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::invalid("inbox/count", "countUnread is missing"))
    }

    /// One page of messages.
    pub async fn inbox_list(
        &mut self,
        page: u32,
        size: u32,
        only_unread: bool,
    ) -> Result<Vec<InboxMessage>> {
        let object = self
            .token_call(
                "inbox/list",
                "/api/inbox/message/list",
                Some(json!({ "page": page, "size": size, "onlyUnread": only_unread })),
            )
            .await?;
        serde_json::from_value(object).map_err(|e| Error::invalid("inbox/list", e.to_string()))
    }

    /// One message with its body.
    pub async fn inbox_detail(&mut self, id: &str) -> Result<InboxMessage> {
        let object = self
            .token_call(
                "inbox/detail",
                "/api/inbox/message/detail",
                Some(json!({ "id": id })),
            )
            .await?;
        serde_json::from_value(object).map_err(|e| Error::invalid("inbox/detail", e.to_string()))
    }

    /// Marks one message read.
    pub async fn inbox_read(&mut self, id: &str) -> Result<()> {
        self.token_call(
            "inbox/read",
            "/api/inbox/message/read",
            Some(json!({ "id": id })),
        )
        .await
        .map(|_| ())
    }

    /// Marks every message read.
    pub async fn inbox_read_all(&mut self) -> Result<()> {
        self.token_call("inbox/read-all", "/api/inbox/message/read-all", None)
            .await
            .map(|_| ())
    }

    async fn token_call(
        &mut self,
        what: &'static str,
        path: &str,
        object: Option<Value>,
    ) -> Result<Value> {
        self.ensure_token(POSSESSION_UNIVERSAL).await?;
        let request = token_post(self, what, path, POSSESSION_UNIVERSAL, object.as_ref())?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, what)
    }
}
