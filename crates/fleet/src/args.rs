//! [`FleetArgs`]: every option of `tokensim fleet`, as a clap `Args` struct the CLI
//! flattens, and the parsers of its values (`--versions 3.0,3.3`, `--faults
//! wrong-pin=0.05,replay=0.02`).

use crate::{Error, Result};
use clap::{Args, ValueEnum};
use powerauth::ProtocolVersion;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// `tokensim fleet`: activate many simulated devices, run operations on them, report.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct FleetArgs {
    /// How many devices to activate.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub devices: u32,

    /// How many devices work at the same time.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=10_000))]
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
    pub admin: Option<Credentials>,

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
    pub versions: Vec<ProtocolVersion>,

    /// Payment operations created on the server per device, each approved or rejected.
    #[arg(long, default_value_t = 1)]
    pub operations: u32,

    /// Signed requests (`/pa/v3/signature/validate`, PIN) per device before its operations.
    #[arg(long, default_value_t = 1)]
    pub signatures: u32,

    /// The embedded sandbox issues a recovery code and PUK with each activation (its
    /// Argon2 hash of the PUK costs more than the rest of the activation); off by default.
    #[arg(long, conflicts_with = "server")]
    pub recovery_codes: bool,

    /// Keep each device's knowledge key unlocked in memory from its activation on, instead
    /// of running the PIN's PBKDF2 (10,000 iterations) for every PIN signature as the mobile
    /// SDK does. The requests are byte for byte the same; a wrong-PIN fault still derives
    /// its (wrong) key. The report says which mode ran.
    #[arg(long)]
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
    #[arg(long, default_value_t = 0.0, value_parser = parse_ratio)]
    pub reject_ratio: f64,

    /// Faults and the share of operations that get each, e.g.
    /// `wrong-pin=0.05,replay=0.02,clock-skew=0.01,stale-counter=0.01`.
    #[arg(long, default_value = "", value_name = "FAULT=RATIO,…")]
    pub faults: FaultMix,

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
    #[arg(long = "fleet-store", id = "fleet_store", value_enum, default_value_t = StoreKind::Memory)]
    pub store: StoreKind,

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
    pub shard: Option<crate::Shard>,

    /// The device profile(s), spread over the devices (device i runs the i-th, modulo):
    /// `powerauth` (the default: activation, signatures, operations), or device profiles
    /// beside PowerAuth (`jwt`, `api-key`, `signed-token`, `facemap`, `oauth-cc`, `oauth-device`; `mix` is all of them), which enroll and make
    /// `--profile-calls` authenticated calls each. PowerAuth does not mix with the others.
    #[arg(
        long = "profile",
        value_delimiter = ',',
        default_value = "powerauth",
        value_name = "PROFILE,…"
    )]
    pub profiles: Vec<crate::profiles::FleetProfile>,

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
pub enum FleetCommand {
    /// Combine the JSON reports of `tokensim fleet --shard K/N --json` runs into one report
    /// (a table, or JSON with `--json`; `--html` for the page with charts). Counts add up,
    /// percentiles come from the shards' merged latency histograms.
    Merge(MergeArgs),
}

/// `tokensim fleet merge`.
#[derive(Debug, Clone, Args)]
pub struct MergeArgs {
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

impl Default for FleetArgs {
    fn default() -> Self {
        Self {
            devices: 10,
            concurrency: 32,
            server: None,
            mobile_sdk_config: None,
            admin: None,
            app_id: "tokensim".to_owned(),
            versions: vec![ProtocolVersion::V3_3],
            operations: 1,
            signatures: 1,
            recovery_codes: false,
            keep_knowledge_keys: false,
            no_status: false,
            share_temporary_keys: false,
            no_verify: false,
            reject_ratio: 0.0,
            faults: FaultMix::default(),
            clock_skew_seconds: 3600,
            stale_counter_steps: 5,
            user_prefix: None,
            pin: "1234".to_owned(),
            json: false,
            html: None,
            store: StoreKind::Memory,
            store_dir: None,
            passphrase: None,
            timeout_seconds: 30,
            shard: None,
            profiles: vec![crate::profiles::FleetProfile::PowerAuth],
            profile_calls: 3,
            facemap_faces: None,
            command: None,
        }
    }
}

impl FleetArgs {
    /// Checks what clap cannot: a non-empty version list, a PIN of digits.
    pub fn validate(&self) -> Result<()> {
        if self.versions.is_empty() {
            return Err(Error::Options("--versions names no version".to_owned()));
        }
        if self.pin.len() < 4 || !self.pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Options("--pin must be at least 4 digits".to_owned()));
        }
        if self.store == StoreKind::File && self.passphrase.as_deref().is_none_or(str::is_empty) {
            return Err(Error::Options(
                "--fleet-store file needs a passphrase (--passphrase or TOKENSIM_PASSPHRASE)"
                    .to_owned(),
            ));
        }
        if self.store != StoreKind::Memory && self.store_dir.is_none() {
            return Err(Error::Options(format!(
                "--fleet-store {} needs --store-dir",
                self.store.as_str()
            )));
        }
        Ok(())
    }
}

