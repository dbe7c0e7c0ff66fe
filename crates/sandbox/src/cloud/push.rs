//! `/powerauth-cloud/v2/push/*`: send a push message to a user's devices (it lands in
//! the outbox), read the outbox, and follow it live as Server-Sent Events or over a
//! WebSocket (`/v2/push/ws`, one text frame per message). Both streams carry the same
//! messages from the same outbox.

use super::auth::Authenticated;
use crate::error::Error;
use crate::extract::{Json, json_response};
use crate::state::AppState;
use crate::store::PushMessage;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
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
        .route("/v2/push/ws", get(websocket))
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

/// New outbox messages over a WebSocket: each a text frame with the message's JSON (the
/// SSE event's data). The client sends nothing but pings and a close.
async fn websocket(
    _: Authenticated,
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Subscribed before the handshake answers, so nothing queued after it is missed.
    let receiver = state.push_events.subscribe();
    upgrade.on_upgrade(move |socket| forward(socket, receiver))
}

async fn forward(
    mut socket: WebSocket,
    mut receiver: tokio::sync::broadcast::Receiver<PushMessage>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        tokio::select! {
            queued = receiver.recv() => match queued {
                Ok(message) => {
                    let Ok(text) = serde_json::to_string(&message) else { continue };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                // A slow listener skips what it missed; the outbox still has it.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by the WebSocket layer; anything else is ignored.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
