//! `/rest/v3/activation/prepare` (the key exchange for an intermediate server),
//! `/rest/v3/activation/create` (the same for a record it creates in the same call, the
//! custom-credentials flow), `/rest/v3/activation/recovery/create` (the same for a record
//! that replaces the one a recovery code recovers) and `/rest/v3/activation/list`.

use super::activation::{StatusResponse, check_new_activation, status_response};
use crate::activations::{self, NewActivation};
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
        .route("/rest/v3/activation/prepare", post(prepare))
        .route("/rest/v3/activation/create", post(create))
        .route("/rest/v3/activation/recovery/create", post(recovery_create))
        .route("/rest/v3/activation/list", post(list))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrepareRequest {
    activation_code: String,
    application_key: String,
    /// Absent in PowerAuth Server before 1.5 (protocol 3.1 only).
    protocol_version: Option<String>,
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
    let exchange = Exchange::open(
        &state,
        &request.application_key,
        request.protocol_version.as_deref(),
        request.envelope,
    )
    .await?;
    exchange
        .run(
            &state,
            &request.activation_code,
            request.generate_recovery_codes,
        )
        .await
        .map(ResponseObject)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    user_id: String,
    application_key: String,
    /// Absent in PowerAuth Server before 1.5 (protocol 3.1 only).
    protocol_version: Option<String>,
    activation_otp: Option<String>,
    max_failure_count: Option<i64>,
    timestamp_activation_expire: Option<i64>,
    #[serde(default)]
    generate_recovery_codes: bool,
    #[serde(flatten)]
    envelope: serde_json::Map<String, serde_json::Value>,
}

/// `/rest/v3/activation/create`: a new record for `userId` and its key exchange in one
/// call (digest §4.3). The record waits for commit (`PENDING_COMMIT`), where an
/// `activationOtp` is checked. A refused exchange leaves the record `REMOVED`.
async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<PrepareResponse>, Error> {
    if request.user_id.trim().is_empty() || request.user_id.len() > 255 {
        return Err(Error::InvalidRequest(
            "userId must be 1 to 255 characters".to_owned(),
        ));
    }
    check_new_activation(request.activation_otp.as_deref(), request.max_failure_count)?;
    let exchange = Exchange::open(
        &state,
        &request.application_key,
        request.protocol_version.as_deref(),
        request.envelope,
    )
    .await?;
    let new = NewActivation {
        user_id: request.user_id,
        application_id: exchange.application.application_id.clone(),
        timestamp_expires: request.timestamp_activation_expire,
        max_failed_attempts: request.max_failure_count,
        activation_otp: request.activation_otp,
        commit_phase: crate::store::CommitPhase::OnCommit,
        flags: Vec::new(),
    };
    exchange
        .run_new(&state, new, request.generate_recovery_codes)
        .await
        .map(ResponseObject)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecoveryCreateRequest {
    recovery_code: String,
    puk: String,
    application_key: String,
    /// Absent in PowerAuth Server before 1.5 (protocol 3.1 only).
    protocol_version: Option<String>,
    activation_otp: Option<String>,
    max_failure_count: Option<i64>,
    #[serde(default)]
    generate_recovery_codes: bool,
    #[serde(flatten)]
    envelope: serde_json::Map<String, serde_json::Value>,
}

/// `/rest/v3/activation/recovery/create`: an intermediate server peeled layer 1 of a
/// `RECOVERY` activation and forwards its recovery code, PUK and layer 2. The PUK is
/// spent (a wrong one counts: ERR0028 with `currentRecoveryPukIndex`), the activation the
/// code was issued with is removed and a new one for the code's user, with its flags,
/// waits for commit (`PENDING_COMMIT`), where an `activationOtp` is checked. ERR0024
/// for an unknown or unsupported application key, activation recovery switched off, or a
/// code that does not exist or is not `ACTIVE`.
async fn recovery_create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RecoveryCreateRequest>,
) -> Result<ResponseObject<PrepareResponse>, Error> {
    use crate::error::RestCode;
    check_new_activation(request.activation_otp.as_deref(), request.max_failure_count)?;
    let invalid = |detail: &str| Error::rest(RestCode::InvalidRequest, detail);
    let exchange = Exchange::open(
        &state,
        &request.application_key,
        request.protocol_version.as_deref(),
        request.envelope,
    )
    .await
    .map_err(|e| match e {
        Error::UnknownApplication => invalid("unknown or unsupported applicationKey"),
        other => other,
    })?;
    let application_id = exchange.application.application_id.clone();
    if !crate::recovery::activation_recovery_enabled(&state, &application_id).await? {
        return Err(invalid(
            "activation recovery is disabled for this application",
        ));
    }
    let code = powerauth::recovery::RecoveryCode::parse_qr(&request.recovery_code)
        .map_err(|_| invalid("recoveryCode is not a valid recovery code"))?;
    let record = match state
        .store
        .recovery_by_code(&application_id, code.as_str())
        .await?
    {
        Some(record) if record.status == "ACTIVE" => record,
        Some(_) => return Err(invalid("the recovery code is not ACTIVE")),
        None => return Err(invalid("no such recovery code in this application")),
    };
    let record =
        crate::recovery::redeem(&state, &application_id, &record.recovery_code, &request.puk)
            .await
            .map_err(|e| match e {
                Error::Recovery { current_puk_index } => Error::RestRecovery { current_puk_index },
                other => other,
            })?;
    let flags = crate::recovery::retire_replaced(&state, &record).await?;
    let new = NewActivation {
        user_id: record.user_id,
        application_id,
        timestamp_expires: None,
        max_failed_attempts: request.max_failure_count,
        activation_otp: request.activation_otp,
        commit_phase: crate::store::CommitPhase::OnCommit,
        flags,
    };
    exchange
        .run_new(&state, new, request.generate_recovery_codes)
        .await
        .map(ResponseObject)
}

