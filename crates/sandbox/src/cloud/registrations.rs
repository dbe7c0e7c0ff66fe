//! `/powerauth-cloud/v2/registrations`: activations seen from a bank's integration —
//! create one for a user (with the QR payload to show), list, detail, commit, block,
//! unblock, delete.

use super::auth::Authenticated;
use crate::activations::{self, NewActivation};
use crate::clock::iso8601;
use crate::error::Error;
use crate::extract::{Json, RawBody, json_response};
use crate::state::AppState;
use crate::store::{Activation, CommitPhase};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/registrations", get(list).post(create))
        .route(
            "/v2/registrations/{activation_id}",
            get(detail).delete(remove),
        )
        .route("/v2/registrations/{activation_id}/commit", post(commit))
        .route("/v2/registrations/{activation_id}/block", post(block))
        .route("/v2/registrations/{activation_id}/unblock", post(unblock))
        .route("/v2/registrations/{activation_id}/qr.png", get(qr_png))
        .route("/v2/registrations/{activation_id}/qr.svg", get(qr_svg))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateRequest {
    user_id: String,
    #[serde(default = "default_app")]
    app_id: String,
    activation_otp: Option<String>,
    #[serde(default)]
    commit_on_key_exchange: bool,
}

fn default_app() -> String {
    crate::apps::DEFAULT_APPLICATION.to_owned()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    activation_id: String,
    activation_code: String,
    activation_signature: String,
    /// What the QR code shows: `CODE#SIGNATURE`.
    activation_qr_code_data: String,
    expiration: String,
}

async fn create(
    _: Authenticated,
    State(state): State<AppState>,
    Json(request): Json<CreateRequest>,
) -> Result<Response, Error> {
    if request.user_id.trim().is_empty() || request.user_id.len() > 255 {
        return Err(Error::InvalidRequest(
            "userId must be 1 to 255 characters".to_owned(),
        ));
    }
    let activation = activations::create(
        &state,
        NewActivation {
            user_id: request.user_id,
            application_id: request.app_id,
            timestamp_expires: None,
            max_failed_attempts: None,
            activation_otp: request.activation_otp,
            commit_phase: if request.commit_on_key_exchange {
                CommitPhase::OnKeyExchange
            } else {
                CommitPhase::OnCommit
            },
            flags: Vec::new(),
        },
    )
    .await
    .map_err(cloud_error)?;
    Ok(json_response(&Created {
        activation_qr_code_data: format!(
            "{}#{}",
            activation.activation_code, activation.activation_signature
        ),
        activation_id: activation.activation_id,
        activation_code: activation.activation_code,
        activation_signature: activation.activation_signature,
        expiration: iso8601(activation.timestamp_expires),
    }))
}

/// A registration as the Cloud API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    activation_id: String,
    user_id: String,
    app_id: String,
    activation_name: Option<String>,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
    platform: Option<String>,
    device_info: Option<String>,
    failed_attempts: i64,
    max_failed_attempts: i64,
    timestamp_created: String,
    timestamp_last_used: String,
    /// When a CREATED or PENDING_COMMIT registration lapses; absent once it is ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration: Option<String>,
}

