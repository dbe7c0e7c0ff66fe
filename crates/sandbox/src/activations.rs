//! The activation lifecycle shared by every API family: create a record with its
//! activation code, read it (expiring stale ones on the way), and change it under
//! compare-and-swap with retries.
//!
//! States: `CREATED` → (key exchange) → `PENDING_COMMIT` → (commit) → `ACTIVE` ⇄ `BLOCKED`
//! → `REMOVED`. A `CREATED` or `PENDING_COMMIT` record past its expiry reads as `REMOVED`
//! (and is saved so).
//!
//! Every saved state change is reported to the application's callbacks
//! ([`crate::callbacks`]) from here, so no API family can forget to: creation (`CREATED`),
//! each transition, and expiry. A record discarded before anyone saw its code
//! ([`discard_unused`]) is not reported, as PowerAuth Server rolls such a record back.

use crate::callbacks::Change;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Activation, CommitPhase};
use powerauth::activation_code::ActivationCode;
use powerauth::status::ActivationState;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use subtle::ConstantTimeEq;

/// How many times a lost compare-and-swap is retried before giving up. Writers in this
/// process take turns per activation ([`Locks`]), so a lost swap means another process
/// (a second sandbox on the same PostgreSQL) or a direct store write got there first.
const MAX_RETRIES: usize = 32;

/// One turn per activation for the writers of this process: clients signing with one
/// activation at once (the same device on many threads, a fleet sharing it) queue for the
/// record instead of racing the compare-and-swap and losing. A lock lives while someone
/// holds or waits for it.
#[derive(Debug, Default)]
pub struct Locks {
    held: std::sync::Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl Locks {
    /// Waits for `activation_id`'s turn.
    pub async fn lock(&self, activation_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut held = self
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(lock) = held.get(activation_id).and_then(Weak::upgrade) {
                lock
            } else {
                if held.len() >= 1024 {
                    held.retain(|_, lock| lock.strong_count() > 0);
                }
                let lock = Arc::new(tokio::sync::Mutex::new(()));
                held.insert(activation_id.to_owned(), Arc::downgrade(&lock));
                lock
            }
        };
        lock.lock_owned().await
    }
}

/// A pause before retrying a lost compare-and-swap: grows with the attempt, with jitter
/// from the record's own bytes and the attempt so racing writers spread out.
fn backoff(attempt: usize, activation_id: &str) -> std::time::Duration {
    let spread = activation_id.bytes().fold(attempt as u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    }) % 1000;
    let base_us = 200u64 << attempt.min(6);
    std::time::Duration::from_micros(base_us + base_us * spread / 1000)
}

/// What `/rest/v3/activation/init` (or a Cloud registration) asks for.
#[derive(Debug, Clone)]
pub(crate) struct NewActivation {
    /// The user.
    pub user_id: String,
    /// The application.
    pub application_id: String,
    /// Absolute expiry, Unix ms; `None` for now + `Config::activation_validity`.
    pub timestamp_expires: Option<i64>,
    /// Failed attempts that block; `None` for `Config::max_failed_attempts`.
    pub max_failed_attempts: Option<i64>,
    /// Additional activation OTP.
    pub activation_otp: Option<String>,
    /// When the OTP is checked.
    pub commit_phase: CommitPhase,
    /// Initial flags.
    pub flags: Vec<String>,
}

impl NewActivation {
    /// A record the RESTful layer commits by itself (custom credentials, recovery): the
    /// configured expiry and failure limit, no OTP, `ACTIVE` at key exchange.
    pub(crate) fn committed_at_key_exchange(user_id: String, application_id: String) -> Self {
        Self {
            user_id,
            application_id,
            timestamp_expires: None,
            max_failed_attempts: None,
            activation_otp: None,
            commit_phase: CommitPhase::OnKeyExchange,
            flags: Vec::new(),
        }
    }
}

