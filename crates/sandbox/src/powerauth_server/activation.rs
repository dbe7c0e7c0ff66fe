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

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/activation/init", post(init))
        .route("/rest/v3/activation/status", post(status))
        .route("/rest/v3/activation/commit", post(commit))
        .route("/rest/v3/activation/remove", post(remove))
        .route("/rest/v3/activation/block", post(block))
        .route("/rest/v3/activation/unblock", post(unblock))
        .route("/rest/v3/activation/name/update", post(name_update))
        .route("/rest/v3/activation/lookup", post(lookup))
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
    /// `activation/status`: the SDK's 16-byte challenge (Base64), forwarded by an
    /// intermediate server; the answer's blob is then encrypted with a fresh nonce.
    challenge: Option<String>,
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

/// `GetActivationStatusResponse`: the status and the encrypted status blob an
/// intermediate server hands to the SDK (`/pa/v3/activation/status`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusWithBlob {
    #[serde(flatten)]
    status: StatusResponse,
    encrypted_status_blob: String,
    encrypted_status_blob_nonce: Option<String>,
}

async fn status(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ActivationIdRequest>,
) -> Result<ResponseObject<StatusWithBlob>, Error> {
    let challenge = request
        .challenge
        .as_deref()
        .map(powerauth::encoding::b64_decode_array::<16>)
        .transpose()
        .map_err(|_| {
            Error::rest(
                crate::error::RestCode::InvalidInputFormat,
                "challenge must be Base64 of 16 bytes",
            )
        })?;
    let activation = activations::load(&state, &request.activation_id)
        .await?
        .ok_or(Error::UnknownActivation)?;
    let blob =
        crate::restful_integration::activation::status_blob(&state, Some(&activation), challenge);
    Ok(ResponseObject(StatusWithBlob {
        status: status_response(activation),
        encrypted_status_blob: powerauth::encoding::b64(blob.encrypted_status_blob),
        encrypted_status_blob_nonce: blob.nonce.map(powerauth::encoding::b64),
    }))
}

/// `UpdateActivationNameRequest`: every field required (`@NotBlank`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NameUpdateRequest {
    activation_id: String,
    activation_name: String,
    external_user_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NameUpdateResponse {
    activation_id: String,
    activation_name: Option<String>,
    activation_status: ActivationState,
}

/// `/rest/v3/activation/name/update`: renames an activation that is neither `CREATED`,
/// `REMOVED` nor `BLOCKED` (ERR0008), as an intermediate server does for
/// `/pa/v3/activation/rename`; the history records `ACTIVATION_NAME_UPDATED`.
async fn name_update(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<NameUpdateRequest>,
) -> Result<ResponseObject<NameUpdateResponse>, Error> {
    for (field, value) in [
        ("activationId", &request.activation_id),
        ("activationName", &request.activation_name),
        ("externalUserId", &request.external_user_id),
    ] {
        if value.trim().is_empty() {
            return Err(Error::InvalidRequest(format!("{field} must not be blank")));
        }
    }
    let (activation, ()) = activations::update(&state, &request.activation_id, |a, now| {
        if matches!(
            a.state,
            ActivationState::Created | ActivationState::Removed | ActivationState::Blocked
        ) {
            return Err(Error::ActivationState(format!(
                "an activation that is {} cannot be renamed",
                a.state
            )));
        }
        a.activation_name = Some(request.activation_name.clone());
        a.timestamp_last_change = now;
        Ok(())
    })
    .await?;
    Ok(ResponseObject(NameUpdateResponse {
        activation_id: activation.activation_id,
        activation_name: activation.activation_name,
        activation_status: activation.state,
    }))
}

/// `LookupActivationsRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupRequest {
    #[serde(default)]
    user_ids: Vec<String>,
    #[serde(default)]
    application_ids: Option<Vec<String>>,
    timestamp_last_used_before: Option<String>,
    timestamp_last_used_after: Option<String>,
    activation_status: Option<ActivationState>,
    #[serde(default)]
    activation_flags: Option<Vec<String>>,
}

