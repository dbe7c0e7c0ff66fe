//! The Standard RESTful API a mobile SDK talks to, `/pa/v3/*` (digest §10). Every 3.x
//! version shares the prefix; each request is answered in the version it declares.

mod status;

use crate::state::AppState;
use axum::Router;

/// Every `/pa/v3` route.
pub fn router() -> Router<AppState> {
    Router::new().merge(status::router())
}
