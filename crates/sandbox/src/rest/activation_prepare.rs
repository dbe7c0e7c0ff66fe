//! `/rest/v3/activation/prepare` (the key exchange for an intermediate server) and
//! `/rest/v3/activation/list`.

use super::activation::{StatusResponse, status_response};
use crate::activations;
use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/activation/prepare", post(prepare))
        .route("/rest/v3/activation/list", post(list))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrepareRequest {
    activation_code: String,
    application_key: String,
    protocol_version: String,
    #[serde(default)]
    generate_recovery_codes: bool,
    #[serde(flatten)]
    envelope: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PrepareResponse {
    activation_id: String,
    user_id: String,
    application_id: String,
    activation_status: ActivationState,
    #[serde(flatten)]
    envelope: serde_json::Value,
}

/// `/rest/v3/activation/prepare`: the key exchange for an intermediate server that
/// peeled layer 1 itself (digest §4.3).
async fn prepare(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<PrepareRequest>,
) -> Result<ResponseObject<PrepareResponse>, Error> {
    use crate::restful::key_exchange::{KeyExchangeError, exchange_keys};
    let protocol: powerauth::ProtocolVersion = request
        .protocol_version
        .parse()
        .map_err(|_| Error::InvalidRequest("protocolVersion must be 3.0 to 3.3".to_owned()))?;
    let version = state
        .store
        .version_by_key(&request.application_key)
        .await?
        .filter(|v| v.supported)
        .ok_or(Error::UnknownApplication)?;
    let application = state
        .store
        .application(&version.application_id)
        .await?
        .ok_or(Error::UnknownApplication)?;
    let layer2 = powerauth::ecies::EncryptedRequest::try_from(request.envelope)
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let (activation, response) = exchange_keys(
        &state,
        &application,
        &version,
        protocol,
        &request.activation_code,
        &layer2,
        request.generate_recovery_codes,
    )
    .await
    .map_err(|e| match e {
        KeyExchangeError::Format(e) => Error::InvalidRequest(e.to_string()),
        KeyExchangeError::Refused(why) => Error::InvalidRequest(why),
        KeyExchangeError::Fault(e) => e,
    })?;
    let envelope =
        serde_json::from_str(&response.to_json()).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(ResponseObject(PrepareResponse {
        activation_id: activation.activation_id,
        user_id: activation.user_id,
        application_id: activation.application_id,
        activation_status: activation.state,
        envelope,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    user_id: String,
    application_id: Option<String>,
}

#[derive(Serialize)]
struct ListResponse {
    activations: Vec<StatusResponse>,
}

/// `/rest/v3/activation/list`: a user's activations, newest first.
async fn list(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ListRequest>,
) -> Result<ResponseObject<ListResponse>, Error> {
    let mut activations = Vec::new();
    for a in state.store.activations_of_user(&request.user_id).await? {
        if request
            .application_id
            .as_ref()
            .is_some_and(|id| *id != a.application_id)
        {
            continue;
        }
        if let Some(a) = activations::load(&state, &a.activation_id).await? {
            activations.push(status_response(a));
        }
    }
    Ok(ResponseObject(ListResponse { activations }))
}