/// Where the fleet's devices live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreKind {
    /// In this process only: nothing is written anywhere.
    Memory,
    /// A `tokensim-store` folder, secrets in a passphrase-encrypted file.
    File,
    /// A `tokensim-store` folder, secrets in the OS keychain (only when asked).
    Keychain,
}

impl StoreKind {
    /// The option's value.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::File => "file",
            StoreKind::Keychain => "keychain",
        }
    }
}

/// `user:password` for the Cloud API. `Debug` and `Display` never show the password.
#[derive(Clone)]
pub struct Credentials {
    /// The user.
    pub user: String,
    password: zeroize::Zeroizing<String>,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(user: impl Into<String>, password: &str) -> Self {
        Self {
            user: user.into(),
            password: zeroize::Zeroizing::new(password.to_owned()),
        }
    }

    /// The password, for the Authorization header only.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}:<redacted>)", self.user)
    }
}

impl FromStr for Credentials {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text.split_once(':') {
            Some((user, password)) if !user.is_empty() && !password.is_empty() => {
                Ok(Credentials::new(user, password))
            }
            _ => Err("expected user:password".to_owned()),
        }
    }
}

/// A fault the fleet can inject into an operation, by its option name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Approve with a wrong PIN first: HTTP 401 and one more failed attempt.
    WrongPin,
    /// Send the approval (or rejection) twice: the replay must be refused.
    Replay,
    /// List the operations with the device clock shifted (token timestamp check).
    ClockSkew,
    /// Approve with a counter some steps ahead (look-ahead window).
    StaleCounter,
}

impl FaultKind {
    /// Every kind, in option order.
    pub const ALL: [FaultKind; 4] = [
        FaultKind::WrongPin,
        FaultKind::Replay,
        FaultKind::ClockSkew,
        FaultKind::StaleCounter,
    ];

    /// The option name.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::WrongPin => "wrong-pin",
            FaultKind::Replay => "replay",
            FaultKind::ClockSkew => "clock-skew",
            FaultKind::StaleCounter => "stale-counter",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Faults and the share of operations each gets: `wrong-pin=0.05,replay=0.02`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultMix(pub Vec<(FaultKind, f64)>);

impl FaultMix {
    /// Whether no fault is asked for.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, ratio)| *ratio == 0.0)
    }
}

impl FromStr for FaultMix {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let mut mix = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, ratio) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected FAULT=RATIO, e.g. wrong-pin=0.05"))?;
            // The engine's catalogue names the faults (and their aliases); the fleet mixes
            // those an operation's approval can carry.
            let mixable = || {
                FaultKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let spec = tokensim_device::catalogue::find(name.trim())
                .ok_or_else(|| format!("{name:?} is not a fault; known: {}", mixable()))?;
            let kind = FaultKind::ALL
                .into_iter()
                .find(|k| k.as_str() == spec.name)
                .ok_or_else(|| {
                    format!(
                        "{} is a fault of single commands, not of the fleet's mix; the fleet mixes: {}",
                        spec.name,
                        mixable()
                    )
                })?;
            if mix.iter().any(|(k, _)| *k == kind) {
                return Err(format!("{kind} is given twice"));
            }
            mix.push((kind, parse_ratio(ratio.trim())?));
        }
        let total: f64 = mix.iter().map(|(_, r)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!(
                "the fault shares add up to {total}: at most 1 (one fault per operation)"
            ));
        }
        Ok(FaultMix(mix))
    }
}

impl fmt::Display for FaultMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, r)| format!("{k}={r}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// A share from 0 to 1.
pub fn parse_ratio(text: &str) -> std::result::Result<f64, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number from 0 to 1"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

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
        let args = cli.fleet;
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
        let error = "wrong-pin=2".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("not between 0 and 1"), "{error}");
        let error = "typo=0.1".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("known: wrong-pin"), "{error}");
        let error = "wrong-pin=0.7,replay=0.7".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("at most 1"), "{error}");
        assert!(Cli::try_parse_from(["fleet", "--config", "x"]).is_err());
        assert!(Cli::try_parse_from(["fleet", "--fleet-store", "file"]).is_err());
        assert!("nopassword".parse::<Credentials>().is_err());
    }

    #[test]
    fn credentials_never_print_the_password() {
        let credentials: Credentials = "integration:s3cret".parse().unwrap();
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }
}
