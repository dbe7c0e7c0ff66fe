//! The fleet run: N devices, at most C at once, each a tokio task that registers,
//! activates, checks its status, signs, then approves or rejects its operations, some
//! with a fault armed. One [`Client`] (one connection pool) serves every device.

use crate::backend::Backend;
use crate::metrics::{Metrics, Step, error_kind};
use crate::observe::{Cancel, Event, Observer};
use crate::plan::{FaultKind, FleetPlan, StoreKind};
use crate::report::{self, FleetReport, OperationCounts};
use crate::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::temporary_key::TemporaryPublicKey;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::operations::Operation;
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, DeviceRecord, DeviceState, Events, Exchange, Factors,
    Fault, FaultRun, PendingActivation, Persist, Profile, Session,
};
use tokensim_store::{DeviceId, Lease, Secret, Secrets, Store};

/// Where the fleet runs and how it is told to behave, resolved from [`FleetPlan`].
pub(crate) struct Context {
    pub args: FleetPlan,
    pub client: Client,
    pub backend: Backend,
    pub server_url: String,
    pub application: ApplicationConfig,
    pub metrics: Arc<Metrics>,
    pub store: Option<Store<DeviceRecord>>,
    pub plan: Plan,
    pub user_prefix: String,
    pub shared_temporary_key: Option<Mutex<Option<TemporaryPublicKey>>>,
    pub observer: Arc<dyn Observer>,
    pub cancel: Cancel,
}

/// Counts each HTTP exchange of the devices.
struct CountRequests(Arc<Metrics>);

impl Events for CountRequests {
    fn exchange(&self, _: &Exchange) {
        self.0.request();
    }
}

/// Which operation gets which fault and which are rejected: exact counts, spread over the
/// fleet by a fixed permutation (reproducible runs, no two faults on one operation).
pub(crate) struct Plan {
    faults: Vec<Option<FaultKind>>,
    rejects: Vec<bool>,
}

impl Plan {
    pub(crate) fn new(args: &FleetPlan) -> Self {
        let total = args.devices as usize * args.operations as usize;
        let mut faults = Vec::with_capacity(total);
        for (kind, ratio) in &args.faults.0 {
            let count = (ratio * total as f64).round() as usize;
            faults.extend(std::iter::repeat_n(Some(*kind), count));
        }
        faults.truncate(total);
        faults.resize(total, None);
        let reject_count = ((args.reject_ratio * total as f64).round() as usize).min(total);
        let mut rejects = vec![true; reject_count];
        rejects.resize(total, false);
        Self {
            faults: spread(faults, 7919),
            rejects: spread(rejects, 104_729),
        }
    }

    fn fault(&self, operation: usize) -> Option<FaultKind> {
        self.faults.get(operation).copied().flatten()
    }

    fn reject(&self, operation: usize) -> bool {
        self.rejects.get(operation).copied().unwrap_or(false)
    }

    /// How many operations get `kind`.
    #[cfg(test)]
    fn count(&self, kind: FaultKind) -> usize {
        self.faults.iter().filter(|f| **f == Some(kind)).count()
    }
}

