//! `/rest/v3/activation/flags/*` and `/rest/v3/activation/otp/update`: what a backend
//! changes on an activation besides its state.

use crate::activations;
use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/activation/flags/list", post(list))
        .route("/rest/v3/activation/flags/create", post(add))
        .route("/rest/v3/activation/flags/update", post(replace))
        .route("/rest/v3/activation/flags/remove", post(remove))
        .route("/rest/v3/activation/otp/update", post(update_otp))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FlagsRequest {
    activation_id: String,
    #[serde(default)]
    activation_flags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlagsResponse {
    activation_id: String,
    activation_flags: Vec<String>,
}

fn check(flags: &[String]) -> Result<(), Error> {
    if flags
        .iter()
        .any(|f| f.is_empty() || f.len() > 255 || f.chars().any(char::is_control))
    {
        return Err(Error::InvalidRequest(
            "activation flags must be 1 to 255 printable characters".to_owned(),
        ));
    }
    Ok(())
}

async fn change(
    state: &AppState,
    request: FlagsRequest,
    apply: impl Fn(&mut Vec<String>, &[String]),
) -> Result<ResponseObject<FlagsResponse>, Error> {
    check(&request.activation_flags)?;
    let (activation, ()) = activations::update(state, &request.activation_id, |a, now| {
        apply(&mut a.flags, &request.activation_flags);
        a.timestamp_last_change = now;
        Ok(())
    })
    .await?;
    Ok(ResponseObject(FlagsResponse {
        activation_id: activation.activation_id,
        activation_flags: activation.flags,
    }))
}

async fn list(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<FlagsRequest>,
) -> Result<ResponseObject<FlagsResponse>, Error> {
    let activation = activations::load(&state, &request.activation_id)
        .await?
        .ok_or(Error::UnknownActivation)?;
    Ok(ResponseObject(FlagsResponse {
        activation_id: activation.activation_id,
        activation_flags: activation.flags,
    }))
}

async fn add(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<FlagsRequest>,
) -> Result<ResponseObject<FlagsResponse>, Error> {
    change(&state, request, |flags, new| {
        for flag in new {
            if !flags.contains(flag) {
                flags.push(flag.clone());
            }
        }
    })
    .await
}

async fn replace(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<FlagsRequest>,
) -> Result<ResponseObject<FlagsResponse>, Error> {
    change(&state, request, |flags, new| {
        flags.clear();
        for flag in new {
            if !flags.contains(flag) {
                flags.push(flag.clone());
            }
        }
    })
    .await
}

async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<FlagsRequest>,
) -> Result<ResponseObject<FlagsResponse>, Error> {
    change(&state, request, |flags, gone| {
        flags.retain(|f| !gone.contains(f))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtpRequest {
    activation_id: String,
    activation_otp: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OtpResponse {
    activation_id: String,
    updated: bool,
}

async fn update_otp(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OtpRequest>,
) -> Result<ResponseObject<OtpResponse>, Error> {
    if request.activation_otp.is_empty() || request.activation_otp.len() > 255 {
        return Err(Error::InvalidRequest(
            "activationOtp must be 1 to 255 characters".to_owned(),
        ));
    }
    let (activation, ()) = activations::update(&state, &request.activation_id, |a, now| {
        if !matches!(
            a.state,
            ActivationState::Created | ActivationState::PendingCommit
        ) {
            return Err(Error::ActivationState(format!(
                "the OTP can change only before commit, the activation is {}",
                a.state
            )));
        }
        a.activation_otp = Some(request.activation_otp.clone());
        a.timestamp_last_change = now;
        Ok(())
    })
    .await?;
    Ok(ResponseObject(OtpResponse {
        activation_id: activation.activation_id,
        updated: true,
    }))
}
