//! `/powerauth-cloud/v2/push/*`: send a push message to a user's devices (it lands in
//! the outbox), read the outbox, and follow it live as Server-Sent Events.

use super::auth::Authenticated;
use crate::error::Error;
use crate::extract::{Json, json_response};
use crate::state::AppState;
use crate::store::PushMessage;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/push/messages", get(outbox).post(send))
        .route("/v2/push/stream", get(stream))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendRequest {
    user_id: String,
    message: Value,
}

async fn send(
    _: Authenticated,
    State(state): State<AppState>,
    Json(request): Json<SendRequest>,
) -> Result<Response, Error> {
    if !request.message.is_object() {
        return Err(Error::InvalidRequest(
            "message must be a JSON object".to_owned(),
        ));
    }
    let mut ids = Vec::new();
    for activation_id in state.store.push_targets(&request.user_id).await? {
        let message = PushMessage {
            message_id: state.make_uuid(),
            user_id: request.user_id.clone(),
            activation_id: Some(activation_id),
            body: request.message.clone(),
            timestamp_created: state.now_ms(),
        };
        state.store.insert_push_message(&message).await?;
        ids.push(message.message_id.clone());
        let _ = state.push_events.send(message);
    }
    Ok(json_response(
        &json!({"messageIds": ids, "count": ids.len()}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutboxQuery {
    user_id: Option<String>,
}

async fn outbox(
    _: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let messages = state.store.push_messages(query.user_id.as_deref()).await?;
    Ok(json_response(&json!({ "messages": messages })))
}

/// New outbox messages as they are queued, one SSE `push` event each.
async fn stream(
    _: Authenticated,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.push_events.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(message) => {
                    let event = Event::default()
                        .event("push")
                        .json_data(&message)
                        .unwrap_or_else(|_| Event::default().event("push"));
                    return Some((Ok(event), receiver));
                }
                // A slow listener skips what it missed; the outbox still has it.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