/// Reorders `items` by `i -> i * stride mod n` with a stride coprime to `n`.
fn spread<T: Clone>(items: Vec<T>, prime: usize) -> Vec<T> {
    let n = items.len();
    if n < 2 {
        return items;
    }
    let mut stride = prime % n;
    while stride == 0 || gcd(stride, n) != 1 {
        stride = (stride + 1) % n;
    }
    (0..n).map(|i| items[(i * stride) % n].clone()).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Builds the context: the HTTP client, the backend, the application configuration.
pub(crate) async fn context(
    args: &FleetPlan,
    server_url: &str,
    embedded: bool,
    metrics: Arc<Metrics>,
    observer: Arc<dyn Observer>,
    cancel: Cancel,
) -> Result<Context> {
    let timeout = Duration::from_secs(args.timeout_seconds.max(1));
    let config = ClientConfig {
        timeout,
        ..ClientConfig::default()
    };
    let mut client = Client::new(config, Arc::new(CountRequests(metrics.clone())))
        .map_err(|e| Error::Options(format!("the HTTP client could not be built: {e}")))?;
    if args.keep_knowledge_keys {
        client = client.keep_knowledge_keys_unlocked();
    }
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(args.concurrency as usize)
        .build()
        .map_err(|e| Error::Options(format!("the HTTP client could not be built: {e}")))?;
    let backend = Backend::new(http, server_url, &args.app_id, args.admin.clone());
    backend.preflight("fleet-preflight").await?;
    let sdk_config = match &args.mobile_sdk_config {
        Some(config) => config.clone(),
        None => backend.mobile_sdk_config().await?,
    };
    let application = ApplicationConfig::from_mobile_sdk_config(&sdk_config)
        .map_err(|e| Error::Config(format!("the mobileSdkConfig does not parse: {e}")))?;
    let store = open_store(args)?;
    let user_prefix = match (&args.user_prefix, embedded) {
        (Some(prefix), _) => prefix.clone(),
        (None, true) => "fleet".to_owned(),
        (None, false) => format!(
            "fleet-{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
        ),
    };
    Ok(Context {
        plan: Plan::new(args),
        args: args.clone(),
        client,
        backend,
        server_url: server_url.to_owned(),
        application,
        metrics,
        store,
        user_prefix,
        shared_temporary_key: args.share_temporary_keys.then(|| Mutex::new(None)),
        observer,
        cancel,
    })
}

fn open_store(args: &FleetPlan) -> Result<Option<Store<DeviceRecord>>> {
    let secrets = match args.store {
        StoreKind::Memory => return Ok(None),
        StoreKind::File => Secrets::encrypted_file(tokensim_store::Passphrase::new(
            args.passphrase.clone().unwrap_or_default(),
        )),
        StoreKind::Keychain => Secrets::Keychain,
    };
    let folder = args
        .store_dir
        .clone()
        .ok_or_else(|| Error::Options("--store-dir is required for this store".to_owned()))?;
    std::fs::create_dir_all(&folder).map_err(|e| Error::Store {
        folder: folder.clone(),
        detail: e.to_string(),
    })?;
    Store::open(&folder, secrets)
        .map(Some)
        .map_err(|e| Error::Store {
            folder,
            detail: e.to_string(),
        })
}

/// Runs every device; returns the report without the sandbox's view.
pub(crate) async fn run_devices(context: Arc<Context>, progress: ProgressBar) -> FleetReport {
    let args = &context.args;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    let devices = args
        .shard
        .map_or(0..args.devices as usize, |shard| shard.range(args.devices));
    for index in devices {
        let (context, semaphore, progress) = (context.clone(), semaphore.clone(), progress.clone());
        tasks.spawn(async move {
            let cancel = context.cancel.clone();
            // The semaphore is never closed.
            let _permit = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                permit = semaphore.acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let activated = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                activated = run_device(&context, index) => activated,
            };
            context.metrics.completed();
            context.observer.event(&Event::DeviceDone { activated });
            progress.inc(1);
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            context
                .metrics
                .error("panic".to_owned(), format!("a device task failed: {e}"));
        }
    }
    progress.finish_and_clear();
    let mut report = FleetReport {
        cancelled: context.cancel.is_cancelled(),
        target: context.server_url.clone(),
        backend: context.backend.dialect().to_owned(),
        devices: u64::from(args.devices),
        concurrency: u64::from(args.concurrency),
        versions: args.versions.iter().map(|v| v.to_string()).collect(),
        operations_per_device: u64::from(args.operations),
        signatures_per_device: u64::from(args.signatures),
        reject_ratio: args.reject_ratio,
        fault_mix: args.faults.to_string(),
        store: args.store.as_str().to_owned(),
        shard: args.shard,
        shard_devices: args
            .shard
            .map_or(0, |shard| shard.range(args.devices).len() as u64),
        knowledge_keys: if args.keep_knowledge_keys {
            report::KEPT_UNLOCKED
        } else {
            report::PBKDF2_PER_SIGNATURE
        }
        .to_owned(),
        ..FleetReport::default()
    };
    context.metrics.finish(&mut report);
    report
}

/// The progress bar: on stderr when it is a terminal and the report is not JSON.
pub(crate) fn progress_bar(args: &FleetPlan) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(
        Some(u64::from(args.devices)),
        if args.json || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} devices ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

fn version_of(args: &FleetPlan, index: usize) -> ProtocolVersion {
    args.versions[index % args.versions.len()]
}

/// The user of device `index`.
pub(crate) fn user_of(context: &Context, index: usize) -> String {
    format!("{}-{index}", context.user_prefix)
}

/// Keeps the device where the fleet was told to.
struct Keep<'a> {
    store: Option<&'a Store<DeviceRecord>>,
    id: DeviceId,
    /// The device's lease while the task runs (stored devices only): another process
    /// (`tokensim --device fleet-N`) waits instead of reusing a counter value.
    _lease: Option<Lease>,
}

