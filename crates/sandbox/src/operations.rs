//! Operations: created from a template by a backend, shown to the user's device,
//! approved with a signature over the exact `data`, rejected, canceled, or left to
//! expire. States: `PENDING` → `APPROVED | REJECTED | CANCELED | EXPIRED | FAILED`.
//!
//! Creation, every status change and every failed approval attempt (PowerAuth Server
//! reports those too) go to the application's callbacks ([`crate::callbacks`]) from here.

use crate::callbacks::Change;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Operation, OperationStatus, Template};
use powerauth::totp::{PROXIMITY_CHECK_BACKWARD_STEPS, Totp};
use serde_json::{Map, Value};

const MAX_RETRIES: usize = 16;

/// What a backend asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct NewOperation {
    /// The user, or `None` for an operation a device claims later.
    pub user_id: Option<String>,
    /// The application.
    pub application_id: String,
    /// `login`, `payment`, …
    pub template_name: String,
    /// Values for the template's `${…}` placeholders.
    pub parameters: Map<String, Value>,
    /// Backend's own id.
    pub external_id: Option<String>,
    /// Required activation flag.
    pub activation_flag: Option<String>,
    /// Only this activation may approve.
    pub activation_id: Option<String>,
    /// Absolute expiry (Unix ms), or the template's lifetime from now.
    pub timestamp_expires: Option<i64>,
    /// Backend data kept with the operation.
    pub additional_data: Map<String, Value>,
    /// Require a proximity TOTP at approval (also when the template asks for it).
    pub proximity_check: bool,
}

/// What an approval presents.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Approval<'a> {
    /// The approving user.
    pub user_id: &'a str,
    /// The application of the approving activation.
    pub application_id: &'a str,
    /// The approving activation (`additionalData.activationId` on `/rest/v3`), if known.
    pub activation_id: Option<&'a str>,
    /// The `data` the device signed.
    pub data: &'a str,
    /// The signature type used (server name, `POSSESSION_KNOWLEDGE`).
    pub signature_type: &'a str,
    /// The proximity OTP the device read, if any.
    pub proximity_otp: Option<&'a str>,
}

/// Outcome of an approval, as `/rest/v3/operation/approve` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ApproveResult {
    /// Approved.
    Approved,
    /// Wrong data or factor; the operation stays pending with one more failure.
    ApprovalFailed,
    /// That failure was the last one allowed: the operation is `FAILED`.
    OperationFailed,
}

/// Fills `${name}` placeholders from `parameters`. Unknown placeholders are an error.
pub(crate) fn render(template: &str, parameters: &Map<String, Value>) -> Result<String, Error> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| {
            Error::Internal(format!("unclosed placeholder in template {template:?}"))
        })?;
        let name = &after[..end];
        let value = match parameters.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "the template needs the parameter {name:?}"
                )));
            }
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Creates a `PENDING` operation.
pub(crate) async fn create(
    state: &AppState,
    request: NewOperation,
) -> Result<(Operation, Template), Error> {
    let template = state
        .store
        .template(&request.template_name)
        .await?
        .ok_or_else(|| Error::InvalidRequest(format!("no template {:?}", request.template_name)))?;
    if state
        .store
        .application(&request.application_id)
        .await?
        .is_none()
    {
        return Err(Error::UnknownApplication);
    }
    // Operation data strings forbid control characters (digest §11.4).
    for (name, value) in &request.parameters {
        if value
            .as_str()
            .is_some_and(|s| s.chars().any(char::is_control))
        {
            return Err(Error::InvalidRequest(format!(
                "parameter {name:?} contains control characters"
            )));
        }
    }
    let data = render(&template.data_template, &request.parameters)?;
    let now = state.now_ms();
    let operation = Operation {
        operation_id: state.make_uuid(),
        revision: 0,
        user_id: request.user_id,
        application_id: request.application_id,
        activation_id: request.activation_id,
        external_id: request.external_id,
        activation_flag: request.activation_flag,
        template_name: template.template_name.clone(),
        operation_type: template.operation_type.clone(),
        data,
        parameters: request.parameters,
        additional_data: request.additional_data,
        status: OperationStatus::Pending,
        status_reason: None,
        signature_types: template.signature_types.clone(),
        failure_count: 0,
        max_failure_count: template.max_failure_count,
        risk_flags: template.risk_flags.clone(),
        totp_seed: (request.proximity_check || template.proximity_check_enabled)
            .then(|| powerauth::encoding::b64(state.random::<16>())),
        timestamp_created: now,
        timestamp_expires: request.timestamp_expires.unwrap_or_else(|| {
            now.saturating_add(template.expiration_seconds.saturating_mul(1000))
        }),
        timestamp_finalized: None,
    };
    state.store.insert_operation(&operation).await?;
    report(state, &operation);
    Ok((operation, template))
}

fn report(state: &AppState, operation: &Operation) {
    state.callbacks.notify(Change::Operation(operation.into()));
}

fn expire_if_stale(operation: &mut Operation, now: i64) -> bool {
    if operation.status == OperationStatus::Pending && now > operation.timestamp_expires {
        operation.status = OperationStatus::Expired;
        operation.timestamp_finalized = Some(now);
        return true;
    }
    false
}

