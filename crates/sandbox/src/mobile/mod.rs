//! The mobile-token API of the enrollment server (digest §11, §16.4, §16.6): operations
//! under `/api/auth/token/app/operation/*`, push registration under `/api/push/*`.
//! Reads use `X-PowerAuth-Token`; approving, rejecting and the history need a signature.
//! Errors: 400 `INVALID_REQUEST` / `OPERATION_*`, 401 `ERR_AUTHENTICATION`.

mod auth;
mod operation;
mod push;

use crate::state::AppState;
use axum::Router;

/// Every mobile API route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(operation::router())
        .merge(push::router())
}
