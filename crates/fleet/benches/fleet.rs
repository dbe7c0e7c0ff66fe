//! The fleet benchmark: 1,000 devices against the embedded sandbox (in-memory SQLite, in
//! this process), each activating, checking its status and approving one payment: wall
//! time, devices per second, CPU time per device, and where the time goes (latency and
//! summed time per step).
//!
//! The first run, `cli`, is what users run: `tokensim fleet --devices 1000 --concurrency
//! 64`, as the plan the CLI parses it into (every other field `FleetPlan::default()`, which
//! a CLI test checks is what `tokensim fleet` with no options gives), run through
//! [`tokensim_fleet::run`] as the CLI calls it, under the CLI's log filter. When
//! `TOKENSIM_BIN` names the release `tokensim` binary (`make bench-fleet` builds it), the
//! same command runs as a child process (`binary`), with its CPU time per device and the
//! ratio of its wall time to the in-process run. The other runs change one thing against
//! the default: `sdk` runs the PIN's PBKDF2 for every PIN signature
//! (`--pbkdf2-per-signature`), `signed` adds one PIN-signed request per device
//! (`--signatures 1`), `shared` shares one application temporary key, `mixed` speaks
//! 3.0-3.3.
//!
//! `make bench` runs it (release build). Sizes: `TOKENSIM_FLEET_DEVICES` (default 1000),
//! `TOKENSIM_FLEET_CONCURRENCY` (default 64); `TOKENSIM_FLEET_RUNS` picks runs by name
//! (`cli,binary,sdk,signed,shared,mixed`, the default: all), e.g. one run under a profiler.
//! Figures are printed, never asserted.

use powerauth::ProtocolVersion;
use std::time::Instant;
use tokensim_fleet::{FleetPlan, FleetReport};

/// The `tokensim` binary's allocator, so the in-process run measures what the binary runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) this process used so far, from `/proc/self/stat` (Linux;
/// `None` elsewhere). Assumes the usual 100 clock ticks per second.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state (field 3).
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU seconds (user + system) of this process's waited-for children, from
/// `/proc/self/stat` (Linux).
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let cutime: f64 = fields.get(13)?.parse().ok()?;
    let cstime: f64 = fields.get(14)?.parse().ok()?;
    Some((cutime + cstime) / 100.0)
}

/// The release binary, run as users run it; returns its wall seconds (process start to exit).
fn measure_binary(binary: &str, words: &[String], in_process_wall: Option<f64>) {
    let before = children_cpu_seconds();
    let started = Instant::now();
    let output = std::process::Command::new(binary)
        .args(words)
        .arg("--json")
        .output();
    let wall = started.elapsed().as_secs_f64();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            println!(
                "binary: {binary} exited {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            return;
        }
        Err(e) => {
            println!("binary: {binary} did not start: {e}");
            return;
        }
    };
    let Ok(report) = serde_json::from_slice::<FleetReport>(&output.stdout) else {
        println!("binary: the output is not a fleet report");
        return;
    };
    print(
        &format!("the release binary: {binary} {}", words.join(" ")),
        &report,
    );
    println!("  process wall time (start to exit, sandbox start included): {wall:.2} s");
    if let (Some(before), Some(after)) = (before, children_cpu_seconds()) {
        let cpu = after - before;
        println!(
            "  CPU time of the process: {cpu:.2} s = {:.2} ms per device",
            cpu * 1000.0 / report.devices.max(1) as f64
        );
    }
    if let Some(wall) = in_process_wall {
        println!(
            "  ratio binary/in-process (fleet wall time): {:.2}",
            report.wall_seconds / wall.max(1e-9)
        );
    }
}

