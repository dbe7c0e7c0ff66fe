//! PowerAuth Server's backend API, `/rest/v3/*` (digest §12): `{"requestObject": …}` in,
//! `{"status":"OK","responseObject": …}` out, errors as HTTP 400 with `ERR00xx` codes.

mod activation;
mod application;
mod offline;
mod operation;
mod signature;
mod status;
mod token;

use crate::error::rest_error_codes;
use crate::state::AppState;
use axum::Router;
use axum::middleware::map_response;

/// Every `/rest/v3` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(status::router())
        .merge(application::router())
        .merge(activation::router())
        .merge(signature::router())
        .merge(token::router())
        .merge(operation::router())
        .merge(offline::router())
        .layer(map_response(rest_error_codes))
}
