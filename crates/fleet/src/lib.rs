//! # tokensim-fleet
//!
//! Fleets of simulated PowerAuth tokens, for testing a backend with many devices at once:
//! `tokensim fleet --devices 1000 --concurrency 64 --versions 3.0,3.3 --operations 2
//! --reject-ratio 0.2 --faults wrong-pin=0.05,replay=0.02`.
//!
//! Each device registers on the server (Cloud API with `--admin`, else `/rest/v3`),
//! activates through `tokensim-device`, fetches its status, signs, then approves or
//! rejects its payment operations; a share of operations get a fault (wrong PIN, replay,
//! clock skew, stale counter) and the device engine's [`tokensim_device::FaultReport`]
//! judges whether the server answered what the protocol requires. Without `--server` the
//! fleet starts an embedded sandbox in this process (recovery codes off unless
//! `--recovery-codes`: their Argon2 hash would dominate the run).
//!
//! A front end that shows the run itself (the desktop app's fleet panel) calls
//! [`execute_with`]: an [`Observer`] hears of every completed step and device, and a
//! [`Cancel`] stops the run (the report then says `cancelled`). `--keep-knowledge-keys`
//! keeps each device's knowledge key unlocked in memory instead of running the PIN's
//! PBKDF2 for every PIN signature (the SDK's way, the default); the report says which ran.
//!
//! The [`FleetReport`] holds throughput, latency p50/p95/p99 per step (HdrHistogram),
//! errors by kind, fault verdicts and the server's own count of the operations after the
//! run; it renders as a terminal table, JSON, or a self-contained HTML page with charts.
//!
//! A run is described by a plain [`FleetPlan`] (the CLI parses `tokensim fleet`'s options
//! into one, the app's fleet panel fills one in); the crate knows no command line.
//!
//! ```no_run
//! let plan = tokensim_fleet::FleetPlan {
//!     devices: 100,
//!     concurrency: 16,
//!     ..tokensim_fleet::FleetPlan::default()
//! };
//! let report = tokensim_fleet::run_blocking(&plan, &mut std::io::stdout())?;
//! std::process::exit(if report.is_clean() { 0 } else { 1 });
//! # Ok::<(), tokensim_fleet::Error>(())
//! ```
//!
//! ## What it refuses to do
//!
//! It keeps devices in memory unless told otherwise (`--fleet-store file` or `keychain`), never
//! prints a PIN, key or credential, does not retry a failed device (a failure is a finding
//! and is counted), and sends traffic only to the server it is given.
#![warn(unreachable_pub)]

pub mod backend;
mod engine;
pub mod error;
mod facemap;
pub mod metrics;
mod oauth;
pub mod observe;
pub mod plan;
pub mod profiles;
pub mod report;
pub mod shard;

pub use error::{Error, Result};
pub use metrics::Step;
pub use observe::{Cancel, Event, Observer, Unobserved};
pub use plan::{Credentials, FaultKind, FaultMix, FleetPlan, MergePlan, StoreKind};
pub use report::FleetReport;
pub use shard::{Shard, merge};

use std::io::Write;
use std::sync::Arc;

/// Runs the fleet `plan` describes, writes the report to `output` (a table, or JSON with
/// `json`) and the HTML page to `html`, and returns it. The progress bar goes to stderr
/// when it is a terminal.
pub async fn run(plan: &FleetPlan, output: &mut (dyn Write + Send)) -> Result<FleetReport> {
    let report = execute(plan).await?;
    write_report(&report, plan.json, plan.html.as_deref(), output)?;
    Ok(report)
}

/// `tokensim fleet merge`: reads the shard reports `merge` names, [`merge`]s them, writes the
/// result to `output` (and `html`) as [`run`] does, and returns it.
pub fn run_merge(merge: &MergePlan, output: &mut (dyn Write + Send)) -> Result<FleetReport> {
    let report = merge_files(&merge.reports)?;
    write_report(&report, merge.json, merge.html.as_deref(), output)?;
    Ok(report)
}

fn write_report(
    report: &FleetReport,
    json: bool,
    html: Option<&std::path::Path>,
    output: &mut (dyn Write + Send),
) -> Result<()> {
    let text = if json {
        report.to_json() + "\n"
    } else {
        report.to_table()
    };
    output
        .write_all(text.as_bytes())
        .and_then(|()| output.flush())
        .map_err(|e| Error::Output {
            target: "the output".to_owned(),
            detail: e.to_string(),
        })?;
    if let Some(path) = html {
        std::fs::write(path, report.to_html()).map_err(|e| Error::Output {
            target: path.display().to_string(),
            detail: e.to_string(),
        })?;
    }
    Ok(())
}

