//! What a sandbox instance is told at start: where to listen, which database, and the
//! protocol policies a tester may want to change.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of one sandbox instance.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `sqlite::memory:`, `sqlite://<path>?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// How long a new activation may wait for its key exchange and commit.
    pub activation_validity: Duration,
    /// Failed signature attempts after which an activation is blocked.
    pub max_failed_attempts: u32,
    /// How many counter steps ahead of the server a device's signature may be.
    pub look_ahead: u32,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Activation recovery for applications whose recovery configuration was never saved
    /// (`/rest/v3/recovery/config/update`): whether activations via code or custom
    /// credentials get a recovery code and PUK, and recovery codes can be redeemed.
    pub recovery_codes: bool,
    /// Password of the built-in `admin` Cloud API user; random when `None`.
    pub admin_password: Option<String>,
    /// Password of the built-in `integration` Cloud API user; random when `None`.
    pub integration_password: Option<String>,
    /// How application callbacks are delivered.
    pub callbacks: CallbackConfig,
    /// The protocol versions `/pa/v3` accepts (default 3.0–3.3). A request declaring
    /// another is refused as a server of that age refuses it, and without 3.3 there is no
    /// `/pa/v3/keystore/create`: for testing clients (and `tokensim doctor`) against older
    /// servers.
    pub protocol_versions: Vec<powerauth::ProtocolVersion>,
    /// Whether the mobile-token API (`/api/auth/token/app/operation/*`, push, inbox) is
    /// served (default yes): a plain PowerAuth server has none.
    pub mobile_token_api: bool,
    /// How often pending operations and unfinished activations past their expiry are
    /// expired without being read (PowerAuth Server's cleanup jobs: 5 s).
    pub expiry_sweep_interval: Duration,
    /// The PowerAuth Server release the sandbox answers as (`/rest/v3/status`), and whose
    /// behaviour it follows where releases differ.
    pub server_version: ServerVersion,
    /// Serve on an address other than loopback. Off, such an address is refused; on, any
    /// `Host` is accepted and `/rest/v3` asks for a Cloud API user's Basic credentials
    /// (see docs/security.md).
    pub allow_remote: bool,
    /// How long a connection may take to send a request's headers, and may stay idle
    /// between requests, before it is closed.
    pub header_timeout: Duration,
}

/// Signature look-ahead PowerAuth Server accepts (`signatureValidationLookahead`,
/// `@Min(1) @Max(64)`); a status blob carries it in one byte, and the token's counter
/// check needs it at most 64.
pub(crate) const LOOK_AHEAD_RANGE: RangeInclusive<u32> = 1..=64;

/// Failed attempts before blocking. PowerAuth Server's `signatureMaxFailedAttempts` is
/// `@Max(64)`; 0 (which it allows) would block every activation at its first signature, so
/// the sandbox starts at 1.
pub(crate) const MAX_FAILED_ATTEMPTS_RANGE: RangeInclusive<u32> = 1..=64;

/// Why a [`Config`] cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A number outside the range the protocol allows.
    #[error("{name} must be between {} and {} (PowerAuth Server's range), not {value}", .range.start(), .range.end())]
    OutOfRange {
        /// The setting, as the command line names it.
        name: &'static str,
        /// The value given.
        value: u64,
        /// What is allowed.
        range: RangeInclusive<u32>,
    },
    /// A non-loopback address without `allow_remote`.
    #[error(
        "{0} is reachable from other machines, and the sandbox is a local test server (its /rest/v3 has no authentication by default): bind to 127.0.0.1, or pass --allow-remote to serve it anyway with /rest/v3 behind Basic credentials"
    )]
    Remote(SocketAddr),
    /// A body limit of zero.
    #[error("the body limit must be at least 1 byte")]
    BodyLimit,
}

