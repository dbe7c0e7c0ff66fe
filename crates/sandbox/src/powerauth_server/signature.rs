//! `/rest/v3/signature/verify`: what an intermediate server asks after reading an
//! `X-PowerAuth-Authorization` header; `/rest/v3/signature/ecdsa/verify`: a signature
//! with the device's private key.

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::ProtocolVersion;
use powerauth::signature::{RequestData, SignatureType};
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/signature/verify", post(verify))
        .route("/rest/v3/signature/ecdsa/verify", post(ecdsa_verify))
}

/// `VerifyECDSASignatureRequest`: `data` and `signature` are Base64, `signatureFormat`
/// `DER` (the default) or `JOSE` (the 64-byte `r || s`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EcdsaVerifyRequest {
    activation_id: String,
    data: String,
    signature: String,
    signature_format: Option<EcdsaFormat>,
}

/// `ECDSASignatureFormat`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
enum EcdsaFormat {
    Der,
    Jose,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EcdsaVerifyResponse {
    signature_valid: bool,
}

/// `/rest/v3/signature/ecdsa/verify`: checks a signature made with `KEY_DEVICE_PRIVATE`
/// (the SDK's `signDataWithDevicePrivateKey`) over `data`. An unknown activation, or one
/// without a device key yet, is simply not valid, as on PowerAuth Server; data or a
/// signature that is not Base64 is ERR0011.
async fn ecdsa_verify(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<EcdsaVerifyRequest>,
) -> Result<ResponseObject<EcdsaVerifyResponse>, Error> {
    let not_base64 = |field: &str| {
        Error::rest(
            crate::error::RestCode::InvalidInputFormat,
            format!("{field} is not Base64"),
        )
    };
    let data = powerauth::encoding::b64_decode(&request.data).map_err(|_| not_base64("data"))?;
    let signature =
        powerauth::encoding::b64_decode(&request.signature).map_err(|_| not_base64("signature"))?;
    let device_key = crate::activations::load(&state, &request.activation_id)
        .await?
        .and_then(|a| a.device_public_key);
    let signature_valid =
        device_key.is_some_and(
            |key| match request.signature_format.unwrap_or(EcdsaFormat::Der) {
                EcdsaFormat::Der => key.verify_ecdsa(&data, &signature).is_ok(),
                EcdsaFormat::Jose => key.verify_ecdsa_fixed(&data, &signature).is_ok(),
            },
        );
    Ok(ResponseObject(EcdsaVerifyResponse { signature_valid }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyRequest {
    activation_id: String,
    application_key: String,
    data: String,
    signature: String,
    signature_type: String,
    signature_version: Option<String>,
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
    application_roles: Vec<String>,
    activation_flags: Vec<String>,
}

async fn verify(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VerifyRequest>,
) -> Result<ResponseObject<VerifyResponse>, Error> {
    let signature_type: SignatureType = request.signature_type.parse().map_err(|_| {
        Error::InvalidRequest(format!(
            "unknown signatureType {:?}",
            request.signature_type
        ))
    })?;
    let version: ProtocolVersion = request
        .signature_version
        .as_deref()
        .unwrap_or("3.1")
        .parse()
        .map_err(|_| Error::InvalidRequest("signatureVersion must be 3.0 to 3.3".to_owned()))?;
    let data = RequestData::from_received(request.data);
    let verdict = signatures::verify(
        &state,
        &SignedRequest {
            activation_id: &request.activation_id,
            application_key: &request.application_key,
            data: &data,
            signature: &request.signature,
            signature_type,
            version,
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
        signature_type: signature_type.server_name(),
        remaining_attempts: verdict.remaining_attempts,
        application_roles: match activation.as_ref() {
            Some(a) => state.store.application_roles(&a.application_id).await?,
            None => Vec::new(),
        },
        activation_flags: activation.map(|a| a.flags).unwrap_or_default(),
    }))
}
