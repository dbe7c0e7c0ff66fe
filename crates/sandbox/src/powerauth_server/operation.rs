//! `/rest/v3/operation/*`: a backend creates operations from templates, reads them, and
//! (as an intermediate server would after checking a signature) approves, rejects or
//! cancels them.
//!
//! State errors as PowerAuth Server answers them: approving an unknown or finished
//! operation is ERR0037, rejecting one ERR0038, failing or canceling a finished one
//! ERR0036 (an unknown one ERR0034); an unknown application on approve or reject ERR0015.

use crate::clock::iso8601;
use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::operations::{self, ApproveResult, NewOperation, fail_once};
use crate::state::AppState;
use crate::store::{Operation, OperationStatus};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/operation/create", post(create))
        .route("/rest/v3/operation/detail", post(detail))
        .route("/rest/v3/operation/claim", post(claim))
        .route("/rest/v3/operation/list", post(list))
        .route("/rest/v3/operation/list/pending", post(list_pending))
        .route("/rest/v3/operation/list/external", post(list_external))
        .route("/rest/v3/operation/approve", post(approve))
        .route("/rest/v3/operation/approve/fail", post(approve_fail))
        .route("/rest/v3/operation/reject", post(reject))
        .route("/rest/v3/operation/cancel", post(cancel))
}

/// `OperationDetail` of PowerAuth Server.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OperationDetail {
    id: String,
    user_id: Option<String>,
    applications: Vec<String>,
    external_id: Option<String>,
    activation_flag: Option<String>,
    operation_type: String,
    template_name: String,
    data: String,
    parameters: Map<String, Value>,
    additional_data: Map<String, Value>,
    status: OperationStatus,
    status_reason: Option<String>,
    signature_type: Vec<String>,
    failure_count: i64,
    max_failure_count: i64,
    timestamp_created: String,
    timestamp_expires: String,
    timestamp_finalized: Option<String>,
    risk_flags: Option<String>,
    proximity_otp: Option<String>,
    activation_id: Option<String>,
}

