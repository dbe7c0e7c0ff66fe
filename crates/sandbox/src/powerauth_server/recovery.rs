//! `/rest/v3/recovery/*`: PowerAuth Server's recovery code API, same shapes.
//!
//! - `config/detail {applicationId}` → the application's recovery configuration (saved
//!   on first read, as the server does), with the postcard public key the printing center
//!   needs and the printing center's key.
//! - `config/update {applicationId, activationRecoveryEnabled, recoveryPostcardEnabled,
//!   allowMultipleRecoveryCodes, remotePostcardPublicKey?}` → `{updated}`. The postcard
//!   key pair is made the first time postcards are enabled; `""` removes the printing
//!   center's key. A printing center key that is no P-256 point is refused with ERR0010
//!   here (PowerAuth Server stores it and fails at `create` with the same code).
//! - `create {applicationId, userId, pukCount}` → `{nonce, userId, recoveryCodeId,
//!   recoveryCodeMasked, status, puks: [{pukIndex, pukDerivationIndex, status}]}`: what
//!   the printing center derives the code and PUKs from; the code itself is never
//!   answered.
//! - `lookup {applicationId?, userId?, activationId?, recoveryCodeStatus?,
//!   recoveryPukStatus?}` → `{recoveryCodes: [...]}`, newest first. An application alone
//!   is refused, as on the server; a PUK status filter drops codes with no such PUK.
//! - `revoke {recoveryCodeIds}` → `{revoked}` (whether any changed; unknown ids ignored).
//! - `confirm {activationId, applicationKey, …ECIES fields…, protocolVersion}` → `{activationId,
//!   userId, encryptedData, mac, nonce?, timestamp?}`: the server half of
//!   `/pa/v3/recovery/confirm` for an intermediate server that checked the signature.
//!
//! Errors: ERR0024 for a malformed request, an unknown application, recovery or postcards
//! switched off, another user's code; ERR0025, ERR0026, ERR0027, ERR0029 and ERR0010 as
//! [`crate::recovery::create_postcard`] and `confirm` say; ERR0009/ERR0008 an unknown or
//! not `ACTIVE` activation; ERR0015 an unknown application key; ERR0045 an unknown
//! temporary key; ERR0018 a request that does not decrypt.

use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::recovery::ConfirmRefusal;
use crate::restful_integration::encryption::{Channel, Refused, decrypt};
use crate::state::AppState;
use crate::store::{RecoveryConfig, RecoveryLookup, RecoveryRecord};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::PublicKey;
use powerauth::ecies::{EncryptedRequest, Scope, SharedInfo1};
use powerauth::encoding::b64;
use powerauth::status::ActivationState;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/recovery/config/detail", post(config_detail))
        .route("/rest/v3/recovery/config/update", post(config_update))
        .route("/rest/v3/recovery/create", post(create))
        .route("/rest/v3/recovery/lookup", post(lookup))
        .route("/rest/v3/recovery/revoke", post(revoke))
        .route("/rest/v3/recovery/confirm", post(confirm))
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::rest(RestCode::InvalidRequest, detail)
}

