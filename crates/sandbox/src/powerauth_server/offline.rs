//! `/rest/v3/signature/offline/*`: QR data signed by the server for offline approval,
//! and verification of the decimal signature the user retypes (digest §5.7).

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::signatures;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::encoding::{b64, b64_decode_array};
use powerauth::offline::{OfflinePayload, SigningKeyKind};
use powerauth::signature::{ComponentLength, OfflineOptions, RequestData};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/rest/v3/signature/offline/personalized/create",
            post(personalized),
        )
        .route(
            "/rest/v3/signature/offline/non-personalized/create",
            post(non_personalized),
        )
        .route("/rest/v3/signature/offline/verify", post(verify))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfflineData {
    offline_data: String,
    nonce: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersonalizedRequest {
    activation_id: String,
    data: String,
    nonce: Option<String>,
}

fn payload(state: &AppState, data: String, nonce: Option<&str>) -> Result<OfflinePayload, Error> {
    Ok(match nonce {
        Some(nonce) => OfflinePayload::with_nonce(
            data,
            None,
            b64_decode_array(nonce).map_err(|_| {
                Error::InvalidRequest("nonce must be Base64 of 16 bytes".to_owned())
            })?,
        ),
        None => OfflinePayload::new(data, None, &*state.rng),
    })
}

async fn personalized(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<PersonalizedRequest>,
) -> Result<ResponseObject<OfflineData>, Error> {
    let activation = crate::activations::load(&state, &request.activation_id)
        .await?
        .ok_or(Error::UnknownActivation)?;
    let server = match (&activation.state, &activation.server_key_pair) {
        (ActivationState::Active, Some(server)) => server,
        (state, _) => {
            return Err(Error::ActivationState(format!(
                "offline data needs an ACTIVE activation, this one is {state}"
            )));
        }
    };
    let payload = payload(&state, request.data, request.nonce.as_deref())?;
    let offline_data = payload.sign(SigningKeyKind::Personalized, server, state.signing_rng());
    Ok(ResponseObject(OfflineData {
        offline_data,
        nonce: b64(payload.nonce()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NonPersonalizedRequest {
    application_id: String,
    data: String,
}

async fn non_personalized(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<NonPersonalizedRequest>,
) -> Result<ResponseObject<OfflineData>, Error> {
    let application = state
        .store
        .application(&request.application_id)
        .await?
        .ok_or(Error::UnknownApplication)?;
    let payload = payload(&state, request.data, None)?;
    let offline_data = payload.sign(
        SigningKeyKind::Master,
        &application.master,
        state.signing_rng(),
    );
    Ok(ResponseObject(OfflineData {
        offline_data,
        nonce: b64(payload.nonce()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest {
    activation_id: String,
    data: String,
    signature: String,
    #[serde(default)]
    allow_biometry: bool,
    component_length: Option<u8>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyResponse {
    signature_valid: bool,
    activation_status: ActivationState,
    blocked_reason: Option<String>,
    activation_id: String,
    user_id: Option<String>,
    application_id: Option<String>,
    signature_type: &'static str,
    remaining_attempts: Option<u32>,
}

async fn verify(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VerifyRequest>,
) -> Result<ResponseObject<VerifyResponse>, Error> {
    let component_length = ComponentLength::new(request.component_length.unwrap_or(8))
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let verdict = signatures::verify_offline(
        &state,
        &request.activation_id,
        &RequestData::from_received(request.data),
        &request.signature,
        OfflineOptions {
            allow_biometry: request.allow_biometry,
            component_length,
        },
    )
    .await?;
    let activation = verdict.activation;
    Ok(ResponseObject(VerifyResponse {
        signature_valid: verdict.valid,
        activation_status: activation
            .as_ref()
            .map_or(ActivationState::Removed, |a| a.state),
        blocked_reason: activation.as_ref().and_then(|a| a.blocked_reason.clone()),
        activation_id: request.activation_id,
        user_id: activation.as_ref().map(|a| a.user_id.clone()),
        application_id: activation.as_ref().map(|a| a.application_id.clone()),
        signature_type: "POSSESSION_KNOWLEDGE",
        remaining_attempts: verdict.remaining_attempts,
    }))
}
