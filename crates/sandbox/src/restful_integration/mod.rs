//! The Standard RESTful API a mobile SDK talks to, `/pa/v3/*` (digest §10), as Wultra's
//! RESTful integration (`powerauth-restful-integration`) serves it, and the
//! generic ECIES test endpoints `/exchange/v3/*` ([`exchange`]). Every 3.x version shares
//! the prefix; each request is answered in the version it declares.
//!
//! Errors follow the RESTful integration (digest §10, §16.3): 401 `ERR_AUTHENTICATION` for
//! authentication and request-format failures, 400 `ERR_ACTIVATION`, `ERR_ENCRYPTION`,
//! `ERR_TEMPORARY_KEY`… for the rest.

pub(crate) mod activation;
mod activation_detail;
pub(crate) mod auth;
pub(crate) mod encryption;
pub(crate) mod exchange;
pub(crate) mod key_exchange;
pub(crate) mod keystore;
mod recovery;
mod signature;
mod status;
mod token;
mod user_info;
mod vault;

use crate::error::{Error, restful_error_codes};
use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::middleware::map_response;

/// Every `/pa/v3` route.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(status::router())
        .merge(keystore::router())
        .merge(activation::router())
        .merge(activation_detail::router())
        .merge(signature::router())
        .merge(token::router())
        .merge(vault::router())
        .merge(user_info::router())
        .merge(recovery::router())
        .merge(exchange::router())
        .layer(map_response(restful_error_codes))
}

/// Refuses a request declaring a protocol version outside `Config::protocol_versions` as
/// the RESTful integration refuses an unknown one (`PowerAuthVersionUtil`): 401
/// `POWER_AUTH_REQUEST_INVALID`; without 3.3 `/pa/v3/keystore/create` does not exist (404).
pub(crate) async fn version_gate(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let accepted = &state.config.protocol_versions;
    if request.uri().path() == "/pa/v3/keystore/create"
        && !accepted.contains(&powerauth::ProtocolVersion::V3_3)
    {
        return crate::error::not_found().await.into_response();
    }
    let declared = [
        "X-PowerAuth-Authorization",
        "X-PowerAuth-Encryption",
        "X-PowerAuth-Token",
    ]
    .iter()
    .filter_map(|name| request.headers().get(*name)?.to_str().ok())
    .filter_map(declared_version)
    .next();
    match declared {
        Some(version) if !accepted.iter().any(|v| v.as_str() == version) => {
            tracing::debug!(%version, "protocol version not accepted by this sandbox");
            request_invalid().into_response()
        }
        _ => next.run(request).await,
    }
}

/// The `version` or `pa_version` a PowerAuth header declares.
fn declared_version(header: &str) -> Option<&str> {
    header
        .split(',')
        .map(|part| part.trim().trim_start_matches("PowerAuth").trim())
        .find_map(|part| {
            let (key, value) = part.split_once('=')?;
            matches!(key.trim(), "version" | "pa_version").then(|| value.trim().trim_matches('"'))
        })
}

/// 401 `POWER_AUTH_REQUEST_INVALID`: a header or envelope that does not fit the declared
/// version.
fn request_invalid() -> Error {
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_REQUEST_INVALID",
    )
}

/// 400 `ERR_ACTIVATION`: activation create, status or remove failed.
fn activation_invalid() -> Error {
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_ACTIVATION",
        "POWER_AUTH_ACTIVATION_INVALID",
    )
}
