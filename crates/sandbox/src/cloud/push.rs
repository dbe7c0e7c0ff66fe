//! `/powerauth-cloud/v2/messages/send`: a push message to a user's devices (Wultra's
//! API). A sandbox has no APNs or FCM: each message lands in the outbox, one per device
//! registered for push. Sandbox extensions read the outbox (`GET /v2/push/messages`) and
//! follow it live as Server-Sent Events (`/v2/push/stream`) or over a WebSocket
//! (`/v2/push/ws`, one text frame per message); both streams carry the same messages.

use super::access::Caller;
use super::{error, status_ok};
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::state::AppState;
use crate::store::PushMessage;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::convert::Infallible;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/messages/send", post(send))
        .route("/v2/push/messages", get(outbox))
        .route("/v2/push/stream", get(stream))
        .route("/v2/push/ws", get(websocket))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendRequest {
    user_id: String,
    registration_id: Option<String>,
    #[serde(default)]
    silent: bool,
    title: Option<String>,
    message: Option<String>,
    sound: Option<String>,
    #[serde(default)]
    extras: Map<String, Value>,
}

/// Queues the message for the user's devices (only `registrationId`'s when given) and
/// answers `{"status":"OK"}`, as sending is asynchronous.
async fn send(
    caller: Caller,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: SendRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let title = request.title.unwrap_or_default();
    if title.trim().is_empty() && !request.silent {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "ERROR_PUSH_MESSAGE",
            "Title must not be blank.",
        ));
    }
    if let Some(id) = &request.registration_id {
        let known = crate::activations::load(&state, id)
            .await?
            .is_some_and(|a| caller.may_use(&a.application_id) && a.user_id == request.user_id);
        if !known {
            return Err(Error::UnknownActivation);
        }
    }
    let body = json!({
        "title": title,
        "message": request.message,
        "sound": request.sound,
        "silent": request.silent,
        "extras": request.extras,
    });
    queue(
        &state,
        &request.user_id,
        request.registration_id.as_deref(),
        &body,
    )
    .await?;
    Ok(status_ok())
}

/// Puts `body` in the outbox for each of `user_id`'s devices registered for push (only
/// `only`, when given) and tells the live listeners.
pub(super) async fn queue(
    state: &AppState,
    user_id: &str,
    only: Option<&str>,
    body: &Value,
) -> Result<(), Error> {
    for activation_id in state.store.push_targets(user_id).await? {
        if only.is_some_and(|only| only != activation_id) {
            continue;
        }
        let message = PushMessage {
            message_id: state.make_uuid(),
            user_id: user_id.to_owned(),
            activation_id: Some(activation_id),
            body: body.clone(),
            timestamp_created: state.now_ms(),
        };
        state.push.queue(&state.store, message).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutboxQuery {
    user_id: Option<String>,
}

async fn outbox(
    _: Caller,
    State(state): State<AppState>,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let messages = state.store.push_messages(query.user_id.as_deref()).await?;
    Ok(json_response(&json!({ "messages": messages })))
}

/// New outbox messages as they are queued, one SSE `push` event each.
async fn stream(
    _: Caller,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.push.subscribe();
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
    _: Caller,
    State(state): State<AppState>,
    upgrade: WebSocketUpgrade,
) -> Response {
    // Subscribed before the handshake answers, so nothing queued after it is missed.
    let receiver = state.push.subscribe();
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
