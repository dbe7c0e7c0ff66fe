//! `/pa/v3/signature/validate`: checks a signature and nothing else. The SDK calls it to
//! resynchronise its counter and to prove a PIN before changing it (digest §16.10, §16.15).

use super::auth::authenticate;
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::state::AppState;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::any;
use powerauth::signature::{SignatureType, canonicalize_query};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/signature/validate", any(validate))
}

async fn validate(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: RawBody,
) -> Result<Response, Error> {
    // Only GET signs the query string; DELETE and PUT sign the raw body (digest §16.14).
    let signed = if method == Method::GET {
        canonicalize_query(query.as_deref().unwrap_or_default())
            .map_err(|_| super::auth::signature_invalid())?
            .into_bytes()
    } else {
        body.0.to_vec()
    };
    authenticate(
        &state,
        &headers,
        method.as_str(),
        "/pa/signature/validate",
        &signed,
        &SignatureType::ALL,
    )
    .await?;
    Ok(json_response(&serde_json::json!({"status": "OK"})))
}
