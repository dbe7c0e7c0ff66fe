//! What a running fleet measures: a latency histogram per step (HdrHistogram, µs),
//! operation outcomes, errors by kind, fault verdicts, and a completion timeline. Shared
//! by the device tasks behind one mutex (a few records per device; no contention worth
//! a lock-free design).

use crate::plan::FaultKind;
use crate::report::{
    ErrorCount, FaultVerdict, FleetReport, OperationCounts, StepLatency, TimelinePoint,
};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A step of a device's scenario, timed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The server creates the activation (registration or `activation/init`).
    Register,
    /// The device activates (temporary key when 3.3, then `activation/create`).
    Activation,
    /// `activation/status`.
    Status,
    /// A signed `signature/validate` with the PIN.
    Sign,
    /// The server creates a payment operation.
    CreateOperation,
    /// The device lists its pending operations (creates its token the first time).
    List,
    /// The device approves an operation (possession + PIN).
    Approve,
    /// The device rejects an operation (possession).
    Reject,
    /// A device profile's enrollment (`--profile`): its login, token or key set-up.
    ProfileEnroll,
    /// A device profile's authenticated call to its vendor (`--profile`).
    ProfileCall,
    /// `--profile facemap`: the bank's server initiates a transaction (multipart).
    FacemapInitiate,
    /// `--profile facemap`: the device performs the face capture.
    FacemapCapture,
    /// `--profile facemap`: the bank's server retrieves the final state.
    FacemapRetrieve,
    /// A device profile's token refresh (`--profile oauth-cc`, `oauth-device`).
    ProfileRefresh,
}

impl Step {
    /// Every step, in scenario order.
    pub const ALL: [Step; 14] = [
        Step::Register,
        Step::Activation,
        Step::Status,
        Step::Sign,
        Step::CreateOperation,
        Step::List,
        Step::Approve,
        Step::Reject,
        Step::ProfileEnroll,
        Step::ProfileCall,
        Step::FacemapInitiate,
        Step::FacemapCapture,
        Step::FacemapRetrieve,
        Step::ProfileRefresh,
    ];

    /// The step's name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Register => "register (server)",
            Step::Activation => "activation",
            Step::Status => "status",
            Step::Sign => "sign",
            Step::CreateOperation => "create operation (server)",
            Step::List => "list operations",
            Step::Approve => "approve",
            Step::Reject => "reject",
            Step::ProfileEnroll => "profile enroll",
            Step::ProfileCall => "profile call",
            Step::FacemapInitiate => "facemap initiate (server)",
            Step::FacemapCapture => "face capture",
            Step::FacemapRetrieve => "facemap retrieve (server)",
            Step::ProfileRefresh => "profile refresh",
        }
    }
}

struct FaultTally {
    injected: u64,
    matched: u64,
    required: String,
    mismatches: Vec<String>,
}

struct Inner {
    steps: BTreeMap<Step, Histogram<u64>>,
    errors: BTreeMap<String, (u64, String)>,
    faults: BTreeMap<FaultKind, FaultTally>,
    counts: OperationCounts,
    devices_activated: u64,
    devices_completed: u64,
    completions_ms: Vec<u64>,
}

/// The shared collector.
pub struct Metrics {
    started: Mutex<Instant>,
    inner: Mutex<Inner>,
    requests: AtomicU64,
}

/// Mismatch examples kept per fault kind.
const EXAMPLES: usize = 3;

