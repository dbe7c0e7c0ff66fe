//! `tokensim`: the simulated PowerAuth mobile token on the command line.
//!
//! Every command reads naturally (`tokensim activate`, `tokensim ops approve`), prints text
//! or, with `--json`, one JSON document on stdout; traces, warnings and progress go to stderr.
//! Devices live in the wallet shared with the desktop app (`tokensim-wallet`).
//!
//! # What it refuses to do
//!
//! It never stores a secret in plain text or falls back from the keychain on its own, never
//! prints a secret unless `--reveal-secrets` is given, and never retries a signed request
//! (each consumes a counter value).
#![warn(unreachable_pub)]

mod cli;
mod commands;
mod error;
mod fault;
mod output;
mod trace;

use std::process::ExitCode;

use clap::Parser;

use crate::error::{Class, ErrorKind, Failure};

/// mimalloc instead of the system allocator: a fleet's many small, short-lived allocations
/// across threads (HTTP bodies, JSON, SQLite rows) cost less (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    let json = cli.global.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return report(
                &Failure::new(
                    Class::Error,
                    ErrorKind::Runtime,
                    format!("cannot start the async runtime: {error}"),
                ),
                json,
            );
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => report(&failure, json),
    }
}

/// Prints a failure (`error: … / hint: …`, or JSON on stdout) and returns its exit code.
fn report(failure: &Failure, json: bool) -> ExitCode {
    if let Some(line) = json.then(|| error::to_json(failure)).flatten() {
        output::emit(&format!("{line}\n"));
    } else {
        let mut text = format!("error: {}\n", failure.message);
        if let Some(hint) = &failure.hint {
            text.push_str(&format!("  hint: {hint}\n"));
        }
        output::emit_stderr(&text);
    }
    ExitCode::from(failure.class.code())
}

/// Clap's errors: exit 2 (help and version: 0), as JSON when `--json` was among the words.
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        output::emit(&error.render().to_string());
        return ExitCode::SUCCESS;
    }
    if std::env::args().any(|arg| arg == "--json") {
        let text = error.render().to_string();
        let first = text.lines().next().unwrap_or_default();
        let message = first.strip_prefix("error: ").unwrap_or(first);
        let failure = Failure::new(Class::Usage, crate::error::ErrorKind::Usage, message)
            .hint("see tokensim --help");
        match error::to_json(&failure) {
            Some(line) => output::emit(&format!("{line}\n")),
            None => {
                let _ = error.print();
            }
        }
    } else {
        let _ = error.print();
    }
    ExitCode::from(Class::Usage.code())
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        // The engine's warnings reach the terminal as events, worded for the tester.
        (false, 0) => "warn,tokensim_device=error",
        (false, 1) => "info,sqlx=warn",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TOKENSIM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
