//! `tokensim fleet`: many devices at once (the fleet engine prints its own report).

use super::{Ctx, Result};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit};
use clap::builder::TypedValueParser as _;
use std::path::PathBuf;
use tokensim_fleet::FleetPlan;

/// `tokensim fleet`: the fleet engine writes its own report (table or JSON, and `--html`);
/// a fleet that is not clean (a device failed, an operation failed, a fault answered
/// wrongly) exits 3, or 1 when every error was the server out of reach.
pub(super) async fn fleet(ctx: &Ctx<'_>, args: FleetArgs) -> Result<Output> {
    ctx.no_fault("fleet (use its --faults mix)")?;
    let mut report_text = Vec::new();
    let ran = match args.command.clone() {
        Some(FleetCommand::Merge(merge)) => tokensim_fleet::run_merge(
            &tokensim_fleet::MergePlan {
                reports: merge.reports,
                json: merge.json || ctx.g.json,
                html: merge.html,
            },
            &mut report_text,
        ),
        None => {
            let mut plan = args.into_plan();
            plan.json |= ctx.g.json;
            tokensim_fleet::run(&plan, &mut report_text).await
        }
    };
    let report = ran.map_err(|e| {
        let class = match e {
            tokensim_fleet::Error::Options(_) => Class::Usage,
            _ => Class::Error,
        };
        Failure::new(class, ErrorKind::Fleet, e.to_string())
            .hint("fix what the message says and run the fleet again (tokensim fleet --help)")
    })?;
    emit(&String::from_utf8_lossy(&report_text));
    Ok(Output {
        text: String::new(),
        json: serde_json::Value::Null,
        code: if report.is_clean() {
            0
        } else if report.failed_on_network_only() {
            1
        } else {
            3
        },
    })
}