/// ERR0024 for an application that does not exist (the recovery API does not use ERR0015).
async fn require_application(state: &AppState, application_id: &str) -> Result<(), Error> {
    match state.store.application(application_id).await? {
        Some(_) => Ok(()),
        None => Err(invalid(format!("no application {application_id:?}"))),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDetailRequest {
    application_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDetailResponse {
    application_id: String,
    activation_recovery_enabled: bool,
    recovery_postcard_enabled: bool,
    allow_multiple_recovery_codes: bool,
    postcard_public_key: Option<String>,
    remote_postcard_public_key: Option<String>,
}

async fn config_detail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfigDetailRequest>,
) -> Result<ResponseObject<ConfigDetailResponse>, Error> {
    require_application(&state, &request.application_id).await?;
    let config = match state.store.recovery_config(&request.application_id).await? {
        Some(config) => config,
        None => {
            let default = crate::recovery::default_config(&state, &request.application_id);
            state.store.insert_recovery_config(&default).await?
        }
    };
    Ok(ResponseObject(ConfigDetailResponse {
        application_id: config.application_id,
        activation_recovery_enabled: config.activation_recovery_enabled,
        recovery_postcard_enabled: config.recovery_postcard_enabled,
        allow_multiple_recovery_codes: config.allow_multiple_recovery_codes,
        postcard_public_key: config.postcard_public_key,
        remote_postcard_public_key: config.remote_postcard_public_key,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigUpdateRequest {
    application_id: String,
    #[serde(default)]
    activation_recovery_enabled: bool,
    #[serde(default)]
    recovery_postcard_enabled: bool,
    #[serde(default)]
    allow_multiple_recovery_codes: bool,
    remote_postcard_public_key: Option<String>,
}

#[derive(Serialize)]
struct UpdatedResponse {
    updated: bool,
}

async fn config_update(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfigUpdateRequest>,
) -> Result<ResponseObject<UpdatedResponse>, Error> {
    require_application(&state, &request.application_id).await?;
    let current = crate::recovery::config(&state, &request.application_id).await?;
    let remote_postcard_public_key = match request.remote_postcard_public_key {
        None => current.remote_postcard_public_key.clone(),
        Some(key) if key.is_empty() => None,
        Some(key) => {
            PublicKey::from_b64(&key).map_err(|e| {
                Error::rest(
                    RestCode::InvalidKeyFormat,
                    format!(
                        "remotePostcardPublicKey must be a Base64 P-256 point from the printing center: {e}"
                    ),
                )
            })?;
            Some(key)
        }
    };
    let (postcard_private_key, postcard_public_key) =
        if request.recovery_postcard_enabled && current.postcard_private_key.is_none() {
            let (private, public) = crate::recovery::make_postcard_key_pair(&state);
            (Some(private), Some(public))
        } else {
            (current.postcard_private_key, current.postcard_public_key)
        };
    state
        .store
        .save_recovery_config(&RecoveryConfig {
            application_id: request.application_id,
            activation_recovery_enabled: request.activation_recovery_enabled,
            recovery_postcard_enabled: request.recovery_postcard_enabled,
            allow_multiple_recovery_codes: request.allow_multiple_recovery_codes,
            postcard_private_key,
            postcard_public_key,
            remote_postcard_public_key,
        })
        .await?;
    Ok(ResponseObject(UpdatedResponse { updated: true }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    application_id: String,
    user_id: String,
    #[serde(default)]
    puk_count: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PukView {
    puk_index: i64,
    /// PowerAuth Server answers it only from `create`; `lookup` shows its default, 0.
    puk_derivation_index: i64,
    status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateResponse {
    nonce: String,
    user_id: String,
    recovery_code_id: i64,
    recovery_code_masked: String,
    status: String,
    puks: Vec<PukView>,
}

async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<CreateResponse>, Error> {
    let postcard = crate::recovery::create_postcard(
        &state,
        &request.application_id,
        &request.user_id,
        request.puk_count,
    )
    .await?;
    let record = postcard.record;
    Ok(ResponseObject(CreateResponse {
        nonce: b64(postcard.nonce),
        recovery_code_masked: record.masked(),
        user_id: record.user_id,
        recovery_code_id: record.number,
        status: record.status,
        puks: (1i64..)
            .zip(postcard.puk_derivation_indexes)
            .map(|(puk_index, puk_derivation_index)| PukView {
                puk_index,
                puk_derivation_index,
                status: "VALID".to_owned(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum CodeStatus {
    Created,
    Active,
    Blocked,
    Revoked,
}

impl CodeStatus {
    fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Created => "CREATED",
            CodeStatus::Active => "ACTIVE",
            CodeStatus::Blocked => "BLOCKED",
            CodeStatus::Revoked => "REVOKED",
        }
    }
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum PukStatus {
    Valid,
    Used,
    Invalid,
}

impl PukStatus {
    fn as_str(self) -> &'static str {
        match self {
            PukStatus::Valid => "VALID",
            PukStatus::Used => "USED",
            PukStatus::Invalid => "INVALID",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LookupRequest {
    application_id: Option<String>,
    user_id: Option<String>,
    activation_id: Option<String>,
    recovery_code_status: Option<CodeStatus>,
    recovery_puk_status: Option<PukStatus>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeView {
    recovery_code_id: i64,
    recovery_code_masked: String,
    user_id: String,
    application_id: String,
    activation_id: Option<String>,
    status: String,
    puks: Vec<PukView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LookupResponse {
    recovery_codes: Vec<CodeView>,
}

async fn lookup(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<LookupRequest>,
) -> Result<ResponseObject<LookupResponse>, Error> {
    if request.user_id.is_none() && request.activation_id.is_none() {
        return Err(invalid(
            "name a userId or an activationId (an applicationId alone is not enough)",
        ));
    }
    if let Some(application_id) = &request.application_id {
        require_application(&state, application_id).await?;
    }
    let records = state
        .store
        .find_recoveries(&RecoveryLookup {
            application_id: request.application_id,
            user_id: request.user_id,
            activation_id: request.activation_id,
        })
        .await?;
    let mut recovery_codes = Vec::new();
    for record in records {
        if request
            .recovery_code_status
            .is_some_and(|s| s.as_str() != record.status)
        {
            continue;
        }
        let puks: Vec<PukView> = state
            .store
            .recovery_puks(&record.recovery_code_id)
            .await?
            .into_iter()
            .filter(|p| {
                request
                    .recovery_puk_status
                    .is_none_or(|s| s.as_str() == p.status)
            })
            .map(|p| PukView {
                puk_index: p.index,
                puk_derivation_index: 0,
                status: p.status,
            })
            .collect();
        if request.recovery_puk_status.is_some() && puks.is_empty() {
            continue;
        }
        recovery_codes.push(code_view(record, puks));
    }
    Ok(ResponseObject(LookupResponse { recovery_codes }))
}

fn code_view(record: RecoveryRecord, puks: Vec<PukView>) -> CodeView {
    CodeView {
        recovery_code_id: record.number,
        recovery_code_masked: record.masked(),
        user_id: record.user_id,
        application_id: record.application_id,
        activation_id: record.activation_id,
        status: record.status,
        puks,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeRequest {
    #[serde(default)]
    recovery_code_ids: Vec<Option<i64>>,
}

#[derive(Serialize)]
struct RevokeResponse {
    revoked: bool,
}

async fn revoke(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RevokeRequest>,
) -> Result<ResponseObject<RevokeResponse>, Error> {
    if request.recovery_code_ids.is_empty() {
        return Err(invalid("recoveryCodeIds must name at least one code"));
    }
    let ids = request
        .recovery_code_ids
        .iter()
        .map(|id| id.filter(|id| *id >= 0))
        .collect::<Option<Vec<i64>>>()
        .ok_or_else(|| invalid("recoveryCodeIds must be numbers of 0 or more"))?;
    let mut revoked = false;
    for id in ids {
        revoked |= state.store.revoke_recovery(id, state.now_ms()).await?;
    }
    Ok(ResponseObject(RevokeResponse { revoked }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmRequest {
    activation_id: String,
    application_key: String,
    protocol_version: String,
    #[serde(flatten)]
    envelope: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmResponse {
    activation_id: String,
    user_id: String,
    #[serde(flatten)]
    envelope: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmPayload {
    recovery_code: Option<String>,
}

async fn confirm(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfirmRequest>,
) -> Result<ResponseObject<ConfirmResponse>, Error> {
    let protocol: powerauth::ProtocolVersion = request
        .protocol_version
        .parse()
        .map_err(|_| invalid("protocolVersion must be 3.0 to 3.3"))?;
    let encrypted =
        EncryptedRequest::try_from(request.envelope).map_err(|e| invalid(e.to_string()))?;
    let activation = crate::activations::load(&state, &request.activation_id)
        .await?
        .ok_or_else(|| Error::rest(RestCode::ActivationNotFound, request.activation_id.clone()))?;
    if !crate::recovery::activation_recovery_enabled(&state, &activation.application_id).await? {
        return Err(invalid(
            "activation recovery is disabled for this application",
        ));
    }
    if activation.state != ActivationState::Active {
        return Err(Error::rest(
            RestCode::IncorrectActivationState,
            format!("the activation is {}", activation.state),
        ));
    }
    let version = state
        .store
        .version_by_key(&request.application_key)
        .await?
        .filter(|v| v.application_id == activation.application_id)
        .ok_or_else(|| {
            Error::rest(
                RestCode::InvalidApplication,
                "no applicationKey of the activation's application",
            )
        })?;
    let (Some(keys), Some(server)) = (
        state.activation_keys(&activation),
        activation.server_key_pair.as_ref(),
    ) else {
        return Err(Error::rest(
            RestCode::IncorrectActivationState,
            "the activation has no keys",
        ));
    };
    if let Some(key_id) = encrypted
        .temporary_key_id
        .as_deref()
        .filter(|_| protocol.uses_temporary_keys())
    {
        // PowerAuth Server names this one apart from a request that does not decrypt.
        state
            .store
            .scoped_temporary_key(
                key_id,
                &version.application_key,
                Some(&activation.activation_id),
                state.now_ms(),
            )
            .await?
            .ok_or_else(|| {
                Error::rest(
                    RestCode::MissingTemporaryKey,
                    format!("no temporary key {key_id} for this activation"),
                )
            })?;
    }
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol,
        shared_info1: SharedInfo1::ConfirmRecoveryCode,
        scope: Scope::Activation {
            activation_id: &activation.activation_id,
            transport_key: &keys.transport,
        },
        static_private: &server.private,
    };
    let (plaintext, responder) =
        decrypt(&state, &channel, &encrypted)
            .await
            .map_err(|refused| match refused {
                Refused::Store(e) => e.into(),
                Refused::Format(e) => invalid(e.to_string()),
                Refused::Decrypt(why) => Error::rest(RestCode::DecryptionFailed, why),
            })?;
    let payload: ConfirmPayload = serde_json::from_slice(&plaintext)
        .map_err(|e| Error::rest(RestCode::DecryptionFailed, e.to_string()))?;
    let code = payload
        .recovery_code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| invalid("the decrypted request has no recoveryCode"))?;
    let (record, already_confirmed) = crate::recovery::confirm(&state, &activation, &code)
        .await
        .map_err(|refusal| match refusal {
            ConfirmRefusal::Invalid(why) => invalid(why),
            ConfirmRefusal::NotFound => Error::rest(
                RestCode::RecoveryCodeNotFound,
                "no such recovery code in the activation's application",
            ),
            ConfirmRefusal::Fault(e) => e,
        })?;
    let now = u64::try_from(state.now_ms()).unwrap_or_default();
    let answer = serde_json::json!({ "alreadyConfirmed": already_confirmed }).to_string();
    let response = responder.encrypt_response(answer.as_bytes(), &*state.rng, now);
    let envelope =
        serde_json::from_str(&response.to_json()).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(ResponseObject(ConfirmResponse {
        activation_id: activation.activation_id,
        user_id: record.user_id,
        envelope,
    }))
}