/// Reads the shard reports at `paths` and [`merge`]s them.
pub fn merge_files(paths: &[std::path::PathBuf]) -> Result<FleetReport> {
    let reports = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Options(format!(
                    "cannot read the shard report {}: {e}",
                    path.display()
                ))
            })?;
            serde_json::from_str(&text).map_err(|e| {
                Error::Options(format!(
                    "{} is not a fleet report written by `tokensim fleet --shard K/N --json`: {e}",
                    path.display()
                ))
            })
        })
        .collect::<Result<Vec<FleetReport>>>()?;
    merge(&reports)
}

/// [`run`] on a multi-threaded tokio runtime of its own.
pub fn run_blocking(args: &FleetPlan, output: &mut (dyn Write + Send)) -> Result<FleetReport> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime(e.to_string()))?
        .block_on(run(args, output))
}

/// Runs the fleet and returns the report, printing nothing (but the progress bar).
pub async fn execute(args: &FleetPlan) -> Result<FleetReport> {
    execute_inner(args, None, Cancel::new()).await
}

/// [`execute`] for a front end that shows the run itself: `observer` hears of every
/// completed step and device (there is no progress bar), and raising `cancel` stops the
/// run (the report then says `cancelled` and the server is not asked for its view).
pub async fn execute_with(
    args: &FleetPlan,
    observer: Arc<dyn Observer>,
    cancel: Cancel,
) -> Result<FleetReport> {
    execute_inner(args, Some(observer), cancel).await
}

async fn execute_inner(
    args: &FleetPlan,
    observer: Option<Arc<dyn Observer>>,
    cancel: Cancel,
) -> Result<FleetReport> {
    args.validate()?;
    let (sandbox, url, target) = match &args.server {
        Some(url) => {
            let target = profiles::Target {
                admin: args.admin.as_ref().map(|a| facemap::Admin {
                    user: a.user.clone(),
                    password: zeroize::Zeroizing::new(a.password().to_owned()),
                }),
                clock: None,
            };
            (None, url.trim_end_matches('/').to_owned(), target)
        }
        None => {
            let config = sandbox::Config {
                recovery_codes: args.recovery_codes,
                ..sandbox::Config::in_memory()
            };
            // The system clock, which the facemap devices move past their transactions'
            // lifetime after the run (`timeout`).
            let clock = facemap::ShiftedClock::default();
            let sandbox = sandbox::Sandbox::start_with(
                config,
                Arc::new(clock.clone()),
                Arc::new(powerauth::SystemRandom::new()),
            )
            .await
            .map_err(|e| Error::Sandbox(e.to_string()))?;
            let url = sandbox.url().to_owned();
            let target = profiles::Target {
                admin: Some(facemap::Admin {
                    user: sandbox.admin().username.clone(),
                    password: zeroize::Zeroizing::new(sandbox.admin().password.clone()),
                }),
                clock: Some(clock),
            };
            (Some(sandbox), url, target)
        }
    };
    // The one dispatch point between PowerAuth and the device profiles.
    let result = match profiles::plan(&args.profiles)? {
        None => execute_on(args, &url, sandbox.is_some(), observer, cancel).await,
        Some(profiles) => profiles::execute(args, &profiles, &url, target, observer, cancel).await,
    };
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    let mut report = result?;
    if args.server.is_none() {
        report.target = if args.recovery_codes {
            "embedded sandbox (with recovery codes)".to_owned()
        } else {
            "embedded sandbox".to_owned()
        };
    }
    Ok(report)
}

async fn execute_on(
    args: &FleetPlan,
    url: &str,
    embedded: bool,
    observer: Option<Arc<dyn Observer>>,
    cancel: Cancel,
) -> Result<FleetReport> {
    let metrics = Arc::new(metrics::Metrics::new());
    let progress = match &observer {
        Some(_) => indicatif::ProgressBar::hidden(),
        None => engine::progress_bar(args),
    };
    let observer = observer.unwrap_or_else(|| Arc::new(Unobserved));
    let set_up = engine::context(args, url, embedded, metrics.clone(), observer, cancel);
    let context = Arc::new(set_up.await?);
    // The report's clock starts with the first device, not with the set-up.
    metrics.restart_clock();
    context.observer.event(&Event::Started {
        devices: u64::from(args.devices),
    });
    let mut report = engine::run_devices(context.clone(), progress).await;
    if !args.no_verify && !report.cancelled {
        report.server_view = Some(engine::server_view(&context).await?);
    }
    Ok(report)
}
