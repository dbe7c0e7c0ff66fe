//! The Cloud API's OpenAPI document and Swagger UI, served from the binary: the docs
//! work with no network at all. Tags and operation ids are the ones the onboarding
//! tutorial's "Console URL" links name (`swagger-ui/index.html#/Registrations/createRegistration`),
//! and deep linking is on, so each link opens its operation.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::state::AppState;

const OPENAPI: &str = include_str!("../../assets/openapi.json");
const INDEX: &str = include_str!("../../assets/swagger-ui/index.html");
const BUNDLE: &str = include_str!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &str = include_str!("../../assets/swagger-ui/swagger-ui.css");

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/openapi.json",
            get(|| async { asset("application/json", OPENAPI) }),
        )
        .route(
            "/swagger-ui",
            get(|| async { Redirect::permanent("swagger-ui/") }),
        )
        .route(
            "/swagger-ui/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/swagger-ui/index.html",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/swagger-ui/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", BUNDLE) }),
        )
        .route(
            "/swagger-ui/swagger-ui.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
