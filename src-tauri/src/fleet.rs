//! The fleet panel: runs a fleet of simulated devices (`tokensim-fleet`, the engine behind
//! `tokensim fleet`) from the window, against a fresh in-memory sandbox or the app's own
//! server, streams its progress as `fleet-progress` events (one [`FleetTick`] a quarter
//! second: devices done, and per step how many finished and how fast), lets the tester
//! cancel it, and saves the final report as HTML or JSON.
//!
//! Only counts, timings, step names and the report cross into the web view: the app
//! server's Cloud API password stays here, and the fleet's devices never leave memory.

use crate::core::Core;
use crate::types::AppError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Emitter, State};
use tokensim_fleet::report::{
    ErrorCount, FaultVerdict, OperationCounts, StepLatency, TimelinePoint,
};
use tokensim_fleet::{Cancel, Credentials, Event, FaultKind, FleetPlan, FleetReport, Observer};
use ts_rs::TS;

type Result<T> = std::result::Result<T, AppError>;

/// The event the window listens to while a fleet runs.
pub const PROGRESS_EVENT: &str = "fleet-progress";

/// How often the window hears of the run.
const TICK: Duration = Duration::from_millis(250);

/// Where the fleet's devices go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FleetTarget {
    /// A sandbox of its own, in memory, started for this run and stopped after it (what
    /// `tokensim fleet` does without `--server`).
    Fresh,
    /// The server the app uses (its embedded sandbox or the outside server), through its
    /// Cloud API credentials.
    AppServer,
}

/// Shares of operations that get each fault, 0 to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FaultShares {
    /// Approve with a wrong PIN first.
    pub wrong_pin: f64,
    /// Send the approval twice.
    pub replay: f64,
    /// List operations with the device clock an hour ahead.
    pub clock_skew: f64,
    /// Approve with the counter some steps ahead.
    pub stale_counter: f64,
}

/// What the tester asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetRequest {
    /// Where the devices go.
    pub target: FleetTarget,
    /// How many devices.
    pub devices: u32,
    /// How many work at once.
    pub concurrency: u32,
    /// Protocol versions, spread over the devices (`3.0` … `3.3`).
    pub versions: Vec<String>,
    /// Payment operations per device.
    pub operations: u32,
    /// Signed requests per device before its operations.
    pub signatures: u32,
    /// The share of operations rejected, 0 to 1.
    pub reject_ratio: f64,
    /// The fault mix.
    pub faults: FaultShares,
    /// The application id on the app's server (ignored by a fresh sandbox).
    pub app_id: String,
    /// Run the PIN's PBKDF2 for every PIN signature, as the mobile SDK does, instead of
    /// keeping each device's knowledge key unlocked in memory (`tokensim fleet
    /// --pbkdf2-per-signature`; the same requests on the wire either way).
    pub pbkdf2_per_signature: bool,
}

impl FleetRequest {
    /// The request `plan` makes against a fresh sandbox: [`FleetPlan::default`] gives the
    /// panel the defaults `tokensim fleet` has (its flags default to the same plan).
    pub fn from_plan(plan: &FleetPlan) -> Self {
        let share = |kind| {
            plan.faults
                .0
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(0.0, |(_, ratio)| *ratio)
        };
        Self {
            target: FleetTarget::Fresh,
            devices: plan.devices,
            concurrency: plan.concurrency,
            versions: plan.versions.iter().map(ToString::to_string).collect(),
            operations: plan.operations,
            signatures: plan.signatures,
            reject_ratio: plan.reject_ratio,
            faults: FaultShares {
                wrong_pin: share(FaultKind::WrongPin),
                replay: share(FaultKind::Replay),
                clock_skew: share(FaultKind::ClockSkew),
                stale_counter: share(FaultKind::StaleCounter),
            },
            app_id: plan.app_id.clone(),
            pbkdf2_per_signature: !plan.keep_knowledge_keys,
        }
    }
}

/// Steps of one kind that finished within one tick.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StepTick {
    /// The step, as the report names it.
    pub step: String,
    /// How many finished (successfully or not).
    pub count: u32,
    /// How many of them failed.
    pub failed: u32,
    /// Their mean latency, ms.
    pub mean_ms: f64,
    /// The slowest, ms.
    pub max_ms: f64,
}

