//! The mobile-token API of the enrollment server (digest §11, §16.4, §16.6): operations
//! under `/api/auth/token/app/operation/*`, push registration under `/api/push/*`, the
//! inbox under `/api/inbox/*`.
//! Reads use `X-PowerAuth-Token`; approving, rejecting and the history need a signature.
//! Errors as the enrollment server answers them: on operations 400 `INVALID_REQUEST`,
//! `INVALID_OPERATION`, `OPERATION_*`, 401 `POWERAUTH_AUTH_FAIL` and `OPERATION_FAILED`;
//! on push and inbox 401 `ERR_AUTHENTICATION` (their controllers throw the RESTful
//! layer's own exception).

mod auth;
mod inbox;
mod money;
mod operation;
mod push;
mod view;

pub(crate) use auth::token_activation;

use crate::state::AppState;
use axum::Router;

/// Every mobile API route.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(operation::router())
        .merge(push::router())
        .merge(inbox::router())
}
