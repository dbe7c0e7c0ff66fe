//! Online signature verification with PowerAuth Server's rules (digest §5.6, §16.12):
//! look-ahead over the hash chain, counter advance, failed attempts and blocking. The
//! cryptography is `powerauth::signature`; this module decides what is stored.
//!
//! The whole check runs inside one compare-and-swap on the activation: two requests
//! signed with consecutive counters can arrive together and both succeed, but the same
//! signature can never be accepted twice, and no failed attempt is lost.
//!
//! A refused signature logs why at debug level (target `sandbox::signatures`): the
//! activation's state, exhausted attempts or a foreign application key, or for a
//! signature that did not match, the factor to blame (a partial match in the window), the
//! counter window checked, and whether it is a replay of a signature accepted before.
//! No key, counter data, PIN or signature value is logged.

use crate::activations;
use crate::error::Error;
use crate::state::AppState;
use crate::store::Activation;
use powerauth::ProtocolVersion;
use powerauth::offline::verify_offline_signature;
use powerauth::signature::{
    FactorKeys, FailedAttempts, OfflineOptions, RequestData, SignatureType, Verifier,
};

use powerauth::status::ActivationState;

/// Why blocked, when too many attempts failed.
pub(crate) const MAX_FAILED_ATTEMPTS_REASON: &str = "MAX_FAILED_ATTEMPTS";

/// A signature to check, as `/rest/v3/signature/verify` receives it.
#[derive(Debug, Clone)]
pub(crate) struct SignedRequest<'a> {
    /// `pa_activation_id`.
    pub activation_id: &'a str,
    /// `pa_application_key`.
    pub application_key: &'a str,
    /// Normalized request data, without the application secret.
    pub data: &'a RequestData,
    /// `pa_signature`.
    pub signature: &'a str,
    /// `pa_signature_type`.
    pub signature_type: SignatureType,
    /// `pa_version`: the signature format (3.0 decimal, 3.1+ Base64).
    pub version: ProtocolVersion,
}

/// The verdict, with the record as saved afterwards (`None` for an unknown activation).
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// Whether the signature matched.
    pub valid: bool,
    /// The record after the check.
    pub activation: Option<Activation>,
    /// Attempts left, when the server reports them.
    pub remaining_attempts: Option<u32>,
}

/// Checks an online `request` and saves the consequences.
pub(crate) async fn verify(
    state: &AppState,
    request: &SignedRequest<'_>,
) -> Result<Verdict, Error> {
    let current = activations::load(state, request.activation_id).await?;
    let version = match &current {
        Some(current) => state
            .store
            .version_by_key(request.application_key)
            .await?
            .filter(|v| v.supported && v.application_id == current.application_id),
        None => None,
    };
    let secret = version.as_ref().map(|v| v.application_secret.clone());
    let Some(current) = current else {
        tracing::debug!(
            activation_id = request.activation_id,
            "signature refused: unknown activation"
        );
        return Ok(Verdict {
            valid: false,
            activation: None,
            remaining_attempts: None,
        });
    };
    let before = current.clone();
    let verdict = check(
        state,
        Start::Read(Box::new(current)),
        request.signature_type,
        secret.is_some(),
        |verifier, ctr_data| {
            let base = request.data.with_application_secret(secret.as_deref()?);
            verifier.verify_online(
                ctr_data,
                request.signature_type,
                request.signature,
                &base,
                request.version,
            )
        },
    )
    .await?;
    let replay_key = replay_key(request.activation_id, request.signature);
    if verdict.valid {
        remember_accepted(replay_key);
    } else {
        explain_refusal(state, request, &before, secret.as_deref(), replay_key);
    }
    Ok(verdict)
}

/// How many accepted signatures [`remember_accepted`] keeps (in memory, per process).
const ACCEPTED_MEMORY: usize = 10_000;

/// Hashes of recently accepted `(activation, signature)` pairs: the set, and the order
/// they came in (oldest first) to forget the oldest.
type Accepted = (
    std::collections::HashSet<[u8; 32]>,
    std::collections::VecDeque<[u8; 32]>,
);

static ACCEPTED: std::sync::LazyLock<std::sync::Mutex<Accepted>> =
    std::sync::LazyLock::new(Default::default);

fn replay_key(activation_id: &str, signature: &str) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(activation_id.as_bytes());
    context.update(&[0]);
    context.update(signature.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(context.finish().as_ref());
    key
}

fn remember_accepted(key: [u8; 32]) {
    let Ok(mut accepted) = ACCEPTED.lock() else {
        return;
    };
    let (seen, order) = &mut *accepted;
    if seen.insert(key) {
        order.push_back(key);
        if order.len() > ACCEPTED_MEMORY
            && let Some(oldest) = order.pop_front()
        {
            seen.remove(&oldest);
        }
    }
}

fn was_accepted(key: &[u8; 32]) -> bool {
    ACCEPTED
        .lock()
        .is_ok_and(|accepted| accepted.0.contains(key))
}