/// The run a quarter second at a time: the `fleet-progress` event's payload.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetTick {
    /// Which run (the number [`fleet_run`] returns with its report).
    pub run: u32,
    /// Seconds since the first device started.
    pub seconds: f64,
    /// Devices in the fleet.
    pub devices: u32,
    /// Devices done so far.
    pub completed: u32,
    /// Devices activated so far.
    pub activated: u32,
    /// Devices finished per second within this tick.
    pub devices_per_second: f64,
    /// Steps finished within this tick.
    pub steps: Vec<StepTick>,
    /// Steps failed so far.
    pub failed_steps: u32,
}

/// A finished (or cancelled) run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetOutcome {
    /// Which run.
    pub run: u32,
    /// Users on the server are `PREFIX-0`, `PREFIX-1`, … (`None` for a fresh sandbox,
    /// which is gone once the run ends).
    pub user_prefix: Option<String>,
    /// The report, as `tokensim fleet --json` prints it.
    pub report: FleetReport,
}

/// What the panel needs before a run.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FleetInfo {
    /// The app's server, when there is one.
    pub app_server: Option<String>,
    /// Whether that server is the app's embedded sandbox.
    pub app_server_embedded: bool,
    /// Where reports are saved unless the tester says otherwise.
    pub default_folder: String,
    /// Whether a fleet is running now.
    pub running: bool,
    /// The form's first values: `tokensim fleet`'s defaults ([`FleetRequest::from_plan`]
    /// of [`FleetPlan::default`]).
    pub defaults: FleetRequest,
}

/// Accumulates events between two ticks. Shared by the device tasks (a mutex held for a
/// few additions per event).
#[derive(Default)]
pub struct Collector {
    window: Mutex<Window>,
}

#[derive(Default)]
struct Window {
    started: Option<Instant>,
    last_tick: Option<Instant>,
    devices: u32,
    completed: u32,
    activated: u32,
    completed_in_tick: u32,
    failed_steps: u32,
    steps: BTreeMap<tokensim_fleet::Step, (u32, u32, Duration, Duration)>,
}

impl Observer for Collector {
    fn event(&self, event: &Event) {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Started { devices } => {
                let now = Instant::now();
                window.started = Some(now);
                window.last_tick = Some(now);
                window.devices = u32::try_from(*devices).unwrap_or(u32::MAX);
            }
            Event::Step { step, elapsed, ok } => {
                let entry = window.steps.entry(*step).or_default();
                entry.0 += 1;
                entry.2 += *elapsed;
                entry.3 = entry.3.max(*elapsed);
                if !ok {
                    entry.1 += 1;
                    window.failed_steps += 1;
                }
            }
            Event::DeviceDone { activated } => {
                window.completed += 1;
                window.completed_in_tick += 1;
                if *activated {
                    window.activated += 1;
                }
            }
        }
    }
}

impl Collector {
    /// What happened since the last tick, as of `now`; `None` before the fleet started.
    pub fn tick(&self, run: u32, now: Instant) -> Option<FleetTick> {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let started = window.started?;
        let since = now.saturating_duration_since(window.last_tick.unwrap_or(started));
        window.last_tick = Some(now);
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        let steps = std::mem::take(&mut window.steps)
            .into_iter()
            .map(|(step, (count, failed, total, max))| StepTick {
                step: step.as_str().to_owned(),
                count,
                failed,
                mean_ms: ms(total / count.max(1)),
                max_ms: ms(max),
            })
            .collect();
        let done = std::mem::take(&mut window.completed_in_tick);
        Some(FleetTick {
            run,
            seconds: (now.saturating_duration_since(started).as_secs_f64() * 1e3).round() / 1e3,
            devices: window.devices,
            completed: window.completed,
            activated: window.activated,
            devices_per_second: if since.is_zero() {
                0.0
            } else {
                (f64::from(done) / since.as_secs_f64() * 10.0).round() / 10.0
            },
            steps,
            failed_steps: window.failed_steps,
        })
    }
}

