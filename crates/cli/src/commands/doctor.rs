//! `tokensim doctor --server URL [--config CONFIG]`: can this token work with that server?
//! (`tokensim_device::doctor::server`). Exit 0 when nothing failed, 3 when a check failed.

use clap::Args;
use powerauth::config::ApplicationConfig;
use serde::Serialize;
use tokensim_device::Error as DeviceError;
use tokensim_device::doctor::server::{ServerReport, Verdict, check_server};

use super::{Ctx, Result};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// `tokensim doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// The server's base URL (where /pa/v3 lives).
    #[arg(long, env = "TOKENSIM_SERVER")]
    pub server: String,
    /// The application's mobile SDK configuration string, to check it against the server.
    #[arg(long, env = "TOKENSIM_MOBILE_SDK_CONFIG", value_name = "CONFIG")]
    pub config: Option<String>,
}

/// What `tokensim --json doctor` prints: the overall verdict and every check.
#[derive(Serialize)]
struct Doctored<'a> {
    overall: Verdict,
    report: &'a ServerReport,
}

/// Runs every check and prints one line per check with what to do.
pub(super) async fn run(ctx: &Ctx<'_>, args: DoctorArgs) -> Result<Output> {
    ctx.no_fault("doctor")?;
    let application = match &args.config {
        Some(config) => Some(
            ApplicationConfig::from_mobile_sdk_config(config.trim())
                .map_err(|e| Failure::from(DeviceError::Config(e)))?,
        ),
        None => None,
    };
    if !(args.server.starts_with("http://") || args.server.starts_with("https://")) {
        return Err(Failure::new(
            Class::Usage,
            ErrorKind::Usage,
            format!("{:?} is not an http:// or https:// URL", args.server),
        )
        .hint("give the server's base URL, e.g. https://host/enrollment-server"));
    }
    let bar = ctx.spinner("checking the server…");
    let report = check_server(&ctx.client, &args.server, application.as_ref()).await;
    bar.finish_and_clear();
    let mut text = format!("doctor for {}\n", report.server);
    for check in &report.checks {
        let mark = match check.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "--  ",
        };
        text.push_str(&format!("  {mark} {}: {}\n", check.title, check.message));
        for line in &check.details {
            text.push_str(&format!("       {line}\n"));
        }
        if !matches!(check.verdict, Verdict::Ok) {
            text.push_str(&format!("       what to do: {}\n", check.hint));
        }
    }
    if let Some(version) = &report.server_version {
        text.push_str(&format!("  server version: {version}\n"));
    }
    let overall = report.overall();
    text.push_str(match overall {
        Verdict::Fail => "verdict: this token cannot work with the server as it is\n",
        Verdict::Warn => "verdict: the token works, with the warnings above\n",
        _ => "verdict: the token can work with this server\n",
    });
    let mut output = Output::typed(
        text,
        &Doctored {
            overall,
            report: &report,
        },
    )?;
    if overall == Verdict::Fail {
        output.code = Class::Rejected.code();
    }
    Ok(output)
}