/// PowerAuth Server's `Activation` item of a lookup.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LookupItem {
    activation_id: String,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
    activation_name: Option<String>,
    external_id: Option<String>,
    extras: Option<String>,
    protocol: &'static str,
    platform: Option<String>,
    device_info: Option<String>,
    activation_flags: Vec<String>,
    timestamp_created: String,
    timestamp_last_used: String,
    timestamp_last_change: String,
    user_id: String,
    application_id: String,
    application_name: Option<String>,
    failed_attempts: i64,
    max_failed_attempts: i64,
    device_public_key_base64: Option<String>,
    version: i64,
}

#[derive(Serialize)]
struct LookupResponse {
    activations: Vec<LookupItem>,
}

/// A `Date` of the request: ISO 8601 or epoch milliseconds, as Jackson reads it.
fn read_date(field: &str, text: Option<&str>) -> Result<Option<i64>, Error> {
    let Some(text) = text else {
        return Ok(None);
    };
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(Some(ms));
    }
    crate::clock::parse_iso8601(text).map(Some).ok_or_else(|| {
        Error::rest(
            crate::error::RestCode::InvalidInputFormat,
            format!("{field} is not a date"),
        )
    })
}

/// `/rest/v3/activation/lookup`: activations of the given users (required: ERR0024),
/// optionally only in some applications, last used in a window, in one state, or carrying
/// every one of some flags.
async fn lookup(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<LookupRequest>,
) -> Result<ResponseObject<LookupResponse>, Error> {
    if request.user_ids.is_empty() {
        return Err(Error::InvalidRequest(
            "userIds must not be empty".to_owned(),
        ));
    }
    let before = read_date(
        "timestampLastUsedBefore",
        request.timestamp_last_used_before.as_deref(),
    )?;
    let after = read_date(
        "timestampLastUsedAfter",
        request.timestamp_last_used_after.as_deref(),
    )?;
    let applications = request.application_ids.filter(|ids| !ids.is_empty());
    let flags = request.activation_flags.unwrap_or_default();
    let mut activations = Vec::new();
    for user_id in &request.user_ids {
        for a in state.store.activations_of_user(user_id).await? {
            let Some(a) = activations::load(&state, &a.activation_id).await? else {
                continue;
            };
            let keep = applications
                .as_ref()
                .is_none_or(|ids| ids.contains(&a.application_id))
                && before.is_none_or(|t| a.timestamp_last_used < t)
                && after.is_none_or(|t| a.timestamp_last_used >= t)
                && request.activation_status.is_none_or(|s| a.state == s)
                && flags.iter().all(|f| a.flags.contains(f));
            if keep {
                activations.push(a);
            }
        }
    }
    let mut items = Vec::with_capacity(activations.len());
    for a in activations {
        items.push(LookupItem {
            device_public_key_base64: a
                .device_public_key
                .as_ref()
                .map(|k| powerauth::encoding::b64(k.to_compressed())),
            activation_status: a.state,
            blocked_reason: a.blocked_reason,
            activation_name: a.activation_name,
            external_id: a.external_id,
            extras: a.extras,
            protocol: "powerauth",
            platform: a.platform,
            device_info: a.device_info,
            activation_flags: a.flags,
            timestamp_created: iso8601(a.timestamp_created),
            timestamp_last_used: iso8601(a.timestamp_last_used),
            timestamp_last_change: iso8601(a.timestamp_last_change),
            user_id: a.user_id,
            application_id: a.application_id,
            // PowerAuth Server's lookup leaves the name unset.
            application_name: None,
            failed_attempts: a.failed_attempts,
            max_failed_attempts: a.max_failed_attempts,
            version: a.major_version,
            activation_id: a.activation_id,
        });
    }
    Ok(ResponseObject(LookupResponse { activations: items }))
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
        activations::commit(
            a,
            now,
            "activation",
            otp.as_deref(),
            &request.external_user_id,
        )
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