/// The panel's state: the run in progress and the last report.
#[derive(Default)]
pub struct FleetRunner {
    running: Mutex<Option<Cancel>>,
    last: Mutex<Option<FleetReport>>,
    runs: std::sync::atomic::AtomicU32,
}

impl FleetRunner {
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fleet plan for `request` against `core`'s server (or a fresh sandbox), and
/// the user prefix when the users stay on a server.
pub fn fleet_plan(core: &Core, request: &FleetRequest) -> Result<(FleetPlan, Option<String>)> {
    let mut args = request_plan(request)?;
    let prefix = match request.target {
        FleetTarget::Fresh => None,
        FleetTarget::AppServer => {
            let server = core.server().ok_or_else(|| {
                AppError::new(
                    "NO_SERVER",
                    core.server_error()
                        .unwrap_or_else(|| "the app has no server yet".to_owned()),
                )
            })?;
            let info = server.info;
            args.server = Some(info.url);
            if !info.cloud_user.is_empty() && !info.cloud_password.is_empty() {
                args.admin = Some(Credentials::new(info.cloud_user, &info.cloud_password));
            }
            if !request.app_id.trim().is_empty() {
                args.app_id = request.app_id.trim().to_owned();
            }
            let started = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            let prefix = format!("fleet-{started:x}");
            args.user_prefix = Some(prefix.clone());
            Some(prefix)
        }
    };
    args.validate()
        .map_err(|e| AppError::new("INPUT", e.to_string()))?;
    Ok((args, prefix))
}

/// The plan of `request`'s counts, shares and versions (checked), on the defaults of
/// [`FleetPlan::default`]; no server yet.
fn request_plan(request: &FleetRequest) -> Result<FleetPlan> {
    let input = |message: String| AppError::new("INPUT", message);
    if request.devices == 0 || request.devices > 100_000 {
        return Err(input("devices: from 1 to 100,000".to_owned()));
    }
    if request.concurrency == 0 || request.concurrency > 1024 {
        return Err(input("concurrency: from 1 to 1,024".to_owned()));
    }
    if request.operations > 100 || request.signatures > 100 {
        return Err(input(
            "operations and signatures per device: at most 100".to_owned(),
        ));
    }
    let share = |name: &str, value: f64| {
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(input(format!("{name}: a share from 0 to 1, not {value}")))
        }
    };
    let faults = &request.faults;
    let mix = [
        ("wrong-pin", share("wrong PIN", faults.wrong_pin)?),
        ("replay", share("replay", faults.replay)?),
        ("clock-skew", share("clock skew", faults.clock_skew)?),
        (
            "stale-counter",
            share("stale counter", faults.stale_counter)?,
        ),
    ]
    .iter()
    .filter(|(_, ratio)| *ratio > 0.0)
    .map(|(name, ratio)| format!("{name}={ratio}"))
    .collect::<Vec<_>>()
    .join(",");
    let versions = request
        .versions
        .iter()
        .map(|v| v.parse().map_err(|e| input(format!("{e}"))))
        .collect::<Result<Vec<_>>>()?;
    if versions.is_empty() {
        return Err(input("choose at least one protocol version".to_owned()));
    }
    Ok(FleetPlan {
        devices: request.devices,
        concurrency: request.concurrency,
        versions,
        operations: request.operations,
        signatures: request.signatures,
        reject_ratio: share("reject ratio", request.reject_ratio)?,
        faults: mix.parse().map_err(input)?,
        keep_knowledge_keys: !request.pbkdf2_per_signature,
        ..FleetPlan::default()
    })
}

/// Where reports go by default: the downloads folder, else home, else the temp folder.
fn default_folder() -> PathBuf {
    dirs::download_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir)
}

/// The app's server and the default report folder.
#[tauri::command]
pub fn fleet_info(core: State<'_, Arc<Core>>, runner: State<'_, Arc<FleetRunner>>) -> FleetInfo {
    let server = core.server();
    FleetInfo {
        app_server_embedded: server.as_ref().is_some_and(|s| s.info.embedded),
        app_server: server.map(|s| s.info.url),
        default_folder: default_folder().display().to_string(),
        running: FleetRunner::lock(&runner.running).is_some(),
        defaults: FleetRequest::from_plan(&FleetPlan::default()),
    }
}

