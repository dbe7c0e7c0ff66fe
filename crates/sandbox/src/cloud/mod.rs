//! The PowerAuth Cloud API, `/powerauth-cloud/*`, behind HTTP Basic authentication. The
//! admin user manages users and applications (`/admin/*`); integration users drive
//! registrations and operations (`/v2/*`). Bodies are plain JSON (no envelope); errors
//! use the common `{"status":"ERROR","responseObject":{code,message}}` shape. The OpenAPI
//! document is at `/powerauth-cloud/openapi.json`, Swagger UI at `/powerauth-cloud/swagger-ui/`.

mod admin;
pub mod auth;
mod docs;
mod inbox;
mod operations;
mod push;
mod registrations;

use crate::state::AppState;
use axum::Router;

/// Every Cloud API route, relative to `/powerauth-cloud`.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(admin::router())
        .merge(docs::router())
        .merge(registrations::router())
        .merge(operations::router())
        .merge(push::router())
        .merge(inbox::router())
}
