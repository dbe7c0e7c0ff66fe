//! PowerAuth Server's REST API, `/rest/v3/*` (digest §12), the backend API an intermediate
//! server (enrollment-server, a bank's app server) calls: `{"requestObject": …}` in,
//! `{"status":"OK","responseObject": …}` out, errors as HTTP 400 with `ERR00xx` codes.

mod activation;
mod activation_flags;
mod activation_prepare;
mod application;
mod application_settings;
mod callback;
mod ecies;
mod keystore;
mod offline;
mod operation;
mod operation_template;
mod recovery;
mod signature;
mod status;
mod token;
mod vault;

use crate::error::rest_error_codes;
use crate::state::AppState;
use axum::Router;
use axum::middleware::map_response;

/// Every `/rest/v3` route.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(status::router())
        .merge(application::router())
        .merge(callback::router())
        .merge(application_settings::router())
        .merge(activation::router())
        .merge(activation_flags::router())
        .merge(activation_prepare::router())
        .merge(signature::router())
        .merge(token::router())
        .merge(keystore::router())
        .merge(vault::router())
        .merge(ecies::router())
        .merge(operation::router())
        .merge(operation_template::router())
        .merge(offline::router())
        .merge(recovery::router())
        .layer(map_response(rest_error_codes))
}
