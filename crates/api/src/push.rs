//! Push registration and the message inbox of the mobile token API.

use serde::Serialize;
use tokensim_device::push::InboxMessage;

use crate::{Leased, Ran, Result, Runner};

/// The device, registered for pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushRegistered {
    /// `fcm`, `apns`, `hms`…
    pub platform: String,
    /// Always `true`.
    pub registered: bool,
}

/// The inbox's messages (headers; `body` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Messages {
    /// Newest first, as the server lists them.
    pub messages: Vec<InboxMessage>,
}

/// One message, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageRead {
    /// The message with its body.
    pub message: InboxMessage,
}

/// Registers the device for `platform` pushes with `token` (by default
/// `tokensim-ACTIVATION_ID`).
pub async fn register_push(
    runner: &Runner<'_>,
    dev: &mut Leased,
    platform: &str,
    token: Option<&str>,
) -> Result<Ran<PushRegistered>> {
    let token = token.map_or_else(
        || format!("tokensim-{}", dev.device.activation_id),
        str::to_owned,
    );
    let ran = runner
        .call(dev, async |s| s.register_push(platform, &token).await)
        .await?;
    Ok(ran.map(|()| PushRegistered {
        platform: platform.to_owned(),
        registered: true,
    }))
}

/// The first `size` inbox messages (only the unread ones with `unread`).
pub async fn inbox_list(
    runner: &Runner<'_>,
    dev: &mut Leased,
    size: u32,
    unread: bool,
) -> Result<Ran<Messages>> {
    let ran = runner
        .call(dev, async |s| s.inbox_list(0, size, unread).await)
        .await?;
    Ok(ran.map(|messages| Messages { messages }))
}

/// Message `id` with its body, then marked read.
pub async fn inbox_read(
    runner: &Runner<'_>,
    dev: &mut Leased,
    id: &str,
) -> Result<Ran<MessageRead>> {
    let ran = runner
        .call(dev, async |s| {
            let mut message = s.inbox_detail(id).await?;
            s.inbox_read(id).await?;
            // The detail was read before the message was marked; show it as it is now.
            message.read = true;
            Ok(message)
        })
        .await?;
    Ok(ran.map(|message| MessageRead { message }))
}

/// Marks every message read.
pub async fn inbox_read_all(runner: &Runner<'_>, dev: &mut Leased) -> Result<Ran<()>> {
    runner.call(dev, async |s| s.inbox_read_all().await).await
}
