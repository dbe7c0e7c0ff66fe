//! The mobile-token API of the enrollment server (digest §11, §16.4, §16.6): operations
//! under `/api/auth/token/app/operation/*`, push registration under `/api/push/*`, the
//! inbox under `/api/inbox/*`.
//! Reads use `X-PowerAuth-Token`; approving, rejecting and the history need a signature.
//! Errors: 400 `INVALID_REQUEST` / `OPERATION_*`, 401 `ERR_AUTHENTICATION`.

mod auth;
mod inbox;
mod operation;
mod push;

pub use inbox::inbox_view;

use crate::state::AppState;
use axum::Router;

/// Every mobile API route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(operation::router())
        .merge(push::router())
        .merge(inbox::router())
}