/// Runs a fleet; `fleet-progress` events report it while it runs. Returns the report
/// (cancelled or not). One fleet at a time.
#[tauri::command]
pub async fn fleet_run(
    app: AppHandle,
    core: State<'_, Arc<Core>>,
    runner: State<'_, Arc<FleetRunner>>,
    request: FleetRequest,
) -> Result<FleetOutcome> {
    let (args, user_prefix) = fleet_plan(&core, &request)?;
    let cancel = {
        let mut running = FleetRunner::lock(&runner.running);
        if running.is_some() {
            return Err(AppError::new(
                "BUSY",
                "a fleet is already running: cancel it or wait for its report",
            ));
        }
        let cancel = Cancel::new();
        *running = Some(cancel.clone());
        cancel
    };
    let run = runner
        .runs
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;
    let collector = Arc::new(Collector::default());
    let ticker = {
        let (collector, app) = (collector.clone(), app.clone());
        tauri::async_runtime::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                if let Some(tick) = collector.tick(run, Instant::now()) {
                    let _ = app.emit(PROGRESS_EVENT, tick);
                }
            }
        })
    };
    let result = tokensim_fleet::execute_with(&args, collector.clone(), cancel).await;
    ticker.abort();
    // The last steps, so the chart ends where the report does.
    if let Some(tick) = collector.tick(run, Instant::now()) {
        let _ = app.emit(PROGRESS_EVENT, tick);
    }
    *FleetRunner::lock(&runner.running) = None;
    // A thousand devices' buffers are freed: give their pages back.
    tokensim_memory::release();
    let report = result.map_err(|e| AppError::new("FLEET", e.to_string()))?;
    *FleetRunner::lock(&runner.last) = Some(report.clone());
    Ok(FleetOutcome {
        run,
        user_prefix,
        report,
    })
}

/// Stops the running fleet; its report comes back from [`fleet_run`]. Returns whether a
/// fleet was running.
#[tauri::command]
pub fn fleet_cancel(runner: State<'_, Arc<FleetRunner>>) -> bool {
    match FleetRunner::lock(&runner.running).as_ref() {
        Some(cancel) => {
            cancel.cancel();
            true
        }
        None => false,
    }
}

/// Saves the last report in `folder` (the default folder when empty) as `html` or `json`;
/// returns the file's path.
#[tauri::command]
pub fn fleet_save(
    runner: State<'_, Arc<FleetRunner>>,
    format: String,
    folder: String,
) -> Result<String> {
    let report = FleetRunner::lock(&runner.last)
        .clone()
        .ok_or_else(|| AppError::new("INPUT", "no fleet has run yet: nothing to save"))?;
    save(&report, &format, &folder).map(|path| path.display().to_string())
}

/// Writes `report` into `folder` as `format` (`html` or `json`).
pub fn save(report: &FleetReport, format: &str, folder: &str) -> Result<PathBuf> {
    let (text, extension) = match format {
        "html" => (report.to_html(), "html"),
        "json" => (report.to_json() + "\n", "json"),
        other => {
            return Err(AppError::new(
                "INPUT",
                format!("{other:?}: save as html or json"),
            ));
        }
    };
    let folder = match folder.trim() {
        "" => default_folder(),
        given => PathBuf::from(given),
    };
    std::fs::create_dir_all(&folder).map_err(|e| {
        AppError::new(
            "SAVE",
            format!("the folder {} cannot be created: {e}", folder.display()),
        )
    })?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let path = folder.join(format!("tokensim-fleet-{stamp}.{extension}"));
    std::fs::write(&path, text).map_err(|e| {
        AppError::new(
            "SAVE",
            format!("the report cannot be written to {}: {e}", path.display()),
        )
    })?;
    Ok(path)
}