impl OperationDetail {
    /// The detail at `now_ms` (which fixes the current proximity OTP).
    pub(super) fn at(o: Operation, now_ms: i64) -> Self {
        let proximity_otp = operations::proximity_otp(&o, now_ms);
        Self {
            id: o.operation_id,
            user_id: o.user_id,
            applications: vec![o.application_id],
            external_id: o.external_id,
            activation_flag: o.activation_flag,
            operation_type: o.operation_type,
            template_name: o.template_name,
            data: o.data,
            parameters: o.parameters,
            additional_data: o.additional_data,
            status: o.status,
            status_reason: o.status_reason,
            signature_type: o.signature_types,
            failure_count: o.failure_count,
            max_failure_count: o.max_failure_count,
            timestamp_created: iso8601(o.timestamp_created),
            timestamp_expires: iso8601(o.timestamp_expires),
            timestamp_finalized: o.timestamp_finalized.map(iso8601),
            risk_flags: o.risk_flags,
            proximity_otp,
            activation_id: o.activation_id,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    user_id: Option<String>,
    applications: Vec<String>,
    template_name: String,
    external_id: Option<String>,
    activation_flag: Option<String>,
    timestamp_expires: Option<i64>,
    #[serde(default)]
    parameters: Map<String, Value>,
    #[serde(default)]
    additional_data: Map<String, Value>,
    activation_id: Option<String>,
    #[serde(default)]
    proximity_check_enabled: bool,
}

async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<CreateRequest>,
) -> Result<ResponseObject<OperationDetail>, Error> {
    let [application_id] = request.applications.as_slice() else {
        return Err(Error::InvalidRequest(
            "applications must name exactly one application".to_owned(),
        ));
    };
    if state
        .store
        .template(&request.template_name)
        .await?
        .is_none()
    {
        return Err(Error::rest(
            RestCode::OperationTemplateNotFound,
            format!("no operation template {:?}", request.template_name),
        ));
    }
    let (operation, _) = operations::create(
        &state,
        NewOperation {
            user_id: request.user_id,
            application_id: application_id.clone(),
            template_name: request.template_name,
            parameters: request.parameters,
            external_id: request.external_id,
            activation_flag: request.activation_flag,
            activation_id: request.activation_id,
            timestamp_expires: request.timestamp_expires,
            additional_data: request.additional_data,
            proximity_check: request.proximity_check_enabled,
        },
    )
    .await?;
    crate::push::operation_created(&state, &operation).await?;
    Ok(ResponseObject(OperationDetail::at(
        operation,
        state.now_ms(),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationRequest {
    operation_id: String,
    user_id: Option<String>,
    application_id: Option<String>,
    data: Option<String>,
    signature_type: Option<String>,
    status_reason: Option<String>,
    additional_data: Option<Map<String, Value>>,
}

async fn detail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<OperationDetail>, Error> {
    // Server 1.9 claims through detail when a userId is given (digest §16.5).
    if request.user_id.is_some() {
        return claim(State(state), RequestObject(request)).await;
    }
    let operation = operations::load(&state, &request.operation_id)
        .await?
        .ok_or(Error::UnknownOperation)?;
    Ok(ResponseObject(OperationDetail::at(
        operation,
        state.now_ms(),
    )))
}

async fn claim(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<OperationDetail>, Error> {
    let user_id = request
        .user_id
        .ok_or_else(|| Error::InvalidRequest("userId is required".to_owned()))?;
    let (operation, ()) =
        operations::update(&state, &request.operation_id, |o, _| match &o.user_id {
            None => {
                o.user_id = Some(user_id.clone());
                Ok(())
            }
            Some(owner) if *owner == user_id => Ok(()),
            Some(_) => Err(Error::InvalidRequest(
                "the operation belongs to another user".to_owned(),
            )),
        })
        .await?;
    Ok(ResponseObject(OperationDetail::at(
        operation,
        state.now_ms(),
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    user_id: String,
    applications: Option<Vec<String>>,
}

async fn list_of(
    state: &AppState,
    request: ListRequest,
    pending_only: bool,
) -> Result<Vec<OperationDetail>, Error> {
    Ok(operations::of_user(state, &request.user_id, pending_only)
        .await?
        .into_iter()
        .filter(|o| {
            request
                .applications
                .as_ref()
                .is_none_or(|apps| apps.is_empty() || apps.contains(&o.application_id))
        })
        .map(|o| OperationDetail::at(o, state.now_ms()))
        .collect())
}

async fn list(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ListRequest>,
) -> Result<ResponseObject<Vec<OperationDetail>>, Error> {
    Ok(ResponseObject(list_of(&state, request, false).await?))
}

async fn list_pending(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ListRequest>,
) -> Result<ResponseObject<Vec<OperationDetail>>, Error> {
    Ok(ResponseObject(list_of(&state, request, true).await?))
}

#[derive(Serialize)]
struct Outcome<R: Serialize> {
    result: R,
    operation: OperationDetail,
}

async fn approve(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<Outcome<ApproveResult>>, Error> {
    let (Some(user_id), Some(application_id), Some(data), Some(signature_type)) = (
        request.user_id.as_deref(),
        request.application_id.as_deref(),
        request.data.as_deref(),
        request.signature_type.as_deref(),
    ) else {
        return Err(Error::InvalidRequest(
            "approve needs userId, applicationId, data and signatureType".to_owned(),
        ));
    };
    let proximity_otp = request
        .additional_data
        .as_ref()
        .and_then(|d| d.get("proximity_otp"))
        .and_then(Value::as_str);
    // An operation bound to an activation is approved from it only (`activationIdMatches`).
    let activation_id = request
        .additional_data
        .as_ref()
        .and_then(|d| d.get("activationId"))
        .and_then(Value::as_str);
    let approval = operations::Approval {
        user_id,
        application_id,
        activation_id,
        data,
        signature_type,
        proximity_otp,
    };
    known_application(&state, application_id).await?;
    let (operation, result) = operations::update(&state, &request.operation_id, |o, now| {
        pending_or(o, RestCode::OperationApproveFailure)?;
        let result = operations::approve(o, &approval, now)?;
        // The request's additionalData is kept whatever the outcome, as PowerAuth Server does.
        if let Some(extra) = &request.additional_data {
            merge(&mut o.additional_data, extra);
        }
        Ok(result)
    })
    .await
    .map_err(|e| not_found_as(e, RestCode::OperationApproveFailure))?;
    Ok(ResponseObject(Outcome {
        result,
        operation: OperationDetail::at(operation, state.now_ms()),
    }))
}

async fn approve_fail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<Outcome<ApproveResult>>, Error> {
    let (operation, result) = operations::update(&state, &request.operation_id, |o, now| {
        pending_or(o, RestCode::OperationInvalidState)?;
        if let Some(extra) = &request.additional_data {
            merge(&mut o.additional_data, extra);
        }
        Ok(fail_once(o, now))
    })
    .await?;
    Ok(ResponseObject(Outcome {
        result,
        operation: OperationDetail::at(operation, state.now_ms()),
    }))
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum RejectResult {
    Rejected,
    RejectFailed,
}

async fn reject(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<Outcome<RejectResult>>, Error> {
    let (Some(user_id), Some(application_id)) = (
        request.user_id.as_deref(),
        request.application_id.as_deref(),
    ) else {
        return Err(Error::InvalidRequest(
            "reject needs userId and applicationId".to_owned(),
        ));
    };
    known_application(&state, application_id).await?;
    let (operation, result) = operations::update(&state, &request.operation_id, |o, now| {
        pending_or(o, RestCode::OperationRejectFailure)?;
        // An operation without a user is bound to the rejecting one, as on approval.
        let owner_matches = o.user_id.as_deref().is_none_or(|owner| owner == user_id);
        if !(owner_matches && o.application_id == application_id) {
            return Ok(RejectResult::RejectFailed);
        }
        o.user_id = Some(user_id.to_owned());
        o.status = OperationStatus::Rejected;
        o.timestamp_finalized = Some(now);
        // PowerAuth Server's reject has no statusReason: a reason travels in additionalData.
        if let Some(extra) = &request.additional_data {
            merge(&mut o.additional_data, extra);
        }
        Ok(RejectResult::Rejected)
    })
    .await
    .map_err(|e| not_found_as(e, RestCode::OperationRejectFailure))?;
    Ok(ResponseObject(Outcome {
        result,
        operation: OperationDetail::at(operation, state.now_ms()),
    }))
}

async fn cancel(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<OperationRequest>,
) -> Result<ResponseObject<OperationDetail>, Error> {
    let (operation, ()) = operations::update(&state, &request.operation_id, |o, now| {
        pending_or(o, RestCode::OperationInvalidState)?;
        if let Some(extra) = &request.additional_data {
            merge(&mut o.additional_data, extra);
        }
        o.status = OperationStatus::Canceled;
        o.status_reason.clone_from(&request.status_reason);
        o.timestamp_finalized = Some(now);
        Ok(())
    })
    .await?;
    Ok(ResponseObject(OperationDetail::at(
        operation,
        state.now_ms(),
    )))
}

/// `code` for an operation that is no longer `PENDING`.
fn pending_or(operation: &Operation, code: RestCode) -> Result<(), Error> {
    if operation.status == OperationStatus::Pending {
        return Ok(());
    }
    Err(Error::rest(
        code,
        format!("the operation is {}", operation.status.as_str()),
    ))
}

/// Approve and reject answer an unknown operation with their own code, not ERR0034.
fn not_found_as(error: Error, code: RestCode) -> Error {
    match error {
        Error::UnknownOperation => Error::rest(code, "no such operation"),
        other => other,
    }
}

/// ERR0015 for an application that does not exist.
async fn known_application(state: &AppState, application_id: &str) -> Result<(), Error> {
    match state.store.application(application_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::UnknownApplication),
    }
}

/// PowerAuth Server's `mapMerge`: the request's `additionalData` over the operation's.
fn merge(into: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        into.insert(key.clone(), value.clone());
    }
}

/// `OperationExtIdRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalListRequest {
    external_id: String,
    #[serde(default)]
    applications: Vec<String>,
    page_number: Option<u32>,
    page_size: Option<u32>,
}

/// `/rest/v3/operation/list/external`: the operations a backend created with one
/// `externalId`, in the given applications (each must exist: ERR0015), newest first, with
/// expiry applied, paged as PowerAuth Server pages (`pageNumber` from 0, `pageSize` from 1).
async fn list_external(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ExternalListRequest>,
) -> Result<ResponseObject<Vec<OperationDetail>>, Error> {
    if request.external_id.is_empty() || request.applications.is_empty() {
        return Err(Error::InvalidRequest(
            "externalId and applications must not be empty".to_owned(),
        ));
    }
    if request.page_size == Some(0) {
        return Err(Error::InvalidRequest(
            "pageSize must be at least 1".to_owned(),
        ));
    }
    for application_id in &request.applications {
        known_application(&state, application_id).await?;
    }
    let page_size = request.page_size.map_or(usize::MAX, |n| n as usize);
    let page_number = request.page_number.unwrap_or(0) as usize;
    let now = state.now_ms();
    let mut found = Vec::new();
    for operation in state
        .store
        .operations_by_external_id(&request.external_id)
        .await?
    {
        if !request.applications.contains(&operation.application_id) {
            continue;
        }
        if let Some(operation) = operations::load(&state, &operation.operation_id).await? {
            found.push(operation);
        }
    }
    Ok(ResponseObject(
        found
            .into_iter()
            .skip(page_number.saturating_mul(page_size))
            .take(page_size)
            .map(|o| OperationDetail::at(o, now))
            .collect(),
    ))
}
