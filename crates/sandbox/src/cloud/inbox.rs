//! `/powerauth-cloud/v2/inbox/messages`: post a message to a user's inbox in the caller's
//! application, announced by a push unless `silent`. Listing them is a sandbox extension.

use super::access::Caller;
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::state::AppState;
use crate::store::InboxMessage;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v2/inbox/messages", get(list).post(create))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    user_id: String,
    r#type: String,
    subject: String,
    summary: String,
    body: String,
    #[serde(default)]
    silent: bool,
}

/// A message as the Cloud shows it; `timestamp` in epoch milliseconds.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageView<'a> {
    id: &'a str,
    user_id: &'a str,
    r#type: &'a str,
    subject: &'a str,
    summary: &'a str,
    body: &'a str,
    read: bool,
    timestamp: i64,
}

fn view(m: &InboxMessage) -> MessageView<'_> {
    MessageView {
        id: &m.message_id,
        user_id: &m.user_id,
        r#type: &m.message_type,
        subject: &m.subject,
        summary: &m.summary,
        body: &m.body,
        read: m.read,
        timestamp: m.timestamp_created,
    }
}

async fn create(
    caller: Caller,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: CreateRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    if request.r#type != "text" && request.r#type != "html" {
        return Err(Error::InvalidRequest(
            "type must be text or html".to_owned(),
        ));
    }
    if request.user_id.trim().is_empty() || request.subject.trim().is_empty() {
        return Err(Error::InvalidRequest(
            "userId and subject must not be blank".to_owned(),
        ));
    }
    let message = InboxMessage {
        message_id: state.make_uuid(),
        user_id: request.user_id,
        application_id: caller.application(&state).await?,
        message_type: request.r#type,
        subject: request.subject,
        summary: request.summary,
        body: request.body,
        read: false,
        timestamp_created: state.now_ms(),
    };
    state.store.insert_inbox_message(&message).await?;
    if !request.silent {
        let announcement = json!({
            "title": message.subject,
            "message": message.summary,
            "silent": false,
        });
        super::push::queue(&state, &message.user_id, None, &announcement).await?;
    }
    Ok(json_response(&view(&message)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: String,
}

/// `GET /v2/inbox/messages?userId=` (sandbox extension): `{"messages": […]}`.
async fn list(
    _: Caller,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let messages = state
        .store
        .inbox_messages(&query.user_id, false, 0, 1000)
        .await?;
    let views: Vec<_> = messages.iter().map(view).collect();
    Ok(json_response(&json!({ "messages": views })))
}