impl Persist for Keep<'_> {
    fn persist(&mut self, device: &ActiveDevice) -> std::result::Result<(), String> {
        let Some(store) = self.store else {
            // In memory: the task holds the device itself.
            return Ok(());
        };
        let (record, blob) = DeviceState::Active(device.clone()).to_parts();
        store
            .save(&self.id, &record, &Secret::new(blob.to_vec()))
            .map_err(|e| e.to_string())
    }
}

/// Times `future` as `step`; counts an error by kind.
async fn timed<T>(
    context: &Context,
    step: Step,
    future: impl std::future::Future<Output = tokensim_device::Result<T>>,
) -> Option<T> {
    let started = Instant::now();
    let result = future.await;
    record(context, step, started.elapsed(), result, |e| {
        error_kind(e).to_string()
    })
}

/// Times a backend call; counts an error.
async fn backend<T>(
    context: &Context,
    step: Step,
    future: impl std::future::Future<Output = Result<T>>,
) -> Option<T> {
    let started = Instant::now();
    let result = future.await;
    context.metrics.request();
    record(context, step, started.elapsed(), result, |e| match e {
        Error::Unreachable { .. } => "network".to_owned(),
        Error::Backend { status, .. } => format!("HTTP {status}"),
        _ => "other".to_owned(),
    })
}

/// Tells the observer about a finished step, then records its time or its error (by the
/// step and `kind`), so a failed step never counts as a timing.
fn record<T, E: std::fmt::Display>(
    context: &Context,
    step: Step,
    elapsed: std::time::Duration,
    result: std::result::Result<T, E>,
    kind: impl FnOnce(&E) -> String,
) -> Option<T> {
    context.observer.event(&Event::Step {
        step,
        elapsed,
        ok: result.is_ok(),
    });
    match result {
        Ok(value) => {
            context.metrics.time(step, elapsed);
            Some(value)
        }
        Err(e) => {
            context
                .metrics
                .error(format!("{}: {}", step.as_str(), kind(&e)), e.to_string());
            None
        }
    }
}

