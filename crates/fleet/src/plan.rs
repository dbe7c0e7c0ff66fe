//! [`FleetPlan`]: what a fleet run is told, as plain data (the CLI's `tokensim fleet` options
//! and the app's fleet panel both build one), and the parsers of its values (`--versions
//! 3.0,3.3`, `--faults wrong-pin=0.05,replay=0.02`). The command line lives in the CLI.

use crate::{Error, Result};
use powerauth::ProtocolVersion;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A fleet run: activate many simulated devices, run operations on them, report. The
/// field docs name the `tokensim fleet` option that sets each.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    /// How many devices to activate.
    pub devices: u32,

    /// How many devices work at the same time.
    pub concurrency: u32,

    /// An outside PowerAuth-compatible server (base URL). Without it the fleet starts an
    /// embedded sandbox in this process.
    pub server: Option<String>,

    /// The application's `mobileSdkConfig` (Base64) on the outside server. Without it the
    /// fleet reads it from the server's `/rest/v3/application/detail`.
    pub mobile_sdk_config: Option<String>,

    /// Cloud API credentials `user:password` (an integration user) to create registrations
    /// and operations on the outside server. Without them the fleet uses the server's
    /// unauthenticated `/rest/v3` API.
    pub admin: Option<Credentials>,

    /// The application id on the server (`appId` / `applicationId`).
    pub app_id: String,

    /// Protocol versions, spread evenly over the devices (device i speaks the i-th, modulo).
    pub versions: Vec<ProtocolVersion>,

    /// Payment operations created on the server per device, each approved or rejected.
    pub operations: u32,

    /// Signed requests (`/pa/v3/signature/validate`, PIN) per device before its operations.
    /// None by default: the default scenario is activate, check the status, approve one
    /// payment.
    pub signatures: u32,

    /// The embedded sandbox issues a recovery code and PUK with each activation (its
    /// Argon2 hash of the PUK costs more than the rest of the activation); off by default.
    pub recovery_codes: bool,

    /// Keep each device's knowledge key unlocked in memory from its activation on (the
    /// default), instead of running the PIN's PBKDF2 (10,000 iterations) for every PIN
    /// signature as the mobile SDK does (`--pbkdf2-per-signature` sets it to false). The
    /// requests are byte for byte the same; the activation still wraps the key under the
    /// PIN, and a wrong-PIN fault still derives its (wrong) key and is refused. The report
    /// says which mode ran.
    pub keep_knowledge_keys: bool,

    /// Skip the status call after activation.
    pub no_status: bool,

    /// 3.3 devices share one application-scope temporary key (fetched once) instead of
    /// each fetching its own, as separate phones would.
    pub share_temporary_keys: bool,

    /// Skip the check after the run, where the server is asked for every device's
    /// operations and its counts are reported beside the fleet's (`serverView`).
    pub no_verify: bool,

    /// The share of operations rejected instead of approved, 0 to 1.
    pub reject_ratio: f64,

    /// Faults and the share of operations that get each, e.g.
    /// `wrong-pin=0.05,replay=0.02,clock-skew=0.01,stale-counter=0.01`.
    pub faults: FaultMix,

    /// The device clock shift of the `clock-skew` fault, in seconds (negative: behind).
    pub clock_skew_seconds: i64,

    /// Counter steps skipped by the `stale-counter` fault.
    pub stale_counter_steps: u32,

    /// Users are named `PREFIX-0`, `PREFIX-1`, … on the server. Default: `fleet` on the
    /// embedded sandbox, `fleet-<start time in hex ms>` on an outside server.
    pub user_prefix: Option<String>,

    /// The PIN of every device.
    pub pin: String,

    /// Print the report as JSON instead of a table (no progress bar).
    pub json: bool,

    /// Also write the report as a self-contained HTML page with charts.
    pub html: Option<PathBuf>,

    /// Where the devices live while the fleet runs. (Not `--store`: in `tokensim` that
    /// option chooses where the user's own devices live.)
    pub store: StoreKind,

    /// The folder of a `file` or `keychain` store (created if missing).
    pub store_dir: Option<PathBuf>,

    /// The passphrase of a `file` store.
    pub passphrase: Option<String>,

    /// HTTP timeout per request, in seconds.
    pub timeout_seconds: u64,

    /// Run only shard K of N: the devices `[(K-1)·D/N, K·D/N)` of the `--devices D` fleet,
    /// with the names, versions, faults and rejections they have in the whole fleet. Each
    /// shard writes its own report (with `--json`, latency histograms included) and
    /// `tokensim fleet merge` combines them.
    pub shard: Option<crate::Shard>,

    /// The device profile(s), spread over the devices (device i runs the i-th, modulo):
    /// `powerauth` (the default: activation, signatures, operations), or device profiles
    /// beside PowerAuth (`jwt`, `api-key`, `signed-token`, `facemap`, `oauth-cc`, `oauth-device`; `mix` is all of them), which enroll and make
    /// `--profile-calls` authenticated calls each. PowerAuth does not mix with the others.
    pub profiles: Vec<crate::profiles::FleetProfile>,

    /// Authenticated calls per device of a device profile (`--profile`).
    pub profile_calls: u32,

    /// The faces the `facemap` devices show, spread over them: `live` (ends PASSED),
    /// `spoof` (INVALID), `different-person` (FAILED), `timeout` (no capture: EXPIRED once
    /// the fleet moves the embedded sandbox's clock 15 minutes on). Default: all four on the
    /// embedded sandbox, all but `timeout` on an outside server.
    pub facemap_faces: Option<Vec<tokensim_device::profiles::facemap::Face>>,
}

