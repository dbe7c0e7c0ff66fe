//! `/powerauth-cloud/v2/registrations`: activations seen from a bank's back end. Create
//! one for a user (the QR code data to show), list a user's, read one (with the code while
//! `CREATED`, the fingerprint while `PENDING_COMMIT`), commit, remove, and change its state
//! (`PUT {"change": "BLOCK" | "UNBLOCK" | "REMOVE"}`, transitions as PowerAuth Server's).
//! A registration of an application the caller is not assigned is not found.

use super::access::Caller;
use super::{error, optional_body, status_ok, timestamp};
use crate::activations::{self, NewActivation};
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::state::AppState;
use crate::store::{Activation, CommitPhase};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/registrations", get(list).post(create))
        .route("/v2/registrations/", get(list).post(create))
        .route(
            "/v2/registrations/{registration_id}",
            get(detail).delete(remove).put(change),
        )
        .route("/v2/registrations/{registration_id}/commit", post(commit))
        .route("/v2/registrations/{registration_id}/qr.png", get(qr_png))
        .route("/v2/registrations/{registration_id}/qr.svg", get(qr_svg))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    user_id: String,
    app_id: String,
    otp: Option<String>,
    otp_validation: Option<String>,
    commit_phase: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
    timestamp_registration_expire: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CreateQuery {
    #[serde(default)]
    incomplete_status_check: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    /// What the QR code shows: `CODE#SIGNATURE`.
    activation_qr_code_data: String,
    activation_code: String,
    activation_code_signature: String,
    registration_id: String,
}

fn commit_phase(request: &CreateRequest) -> Result<CommitPhase, Error> {
    let parse = |field: &str, value: &str| match value {
        "ON_COMMIT" => Ok(Some(CommitPhase::OnCommit)),
        "ON_KEY_EXCHANGE" => Ok(Some(CommitPhase::OnKeyExchange)),
        "NONE" if field == "otpValidation" => Ok(None),
        other => Err(Error::InvalidRequest(format!("unknown {field} {other:?}"))),
    };
    let phase = match &request.commit_phase {
        Some(value) => parse("commitPhase", value)?,
        None => None,
    };
    let legacy = match &request.otp_validation {
        Some(value) => parse("otpValidation", value)?,
        None => None,
    };
    Ok(phase.or(legacy).unwrap_or(CommitPhase::OnCommit))
}

async fn create(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<CreateQuery>, axum::extract::rejection::QueryRejection>,
    body: RawBody,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let request: CreateRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    if request.user_id.trim().is_empty() || request.user_id.len() > 255 {
        return Err(Error::InvalidRequest(
            "userId must be 1 to 255 characters".to_owned(),
        ));
    }
    if !caller.may_use(&request.app_id) {
        return Err(Error::InvalidRequest(format!(
            "the user {:?} may not use the application {:?}",
            caller.user.username, request.app_id
        )));
    }
    let commit_phase = commit_phase(&request)?;
    let timestamp_expires = timestamp(
        "timestampRegistrationExpire",
        request.timestamp_registration_expire.as_ref(),
    )?;
    if query.incomplete_status_check {
        for existing in registrations_of(&state, &request.user_id).await? {
            if existing.application_id == request.app_id
                && matches!(
                    existing.state,
                    ActivationState::Created | ActivationState::PendingCommit
                )
            {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    "ERROR_REGISTRATION_NOT_ALLOWED",
                    format!(
                        "the user already has the registration {} in progress",
                        existing.activation_id
                    ),
                ));
            }
        }
    }
    let activation = activations::create(
        &state,
        NewActivation {
            user_id: request.user_id,
            application_id: request.app_id,
            timestamp_expires,
            max_failed_attempts: None,
            activation_otp: request.otp,
            commit_phase,
            flags: request.flags,
        },
    )
    .await?;
    Ok(json_response(&Created {
        activation_qr_code_data: format!(
            "{}#{}",
            activation.activation_code, activation.activation_signature
        ),
        activation_code: activation.activation_code,
        activation_code_signature: activation.activation_signature,
        registration_id: activation.activation_id,
    }))
}

