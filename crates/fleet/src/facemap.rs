//! The `facemap` arm of a device-profile fleet (`--profile facemap`): per device, the bank's
//! server initiates a face authentication transaction (Basic auth, `multipart/form-data`
//! with a 4 KiB facemap and the `enrollmentMetadata`), the device performs the face capture
//! with its face from `--facemap-faces`, and the server retrieves the transaction and checks
//! its final state. A `timeout` device opens the capture and leaves: after the last device
//! the fleet moves the embedded sandbox's clock past the 15-minute lifetime and checks that
//! each of them ended `EXPIRED` (an outside server's clock cannot be moved, so `timeout`
//! needs the embedded sandbox). Every final state is POSTed by the sandbox to the fleet's own
//! callback receiver (loopback targets only); the report counts the callbacks and names any
//! that is missing or carries another state.

use crate::metrics::{Metrics, Step};
use crate::report::TransactionCounts;
use crate::{Error, Result};
use sandbox::Clock as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokensim_device::events::Events;
use tokensim_device::profiles::facemap::{
    CallbackReceiver, EnrollmentMetadata, Face, FacemapClient, FacemapError, make_credentials,
};

/// A transaction's longest life on the sandbox (Jumio keeps a facemap 15 minutes).
const LIFETIME_MS: i64 = 15 * 60 * 1000;
/// The facemap each transaction carries: FaceTec facemaps are kilobytes; its bytes are not
/// compared by the sandbox.
const FACEMAP_BYTES: usize = 4096;

/// The embedded sandbox's clock: the system clock plus an offset the fleet can move forward
/// (the `timeout` devices' transactions expire without waiting 15 minutes). Clones share the
/// offset.
#[derive(Debug, Clone, Default)]
pub(crate) struct ShiftedClock(Arc<AtomicI64>);