/// A checked key-exchange request: the application its key names and layer 2, already
/// decrypted, so that a request that cannot be decrypted is refused before it changes
/// anything (no record made, no PUK spent, no activation retired).
struct Exchange {
    application: crate::store::Application,
    layer2: crate::restful_integration::key_exchange::OpenedLayer2,
}

impl Exchange {
    async fn open(
        state: &AppState,
        application_key: &str,
        protocol_version: Option<&str>,
        envelope: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Error> {
        // PowerAuth Server before 1.5 spoke 3.1 only and had no protocolVersion; from 1.5
        // on, a request without one cannot be decrypted (ERR0018).
        let protocol_version = match protocol_version {
            Some(version) => version,
            None if state.config.server_version.implies_protocol_3_1() => "3.1",
            None => {
                return Err(Error::rest(
                    crate::error::RestCode::DecryptionFailed,
                    format!(
                        "no protocolVersion: PowerAuth Server {} needs one (3.0 to 3.3)",
                        state.config.server_version
                    ),
                ));
            }
        };
        let protocol: powerauth::ProtocolVersion = protocol_version
            .parse()
            .map_err(|_| Error::InvalidRequest("protocolVersion must be 3.0 to 3.3".to_owned()))?;
        let version = state
            .store
            .version_by_key(application_key)
            .await?
            .filter(|v| v.supported)
            .ok_or(Error::UnknownApplication)?;
        let application = state
            .store
            .application(&version.application_id)
            .await?
            .ok_or(Error::UnknownApplication)?;
        let envelope = powerauth::ecies::EncryptedRequest::try_from(envelope)
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let layer2 = crate::restful_integration::key_exchange::open_layer2(
            state,
            &application,
            &version,
            protocol,
            &envelope,
        )
        .await
        .map_err(exchange_error)?;
        Ok(Self {
            application,
            layer2,
        })
    }

    /// Makes the record `new` and runs the exchange for it; if the exchange is refused,
    /// the record goes ([`activations::discard_unused`]).
    async fn run_new(
        self,
        state: &AppState,
        new: NewActivation,
        generate_recovery_codes: bool,
    ) -> Result<PrepareResponse, Error> {
        let record = activations::create_unreported(state, new).await?;
        let outcome = self
            .run(state, &record.activation_code, generate_recovery_codes)
            .await;
        if outcome.is_err() {
            activations::discard_unused(state, &record.activation_id).await?;
        }
        outcome
    }

    /// The server's half for the CREATED record with `code`.
    async fn run(
        self,
        state: &AppState,
        code: &str,
        generate_recovery_codes: bool,
    ) -> Result<PrepareResponse, Error> {
        let (activation, response) = crate::restful_integration::key_exchange::exchange_keys(
            state,
            &self.application,
            code,
            self.layer2,
            generate_recovery_codes,
        )
        .await
        .map_err(exchange_error)?;
        let envelope = serde_json::from_str(&response.to_json())
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(PrepareResponse {
            activation_id: activation.activation_id,
            user_id: activation.user_id,
            application_id: activation.application_id,
            activation_status: activation.state,
            envelope,
        })
    }
}

fn exchange_error(error: crate::restful_integration::key_exchange::KeyExchangeError) -> Error {
    use crate::restful_integration::key_exchange::KeyExchangeError;
    match error {
        KeyExchangeError::Format(e) => Error::InvalidRequest(e.to_string()),
        KeyExchangeError::Refused(why) => Error::InvalidRequest(why),
        KeyExchangeError::Fault(e) => e,
    }
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
