//! The web console at `/`: one self-contained page that drives the Cloud API from a
//! browser (registrations, operations, push outbox) and shows the callback delivery log.
//! No assets from the network.

use crate::error::Error;
use crate::extract::json_response;
use crate::state::AppState;
use crate::store::{CallbackAttempt, CallbackEvent};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

const PAGE: &str = include_str!("../assets/console.html");

/// `GET /` and the console's own data (`/console/*`).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route("/console/callbacks", get(callback_log))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogQuery {
    application_id: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackLog {
    /// State changes not reported because the queue was full, since start.
    dropped: u64,
    /// Deliveries in progress.
    in_flight: usize,
    events: Vec<LoggedEvent>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedEvent {
    #[serde(flatten)]
    event: CallbackEvent,
    callback_name: String,
    attempt_log: Vec<CallbackAttempt>,
}

/// `GET /console/callbacks?applicationId=…&limit=…`: the delivery log, newest event
/// first, each with every attempt (time, masked URL, HTTP status or error, number).
async fn callback_log(
    State(state): State<AppState>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let events = state
        .store
        .callback_log(query.application_id.as_deref(), limit)
        .await?
        .into_iter()
        .map(|(event, callback_name, attempt_log)| LoggedEvent {
            event,
            callback_name,
            attempt_log,
        })
        .collect();
    Ok(json_response(&CallbackLog {
        dropped: state.callbacks.dropped(),
        in_flight: state.callbacks.in_flight(),
        events,
    }))
}