impl ShiftedClock {
    /// Moves the clock forward by `ms`.
    pub(crate) fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl sandbox::Clock for ShiftedClock {
    fn now_ms(&self) -> i64 {
        sandbox::SystemClock
            .now_ms()
            .saturating_add(self.0.load(Ordering::SeqCst))
    }
}

/// Who may make the profile's API credentials on the target: the Cloud admin login.
#[derive(Clone)]
pub(crate) struct Admin {
    pub user: String,
    pub password: zeroize::Zeroizing<String>,
}

/// What the facemap devices share.
pub(crate) struct Shared {
    client: FacemapClient,
    faces: Vec<Face>,
    clock: Option<ShiftedClock>,
    receiver: Option<CallbackReceiver>,
    /// References of `timeout` devices' transactions, checked after the last device.
    open: Mutex<Vec<String>>,
    /// Every transaction that reached a final state: reference, the state.
    finished: Mutex<Vec<(String, &'static str)>>,
    counts: Mutex<TransactionCounts>,
}

/// Makes the API credentials (the Cloud admin's `POST /profiles/facemap/credentials`) and
/// starts the callback receiver.
pub(crate) async fn set_up(
    url: &str,
    application: &str,
    admin: Option<&Admin>,
    clock: Option<ShiftedClock>,
    faces: Option<&[Face]>,
    events: Arc<dyn Events>,
    timeout: Duration,
) -> Result<Shared> {
    let faces = match faces {
        Some(faces) => faces.to_vec(),
        None if clock.is_some() => Face::ALL.to_vec(),
        None => Face::ALL
            .into_iter()
            .filter(|f| *f != Face::Timeout)
            .collect(),
    };
    if clock.is_none() && faces.contains(&Face::Timeout) {
        return Err(Error::Options(
            "--facemap-faces timeout needs the embedded sandbox (its clock is moved past the transactions' 15 minutes); on an outside server leave timeout out".to_owned(),
        ));
    }
    let admin = admin.ok_or_else(|| {
        Error::Options(
            "the facemap profile makes its API token and secret with the Cloud admin login: give --admin USER:PASSWORD".to_owned(),
        )
    })?;
    let credentials = make_credentials(url, &admin.user, &admin.password, application, timeout)
        .await
        .map_err(|e| {
            Error::Options(format!(
                "the facemap profile's API credentials for application {application:?}: {e}; check --admin and --app-id"
            ))
        })?;
    let client = FacemapClient::new(
        &format!("{url}/profiles/facemap"),
        credentials,
        events,
        timeout,
    )
    .map_err(|e| Error::Options(e.to_string()))?;
    let receiver = if is_loopback(url) {
        Some(
            CallbackReceiver::start()
                .await
                .map_err(|e| Error::Options(format!("the facemap callback receiver: {e}")))?,
        )
    } else {
        None
    };
    Ok(Shared {
        client,
        faces,
        clock,
        receiver,
        open: Mutex::new(Vec::new()),
        finished: Mutex::new(Vec::new()),
        counts: Mutex::new(TransactionCounts::default()),
    })
}

fn is_loopback(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One facemap device: the `rank`-th facemap device of the fleet (device `index`). `true`
/// when its transaction was initiated.
pub(crate) async fn device(shared: &Shared, metrics: &Metrics, index: usize, rank: usize) -> bool {
    let face = shared.faces[rank % shared.faces.len()];
    let metadata = EnrollmentMetadata {
        enrollment_transaction_reference: format!("fleet-enrollment-{index}"),
        user_reference: Some(format!("fleet-{index}")),
        callback_url: shared.receiver.as_ref().map(|r| r.url().to_owned()),
        ..EnrollmentMetadata::default()
    };
    let started = Instant::now();
    let initiated = match shared
        .client
        .initiate(vec![0x5a; FACEMAP_BYTES], &metadata)
        .await
    {
        Ok(initiated) => initiated,
        Err(error) => {
            record(metrics, "initiate", &error);
            return false;
        }
    };
    metrics.time(Step::FacemapInitiate, started.elapsed());
    metrics.activated();
    let reference = initiated.authentication_transaction_reference;
    let started = Instant::now();
    let now = shared
        .clock
        .as_ref()
        .map_or_else(|| sandbox::SystemClock.now_ms(), sandbox::Clock::now_ms);
    let outcome = match shared.client.capture(&reference, face, now).await {
        Ok(outcome) => outcome,
        Err(error) => {
            record(metrics, "capture", &error);
            return true;
        }
    };
    metrics.time(Step::FacemapCapture, started.elapsed());
    if face == Face::Timeout {
        if outcome.transaction_result != "STARTED" {
            wrong(metrics, &reference, "STARTED", &outcome.transaction_result);
            return true;
        }
        lock(&shared.open).push(reference);
        return true;
    }
    let started = Instant::now();
    let detail = match shared.client.detail(&reference).await {
        Ok(detail) => detail,
        Err(error) => {
            record(metrics, "retrieve", &error);
            return true;
        }
    };
    metrics.time(Step::FacemapRetrieve, started.elapsed());
    judge(shared, metrics, reference, face, &detail.transaction_result);
    true
}

fn judge(shared: &Shared, metrics: &Metrics, reference: String, face: Face, seen: &str) {
    let expected = face.expected_result();
    if seen == expected {
        lock(&shared.counts).add(expected);
        lock(&shared.finished).push((reference, expected));
    } else {
        lock(&shared.counts).wrong += 1;
        wrong(metrics, &reference, expected, seen);
    }
}

fn wrong(metrics: &Metrics, reference: &str, expected: &str, seen: &str) {
    metrics.error(
        "facemap: wrong final state".to_owned(),
        format!("transaction {reference} is {seen}, {expected} was expected"),
    );
}

fn record(metrics: &Metrics, what: &str, error: &FacemapError) {
    let kind = match error {
        FacemapError::Network { .. } => "network".to_owned(),
        FacemapError::Timeout { .. } => "timeout".to_owned(),
        FacemapError::Refused { status, .. } => format!("facemap {what}: HTTP {status}"),
        _ => format!("facemap {what}: invalid response"),
    };
    metrics.error(kind, error.to_string());
}

/// After the last device: the `timeout` transactions expire on the moved clock, then every
/// final state's callback is awaited (up to `wait`). Returns the counts for the report.
pub(crate) async fn finish(
    shared: &Shared,
    metrics: &Metrics,
    wait: Duration,
) -> TransactionCounts {
    let open = std::mem::take(&mut *lock(&shared.open));
    if !open.is_empty() {
        if let Some(clock) = &shared.clock {
            clock.advance(LIFETIME_MS + 1000);
        }
        for reference in open {
            match shared.client.detail(&reference).await {
                Ok(detail) => judge(
                    shared,
                    metrics,
                    reference,
                    Face::Timeout,
                    &detail.transaction_result,
                ),
                Err(error) => record(metrics, "retrieve", &error),
            }
        }
    }
    let mut counts = lock(&shared.counts).clone();
    let Some(receiver) = &shared.receiver else {
        return counts;
    };
    let finished = lock(&shared.finished).clone();
    counts.callbacks_expected = finished.len() as u64;
    let deadline = Instant::now() + wait;
    while receiver.count() < finished.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    counts.callbacks_received = receiver.count() as u64;
    for (reference, expected) in &finished {
        match receiver.result_of(reference) {
            Some(state) if state == *expected => {}
            Some(state) => metrics.error(
                "facemap: callback with another state".to_owned(),
                format!("the callback of {reference} says {state}, the transaction is {expected}"),
            ),
            None => metrics.error(
                "facemap: callback missing".to_owned(),
                format!("no callback for {reference} ({expected}) within {wait:?}"),
            ),
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_get_callbacks() {
        assert!(is_loopback("http://127.0.0.1:8780"));
        assert!(is_loopback("http://localhost:8780"));
        assert!(is_loopback("http://[::1]:8780"));
        assert!(!is_loopback("https://bank.example"));
    }

    #[test]
    fn the_shifted_clock_moves_forward_only_when_told() {
        use sandbox::Clock;
        let clock = ShiftedClock::default();
        let before = clock.now_ms();
        clock.advance(LIFETIME_MS);
        assert!(clock.now_ms() - before >= LIFETIME_MS);
    }
}
