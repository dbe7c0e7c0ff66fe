#![doc = include_str!("../README.md")]
#![warn(unreachable_pub)]

mod activations;
pub mod apps;
pub mod bootstrap;
mod callbacks;
pub mod clock;
pub mod cloud;
mod config;
mod console;
mod date;
mod embedded;
mod error;
mod expiry;
mod extract;
mod fanout;
pub mod flags;
mod guard;
mod key_cache;
mod mobile;
mod operations;
mod powerauth_server;
pub mod profiles;
mod push;
mod qr;
mod recovery;
mod restful_integration;
mod signatures;
mod state;
pub mod store;
mod tokens;

pub use bootstrap::{BuiltInUsers, Credentials};
pub use clock::{Clock, SystemClock, TestClock};
pub use config::{Config, ServerVersion, ServerVersionError};
pub use embedded::{Sandbox, StartError};
pub use error::Error;
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

/// The whole sandbox as one router: `/pa/v3`, `/rest/v3`, `/powerauth-cloud` and the device
/// profiles under `/profiles`.
pub fn app(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    let restful = restful_integration::router().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        restful_integration::version_gate,
    ));
    let mobile = if state.config.mobile_token_api {
        mobile::router()
    } else {
        Router::new()
    };
    Router::new()
        .merge(restful)
        .merge(powerauth_server::router())
        .merge(mobile)
        .merge(console::router())
        .merge(profiles::router())
        .nest("/powerauth-cloud", cloud::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(run_to_completion))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn(error::api_errors))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            date::date_header,
        ))
        .with_state(state)
}

/// A client that hangs up must not cancel its request halfway: the handler's database work
/// would be dropped mid-statement, and an in-memory database lives and dies with its one
/// connection (seen as "no such table" after a killed client). The handler runs in its own
/// task to the end; the answer is discarded if nobody waits for it.
async fn run_to_completion(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        Err(error) => Error::Internal(format!("request task failed: {error}")).into_response(),
    }
}

/// A panic is a bug: answer like any internal fault, and log it.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    Error::Internal(format!("handler panicked: {cause}")).into_response()
}