/// A registration as the Cloud shows it; fields absent when they do not apply.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    registration_id: String,
    registration_status: ActivationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked_reason: Option<String>,
    application_id: String,
    user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_info: Option<String>,
    flags: Vec<String>,
    timestamp_created: i64,
    timestamp_last_used: i64,
    /// While `CREATED` or `PENDING_COMMIT`: when it lapses (epoch ms; the name of the
    /// create request's field, a sandbox addition to the detail).
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp_registration_expire: Option<i64>,
    /// While `CREATED`: the code may be read again.
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_qr_code_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_code_signature: Option<String>,
    /// While `PENDING_COMMIT`: what the user compares with the phone before the commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_fingerprint: Option<String>,
}

impl From<Activation> for Registration {
    fn from(a: Activation) -> Self {
        let created = a.state == ActivationState::Created;
        let fingerprint = match (&a.state, &a.device_public_key, &a.server_key_pair) {
            (ActivationState::PendingCommit, Some(device), Some(server)) => Some(
                powerauth::keys::fingerprint(device, &a.activation_id, &server.public),
            ),
            _ => None,
        };
        let unfinished = matches!(
            a.state,
            ActivationState::Created | ActivationState::PendingCommit
        );
        Self {
            timestamp_registration_expire: unfinished.then_some(a.timestamp_expires),
            activation_qr_code_data: created
                .then(|| format!("{}#{}", a.activation_code, a.activation_signature)),
            activation_code: created.then(|| a.activation_code.clone()),
            activation_code_signature: created.then(|| a.activation_signature.clone()),
            activation_fingerprint: fingerprint,
            registration_id: a.activation_id,
            registration_status: a.state,
            blocked_reason: a.blocked_reason,
            application_id: a.application_id,
            user_id: a.user_id,
            name: a.activation_name,
            platform: a.platform,
            device_info: a.device_info,
            flags: a.flags,
            timestamp_created: a.timestamp_created,
            timestamp_last_used: a.timestamp_last_used,
        }
    }
}

/// Every registration of `user_id`, stale ones expired, oldest first.
async fn registrations_of(state: &AppState, user_id: &str) -> Result<Vec<Activation>, Error> {
    let mut out = Vec::new();
    for activation in state.store.activations_of_user(user_id).await? {
        if let Some(activation) = activations::load(state, &activation.activation_id).await? {
            out.push(activation);
        }
    }
    out.sort_by(|a, b| {
        (a.timestamp_created, &a.activation_id).cmp(&(b.timestamp_created, &b.activation_id))
    });
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    user_id: String,
    #[serde(default)]
    removed: bool,
}

/// `GET /v2/registrations?userId=` (also with the tutorial's trailing slash): the user's
/// registrations in the caller's applications, `REMOVED` ones only with `removed=true`.
async fn list(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let registrations: Vec<Registration> = registrations_of(&state, &query.user_id)
        .await?
        .into_iter()
        .filter(|a| caller.may_use(&a.application_id))
        .filter(|a| query.removed || a.state != ActivationState::Removed)
        .map(Registration::from)
        .collect();
    Ok(json_response(
        &serde_json::json!({ "registrations": registrations }),
    ))
}

/// The registration `id` if the caller may see it; otherwise not found.
async fn visible(state: &AppState, caller: &Caller, id: &str) -> Result<Activation, Error> {
    activations::load(state, id)
        .await?
        .filter(|a| caller.may_use(&a.application_id))
        .ok_or(Error::UnknownActivation)
}

async fn detail(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
) -> Result<Response, Error> {
    let activation = visible(&state, &caller, &registration_id).await?;
    Ok(json_response(&Registration::from(activation)))
}

/// The optional body of commit and DELETE (the tutorial's; `registrationId` in it is
/// ignored, the path wins).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ActorBody {
    external_user_id: Option<String>,
    otp: Option<String>,
}

/// PENDING_COMMIT → ACTIVE; any other state is `ERROR_REGISTRATION_CHANGE` and changes
/// nothing. A wrong OTP (`otpValidation=ON_COMMIT`) costs an attempt, as in PowerAuth Server.
async fn commit(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: ActorBody = optional_body(&body.0)?;
    let current = visible(&state, &caller, &registration_id).await?;
    let (activation, otp_failed) = activations::update_from(&state, current, |a, now| {
        activations::commit(
            a,
            now,
            "registration",
            request.otp.as_deref(),
            &request.external_user_id,
        )
    })
    .await?;
    if otp_failed {
        return Err(Error::ActivationState(format!(
            "wrong activation OTP; the registration is {}",
            activation.state
        )));
    }
    Ok(status_ok())
}