impl Metrics {
    /// An empty collector; the clock starts now.
    pub fn new() -> Self {
        Self {
            started: Mutex::new(Instant::now()),
            inner: Mutex::new(Inner {
                steps: BTreeMap::new(),
                errors: BTreeMap::new(),
                faults: BTreeMap::new(),
                counts: OperationCounts::default(),
                devices_activated: 0,
                devices_completed: 0,
                completions_ms: Vec::new(),
            }),
            requests: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking device task cannot leave the counters half-updated in a way that
        // matters for a report: keep going with what is there.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the clock again (after the set-up).
    pub fn restart_clock(&self) {
        *self.started.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    fn elapsed(&self) -> Duration {
        self.started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }

    /// Records one HTTP exchange.
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long `step` took.
    pub fn time(&self, step: Step, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut inner = self.lock();
        let histogram = inner.steps.entry(step).or_insert_with(|| {
            // 1 µs to 10 min at 3 significant digits: bounds are constants, never fail.
            Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
        });
        histogram.saturating_record(micros);
    }

    /// Records an error of `kind` (a stable short name) with an example message.
    pub fn error(&self, kind: String, message: String) {
        let mut inner = self.lock();
        let entry = inner.errors.entry(kind).or_insert((0, message));
        entry.0 += 1;
    }

    /// Records a judged fault.
    pub fn fault(&self, kind: FaultKind, matched: bool, required: &str, answered: &str) {
        let mut inner = self.lock();
        let tally = inner.faults.entry(kind).or_insert_with(|| FaultTally {
            injected: 0,
            matched: 0,
            required: required.to_owned(),
            mismatches: Vec::new(),
        });
        tally.injected += 1;
        if matched {
            tally.matched += 1;
        } else if tally.mismatches.len() < EXAMPLES {
            tally
                .mismatches
                .push(format!("required {required}; answered {answered}"));
        }
    }

    /// Changes the operation counters.
    pub fn count(&self, change: impl FnOnce(&mut OperationCounts)) {
        change(&mut self.lock().counts);
    }

    /// A device finished its activation.
    pub fn activated(&self) {
        self.lock().devices_activated += 1;
    }

    /// A device finished its scenario (successfully or not).
    pub fn completed(&self) {
        let at = u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut inner = self.lock();
        inner.devices_completed += 1;
        inner.completions_ms.push(at);
    }

    /// Devices finished so far.
    pub fn completed_count(&self) -> u64 {
        self.lock().devices_completed
    }

    /// The report's measured part; the caller fills in what was asked.
    pub fn finish(&self, report: &mut FleetReport) {
        let wall = self.elapsed();
        let inner = self.lock();
        let seconds = wall.as_secs_f64().max(1e-9);
        report.wall_seconds = round(wall.as_secs_f64(), 6);
        report.activated = inner.devices_activated;
        report.completed = inner.devices_completed;
        report.devices_per_second = round(inner.devices_activated as f64 / seconds, 2);
        let finished = inner.counts.approved + inner.counts.rejected;
        report.operations_per_second = round(finished as f64 / seconds, 2);
        report.requests = self.requests.load(Ordering::Relaxed);
        report.requests_per_second = round(report.requests as f64 / seconds, 2);
        report.operations = inner.counts.clone();
        let sharded = report.shard.is_some();
        report.steps = Step::ALL
            .iter()
            .filter_map(|step| {
                let h = inner.steps.get(step)?;
                Some(latency(step.as_str().to_owned(), h, sharded))
            })
            .collect();
        report.errors = inner
            .errors
            .iter()
            .map(|(kind, (count, example))| ErrorCount {
                kind: kind.clone(),
                count: *count,
                example: example.clone(),
            })
            .collect();
        report.faults = inner
            .faults
            .iter()
            .map(|(kind, tally)| FaultVerdict {
                fault: kind.as_str().to_owned(),
                injected: tally.injected,
                matched: tally.matched,
                mismatched: tally.injected - tally.matched,
                required: tally.required.clone(),
                mismatch_examples: tally.mismatches.clone(),
            })
            .collect();
        report.timeline = timeline(&inner.completions_ms, wall);
    }
}

/// A step's latency figures from its histogram (of microseconds), with the histogram itself
/// when `with_histogram` (a shard's report).
pub(crate) fn latency(step: String, h: &Histogram<u64>, with_histogram: bool) -> StepLatency {
    let ms = |micros: u64| micros as f64 / 1000.0;
    StepLatency {
        step,
        count: h.len(),
        mean_ms: round(h.mean() / 1000.0, 3),
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        total_seconds: round(h.mean() * h.len() as f64 / 1e6, 6),
        histogram: if with_histogram {
            crate::shard::histogram_pairs(h)
        } else {
            Vec::new()
        },
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `value` to `decimals` places: what a report shows, and what its JSON parses back to
/// exactly.
fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Completed devices over time, at most 60 points.
fn timeline(completions_ms: &[u64], wall: Duration) -> Vec<TimelinePoint> {
    let mut sorted = completions_ms.to_vec();
    sorted.sort_unstable();
    let total_ms = u64::try_from(wall.as_millis()).unwrap_or(u64::MAX).max(1);
    let buckets = 60u64.min(total_ms).max(1);
    let mut points = vec![TimelinePoint {
        seconds: 0.0,
        completed: 0,
    }];
    for b in 1..=buckets {
        let until = total_ms * b / buckets;
        let completed = sorted.partition_point(|&t| t <= until) as u64;
        points.push(TimelinePoint {
            seconds: until as f64 / 1000.0,
            completed,
        });
    }
    points
}

/// The stable short name of a device error, for "errors by kind".
pub fn error_kind(error: &tokensim_device::Error) -> String {
    use tokensim_device::Error as E;
    match error {
        E::Network { .. } => "network".to_owned(),
        E::Timeout { .. } => "timeout".to_owned(),
        E::ResponseTooLarge { .. } => "response too large".to_owned(),
        E::Server {
            status,
            code,
            message,
        } => format!("HTTP {status} {code}/{message}"),
        E::InvalidResponse { what, .. } => format!("invalid response to {what}"),
        E::Decryption { what, .. } => format!("decryption of {what}"),
        E::NotActive { state, .. } => format!("activation {state}"),
        E::CounterDeadlock(_) => "counter deadlock".to_owned(),
        E::Persist(_) => "store".to_owned(),
        E::Status(_) => "status blob".to_owned(),
        E::ActivationCode(_) | E::ActivationSignature(_) => "activation code".to_owned(),
        E::Protocol(_) => "protocol".to_owned(),
        _ => "other".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let metrics = Metrics::new();
        for ms in 1..=100u64 {
            metrics.time(Step::Approve, Duration::from_millis(ms));
        }
        let mut report = FleetReport::default();
        metrics.finish(&mut report);
        let approve = &report.steps[0];
        assert_eq!(approve.count, 100);
        assert!((approve.p50_ms - 50.0).abs() < 0.1, "{approve:?}");
        assert!((approve.p95_ms - 95.0).abs() < 0.1, "{approve:?}");
        assert!((approve.p99_ms - 99.0).abs() < 0.1, "{approve:?}");
    }

    #[test]
    fn the_timeline_ends_with_every_completion() {
        let points = timeline(&[5, 10, 900, 1000], Duration::from_millis(1000));
        assert_eq!(points.first().map(|p| p.completed), Some(0));
        assert_eq!(points.last().map(|p| p.completed), Some(4));
        assert!(points.windows(2).all(|w| w[0].completed <= w[1].completed));
    }
}