/// `tokensim fleet`: activate many simulated devices, run operations on them, report.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct FleetArgs {
    /// How many devices to activate.
    #[arg(long, default_value_t = FleetPlan::default().devices, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub devices: u32,

    /// How many devices work at the same time.
    #[arg(long, default_value_t = FleetPlan::default().concurrency, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: u32,

    /// An outside PowerAuth-compatible server (base URL). Without it the fleet starts an
    /// embedded sandbox in this process.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// The application's `mobileSdkConfig` (Base64) on the outside server. Without it the
    /// fleet reads it from the server's `/rest/v3/application/detail`.
    #[arg(long = "config", value_name = "MOBILE_SDK_CONFIG", requires = "server")]
    pub mobile_sdk_config: Option<String>,

    /// Cloud API credentials `user:password` (an integration user) to create registrations
    /// and operations on the outside server. Without them the fleet uses the server's
    /// unauthenticated `/rest/v3` API.
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "TOKENSIM_FLEET_ADMIN",
        hide_env_values = true,
        requires = "server"
    )]
    pub admin: Option<tokensim_fleet::Credentials>,

    /// The application id on the server (`appId` / `applicationId`).
    #[arg(long, default_value = "tokensim")]
    pub app_id: String,

    /// Protocol versions, spread evenly over the devices (device i speaks the i-th, modulo).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "3.3",
        value_name = "3.0,3.1,3.2,3.3"
    )]
    pub versions: Vec<powerauth::ProtocolVersion>,

    /// Payment operations created on the server per device, each approved or rejected.
    #[arg(long, default_value_t = FleetPlan::default().operations)]
    pub operations: u32,

    /// Signed requests (`/pa/v3/signature/validate`, PIN) per device before its operations
    /// (none by default: each device activates, checks its status and approves its
    /// payments).
    #[arg(long, default_value_t = FleetPlan::default().signatures)]
    pub signatures: u32,

    /// The embedded sandbox issues a recovery code and PUK with each activation (its
    /// Argon2 hash of the PUK costs more than the rest of the activation); off by default.
    #[arg(long, conflicts_with = "server")]
    pub recovery_codes: bool,

    /// Run the PIN's PBKDF2 (10,000 iterations) for every PIN signature, as the mobile SDK
    /// does, instead of keeping each device's knowledge key unlocked in memory from its
    /// activation on (the default: a load generator's CPU goes to the requests). The
    /// requests are byte for byte the same either way; the activation always wraps the key
    /// under the PIN, and a wrong-PIN fault is refused in both. The report says which mode
    /// ran.
    #[arg(long)]
    pub pbkdf2_per_signature: bool,

    /// Keep each device's knowledge key unlocked in memory from its activation on: the
    /// default (the option is kept for scripts that name it).
    #[arg(long, conflicts_with = "pbkdf2_per_signature")]
    pub keep_knowledge_keys: bool,

    /// Skip the status call after activation.
    #[arg(long)]
    pub no_status: bool,

    /// 3.3 devices share one application-scope temporary key (fetched once) instead of
    /// each fetching its own, as separate phones would.
    #[arg(long)]
    pub share_temporary_keys: bool,

    /// Skip the check after the run, where the server is asked for every device's
    /// operations and its counts are reported beside the fleet's (`serverView`).
    #[arg(long)]
    pub no_verify: bool,

    /// The share of operations rejected instead of approved, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = tokensim_fleet::plan::parse_ratio)]
    pub reject_ratio: f64,

    /// Faults and the share of operations that get each, e.g.
    /// `wrong-pin=0.05,replay=0.02,clock-skew=0.01,stale-counter=0.01`.
    #[arg(long, default_value = "", value_name = "FAULT=RATIO,…")]
    pub faults: tokensim_fleet::FaultMix,

    /// The device clock shift of the `clock-skew` fault, in seconds (negative: behind).
    #[arg(long, default_value_t = 3600, allow_negative_numbers = true)]
    pub clock_skew_seconds: i64,

    /// Counter steps skipped by the `stale-counter` fault.
    #[arg(long, default_value_t = 5)]
    pub stale_counter_steps: u32,

    /// Users are named `PREFIX-0`, `PREFIX-1`, … on the server. Default: `fleet` on the
    /// embedded sandbox, `fleet-<start time in hex ms>` on an outside server.
    #[arg(long, value_name = "PREFIX")]
    pub user_prefix: Option<String>,

    /// The PIN of every device.
    #[arg(long, default_value = "1234", hide_default_value = true)]
    pub pin: String,

    /// Print the report as JSON instead of a table (no progress bar).
    #[arg(long)]
    pub json: bool,

    /// Also write the report as a self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Where the devices live while the fleet runs. (Not `--store`: in `tokensim` that
    /// option chooses where the user's own devices live.)
    #[arg(long = "fleet-store", id = "fleet_store", value_enum, default_value_t = FleetStore::Memory)]
    pub store: FleetStore,

    /// The folder of a `file` or `keychain` store (created if missing).
    #[arg(long, value_name = "FOLDER", required_if_eq_any = [("fleet_store", "file"), ("fleet_store", "keychain")])]
    pub store_dir: Option<PathBuf>,

    /// The passphrase of a `file` store.
    #[arg(
        long,
        env = "TOKENSIM_PASSPHRASE",
        hide_env_values = true,
        required_if_eq("fleet_store", "file")
    )]
    pub passphrase: Option<String>,

    /// HTTP timeout per request, in seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout_seconds: u64,

    /// Run only shard K of N: the devices `[(K-1)·D/N, K·D/N)` of the `--devices D` fleet,
    /// with the names, versions, faults and rejections they have in the whole fleet. Each
    /// shard writes its own report (with `--json`, latency histograms included) and
    /// `tokensim fleet merge` combines them.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<tokensim_fleet::Shard>,

    /// The device profile(s), spread over the devices (device i runs the i-th, modulo):
    /// `powerauth` (the default: activation, signatures, operations), or device profiles
    /// beside PowerAuth (`jwt`, `api-key`, `signed-token`, `facemap`, `oauth-cc`, `oauth-device`; `mix` is all of them), which enroll and make
    /// `--profile-calls` authenticated calls each. PowerAuth does not mix with the others.
    #[arg(
        long = "profile",
        value_delimiter = ',',
        default_value = "powerauth",
        value_name = "PROFILE,…",
        value_parser = clap::builder::PossibleValuesParser::new(
            tokensim_fleet::profiles::FleetProfile::ALL.map(tokensim_fleet::profiles::FleetProfile::as_str)
        ).try_map(|name| name.parse::<tokensim_fleet::profiles::FleetProfile>())
    )]
    pub profiles: Vec<tokensim_fleet::profiles::FleetProfile>,

    /// Authenticated calls per device of a device profile (`--profile`).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub profile_calls: u32,

    /// The faces the `facemap` devices show, spread over them: `live` (ends PASSED),
    /// `spoof` (INVALID), `different-person` (FAILED), `timeout` (no capture: EXPIRED once
    /// the fleet moves the embedded sandbox's clock 15 minutes on). Default: all four on the
    /// embedded sandbox, all but `timeout` on an outside server.
    #[arg(long, value_delimiter = ',', value_name = "FACE,…")]
    pub facemap_faces: Option<Vec<tokensim_device::profiles::facemap::Face>>,

    /// `tokensim fleet merge SHARD.json…`: combine shard reports instead of running a fleet.
    #[command(subcommand)]
    pub command: Option<FleetCommand>,
}

/// What `tokensim fleet` does instead of running a fleet.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum FleetCommand {
    /// Combine the JSON reports of `tokensim fleet --shard K/N --json` runs into one report
    /// (a table, or JSON with `--json`; `--html` for the page with charts). Counts add up,
    /// percentiles come from the shards' merged latency histograms.
    Merge(MergeArgs),
}

/// `tokensim fleet merge`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MergeArgs {
    /// The shards' JSON reports.
    #[arg(required = true, value_name = "SHARD.json")]
    pub reports: Vec<PathBuf>,

    /// Print the merged report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Also write the merged report as a self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `--fleet-store`: where the fleet's devices live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FleetStore {
    /// In this process only: nothing is written anywhere.
    Memory,
    /// A `tokensim-store` folder, secrets in a passphrase-encrypted file.
    File,
    /// A `tokensim-store` folder, secrets in the OS keychain (only when asked).
    Keychain,
}

