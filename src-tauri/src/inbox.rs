//! The message inbox of a device, as Wultra's mobile token SDK reads it (`/api/inbox/…` of
//! the mobile API, with the `possession_universal` token): the bank posts messages with the
//! Cloud API (`POST /v2/inbox/messages`), the device lists them, opens one and marks it read.

use crate::core::Core;
use crate::types::{AppError, InboxMessageView};
use std::sync::Arc;
use tauri::State;
use tokensim_device::push::InboxMessage;

fn view(message: InboxMessage) -> InboxMessageView {
    InboxMessageView {
        id: message.id,
        kind: message.kind,
        subject: message.subject,
        summary: message.summary,
        read: message.read,
        created: message.timestamp_created,
        body: message.body,
    }
}

/// The first page (50) of a device's messages, newest first as the server orders them.
pub async fn list(core: &Core, id: &str) -> Result<Vec<InboxMessageView>, AppError> {
    let list = core
        .on_device(id, core.client_for(id), async |r, d| {
            tokensim_api::inbox_list(r, d, 50, false).await
        })
        .await?;
    Ok(list.messages.into_iter().map(view).collect())
}

/// Opens a message (its body) and marks it read, as the SDK's apps do on opening it.
pub async fn open(core: &Core, id: &str, message_id: &str) -> Result<InboxMessageView, AppError> {
    let read = core
        .on_device(id, core.client_for(id), async |r, d| {
            tokensim_api::inbox_read(r, d, message_id).await
        })
        .await?;
    Ok(InboxMessageView {
        read: true,
        ..view(read.message)
    })
}

/// Marks every message of a device read.
pub async fn read_all(core: &Core, id: &str) -> Result<(), AppError> {
    core.on_device(id, core.client_for(id), tokensim_api::inbox_read_all)
        .await
}

/// A device's messages.
#[tauri::command]
pub async fn inbox_messages(
    core: State<'_, Arc<Core>>,
    id: String,
) -> Result<Vec<InboxMessageView>, AppError> {
    list(&core, &id).await
}

/// Opens a message and marks it read.
#[tauri::command]
pub async fn inbox_open(
    core: State<'_, Arc<Core>>,
    id: String,
    message_id: String,
) -> Result<InboxMessageView, AppError> {
    open(&core, &id, &message_id).await
}

/// Marks every message read.
#[tauri::command]
pub async fn inbox_read_all(core: State<'_, Arc<Core>>, id: String) -> Result<(), AppError> {
    read_all(&core, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::{DeviceBook, StoreChoice};
    use crate::types::ActivateRequest;
    use serde_json::json;

    #[tokio::test]
    async fn a_message_the_bank_posts_is_listed_opened_and_marked_read() {
        let folder = tempfile::tempdir().unwrap();
        let core =
            Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
        let server = core.slot.start_sandbox(None, 0).await.unwrap();
        let registration = core.new_registration("reader").await.unwrap();
        let report = core
            .activate(ActivateRequest {
                name: "Reader".to_owned(),
                code: registration.qr_text,
                pin: "1357".to_owned(),
                version: "3.3".to_owned(),
                biometry: false,
                otp: None,
            })
            .await;
        let id = report.device.expect("activated").id;
        let http = reqwest::Client::new();
        for subject in ["Statement", "Card"] {
            let response = http
                .post(format!("{}/powerauth-cloud/v2/inbox/messages", server.url))
                .basic_auth(&server.cloud_user, Some(&server.cloud_password))
                .json(
                    &json!({"userId": "reader", "type": "text", "subject": subject,
                    "summary": "s", "body": format!("{subject} body")}),
                )
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "{}", response.status());
        }
        let messages = list(&core, &id).await.unwrap();
        assert_eq!(messages.len(), 2);
        assert!(messages.iter().all(|m| !m.read));
        let opened = open(&core, &id, &messages[0].id).await.unwrap();
        assert!(opened.read);
        assert!(opened.body.unwrap().ends_with(" body"));
        let again = list(&core, &id).await.unwrap();
        assert_eq!(again.iter().filter(|m| !m.read).count(), 1);
        read_all(&core, &id).await.unwrap();
        assert!(list(&core, &id).await.unwrap().iter().all(|m| m.read));
        core.shutdown().await;
    }
}
