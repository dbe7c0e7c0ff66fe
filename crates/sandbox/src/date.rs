//! The `Date` header of every answer, read from the sandbox's [`Clock`](crate::Clock)
//! rather than the operating system's, so a sandbox started with a shifted clock shows the
//! same time in its headers as in its protocol timestamps (what `tokensim doctor` reads
//! from a server that issues no temporary keys).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::time::{Duration, UNIX_EPOCH};

use crate::AppState;

/// The middleware (`axum::middleware::from_fn_with_state`): sets `Date` on every answer.
/// hyper adds its own only when none is set.
pub(crate) async fn date_header(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Ok(ms) = u64::try_from(state.clock.now_ms())
        && let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(
            UNIX_EPOCH + Duration::from_millis(ms),
        ))
    {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}