/// Reads an operation, saving it as `EXPIRED` first when its time is up.
pub(crate) async fn load(state: &AppState, operation_id: &str) -> Result<Option<Operation>, Error> {
    for _ in 0..MAX_RETRIES {
        let Some(mut operation) = state.store.operation(operation_id).await? else {
            return Ok(None);
        };
        if !expire_if_stale(&mut operation, state.now_ms()) {
            return Ok(Some(operation));
        }
        if state.store.save_operation(&mut operation).await? {
            report(state, &operation);
            return Ok(Some(operation));
        }
    }
    Err(Error::Internal(format!(
        "operation {operation_id} kept changing"
    )))
}

/// A user's operations with expiry applied, newest first.
pub(crate) async fn of_user(
    state: &AppState,
    user_id: &str,
    pending_only: bool,
) -> Result<Vec<Operation>, Error> {
    let mut out = Vec::new();
    for operation in state
        .store
        .operations_of_user(user_id, pending_only)
        .await?
    {
        if let Some(operation) = load(state, &operation.operation_id).await?
            && (!pending_only || operation.status == OperationStatus::Pending)
        {
            out.push(operation);
        }
    }
    Ok(out)
}

/// Applies `change` to the current operation (expired ones read as `EXPIRED`) and saves
/// it under compare-and-swap, retrying on a lost race.
pub(crate) async fn update<T>(
    state: &AppState,
    operation_id: &str,
    mut change: impl FnMut(&mut Operation, i64) -> Result<T, Error>,
) -> Result<(Operation, T), Error> {
    for _ in 0..MAX_RETRIES {
        let now = state.now_ms();
        let Some(mut operation) = state.store.operation(operation_id).await? else {
            return Err(Error::UnknownOperation);
        };
        let before = (operation.status, operation.failure_count);
        let expired = expire_if_stale(&mut operation, now);
        let outcome = match change(&mut operation, now) {
            Ok(outcome) => outcome,
            Err(error) => {
                if expired {
                    load(state, operation_id).await?;
                }
                return Err(error);
            }
        };
        if state.store.save_operation(&mut operation).await? {
            if (operation.status, operation.failure_count) != before {
                report(state, &operation);
            }
            return Ok((operation, outcome));
        }
    }
    Err(Error::Internal(format!(
        "operation {operation_id} kept changing"
    )))
}

/// Refuses a change to an operation that is no longer `PENDING`, naming its state.
pub(crate) fn require_pending(operation: &Operation) -> Result<(), Error> {
    if operation.status == OperationStatus::Pending {
        return Ok(());
    }
    Err(Error::InvalidRequest(format!(
        "the operation is {}",
        operation.status.as_str()
    )))
}

/// Records one failed approval; at the limit the operation becomes `FAILED`.
pub(crate) fn fail_once(operation: &mut Operation, now: i64) -> ApproveResult {
    operation.failure_count += 1;
    if operation.failure_count >= operation.max_failure_count {
        operation.status = OperationStatus::Failed;
        operation.timestamp_finalized = Some(now);
        return ApproveResult::OperationFailed;
    }
    ApproveResult::ApprovalFailed
}

/// The proximity OTP an operation shows at `now_ms`, when it has a proximity check.
pub(crate) fn proximity_otp(operation: &Operation, now_ms: i64) -> Option<String> {
    let seed = powerauth::encoding::b64_decode(operation.totp_seed.as_deref()?).ok()?;
    let now_s = u64::try_from(now_ms / 1000).unwrap_or_default();
    Some(Totp::PROXIMITY_CHECK.generate(&seed, now_s))
}

/// Whether `otp` passes the operation's proximity check (always, without one).
fn proximity_ok(operation: &Operation, otp: Option<&str>, now_ms: i64) -> bool {
    let Some(seed) = operation.totp_seed.as_deref() else {
        return true;
    };
    let (Ok(seed), Some(otp)) = (powerauth::encoding::b64_decode(seed), otp) else {
        return false;
    };
    let now_s = u64::try_from(now_ms / 1000).unwrap_or_default();
    Totp::PROXIMITY_CHECK.validate(otp, &seed, now_s, PROXIMITY_CHECK_BACKWARD_STEPS)
}

/// PowerAuth Server's approval rule: the operation's user (an operation without one is
/// bound to the approving user), application and activation (when it names one), `data`
/// identical, the factor one the template allows, and the proximity OTP when the
/// operation has one; anything else counts as a failed approval.
pub(crate) fn approve(
    operation: &mut Operation,
    approval: &Approval<'_>,
    now: i64,
) -> Result<ApproveResult, Error> {
    let Approval {
        user_id,
        application_id,
        activation_id,
        data,
        signature_type,
        proximity_otp,
    } = *approval;
    require_pending(operation)?;
    let factor_allowed = operation
        .signature_types
        .iter()
        .any(|t| t.eq_ignore_ascii_case(signature_type));
    let matches = operation
        .user_id
        .as_deref()
        .is_none_or(|owner| owner == user_id)
        && operation.application_id == application_id
        && operation
            .activation_id
            .as_deref()
            .is_none_or(|id| Some(id) == activation_id)
        && operation.data == data
        && factor_allowed
        && proximity_ok(operation, proximity_otp, now);
    if !matches {
        return Ok(fail_once(operation, now));
    }
    operation.user_id = Some(user_id.to_owned());
    operation.status = OperationStatus::Approved;
    operation.timestamp_finalized = Some(now);
    Ok(ApproveResult::Approved)
}