/// Unblocks `a` at `now`: `BLOCKED` becomes `ACTIVE` with its reason and failed attempts
/// cleared; `ACTIVE` stays; any other state is refused (`what` names the record, e.g.
/// "activation" or "registration").
pub(crate) fn unblock(a: &mut Activation, now: i64, what: &str) -> Result<(), Error> {
    match a.state {
        ActivationState::Blocked => {
            a.state = ActivationState::Active;
            a.blocked_reason = None;
            a.failed_attempts = 0;
            a.timestamp_last_change = now;
            Ok(())
        }
        ActivationState::Active => Ok(()),
        other => Err(Error::ActivationState(format!(
            "only a BLOCKED {what} can be unblocked, this one is {other}"
        ))),
    }
}

/// Commits `a` (`PENDING_COMMIT` → `ACTIVE`) at `now`; any other state is refused (`what`
/// names the record, e.g. "activation" or "registration"). With `otpValidation=ON_COMMIT`
/// a wrong `otp` costs an attempt and leaves the state (or `REMOVED` at the limit), as in
/// PowerAuth Server: then `Ok(true)`, and the caller reports the wrong OTP.
pub(crate) fn commit(
    a: &mut Activation,
    now: i64,
    what: &str,
    otp: Option<&str>,
    external_user_id: &Option<String>,
) -> Result<bool, Error> {
    if a.state != ActivationState::PendingCommit {
        return Err(Error::ActivationState(format!(
            "commit needs PENDING_COMMIT, the {what} is {}",
            a.state
        )));
    }
    if a.commit_phase == CommitPhase::OnCommit
        && let Some(expected) = &a.activation_otp
    {
        let given = otp.unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
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
    if external_user_id.is_some() {
        a.external_id.clone_from(external_user_id);
    }
    a.timestamp_last_change = now;
    Ok(false)
}

/// Marks a record made for a request that then failed `REMOVED`, if it is still
/// `CREATED`: its code was never shown to anyone, so nothing half-made stays usable.
pub(crate) async fn discard_unused(state: &AppState, activation_id: &str) -> Result<(), Error> {
    update_with(state, activation_id, None, Report::Never, |a, now| {
        if a.state == ActivationState::Created {
            a.state = ActivationState::Removed;
            a.timestamp_last_change = now;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Whether a saved change goes to the callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Report {
    /// When the state changed.
    StateChanges,
    /// Never (a record nobody saw).
    Never,
}

fn report(state: &AppState, activation: &Activation) {
    state
        .callbacks
        .notify(Change::Activation(activation.into()));
}

/// Creates a `CREATED` record with a fresh id, a code unique among the application's live
/// records, and the code's signature by the application's master key; reports it to the
/// callbacks.
pub(crate) async fn create(state: &AppState, request: NewActivation) -> Result<Activation, Error> {
    let activation = create_unreported(state, request).await?;
    report(state, &activation);
    Ok(activation)
}

/// [`create`] for a record whose key exchange runs in the same request (one-step
/// activation, custom credentials, recovery): only the state the exchange leaves is
/// reported, as PowerAuth Server reports such an activation once.
pub(crate) async fn create_unreported(
    state: &AppState,
    request: NewActivation,
) -> Result<Activation, Error> {
    let application = state
        .store
        .application(&request.application_id)
        .await?
        .ok_or(Error::UnknownApplication)?;
    let now = state.now_ms();
    let validity = i64::try_from(state.config.activation_validity.as_millis()).unwrap_or(i64::MAX);
    for _ in 0..10 {
        let code = ActivationCode::make(&*state.rng);
        let signature = code.sign(&application.master, state.signing_rng());
        let activation = Activation {
            activation_id: state.make_uuid(),
            revision: 0,
            application_id: application.application_id.clone(),
            user_id: request.user_id.clone(),
            external_id: None,
            state: ActivationState::Created,
            activation_code: code.as_str().to_owned(),
            activation_signature: signature.to_b64(),
            activation_otp: request.activation_otp.clone(),
            commit_phase: request.commit_phase,
            activation_name: None,
            device_public_key: None,
            server_key_pair: None,
            ctr_data: None,
            counter: 0,
            major_version: 3,
            failed_attempts: 0,
            max_failed_attempts: request
                .max_failed_attempts
                .unwrap_or(i64::from(state.config.max_failed_attempts)),
            platform: None,
            device_info: None,
            extras: None,
            flags: request.flags.clone(),
            blocked_reason: None,
            timestamp_created: now,
            timestamp_expires: request
                .timestamp_expires
                .unwrap_or(now.saturating_add(validity)),
            timestamp_last_used: now,
            timestamp_last_change: now,
        };
        if state.store.insert_activation(&activation).await? {
            return Ok(activation);
        }
    }
    Err(Error::Internal(
        "ten activation code collisions in a row".to_owned(),
    ))
}

/// Reads a record; a `CREATED` or `PENDING_COMMIT` record past its expiry is saved as
/// `REMOVED` first.
pub(crate) async fn load(
    state: &AppState,
    activation_id: &str,
) -> Result<Option<Activation>, Error> {
    let now = state.now_ms();
    for _ in 0..MAX_RETRIES {
        let Some(mut activation) = state.store.activation(activation_id).await? else {
            return Ok(None);
        };
        if !expire_if_stale(&mut activation, now) {
            return Ok(Some(activation));
        }
        if state.store.save_activation(&mut activation).await? {
            report(state, &activation);
            return Ok(Some(activation));
        }
    }
    Err(Error::Internal(format!(
        "activation {activation_id} kept changing while being read"
    )))
}

/// Marks a stale unfinished record `REMOVED`. Returns whether it changed.
pub(crate) fn expire_if_stale(activation: &mut Activation, now_ms: i64) -> bool {
    let unfinished = matches!(
        activation.state,
        ActivationState::Created | ActivationState::PendingCommit
    );
    if unfinished && now_ms > activation.timestamp_expires {
        activation.state = ActivationState::Removed;
        activation.timestamp_last_change = now_ms;
        return true;
    }
    false
}

/// Applies `change` to the current record and saves it, retrying from a fresh read when
/// another writer saved first. `change` sees an already-expired record as `REMOVED` and
/// may refuse with an error, which is returned without writing anything.
pub(crate) async fn update<T>(
    state: &AppState,
    activation_id: &str,
    change: impl FnMut(&mut Activation, i64) -> Result<T, Error>,
) -> Result<(Activation, T), Error> {
    update_with(state, activation_id, None, Report::StateChanges, change).await
}

/// [`update`] starting from `current`, a record the caller has just read: the first
/// attempt saves one read; if another writer saved in between, the compare-and-swap
/// fails and the retries read afresh as [`update`] does.
pub(crate) async fn update_from<T>(
    state: &AppState,
    current: Activation,
    change: impl FnMut(&mut Activation, i64) -> Result<T, Error>,
) -> Result<(Activation, T), Error> {
    let activation_id = current.activation_id.clone();
    update_with(
        state,
        &activation_id,
        Some(current),
        Report::StateChanges,
        change,
    )
    .await
}

async fn update_with<T>(
    state: &AppState,
    activation_id: &str,
    mut current: Option<Activation>,
    reporting: Report,
    mut change: impl FnMut(&mut Activation, i64) -> Result<T, Error>,
) -> Result<(Activation, T), Error> {
    let _turn = state.activation_locks.lock(activation_id).await;
    for attempt in 0..MAX_RETRIES {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt, activation_id)).await;
        }
        let now = state.now_ms();
        let read = match current.take() {
            Some(record) => Some(record),
            None => state.store.activation(activation_id).await?,
        };
        let Some(mut activation) = read else {
            return Err(Error::UnknownActivation);
        };
        let stored_state = activation.state;
        let expired = expire_if_stale(&mut activation, now);
        let outcome = match change(&mut activation, now) {
            Ok(outcome) => outcome,
            Err(error) => {
                if expired {
                    // Persist the expiry even though the change was refused.
                    let mut stale = state
                        .store
                        .activation(activation_id)
                        .await?
                        .ok_or(Error::UnknownActivation)?;
                    if expire_if_stale(&mut stale, now)
                        && state.store.save_activation(&mut stale).await?
                        && reporting == Report::StateChanges
                    {
                        report(state, &stale);
                    }
                }
                return Err(error);
            }
        };
        if state.store.save_activation(&mut activation).await? {
            if reporting == Report::StateChanges && activation.state != stored_state {
                report(state, &activation);
            }
            return Ok((activation, outcome));
        }
    }
    Err(Error::Internal(format!(
        "activation {activation_id} kept changing under concurrent updates"
    )))
}