/// Delivery of application callbacks ([`crate::callbacks`]). The retry defaults are
/// PowerAuth Server's (`powerauth.service.callbacks.*`); a URL's own `maxAttempts`,
/// `initialBackoff` and `retentionPeriod` win over them.
#[derive(Debug, Clone)]
pub struct CallbackConfig {
    /// Time to open the connection (PowerAuth Server: 5 s).
    pub connect_timeout: Duration,
    /// Time for the receiver to answer once connected. PowerAuth Server waits 60 s; the
    /// sandbox gives up after 10 s so a hanging receiver shows in the log soon.
    pub response_timeout: Duration,
    /// State changes waiting to be turned into deliveries (PowerAuth Server's executor
    /// queue: 1000); beyond it changes are dropped and counted, never waited for.
    pub queue_capacity: usize,
    /// Deliveries in progress at once, retries' waits included.
    pub max_in_flight: usize,
    /// Attempts per event when the URL sets none (1).
    pub default_max_attempts: u32,
    /// Wait before the first retry when the URL sets none (2 s).
    pub default_initial_backoff: Duration,
    /// Longest wait between retries (32 s).
    pub max_backoff: Duration,
    /// Growth of the wait per retry (1.5).
    pub backoff_multiplier: f64,
    /// How long finished events stay in the log when the URL sets none (30 days).
    pub default_retention_period: Duration,
    /// Failed attempts in a row after which a URL's new events are logged as `FAILED`
    /// without being sent (200); `None` never stops (PowerAuth Server's `-1`).
    pub failure_threshold: Option<u32>,
    /// How long after its last failure such a URL gets one event through again (60 s).
    pub failure_reset_timeout: Duration,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(10),
            queue_capacity: 1000,
            max_in_flight: 32,
            default_max_attempts: 1,
            default_initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(32),
            backoff_multiplier: 1.5,
            default_retention_period: Duration::from_secs(30 * 24 * 3600),
            failure_threshold: Some(200),
            failure_reset_timeout: Duration::from_secs(60),
        }
    }
}

impl Config {
    /// Defaults with an in-memory SQLite database on `127.0.0.1:0`: what tests and the
    /// desktop app's embedded sandbox use.
    pub fn in_memory() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            database_url: "sqlite::memory:".to_owned(),
            activation_validity: Duration::from_secs(120),
            max_failed_attempts: 5,
            look_ahead: 20,
            body_limit: 256 * 1024,
            recovery_codes: true,
            admin_password: None,
            integration_password: None,
            callbacks: CallbackConfig::default(),
            protocol_versions: powerauth::ProtocolVersion::ALL.to_vec(),
            mobile_token_api: true,
            expiry_sweep_interval: Duration::from_secs(5),
            server_version: ServerVersion::NEWEST,
            allow_remote: false,
            header_timeout: Duration::from_secs(10),
        }
    }

    /// Checks the settings a user can give on the command line.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let in_range = |name, value: u32, range: RangeInclusive<u32>| {
            if range.contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    name,
                    value: u64::from(value),
                    range,
                })
            }
        };
        in_range("--look-ahead", self.look_ahead, LOOK_AHEAD_RANGE)?;
        in_range(
            "--max-failed-attempts",
            self.max_failed_attempts,
            MAX_FAILED_ATTEMPTS_RANGE,
        )?;
        if self.body_limit == 0 {
            return Err(ConfigError::BodyLimit);
        }
        if !self.bind.ip().is_loopback() && !self.allow_remote {
            return Err(ConfigError::Remote(self.bind));
        }
        Ok(())
    }

    /// The default SQLite file: `<user data dir>/tokensim/sandbox.db`, or `None` when the
    /// platform has no user data directory.
    pub fn default_database_path() -> Option<PathBuf> {
        dirs::data_dir().map(|dir| dir.join("tokensim").join("sandbox.db"))
    }

    /// The `sqlx` URL of a SQLite file, created if missing.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database URL may carry a PostgreSQL password: show its scheme only.
        let scheme = self.database_url.split(':').next().unwrap_or_default();
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database", &scheme)
            .field("activation_validity", &self.activation_validity)
            .field("max_failed_attempts", &self.max_failed_attempts)
            .field("look_ahead", &self.look_ahead)
            .field("body_limit", &self.body_limit)
            .field("recovery_codes", &self.recovery_codes)
            .field("callbacks", &self.callbacks)
            .field("protocol_versions", &self.protocol_versions)
            .field("mobile_token_api", &self.mobile_token_api)
            .field("expiry_sweep_interval", &self.expiry_sweep_interval)
            .field("server_version", &self.server_version)
            .field("allow_remote", &self.allow_remote)
            .field("header_timeout", &self.header_timeout)
            .finish_non_exhaustive()
    }
}