/// One device's scenario. Errors are counted, never returned: the fleet goes on. Returns
/// whether the device got through its activation.
async fn run_device(context: &Context, index: usize) -> bool {
    let args = &context.args;
    let operations = args.operations as usize;
    let fail_rest = |from: usize| {
        context
            .metrics
            .count(|c| c.failed += (operations - from) as u64);
    };
    let user = user_of(context, index);
    let Some(registration) =
        backend(context, Step::Register, context.backend.register(&user)).await
    else {
        fail_rest(0);
        return false;
    };
    let version = version_of(args, index);
    let mut pending = PendingActivation::new(Profile::new(
        format!("fleet device {index}"),
        &context.server_url,
        context.application.clone(),
        version,
    ));
    if let Some(shared) = &context.shared_temporary_key {
        pending.application_temporary_key = shared.lock().ok().and_then(|k| k.clone());
    }
    let input = ActivationInput::new(registration.qr, &args.pin);
    let Some(mut device) = timed(
        context,
        Step::Activation,
        activate(&context.client, pending, &input),
    )
    .await
    else {
        fail_rest(0);
        return false;
    };
    if let (Some(shared), Some(key)) = (
        &context.shared_temporary_key,
        &device.temporary_keys.application,
    ) && let Ok(mut slot) = shared.lock()
        && slot.is_none()
    {
        *slot = Some(key.clone());
    }
    context.metrics.activated();
    let id = match DeviceId::parse(&format!("fleet-{index}")) {
        Ok(id) => id,
        Err(e) => {
            context.metrics.error("store".to_owned(), e.to_string());
            fail_rest(0);
            return true;
        }
    };
    let lease = match context
        .store
        .as_ref()
        .map(|store| store.lease(&id))
        .transpose()
    {
        Ok(lease) => lease,
        Err(e) => {
            context.metrics.error("store".to_owned(), e.to_string());
            fail_rest(0);
            return true;
        }
    };
    let mut keep = Keep {
        store: context.store.as_ref(),
        id,
        _lease: lease,
    };
    if let Err(e) = keep.persist(&device) {
        context.metrics.error("store".to_owned(), e);
        fail_rest(0);
        return true;
    }
    let client = &context.client;
    let pin = Factors::pin(&args.pin);
    if !args.no_status {
        let mut session = Session::new(client, &mut device, &mut keep);
        let Some(status) = timed(context, Step::Status, session.status()).await else {
            fail_rest(0);
            return true;
        };
        if status.snapshot.state != "ACTIVE" {
            context.metrics.error(
                "status: not ACTIVE".to_owned(),
                format!(
                    "the activation is {} right after activation",
                    status.snapshot.state
                ),
            );
            fail_rest(0);
            return true;
        }
    }
    for _ in 0..args.signatures {
        let mut session = Session::new(client, &mut device, &mut keep);
        if timed(
            context,
            Step::Sign,
            session.validate_signature(&pin, "FLEET"),
        )
        .await
        .is_none()
        {
            fail_rest(0);
            return true;
        }
    }
    for k in 0..operations {
        let global = index * operations + k;
        if !run_operation(context, &mut device, &mut keep, &user, global).await {
            fail_rest(k + 1);
            return true;
        }
    }
    true
}

/// One operation: created on the server, listed by the device, approved or rejected,
/// maybe with a fault first. Returns whether the device may go on.
async fn run_operation(
    context: &Context,
    device: &mut ActiveDevice,
    keep: &mut Keep<'_>,
    user: &str,
    global: usize,
) -> bool {
    let args = &context.args;
    let amount = format!("{}.{:02}", 100 + global % 900, global % 100);
    let Some(operation_id) = backend(
        context,
        Step::CreateOperation,
        context.backend.create_payment(user, &amount),
    )
    .await
    else {
        context.metrics.count(|c| c.failed += 1);
        return false;
    };
    context.metrics.count(|c| c.created += 1);
    let fault = context.plan.fault(global);
    let reject = context.plan.reject(global);
    let client = &context.client;

    if fault == Some(FaultKind::ClockSkew) {
        let skew = Fault::ClockSkew(args.clock_skew_seconds.saturating_mul(1000));
        // The token must exist first, so the faulted call is the token-authenticated list.
        let mut session = Session::new(client, device, keep);
        if timed(context, Step::List, session.list_operations())
            .await
            .is_none()
        {
            context.metrics.count(|c| c.failed += 1);
            return false;
        }
        judge(
            context,
            FaultKind::ClockSkew,
            skew,
            device,
            keep,
            async |s| s.list_operations().await.map(|_| ()),
        )
        .await;
    }

    let listed = {
        let mut session = Session::new(client, device, keep);
        timed(context, Step::List, session.list_operations()).await
    };
    let Some(listed) = listed else {
        context.metrics.count(|c| c.failed += 1);
        return false;
    };
    let Some(operation) = listed.into_iter().find(|o| o.id == operation_id) else {
        context.metrics.error(
            "list operations: created operation missing".to_owned(),
            format!("the operation {operation_id} was created but the device does not see it"),
        );
        context.metrics.count(|c| c.failed += 1);
        return false;
    };
    let pin = Factors::pin(&args.pin);

    if fault == Some(FaultKind::WrongPin) {
        judge(
            context,
            FaultKind::WrongPin,
            Fault::WrongPin,
            device,
            keep,
            async |s| s.approve_operation(&operation, &pin, None).await,
        )
        .await;
    }

    // Replay and stale counter ride on the action itself.
    let armed = match fault {
        Some(FaultKind::Replay) => Some((FaultKind::Replay, Fault::ReplaySignature)),
        Some(FaultKind::StaleCounter) => Some((
            FaultKind::StaleCounter,
            Fault::StaleCounter(args.stale_counter_steps),
        )),
        _ => None,
    };
    if let Some((kind, armed)) = armed {
        let done = judge(context, kind, armed, device, keep, async |s| {
            act(s, &operation, reject, &pin).await
        })
        .await;
        if done {
            count_outcome(context, reject);
            return true;
        }
    }

    let step = if reject { Step::Reject } else { Step::Approve };
    let mut session = Session::new(client, device, keep);
    match timed(context, step, act(&mut session, &operation, reject, &pin)).await {
        Some(()) => {
            count_outcome(context, reject);
            true
        }
        None => {
            context.metrics.count(|c| c.failed += 1);
            false
        }
    }
}

