//! `/powerauth-cloud/v2/inbox/messages`: post a message to a user's inbox, list them.

use super::auth::Authenticated;
use crate::error::Error;
use crate::extract::{Json, json_response};
use crate::mobile::inbox_view;
use crate::state::AppState;
use crate::store::InboxMessage;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new().route("/v2/inbox/messages", get(list).post(create))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    user_id: String,
    #[serde(default = "default_app")]
    app_id: String,
    #[serde(default = "default_type")]
    r#type: String,
    subject: String,
    summary: String,
    body: String,
}

fn default_app() -> String {
    crate::apps::DEFAULT_APPLICATION.to_owned()
}

fn default_type() -> String {
    "text".to_owned()
}

async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    Json(request): Json<CreateRequest>,
) -> Result<Response, Error> {
    if request.r#type != "text" && request.r#type != "html" {
        return Err(Error::InvalidRequest(
            "type must be text or html".to_owned(),
        ));
    }
    if request.user_id.trim().is_empty() || request.subject.is_empty() {
        return Err(Error::InvalidRequest(
            "userId and subject are required".to_owned(),
        ));
    }
    if state.store.application(&request.app_id).await?.is_none() {
        return Err(Error::InvalidRequest(format!(
            "no application {:?}",
            request.app_id
        )));
    }
    let message = InboxMessage {
        message_id: state.make_uuid(),
        user_id: request.user_id,
        application_id: request.app_id,
        message_type: request.r#type,
        subject: request.subject,
        summary: request.summary,
        body: request.body,
        read: false,
        timestamp_created: state.now_ms(),
    };
    state.store.insert_inbox_message(&message).await?;
    Ok(json_response(&inbox_view(&message, true)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: String,
}

async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let messages = state
        .store
        .inbox_messages(&query.user_id, false, 0, 1000)
        .await?;
    let views: Vec<_> = messages.iter().map(|m| inbox_view(m, true)).collect();
    Ok(json_response(&json!({ "messages": views })))
}
