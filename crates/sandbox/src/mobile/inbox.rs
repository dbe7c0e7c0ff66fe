//! `/api/inbox/*` (digest §16.6): count, list, detail, read, read-all, with a token.

use super::auth::token_activation;
use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::extract::{RawBody, json_response, request_object};
use crate::state::AppState;
use crate::store::InboxMessage;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/inbox/count", post(count))
        .route("/api/inbox/message/list", post(list))
        .route("/api/inbox/message/detail", post(detail))
        .route("/api/inbox/message/read", post(read))
        .route("/api/inbox/message/read-all", post(read_all))
}

/// A message as the inbox API shows it; the body only in detail.
pub(super) fn inbox_view(m: &InboxMessage, with_body: bool) -> Value {
    let mut view = json!({
        "id": m.message_id,
        "type": m.message_type,
        "subject": m.subject,
        "summary": m.summary,
        "read": m.read,
        "timestampCreated": iso8601_mobile(m.timestamp_created),
    });
    if with_body {
        view["body"] = json!(m.body);
    }
    view
}

fn ok(response: Value) -> Response {
    json_response(&json!({"status": "OK", "responseObject": response}))
}

async fn count(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let unread = state.store.count_unread(&activation.user_id).await?;
    Ok(ok(json!({"countUnread": unread})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    #[serde(default)]
    page: i64,
    #[serde(default = "default_size")]
    size: i64,
    #[serde(default)]
    only_unread: bool,
}

fn default_size() -> i64 {
    20
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let request: ListRequest = request_object(&body.0)?;
    if request.page < 0 || !(1..=1000).contains(&request.size) {
        return Err(Error::InvalidRequest(
            "page must be >= 0 and size 1 to 1000".to_owned(),
        ));
    }
    let messages = state
        .store
        .inbox_messages(
            &activation.user_id,
            request.only_unread,
            request.page.saturating_mul(request.size),
            request.size,
        )
        .await?;
    Ok(ok(Value::Array(
        messages.iter().map(|m| inbox_view(m, false)).collect(),
    )))
}

#[derive(Deserialize)]
struct IdRequest {
    id: String,
}

fn no_message() -> Error {
    Error::api(
        StatusCode::BAD_REQUEST,
        "INBOX_FAILED",
        "no such message for this user",
    )
}

async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let request: IdRequest = request_object(&body.0)?;
    let message = state
        .store
        .inbox_message(&activation.user_id, &request.id)
        .await?
        .ok_or_else(no_message)?;
    Ok(ok(inbox_view(&message, true)))
}

async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    let request: IdRequest = request_object(&body.0)?;
    if state
        .store
        .mark_read(&activation.user_id, Some(&request.id))
        .await?
        == 0
    {
        return Err(no_message());
    }
    Ok(json_response(&json!({"status": "OK"})))
}

async fn read_all(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Error> {
    let activation = token_activation(&state, &headers, &super::auth::TOKEN_TYPES).await?;
    state.store.mark_read(&activation.user_id, None).await?;
    Ok(json_response(&json!({"status": "OK"})))
}