fn count_outcome(context: &Context, reject: bool) {
    context.metrics.count(|c: &mut OperationCounts| {
        if reject {
            c.rejected += 1;
        } else {
            c.approved += 1;
        }
    });
}

async fn act(
    session: &mut Session<'_>,
    operation: &Operation,
    reject: bool,
    pin: &Factors,
) -> tokensim_device::Result<()> {
    if reject {
        session
            .reject_operation(&operation.id, "UNEXPECTED_OPERATION")
            .await
    } else {
        session.approve_operation(operation, pin, None).await
    }
}

/// Runs `call` with `fault` armed and records the verdict. Returns whether the call
/// itself succeeded.
async fn judge(
    context: &Context,
    kind: FaultKind,
    fault: Fault,
    device: &mut ActiveDevice,
    keep: &mut Keep<'_>,
    call: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<()>,
) -> bool {
    let run = match FaultRun::start(&context.client, device, keep, fault).await {
        Ok(run) => run,
        Err(e) => {
            context
                .metrics
                .error(format!("fault {kind}: status before"), e.to_string());
            return false;
        }
    };
    let result = {
        let mut session = Session::new(run.client(), device, keep);
        call(&mut session).await
    };
    let report = run.finish(device, keep, &result).await;
    context
        .metrics
        .fault(kind, report.matched, &report.required, &report.answered);
    result.is_ok()
}

/// The server's view of every device's operations, by status.
pub(crate) async fn server_view(context: &Context) -> Result<OperationCounts> {
    let mut counts = OperationCounts::default();
    let args = &context.args;
    let devices = args
        .shard
        .map_or(0..args.devices as usize, |shard| shard.range(args.devices));
    for index in devices {
        for (_, status) in context
            .backend
            .operation_statuses(&user_of(context, index))
            .await?
        {
            counts.created += 1;
            match status.as_str() {
                "APPROVED" => counts.approved += 1,
                "REJECTED" => counts.rejected += 1,
                _ => counts.failed += 1,
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_exact_counts_and_one_fault_per_operation() {
        let args = FleetPlan {
            devices: 20,
            operations: 2,
            reject_ratio: 0.25,
            faults: "wrong-pin=0.1,replay=0.05,clock-skew=0.05,stale-counter=0.05"
                .parse()
                .unwrap(),
            ..FleetPlan::default()
        };
        let plan = Plan::new(&args);
        assert_eq!(plan.count(FaultKind::WrongPin), 4);
        assert_eq!(plan.count(FaultKind::Replay), 2);
        assert_eq!(plan.count(FaultKind::ClockSkew), 2);
        assert_eq!(plan.count(FaultKind::StaleCounter), 2);
        assert_eq!((0..40).filter(|&i| plan.reject(i)).count(), 10);
        // Spread, not bunched at the start.
        assert!((20..40).any(|i| plan.fault(i).is_some()));
    }
}
