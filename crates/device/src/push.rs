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

/// A push message as the sandbox's outbox stream carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushMessage {
    /// Message id.
    pub message_id: String,
    /// The user.
    pub user_id: String,
    /// The device it is for.
    pub activation_id: Option<String>,
    /// The payload.
    pub body: Value,
    /// Unix ms.
    pub timestamp_created: i64,
}

/// Cloud API credentials for the sandbox's push stream (`/powerauth-cloud/v2/push/stream`).
#[derive(Clone)]
pub struct CloudCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for CloudCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Pushes for one device as they arrive: a long-lived Server-Sent Events connection to
/// the sandbox, filtered by activation id.
pub struct PushStream {
    response: reqwest::Response,
    buffer: String,
    activation_id: String,
}

impl PushStream {
    /// Connects to `server_url`'s push stream for `activation_id`. The connection has no
    /// overall timeout (it is meant to stay open); connecting has the client's.
    pub async fn open(
        client: &crate::Client,
        server_url: &str,
        activation_id: &str,
        credentials: &CloudCredentials,
    ) -> Result<Self> {
        let url = format!("{server_url}/powerauth-cloud/v2/push/stream");
        let http = reqwest::Client::builder()
            .connect_timeout(client.config().connect_timeout)
            .build()
            .map_err(|e| Error::Network {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        let response = http
            .get(&url)
            .basic_auth(&credentials.username, Some(credentials.password.as_str()))
            .header("Accept", "text/event-stream")
            .send()
            .await
            .map_err(|e| Error::Network {
                url: url.clone(),
                detail: e.to_string(),
            })?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.bytes().await.unwrap_or_default();
            let (code, message) = envelope::error_parts(&body).unwrap_or_default();
            return Err(Error::Server {
                status,
                code,
                message,
            });
        }
        Ok(Self {
            response,
            buffer: String::new(),
            activation_id: activation_id.to_owned(),
        })
    }

    /// The next push for this device; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<Result<PushMessage>> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let data: String = event
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("\n");
                if data.is_empty() {
                    continue; // keep-alive comment or an event without data
                }
                match serde_json::from_str::<PushMessage>(&data) {
                    Ok(message)
                        if message.activation_id.as_deref() == Some(&self.activation_id) =>
                    {
                        return Some(Ok(message));
                    }
                    Ok(_) => continue,
                    Err(e) => return Some(Err(Error::invalid("push/stream", e.to_string()))),
                }
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n")),
                Ok(None) => return None,
                Err(e) => {
                    return Some(Err(Error::Network {
                        url: "push/stream".to_owned(),
                        detail: e.to_string(),
                    }));
                }
            }
        }
    }
}
