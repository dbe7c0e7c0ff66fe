//! `/pa/v3/user/info`: OIDC-like claims about the activation's user, over
//! activation-scope ECIES named by `X-PowerAuth-Encryption` (digest §10).

use super::encryption::{HeaderRefusal, open_with_header, seal};
use crate::error::Error;
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/pa/v3/user/info", post(user_info))
}

/// 400 `ERR_USER_INFO`.
fn user_info_error(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "user info refused");
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_USER_INFO",
        "POWER_AUTH_USER_INFO_ERROR",
    )
}

async fn user_info(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (activation, _, responder) =
        open_with_header(&state, &headers, &body.0)
            .await
            .map_err(|e| match e {
                HeaderRefusal::Request => super::request_invalid(),
                HeaderRefusal::Refused(why) => user_info_error(why),
                HeaderRefusal::Fault(e) => e,
            })?;
    let claims = json!({
        "sub": activation.user_id,
        "iat": state.now_ms() / 1000,
        "jti": state.make_uuid(),
    });
    seal(&state, responder, claims.to_string().as_bytes())
}