impl From<Activation> for Registration {
    fn from(a: Activation) -> Self {
        Self {
            activation_id: a.activation_id,
            user_id: a.user_id,
            app_id: a.application_id,
            activation_name: a.activation_name,
            activation_status: a.state,
            blocked_reason: a.blocked_reason,
            platform: a.platform,
            device_info: a.device_info,
            failed_attempts: a.failed_attempts,
            max_failed_attempts: a.max_failed_attempts,
            timestamp_created: iso8601(a.timestamp_created),
            timestamp_last_used: iso8601(a.timestamp_last_used),
            expiration: matches!(
                a.state,
                ActivationState::Created | ActivationState::PendingCommit
            )
            .then(|| iso8601(a.timestamp_expires)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: String,
}

async fn list(
    _: Authenticated,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let mut out = Vec::new();
    for activation in state.store.activations_of_user(&query.user_id).await? {
        if let Some(activation) = activations::load(&state, &activation.activation_id).await? {
            out.push(Registration::from(activation));
        }
    }
    Ok(json_response(&serde_json::json!({ "registrations": out })))
}

/// Restates shared activation errors for this API: 404 for an unknown one.
fn cloud_error(error: Error) -> Error {
    match error {
        Error::UnknownActivation => Error::api(
            StatusCode::NOT_FOUND,
            "REGISTRATION_NOT_FOUND",
            "no registration with this activation id",
        ),
        Error::UnknownApplication => Error::api(
            StatusCode::BAD_REQUEST,
            "INVALID_APPLICATION",
            "no application with this appId",
        ),
        Error::ActivationState(text) => {
            Error::api(StatusCode::CONFLICT, "INVALID_REGISTRATION_STATE", text)
        }
        other => other,
    }
}

async fn detail(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    let activation = activations::load(&state, &activation_id)
        .await?
        .ok_or_else(|| cloud_error(Error::UnknownActivation))?;
    Ok(json_response(&Registration::from(activation)))
}

/// The `CODE#SIGNATURE` payload of a registration that can still be activated.
async fn qr_payload(state: &AppState, activation_id: &str) -> Result<String, Error> {
    let activation = activations::load(state, activation_id)
        .await?
        .ok_or_else(|| cloud_error(Error::UnknownActivation))?;
    if activation.state != ActivationState::Created {
        return Err(cloud_error(Error::ActivationState(format!(
            "only a CREATED registration has a QR code to scan, this one is {}",
            activation.state
        ))));
    }
    Ok(format!(
        "{}#{}",
        activation.activation_code, activation.activation_signature
    ))
}

/// The activation QR code as a PNG image; `Cache-Control: no-store` as it expires.
async fn qr_png(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    let payload = qr_payload(&state, &activation_id).await?;
    let png = tokio::task::spawn_blocking(move || crate::qr::png(&payload))
        .await
        .map_err(|e| Error::Internal(format!("QR rendering task: {e}")))??;
    Ok(image_response("image/png", png))
}

/// The activation QR code as an SVG document.
async fn qr_svg(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    let payload = qr_payload(&state, &activation_id).await?;
    Ok(image_response(
        "image/svg+xml",
        crate::qr::svg(&payload)?.into_bytes(),
    ))
}

fn image_response(content_type: &'static str, body: Vec<u8>) -> Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

async fn change(
    state: &AppState,
    activation_id: &str,
    change: impl FnMut(&mut Activation, i64) -> Result<(), Error>,
) -> Result<Response, Error> {
    let (activation, ()) = activations::update(state, activation_id, change)
        .await
        .map_err(cloud_error)?;
    Ok(json_response(&Registration::from(activation)))
}

async fn remove(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    change(&state, &activation_id, |a, now| {
        a.state = ActivationState::Removed;
        a.timestamp_last_change = now;
        Ok(())
    })
    .await
}

async fn commit(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    change(&state, &activation_id, |a, now| {
        if a.state != ActivationState::PendingCommit {
            return Err(Error::ActivationState(format!(
                "commit needs PENDING_COMMIT, the registration is {}",
                a.state
            )));
        }
        a.state = ActivationState::Active;
        a.timestamp_last_change = now;
        Ok(())
    })
    .await
}

#[derive(Deserialize, Default)]
struct BlockRequest {
    reason: Option<String>,
}

async fn block(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
    body: RawBody,
) -> Result<Response, Error> {
    // The body is optional: none, or `{"reason": …}`.
    let request: BlockRequest = if body.0.iter().all(u8::is_ascii_whitespace) {
        BlockRequest::default()
    } else {
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?
    };
    let reason = request.reason.unwrap_or_else(|| "NOT_SPECIFIED".to_owned());
    change(&state, &activation_id, |a, now| match a.state {
        ActivationState::Active => {
            a.state = ActivationState::Blocked;
            a.blocked_reason = Some(reason.clone());
            a.timestamp_last_change = now;
            Ok(())
        }
        ActivationState::Blocked => Ok(()),
        other => Err(Error::ActivationState(format!(
            "only an ACTIVE registration can be blocked, this one is {other}"
        ))),
    })
    .await
}

async fn unblock(
    _: Authenticated,
    State(state): State<AppState>,
    Path(activation_id): Path<String>,
) -> Result<Response, Error> {
    change(&state, &activation_id, |a, now| {
        crate::activations::unblock(a, now, "registration")
    })
    .await
}