impl From<FleetStore> for tokensim_fleet::StoreKind {
    fn from(store: FleetStore) -> Self {
        match store {
            FleetStore::Memory => Self::Memory,
            FleetStore::File => Self::File,
            FleetStore::Keychain => Self::Keychain,
        }
    }
}

impl FleetArgs {
    /// The plan these options describe (the fleet crate knows no command line).
    pub(crate) fn into_plan(self) -> FleetPlan {
        FleetPlan {
            devices: self.devices,
            concurrency: self.concurrency,
            server: self.server,
            mobile_sdk_config: self.mobile_sdk_config,
            admin: self.admin,
            app_id: self.app_id,
            versions: self.versions,
            operations: self.operations,
            signatures: self.signatures,
            recovery_codes: self.recovery_codes,
            keep_knowledge_keys: self.keep_knowledge_keys || !self.pbkdf2_per_signature,
            no_status: self.no_status,
            share_temporary_keys: self.share_temporary_keys,
            no_verify: self.no_verify,
            reject_ratio: self.reject_ratio,
            faults: self.faults,
            clock_skew_seconds: self.clock_skew_seconds,
            stale_counter_steps: self.stale_counter_steps,
            user_prefix: self.user_prefix,
            pin: self.pin,
            json: self.json,
            html: self.html,
            store: self.store.into(),
            store_dir: self.store_dir,
            passphrase: self.passphrase,
            timeout_seconds: self.timeout_seconds,
            shard: self.shard,
            profiles: self.profiles,
            profile_calls: self.profile_calls,
            facemap_faces: self.facemap_faces,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use powerauth::ProtocolVersion;
    use tokensim_fleet::FaultKind;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        fleet: FleetArgs,
    }

    #[test]
    fn every_option_parses() {
        let cli = Cli::try_parse_from([
            "fleet",
            "--devices",
            "20",
            "--concurrency",
            "4",
            "--versions",
            "3.0,3.3",
            "--operations",
            "2",
            "--reject-ratio",
            "0.25",
            "--faults",
            "wrong-pin=0.05,replay=0.02,clock-skew=0.01,stale-counter=0.01",
            "--json",
            "--html",
            "report.html",
        ])
        .unwrap();
        let args = cli.fleet.into_plan();
        assert_eq!(args.devices, 20);
        assert_eq!(
            args.versions,
            vec![ProtocolVersion::V3_0, ProtocolVersion::V3_3]
        );
        assert_eq!(args.faults.0.len(), 4);
        assert_eq!(args.faults.0[1], (FaultKind::Replay, 0.02));
        assert!(args.validate().is_ok());
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        assert!(Cli::try_parse_from(["fleet", "--config", "x"]).is_err());
        assert!(Cli::try_parse_from(["fleet", "--fleet-store", "file"]).is_err());
        assert!(Cli::try_parse_from(["fleet", "--devices", "0"]).is_err());
        assert!(Cli::try_parse_from(["fleet", "--reject-ratio", "2"]).is_err());
        assert!(Cli::try_parse_from(["fleet", "--profile", "typo"]).is_err());
        let profiles = Cli::try_parse_from(["fleet", "--profile", "oauth-cc,powerauth"])
            .unwrap()
            .fleet
            .profiles;
        assert_eq!(
            profiles,
            vec![
                tokensim_fleet::profiles::FleetProfile::OAuthCc,
                tokensim_fleet::profiles::FleetProfile::PowerAuth
            ]
        );
    }

    /// Knowledge keys stay unlocked unless `--pbkdf2-per-signature` asks for the SDK's way;
    /// `--keep-knowledge-keys` (the default) still parses and cannot be mixed with it.
    #[test]
    fn knowledge_keys_are_kept_unless_pbkdf2_per_signature_is_asked() {
        let plan = |words: &[&str]| {
            Cli::try_parse_from(std::iter::once("fleet").chain(words.iter().copied()))
                .map(|cli| cli.fleet.into_plan().keep_knowledge_keys)
        };
        assert!(plan(&[]).unwrap());
        assert!(plan(&["--keep-knowledge-keys"]).unwrap());
        assert!(!plan(&["--pbkdf2-per-signature"]).unwrap());
        assert!(plan(&["--pbkdf2-per-signature", "--keep-knowledge-keys"]).is_err());
    }

    /// `tokensim fleet` with no option runs `FleetPlan::default()`: the app's panel and the
    /// benchmark start from the same defaults as the command.
    #[test]
    fn no_options_give_the_default_plan() {
        let parsed = Cli::try_parse_from(["fleet"]).unwrap().fleet.into_plan();
        assert_eq!(format!("{parsed:?}"), format!("{:?}", FleetPlan::default()));
    }
}
