//! The fleet benchmark: 1,000 devices against the embedded sandbox (in-memory SQLite, in
//! this process), each activating and approving one payment: wall time, devices per
//! second, and where the time goes (latency and summed time per step).
//!
//! `make bench` runs it (release build). Sizes: `TOKENSIM_FLEET_DEVICES` (default 1000),
//! `TOKENSIM_FLEET_CONCURRENCY` (default 64); `TOKENSIM_FLEET_RUNS` picks runs by name
//! (`sdk,shared,keep,mixed`, the default: all), e.g. one run under a profiler. Figures are
//! printed, never asserted.

use powerauth::ProtocolVersion;
use tokensim_fleet::{FleetArgs, FleetReport};

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

async fn measure(title: &str, args: FleetArgs) {
    let cpu_before = cpu_seconds();
    match tokensim_fleet::execute(&args).await {
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
        }
        Err(e) => println!("{title}: the fleet did not run: {e}"),
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
    let base = FleetArgs {
        devices,
        concurrency,
        operations: 1,
        signatures: 0,
        no_status: true,
        ..FleetArgs::default()
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("Fleet: activate + approve one payment per device, embedded sandbox, {cores} cores");
    let runs = [
        (
            "sdk",
            format!("{devices} devices, 3.3, {concurrency} at once"),
            base.clone(),
        ),
        (
            "shared",
            format!(
                "{devices} devices, 3.3, {concurrency} at once, one shared application temporary key"
            ),
            FleetArgs {
                share_temporary_keys: true,
                ..base.clone()
            },
        ),
        (
            "keep",
            format!(
                "{devices} devices, 3.3, {concurrency} at once, knowledge keys kept unlocked (--keep-knowledge-keys)"
            ),
            FleetArgs {
                keep_knowledge_keys: true,
                ..base.clone()
            },
        ),
        (
            "mixed",
            format!("{devices} devices, 3.0-3.3 mixed, {concurrency} at once"),
            FleetArgs {
                versions: ProtocolVersion::ALL.to_vec(),
                ..base.clone()
            },
        ),
    ];
    let chosen = std::env::var("TOKENSIM_FLEET_RUNS").unwrap_or_default();
    for (name, title, args) in runs {
        if chosen.is_empty() || chosen.split(',').any(|c| c.trim() == name) {
            measure(&title, args).await;
        }
    }
}