/// `tokensim fleet merge`: combine shard reports instead of running a fleet.
#[derive(Debug, Clone, Default)]
pub struct MergePlan {
    /// The shards' JSON reports.
    pub reports: Vec<PathBuf>,
    /// Print the merged report as JSON instead of a table.
    pub json: bool,
    /// Also write the merged report as a self-contained HTML page with charts.
    pub html: Option<PathBuf>,
}

impl Default for FleetPlan {
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
            signatures: 0,
            recovery_codes: false,
            keep_knowledge_keys: true,
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
        }
    }
}

impl FleetPlan {
    /// Checks the plan before anything runs: counts in range, a non-empty version list, a PIN
    /// of digits, a store with what it needs. (The CLI's parser checks most of it too; the
    /// app builds a plan without it.)
    pub fn validate(&self) -> Result<()> {
        if !(1..=1_000_000).contains(&self.devices) {
            return Err(Error::Options(
                "--devices must be from 1 to 1000000".to_owned(),
            ));
        }
        if !(1..=10_000).contains(&self.concurrency) {
            return Err(Error::Options(
                "--concurrency must be from 1 to 10000".to_owned(),
            ));
        }
        if self.profile_calls > 1000 {
            return Err(Error::Options(
                "--profile-calls must be from 0 to 1000".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&self.reject_ratio) {
            return Err(Error::Options(
                "--reject-ratio must be from 0 to 1".to_owned(),
            ));
        }
        if self.versions.is_empty() {
            return Err(Error::Options("--versions names no version".to_owned()));
        }
        let profiled = self
            .profiles
            .iter()
            .any(|p| *p != crate::profiles::FleetProfile::PowerAuth);
        if profiled && !self.faults.is_empty() {
            return Err(Error::Options(
                "--faults injects faults into PowerAuth devices only, and this run has device \
                 profiles: run them without --faults, and try a profile's faults on one device \
                 with `tokensim --fault NAME profile ...` or the app's Profiles panel"
                    .to_owned(),
            ));
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

    #[test]
    fn bad_values_say_what_is_wrong() {
        let error = "wrong-pin=2".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("not between 0 and 1"), "{error}");
        let error = "typo=0.1".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("known: wrong-pin"), "{error}");
        let error = "wrong-pin=0.7,replay=0.7".parse::<FaultMix>().unwrap_err();
        assert!(error.contains("at most 1"), "{error}");
        assert!("nopassword".parse::<Credentials>().is_err());
    }

    #[test]
    fn faults_with_device_profiles_are_refused_not_ignored() {
        let faults: FaultMix = "wrong-pin=0.1".parse().unwrap();
        let powerauth = FleetPlan {
            faults: faults.clone(),
            ..FleetPlan::default()
        };
        assert!(powerauth.validate().is_ok());
        let profiled = FleetPlan {
            faults,
            profiles: vec![crate::profiles::FleetProfile::Jwt],
            ..FleetPlan::default()
        };
        let Err(Error::Options(message)) = profiled.validate() else {
            panic!("faults with a device profile must be refused");
        };
        assert!(message.contains("PowerAuth devices only"), "{message}");
        let quiet = FleetPlan {
            profiles: vec![crate::profiles::FleetProfile::Mix],
            ..FleetPlan::default()
        };
        assert!(quiet.validate().is_ok());
    }

    #[test]
    fn credentials_never_print_the_password() {
        let credentials: Credentials = "integration:s3cret".parse().unwrap();
        assert!(!format!("{credentials:?}").contains("s3cret"));
    }
}