/// Logs (debug) why `request` was refused, from the record as it was before the check.
fn explain_refusal(
    state: &AppState,
    request: &SignedRequest<'_>,
    before: &Activation,
    secret: Option<&str>,
    replay_key: [u8; 32],
) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let activation_id = request.activation_id;
    let signature_type = request.signature_type.as_str();
    if before.state != ActivationState::Active {
        tracing::debug!(
            activation_id,
            signature_type,
            state = %before.state,
            "signature refused: the activation is not ACTIVE"
        );
        return;
    }
    if before.failed_attempts >= before.max_failed_attempts {
        tracing::debug!(
            activation_id,
            signature_type,
            failed_attempts = before.failed_attempts,
            "signature refused: no attempts left, the activation is now BLOCKED"
        );
        return;
    }
    let (Some(secret), Some(keys), Some(ctr_data)) =
        (secret, state.activation_keys(before), &before.ctr_data)
    else {
        tracing::debug!(
            activation_id,
            signature_type,
            application_key = request.application_key,
            "signature refused: the application key is unknown, unsupported or of another \
             application"
        );
        return;
    };
    let look_ahead = state.config.look_ahead;
    let verifier = Verifier::new(FactorKeys::from(&keys)).with_lookahead(look_ahead);
    let base = request.data.with_application_secret(secret);
    let diagnosis = verifier.diagnose_online(
        ctr_data,
        request.signature_type,
        request.signature,
        &base,
        request.version,
    );
    let replay = was_accepted(&replay_key);
    let failed_factor = diagnosis
        .failed_factor()
        .map(|f| format!("{f:?}").to_lowercase());
    let counter_window = format!(
        "{}..{}",
        before.counter,
        before.counter.saturating_add(i64::from(look_ahead))
    );
    let why = if replay {
        "a replay of a signature accepted before"
    } else if diagnosis.malformed {
        "not a signature of this version's format"
    } else if diagnosis.failed_factor().is_some() {
        "one factor did not match (a wrong PIN shows as knowledge)"
    } else {
        "no factor matched in the counter window (wrong keys or data, or a counter outside \
         the window)"
    };
    tracing::debug!(
        activation_id,
        signature_type,
        version = %request.version,
        failed_factor = failed_factor.as_deref().unwrap_or("all"),
        steps_ahead = diagnosis.partial.as_ref().map(|(step, _)| *step),
        counter_window,
        replay,
        failed_attempts_before = before.failed_attempts,
        max_failed_attempts = before.max_failed_attempts,
        "signature refused: {why}"
    );
}

/// Checks an offline (decimal) signature over `data` (digest §5.7, §16.13) and saves the
/// consequences. The attempt counts as `possession_knowledge`.
pub(crate) async fn verify_offline(
    state: &AppState,
    activation_id: &str,
    data: &RequestData,
    signature: &str,
    options: OfflineOptions,
) -> Result<Verdict, Error> {
    check(
        state,
        Start::Id(activation_id),
        SignatureType::PossessionKnowledge,
        true,
        |verifier, ctr_data| {
            verify_offline_signature(verifier, ctr_data, signature, data, options, &[])
                .ok()
                .flatten()
        },
    )
    .await
}

/// The shared rule: state and exhaustion checks, the match (`matcher`, with the
/// activation's verifier and `CTR_DATA`), then counter advance or failed attempt, all in
/// one compare-and-swap. `key_valid` is false for a wrong or foreign application key.
async fn check(
    state: &AppState,
    start: Start<'_>,
    attempted: SignatureType,
    key_valid: bool,
    matcher: impl Fn(&Verifier<'_>, &powerauth::CtrData) -> Option<powerauth::signature::Verified>,
) -> Result<Verdict, Error> {
    let look_ahead = state.config.look_ahead;
    let rule = |a: &mut Activation, now: i64| {
        if a.state != ActivationState::Active {
            return Ok((false, None));
        }
        let attempts = FailedAttempts {
            failed: u32::try_from(a.failed_attempts).unwrap_or(u32::MAX),
            max: u32::try_from(a.max_failed_attempts).unwrap_or(u32::MAX),
        };
        if attempts.is_exhausted() {
            block(a, now);
            return Ok((false, Some(0)));
        }
        let keys = key_valid.then(|| state.activation_keys(a)).flatten();
        let matched = match (keys, &a.ctr_data) {
            (Some(keys), Some(ctr_data)) => {
                let verifier = Verifier::new(FactorKeys::from(&keys)).with_lookahead(look_ahead);
                matcher(&verifier, ctr_data)
            }
            _ => None,
        };
        match matched {
            Some(verified) => {
                a.ctr_data = Some(verified.next_ctr_data.clone());
                a.counter = a.counter.saturating_add(
                    i64::try_from(verified.counter_increment()).unwrap_or(i64::MAX),
                );
                a.failed_attempts = i64::from(attempts.after_valid(verified.signature_type).failed);
                a.timestamp_last_used = now;
                Ok((true, Some(attempts.max)))
            }
            None => {
                let after = attempts.after_invalid(attempted);
                a.failed_attempts = i64::from(after.attempts.failed);
                if after.block {
                    block(a, now);
                }
                // A bad application key earns no remainingAttempts (digest §16.12).
                Ok((false, key_valid.then_some(after.attempts.remaining())))
            }
        }
    };
    let checked = match start {
        Start::Id(activation_id) => activations::update(state, activation_id, rule).await,
        Start::Read(current) => activations::update_from(state, *current, rule).await,
    };
    match checked {
        Ok((activation, (valid, remaining_attempts))) => Ok(Verdict {
            valid,
            activation: Some(activation),
            remaining_attempts,
        }),
        Err(Error::UnknownActivation) => Ok(Verdict {
            valid: false,
            activation: None,
            remaining_attempts: None,
        }),
        Err(other) => Err(other),
    }
}

/// Where [`check`] gets the record: read it, or the one the caller has just read.
enum Start<'a> {
    Id(&'a str),
    Read(Box<Activation>),
}

fn block(a: &mut Activation, now: i64) {
    a.state = ActivationState::Blocked;
    a.blocked_reason = Some(MAX_FAILED_ATTEMPTS_REASON.to_owned());
    a.timestamp_last_change = now;
}