/// A PowerAuth Server release, `major.minor.patch`: the version the sandbox reports and
/// whose behaviour it follows where PowerAuth Server changed between releases.
///
/// - Before 1.5 (protocol 3.1 servers), `/rest/v3/activation/prepare` has no
///   `protocolVersion` and implies 3.1; from 1.5 on a request without it cannot be
///   decrypted (ERR0018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerVersion {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Patch.
    pub patch: u16,
}

impl ServerVersion {
    /// The newest release whose API the sandbox implements: 1.9.0, the first with
    /// protocol 3.3 (temporary keys).
    pub const NEWEST: Self = Self::new(1, 9, 0);
    /// The oldest release the sandbox can answer as: 1.0.0, the first with `/rest/v3`.
    pub const OLDEST: Self = Self::new(1, 0, 0);
    /// 1.5.0: the first release with protocol 3.2 and `protocolVersion` in prepare.
    pub const V1_5: Self = Self::new(1, 5, 0);

    /// `major.minor.patch`.
    pub const fn new(major: u16, minor: u16, patch: u16) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Whether `/rest/v3/activation/prepare` without `protocolVersion` means 3.1 (before
    /// 1.5) rather than a request that cannot be decrypted.
    pub fn implies_protocol_3_1(self) -> bool {
        self < Self::V1_5
    }
}

impl Default for ServerVersion {
    fn default() -> Self {
        Self::NEWEST
    }
}

impl std::fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Why a `--server-version` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerVersionError {
    /// Not `X.Y.Z` with numbers.
    #[error("server version {0:?} is not X.Y.Z (e.g. 1.9.0)")]
    Format(String),
    /// Outside what the sandbox implements.
    #[error(
        "server version {0} is outside what the sandbox implements ({oldest} to {newest}.x)",
        oldest = ServerVersion::OLDEST,
        newest = format!("{}.{}", ServerVersion::NEWEST.major, ServerVersion::NEWEST.minor)
    )]
    Unsupported(ServerVersion),
}

impl std::str::FromStr for ServerVersion {
    type Err = ServerVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let format = || ServerVersionError::Format(text.to_owned());
        let mut parts = text.trim().split('.');
        let mut next = || -> Result<u16, ServerVersionError> {
            let part = parts.next().ok_or_else(format)?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format());
            }
            part.parse().map_err(|_| format())
        };
        let version = Self::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(format());
        }
        let newest_line = Self::new(Self::NEWEST.major, Self::NEWEST.minor, u16::MAX);
        if version < Self::OLDEST || version > newest_line {
            return Err(ServerVersionError::Unsupported(version));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_versions_parse_print_and_order() {
        let v: ServerVersion = "1.4.0".parse().unwrap();
        assert_eq!(v.to_string(), "1.4.0");
        assert!(v.implies_protocol_3_1());
        assert!(
            !"1.5.0"
                .parse::<ServerVersion>()
                .unwrap()
                .implies_protocol_3_1()
        );
        assert_eq!(
            "1.9.3".parse::<ServerVersion>().unwrap(),
            ServerVersion::new(1, 9, 3)
        );
        assert_eq!(ServerVersion::default().to_string(), "1.9.0");
        for bad in ["1.4", "1.4.0.1", "v1.4.0", "1..0", "1.4.x", "", "1.4.-1"] {
            assert!(
                matches!(
                    bad.parse::<ServerVersion>(),
                    Err(ServerVersionError::Format(_))
                ),
                "{bad:?}"
            );
        }
        for outside in ["0.24.2", "1.10.0", "2.0.0"] {
            let error = outside.parse::<ServerVersion>().unwrap_err();
            assert!(
                matches!(error, ServerVersionError::Unsupported(_)),
                "{outside}"
            );
            assert!(error.to_string().contains("1.0.0 to 1.9.x"), "{error}");
        }
    }
}
