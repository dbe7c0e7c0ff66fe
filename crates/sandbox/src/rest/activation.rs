//! `/rest/v3/activation/*`: what a bank backend does with activations — create one for a
//! user, watch it, commit, block, unblock and remove it.

use crate::activations::{self, NewActivation};
use crate::clock::iso8601;
use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use crate::store::{Activation, CommitPhase};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::keys::fingerprint;
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/activation/init", post(init))
        .route("/rest/v3/activation/status", post(status))
        .route("/rest/v3/activation/commit", post(commit))
        .route("/rest/v3/activation/remove", post(remove))
        .route("/rest/v3/activation/block", post(block))
        .route("/rest/v3/activation/unblock", post(unblock))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitRequest {
    user_id: String,
    application_id: String,
    timestamp_activation_expire: Option<i64>,
    max_failure_count: Option<i64>,
    activation_otp: Option<String>,
    commit_phase: Option<CommitPhase>,
    activation_otp_validation: Option<String>,
    #[serde(default)]
    flags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitResponse {
    activation_id: String,
    activation_code: String,
    activation_signature: String,
    user_id: String,
    application_id: String,
}

async fn init(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<InitRequest>,
) -> Result<ResponseObject<InitResponse>, Error> {
    if request.user_id.trim().is_empty() || request.user_id.len() > 255 {
        return Err(Error::InvalidRequest(
            "userId must be 1 to 255 characters".to_owned(),
        ));
    }
    // The deprecated `activationOtpValidation` maps onto the commit phase (digest §16.1).
    let legacy_phase = match request.activation_otp_validation.as_deref() {
        None | Some("NONE") => None,
        Some("ON_KEY_EXCHANGE") => Some(CommitPhase::OnKeyExchange),
        Some("ON_COMMIT") => Some(CommitPhase::OnCommit),
        Some(other) => {
            return Err(Error::InvalidRequest(format!(
                "unknown activationOtpValidation {other:?}"
            )));
        }
    };
    let commit_phase = match (legacy_phase, request.commit_phase) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidRequest(
                "activationOtpValidation and commitPhase cannot be combined".to_owned(),
            ));
        }
        (Some(phase), None) | (None, Some(phase)) => phase,
        (None, None) => CommitPhase::OnCommit,
    };
    check_new_activation(request.activation_otp.as_deref(), request.max_failure_count)?;
    let activation = activations::create(
        &state,
        NewActivation {
            user_id: request.user_id,
            application_id: request.application_id,
            timestamp_expires: request.timestamp_activation_expire,
            max_failed_attempts: request.max_failure_count,
            activation_otp: request.activation_otp,
            commit_phase,
            flags: request.flags,
        },
    )
    .await?;
    Ok(ResponseObject(InitResponse {
        activation_id: activation.activation_id,
        activation_code: activation.activation_code,
        activation_signature: activation.activation_signature,
        user_id: activation.user_id,
        application_id: activation.application_id,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivationIdRequest {
    activation_id: String,
    external_user_id: Option<String>,
    activation_otp: Option<String>,
    reason: Option<String>,
    /// `activation/remove`: revoke the recovery codes issued with the activation too.
    #[serde(default)]
    revoke_recovery_codes: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StatusResponse {
    activation_id: String,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
    activation_name: Option<String>,
    user_id: String,
    external_id: Option<String>,
    application_id: String,
    extras: Option<String>,
    platform: Option<String>,
    device_info: Option<String>,
    activation_flags: Vec<String>,
    failed_attempts: i64,
    max_failed_attempts: i64,
    timestamp_created: String,
    timestamp_last_used: String,
    timestamp_last_change: String,
    activation_code: Option<String>,
    activation_signature: Option<String>,
    device_public_key_fingerprint: Option<String>,
    version: i64,
    commit_phase: CommitPhase,
    protocol: &'static str,
    application_roles: Vec<String>,
}

async fn status(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<StatusResponse>, Error> {
    let activation = activations::load(&state, &request.activation_id)
        .await?
        .ok_or(Error::UnknownActivation)?;
    Ok(ResponseObject(status_response(activation)))
}

pub(super) fn status_response(a: Activation) -> StatusResponse {
    // The code is shown only while it can still be used, as PowerAuth Server does.
    let code_visible = a.state == ActivationState::Created;
    let fingerprint = match (&a.device_public_key, &a.server_key_pair) {
        (Some(device), Some(server)) => Some(fingerprint(device, &a.activation_id, &server.public)),
        _ => None,
    };
    StatusResponse {
        activation_status: a.state,
        blocked_reason: a.blocked_reason,
        activation_name: a.activation_name,
        user_id: a.user_id,
        external_id: a.external_id,
        application_id: a.application_id,
        extras: a.extras,
        platform: a.platform,
        device_info: a.device_info,
        activation_flags: a.flags,
        failed_attempts: a.failed_attempts,
        max_failed_attempts: a.max_failed_attempts,
        timestamp_created: iso8601(a.timestamp_created),
        timestamp_last_used: iso8601(a.timestamp_last_used),
        timestamp_last_change: iso8601(a.timestamp_last_change),
        activation_code: code_visible.then_some(a.activation_code),
        activation_signature: code_visible.then_some(a.activation_signature),
        device_public_key_fingerprint: fingerprint,
        version: a.major_version,
        commit_phase: a.commit_phase,
        protocol: "powerauth",
        application_roles: Vec::new(),
        activation_id: a.activation_id,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CommitResponse {
    activation_id: String,
    activated: bool,
}

async fn commit(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<CommitResponse>, Error> {
    let otp = request.activation_otp.clone();
    let (activation, otp_failed) = activations::update(&state, &request.activation_id, |a, now| {
        if a.state != ActivationState::PendingCommit {
            return Err(Error::ActivationState(format!(
                "commit needs PENDING_COMMIT, the activation is {}",
                a.state
            )));
        }
        if a.commit_phase == CommitPhase::OnCommit
            && let Some(expected) = &a.activation_otp
        {
            let given = otp.as_deref().unwrap_or_default();
            if !powerauth::hazmat::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
                a.failed_attempts += 1;
                if a.failed_attempts >= a.max_failed_attempts {
                    a.state = ActivationState::Removed;
                }
                a.timestamp_last_change = now;
                return Ok(true);
            }
            a.failed_attempts = 0;
        }
        a.state = ActivationState::Active;
        if request.external_user_id.is_some() {
            a.external_id.clone_from(&request.external_user_id);
        }
        a.timestamp_last_change = now;
        Ok(false)
    })
    .await?;
    if otp_failed {
        return Err(Error::InvalidRequest(format!(
            "wrong activation OTP; the activation is {}",
            activation.state
        )));
    }
    Ok(ResponseObject(CommitResponse {
        activation_id: activation.activation_id,
        activated: true,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemoveResponse {
    activation_id: String,
    removed: bool,
}

async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<RemoveResponse>, Error> {
    let (activation, ()) = activations::update(&state, &request.activation_id, |a, now| {
        if a.state != ActivationState::Removed {
            a.state = ActivationState::Removed;
            a.timestamp_last_change = now;
        }
        Ok(())
    })
    .await?;
    if request.revoke_recovery_codes {
        state
            .store
            .revoke_activation_recoveries(&activation.activation_id, state.now_ms())
            .await?;
    }
    Ok(ResponseObject(RemoveResponse {
        activation_id: activation.activation_id,
        removed: true,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockResponse {
    activation_id: String,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
}

async fn block(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<BlockResponse>, Error> {
    let reason = request.reason.unwrap_or_else(|| "NOT_SPECIFIED".to_owned());
    let (activation, ()) =
        activations::update(&state, &request.activation_id, |a, now| match a.state {
            ActivationState::Active => {
                a.state = ActivationState::Blocked;
                a.blocked_reason = Some(reason.clone());
                a.timestamp_last_change = now;
                Ok(())
            }
            ActivationState::Blocked => Ok(()),
            other => Err(Error::ActivationState(format!(
                "only an ACTIVE activation can be blocked, this one is {other}"
            ))),
        })
        .await?;
    Ok(ResponseObject(BlockResponse {
        activation_id: activation.activation_id,
        activation_status: activation.state,
        blocked_reason: activation.blocked_reason,
    }))
}

async fn unblock(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<BlockResponse>, Error> {
    let (activation, ()) = activations::update(&state, &request.activation_id, |a, now| {
        activations::unblock(a, now, "activation")
    })
    .await?;
    Ok(ResponseObject(BlockResponse {
        activation_id: activation.activation_id,
        activation_status: activation.state,
        blocked_reason: activation.blocked_reason,
    }))
}

/// What `/rest/v3/activation/init` and `/rest/v3/activation/create` both refuse in a new
/// record: an empty activation OTP, a failure limit outside 1 to 1000.
pub(super) fn check_new_activation(
    activation_otp: Option<&str>,
    max_failure_count: Option<i64>,
) -> Result<(), Error> {
    if activation_otp.is_some_and(str::is_empty) {
        return Err(Error::InvalidRequest(
            "activationOtp must not be empty".to_owned(),
        ));
    }
    if max_failure_count.is_some_and(|n| !(1..=1000).contains(&n)) {
        return Err(Error::InvalidRequest(
            "maxFailureCount must be 1 to 1000".to_owned(),
        ));
    }
    Ok(())
}