/// DELETE: any state → REMOVED (ambiguity A1: Wultra's harnesses remove ACTIVE ones);
/// removing a REMOVED registration again answers OK.
async fn remove(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: ActorBody = optional_body(&body.0)?;
    let current = visible(&state, &caller, &registration_id).await?;
    activations::update_from(&state, current, |a, now| {
        if a.state != ActivationState::Removed {
            a.state = ActivationState::Removed;
            a.timestamp_last_change = now;
            if request.external_user_id.is_some() {
                a.external_id.clone_from(&request.external_user_id);
            }
        }
        Ok(())
    })
    .await?;
    Ok(status_ok())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeRequest {
    change: Option<String>,
    block_reason: Option<String>,
    external_user_id: Option<String>,
}

#[derive(Clone, Copy)]
enum Change {
    Block,
    Unblock,
    Remove,
}

/// `PUT {"change": …}`, PowerAuth Server's transitions: BLOCK from ACTIVE (BLOCKED stays),
/// UNBLOCK from BLOCKED (ACTIVE stays), REMOVE from anywhere.
async fn change(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: ChangeRequest =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let change = match request.change.as_deref() {
        Some("BLOCK") => Change::Block,
        Some("UNBLOCK") => Change::Unblock,
        Some("REMOVE") => Change::Remove,
        Some(other) => {
            return Err(Error::InvalidRequest(format!(
                "change must be BLOCK, UNBLOCK or REMOVE, not {other:?}"
            )));
        }
        None => {
            return Err(Error::InvalidRequest(
                "change is required: BLOCK, UNBLOCK or REMOVE".to_owned(),
            ));
        }
    };
    let reason = request
        .block_reason
        .clone()
        .unwrap_or_else(|| "NOT_SPECIFIED".to_owned());
    let current = visible(&state, &caller, &registration_id).await?;
    activations::update_from(&state, current, |a, now| {
        match (change, a.state) {
            (Change::Block, ActivationState::Active) => {
                a.state = ActivationState::Blocked;
                a.blocked_reason = Some(reason.clone());
                a.timestamp_last_change = now;
            }
            (Change::Block, ActivationState::Blocked) => return Ok(()),
            (Change::Block, other) => {
                return Err(Error::ActivationState(format!(
                    "only an ACTIVE registration can be blocked, this one is {other}"
                )));
            }
            (Change::Unblock, _) => activations::unblock(a, now, "registration")?,
            (Change::Remove, ActivationState::Removed) => return Ok(()),
            (Change::Remove, _) => {
                a.state = ActivationState::Removed;
                a.timestamp_last_change = now;
            }
        }
        if request.external_user_id.is_some() {
            a.external_id.clone_from(&request.external_user_id);
        }
        Ok(())
    })
    .await?;
    Ok(status_ok())
}

/// The `CODE#SIGNATURE` payload of a registration that can still be activated.
async fn qr_payload(state: &AppState, caller: &Caller, id: &str) -> Result<String, Error> {
    let activation = visible(state, caller, id).await?;
    if activation.state != ActivationState::Created {
        return Err(Error::ActivationState(format!(
            "only a CREATED registration has a QR code to scan, this one is {}",
            activation.state
        )));
    }
    Ok(format!(
        "{}#{}",
        activation.activation_code, activation.activation_signature
    ))
}

/// The activation QR code as a PNG image (sandbox extension); `Cache-Control: no-store`
/// as it expires.
async fn qr_png(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
) -> Result<Response, Error> {
    let payload = qr_payload(&state, &caller, &registration_id).await?;
    let png = tokio::task::spawn_blocking(move || crate::qr::png(&payload))
        .await
        .map_err(|e| Error::Internal(format!("QR rendering task: {e}")))??;
    Ok(image_response("image/png", png))
}

/// The activation QR code as an SVG document (sandbox extension).
async fn qr_svg(
    caller: Caller,
    State(state): State<AppState>,
    Path(registration_id): Path<String>,
) -> Result<Response, Error> {
    let payload = qr_payload(&state, &caller, &registration_id).await?;
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