/// The declarations of `ui/src/lib/fleet/bindings.ts`.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/fleet.rs by ts-rs. Do not edit: run\n\
         // `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app fleet_bindings` instead.\n",
    );
    for decl in [
        <FleetTarget as TS>::decl(),
        <FaultShares as TS>::decl(),
        <FleetRequest as TS>::decl(),
        <StepTick as TS>::decl(),
        <FleetTick as TS>::decl(),
        <FleetInfo as TS>::decl(),
        <FleetOutcome as TS>::decl(),
        <FleetReport as TS>::decl(),
        <OperationCounts as TS>::decl(),
        <StepLatency as TS>::decl(),
        <ErrorCount as TS>::decl(),
        <FaultVerdict as TS>::decl(),
        <TimelinePoint as TS>::decl(),
    ] {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The panel's first values are `tokensim fleet`'s: the request made of
    /// `FleetPlan::default()` plans `FleetPlan::default()` again (no numbers copied into the
    /// panel), and a request's fault mix, versions and PBKDF2 choice survive the trip.
    #[test]
    fn the_panel_starts_from_the_commands_defaults() {
        let defaults = FleetRequest::from_plan(&FleetPlan::default());
        assert_eq!(defaults.target, FleetTarget::Fresh);
        assert_eq!(defaults.signatures, 0);
        assert!(!defaults.pbkdf2_per_signature);
        let plan = request_plan(&defaults).unwrap();
        assert_eq!(format!("{plan:?}"), format!("{:?}", FleetPlan::default()));

        let custom = FleetPlan {
            devices: 7,
            signatures: 3,
            versions: vec![
                powerauth::ProtocolVersion::V3_0,
                powerauth::ProtocolVersion::V3_3,
            ],
            faults: "wrong-pin=0.1,stale-counter=0.25".parse().unwrap(),
            reject_ratio: 0.2,
            keep_knowledge_keys: false,
            ..FleetPlan::default()
        };
        let request = FleetRequest::from_plan(&custom);
        assert!(request.pbkdf2_per_signature);
        assert_eq!(request.faults.stale_counter, 0.25);
        let again = request_plan(&request).unwrap();
        assert_eq!(format!("{again:?}"), format!("{custom:?}"));
    }

    #[test]
    fn fleet_bindings_are_fresh() {
        crate::types::assert_bindings_fresh("fleet/bindings.ts", &typescript(), "fleet_bindings");
    }

    #[test]
    fn a_tick_sums_the_steps_since_the_last_one() {
        let collector = Collector::default();
        let start = Instant::now();
        assert_eq!(collector.tick(1, start), None, "nothing before the start");
        collector.event(&Event::Started { devices: 4 });
        for (ms, ok) in [(10, true), (30, true), (50, false)] {
            collector.event(&Event::Step {
                step: tokensim_fleet::Step::Activation,
                elapsed: Duration::from_millis(ms),
                ok,
            });
        }
        collector.event(&Event::DeviceDone { activated: true });
        collector.event(&Event::DeviceDone { activated: false });
        let tick = collector
            .tick(1, Instant::now() + Duration::from_millis(500))
            .unwrap();
        assert_eq!((tick.devices, tick.completed, tick.activated), (4, 2, 1));
        assert_eq!(tick.failed_steps, 1);
        assert_eq!(
            tick.steps,
            vec![StepTick {
                step: "activation".to_owned(),
                count: 3,
                failed: 1,
                mean_ms: 30.0,
                max_ms: 50.0,
            }]
        );
        assert!(tick.devices_per_second > 0.0 && tick.devices_per_second <= 4.0);
        // The next tick starts empty but keeps the totals.
        let next = collector
            .tick(1, Instant::now() + Duration::from_secs(1))
            .unwrap();
        assert!(next.steps.is_empty());
        assert_eq!((next.completed, next.devices_per_second), (2, 0.0));
    }

    #[test]
    fn a_report_is_saved_as_html_or_json_and_nothing_else() {
        let folder = tempfile::tempdir().unwrap();
        let report = FleetReport {
            devices: 3,
            activated: 3,
            ..FleetReport::default()
        };
        let folder_text = folder.path().display().to_string();
        let json = save(&report, "json", &folder_text).unwrap();
        let parsed: FleetReport =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(parsed, report);
        let html = save(&report, "html", &folder_text).unwrap();
        assert!(std::fs::read_to_string(html).unwrap().contains("<svg"));
        let refused = save(&report, "pdf", &folder_text).unwrap_err();
        assert_eq!(refused.code, "INPUT");
    }
}
