//! The web console at `/`: one self-contained page that drives the Cloud API from a
//! browser (registrations, operations, push outbox). No assets from the network.

use crate::state::AppState;
use axum::Router;
use axum::http::header;
use axum::routing::get;

const PAGE: &str = include_str!("../assets/console.html");

/// `GET /`.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/",
        get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
    )
}
