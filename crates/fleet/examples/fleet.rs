//! `tokensim fleet` until the CLI wires it: every option of [`tokensim_fleet::FleetArgs`].
//!
//! ```text
//! cargo run -p tokensim-fleet --example fleet -- --devices 50 --versions 3.0,3.3 \
//!     --operations 2 --reject-ratio 0.2 --faults wrong-pin=0.05,replay=0.05 --html fleet.html
//! ```
//! Exits 0 when the report is clean, 1 when a device failed or a fault got the wrong
//! answer, 2 when the fleet could not run.

use clap::Parser;

/// Activates a fleet of simulated PowerAuth tokens and reports throughput and latency.
#[derive(Parser)]
#[command(name = "fleet")]
struct Cli {
    #[command(flatten)]
    fleet: tokensim_fleet::FleetArgs,
}

fn main() {
    let cli = Cli::parse();
    match tokensim_fleet::run_blocking(&cli.fleet, &mut std::io::stdout()) {
        Ok(report) => std::process::exit(if report.is_clean() { 0 } else { 1 }),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
