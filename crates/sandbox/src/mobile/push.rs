//! `/api/push/device/register` and `/register/token`: a device's push token.

use super::auth::token_activation;
use crate::error::Error;
use crate::extract::{RawBody, json_response, request_object};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use powerauth::signature::SignatureType;
use serde::Deserialize;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/push/device/register", post(register))
        .route("/api/push/device/register/token", post(register))
}

/// Current names and the older ones the Android SDK still sends (digest §14 #13).
const PLATFORMS: [&str; 6] = ["apns", "fcm", "hms", "ios", "android", "huawei"];

#[derive(Deserialize)]
struct RegisterRequest {
    platform: String,
    token: String,
    environment: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let activation = token_activation(
        &state,
        &headers,
        &[
            SignatureType::Possession,
            SignatureType::PossessionBiometry,
            SignatureType::PossessionKnowledge,
        ],
    )
    .await?;
    let request: RegisterRequest = request_object(&body.0)?;
    if !PLATFORMS.contains(&request.platform.as_str()) {
        return Err(Error::InvalidRequest(format!(
            "platform must be one of {PLATFORMS:?}"
        )));
    }
    if request.token.is_empty() || request.token.len() > 4096 {
        return Err(Error::InvalidRequest(
            "token must be 1 to 4096 characters".to_owned(),
        ));
    }
    if request
        .environment
        .as_deref()
        .is_some_and(|e| e != "development" && e != "production")
    {
        return Err(Error::InvalidRequest(
            "environment must be development or production".to_owned(),
        ));
    }
    state
        .store
        .put_push_device(
            &activation.activation_id,
            &request.platform,
            &request.token,
            request.environment.as_deref(),
            state.now_ms(),
        )
        .await?;
    Ok(json_response(&serde_json::json!({"status": "OK"})))
}