async fn measure(title: &str, args: FleetPlan) -> Option<f64> {
    let cpu_before = cpu_seconds();
    let mut sink = Vec::new();
    match tokensim_fleet::run(&args, &mut sink).await {
        Ok(report) => {
            print(title, &report);
            if let (Some(before), Some(after)) = (cpu_before, cpu_seconds()) {
                let cpu = after - before;
                println!(
                    "  CPU time of the process (fleet + sandbox, set-up included): {cpu:.2} s = {:.2} ms per device; {:.0} % of the 2 cores' wall time",
                    cpu * 1000.0 / report.devices.max(1) as f64,
                    cpu * 100.0 / (2.0 * report.wall_seconds.max(1e-9))
                );
            }
            Some(report.wall_seconds)
        }
        Err(e) => {
            println!("{title}: the fleet did not run: {e}");
            None
        }
    }
}

fn print(title: &str, report: &FleetReport) {
    println!(
        "\n{title}\n  {} devices in {:.2} s = {:.1} devices/s ({} requests, {:.0}/s); {} approved, {} failed, errors {}, server {}",
        report.activated,
        report.wall_seconds,
        report.devices_per_second,
        report.requests,
        report.requests_per_second,
        report.operations.approved,
        report.operations.failed,
        report.errors.iter().map(|e| e.count).sum::<u64>(),
        match &report.server_view {
            Some(view) if *view == report.operations => "agrees",
            Some(_) => "DISAGREES",
            None => "not asked",
        }
    );
    println!("  knowledge keys: {}", report.knowledge_keys);
    for step in &report.steps {
        println!(
            "  {:<26} p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  summed {:>7.2} s",
            step.step, step.p50_ms, step.p95_ms, step.p99_ms, step.total_seconds
        );
    }
    for error in &report.errors {
        println!(
            "  error x{}: {} ({})",
            error.count, error.kind, error.example
        );
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: skip the load then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let devices = setting("TOKENSIM_FLEET_DEVICES", 1000);
    let concurrency = setting("TOKENSIM_FLEET_CONCURRENCY", 64);
    // What users type, after `tokensim`.
    let words: Vec<String> = [
        "fleet".to_owned(),
        "--devices".to_owned(),
        devices.to_string(),
        "--concurrency".to_owned(),
        concurrency.to_string(),
    ]
    .to_vec();
    let users = FleetPlan {
        devices,
        concurrency,
        ..FleetPlan::default()
    };
    // The CLI's log filter at its default verbosity.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "warn,tokensim_device=error",
        ))
        .with_writer(std::io::stderr)
        .try_init();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "Fleet: activate, check the status, approve one payment per device, embedded sandbox, {cores} cores"
    );
    let chosen = std::env::var("TOKENSIM_FLEET_RUNS").unwrap_or_default();
    let wanted = |name: &str| chosen.is_empty() || chosen.split(',').any(|c| c.trim() == name);
    let mut users_wall = None;
    if wanted("cli") {
        users_wall = measure(
            &format!("what users run: tokensim {}", words.join(" ")),
            users.clone(),
        )
        .await;
    }
    if wanted("binary")
        && let Ok(binary) = std::env::var("TOKENSIM_BIN")
    {
        measure_binary(&binary, &words, users_wall);
    }
    let runs = [
        (
            "sdk",
            format!(
                "tokensim {} --pbkdf2-per-signature (the SDK's PBKDF2 for every PIN signature)",
                words.join(" ")
            ),
            FleetPlan {
                keep_knowledge_keys: false,
                ..users.clone()
            },
        ),
        (
            "signed",
            format!(
                "tokensim {} --signatures 1 (one PIN-signed request per device more)",
                words.join(" ")
            ),
            FleetPlan {
                signatures: 1,
                ..users.clone()
            },
        ),
        (
            "shared",
            format!(
                "tokensim {} --share-temporary-keys (one shared application temporary key)",
                words.join(" ")
            ),
            FleetPlan {
                share_temporary_keys: true,
                ..users.clone()
            },
        ),
        (
            "mixed",
            format!("tokensim {} --versions 3.0,3.1,3.2,3.3", words.join(" ")),
            FleetPlan {
                versions: ProtocolVersion::ALL.to_vec(),
                ..users.clone()
            },
        ),
    ];
    for (name, title, args) in runs {
        if wanted(name) {
            measure(&title, args).await;
        }
    }
}
