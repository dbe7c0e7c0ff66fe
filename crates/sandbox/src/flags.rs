//! The command-line flags of the sandbox's policies, one definition for both front doors:
//! the `tokensim-sandbox` binary and `tokensim sandbox` flatten [`Policy`] into their own
//! arguments, so a flag added here reaches both.

use std::time::Duration;

use crate::ServerVersion;
use crate::config::{CallbackConfig, Config};

/// What a tester may change about how the sandbox behaves (not where it listens or
/// which database it uses: each front door has its own flags for those).
#[derive(Debug, Clone, clap::Args)]
pub struct Policy {
    /// Seconds a new activation stays usable before it must be committed.
    #[arg(long, default_value_t = 120)]
    pub activation_validity_secs: u64,
    /// Failed signature attempts before an activation is blocked (1 to 64).
    #[arg(long, default_value_t = 5)]
    pub max_failed_attempts: u32,
    /// Counter look-ahead window for signature verification (1 to 64).
    #[arg(long, default_value_t = 20)]
    pub look_ahead: u32,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = 256 * 1024)]
    pub body_limit: usize,
    /// Activation recovery off for applications whose recovery configuration was never
    /// saved (`/rest/v3/recovery/config/update`): no recovery codes with new activations.
    #[arg(long)]
    pub no_recovery_codes: bool,
    /// Password for the built-in `admin` user (random when absent).
    #[arg(long, env = "TOKENSIM_SANDBOX_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Password for the built-in `integration` user (random when absent).
    #[arg(
        long,
        env = "TOKENSIM_SANDBOX_INTEGRATION_PASSWORD",
        hide_env_values = true
    )]
    pub integration_password: Option<String>,
    /// Seconds an application callback's receiver has to answer before the attempt
    /// counts as failed.
    #[arg(long, default_value_t = 10)]
    pub callback_timeout_secs: u64,
    /// Accept only these protocol versions on /pa/v3, comma-separated (e.g. 3.1), as an
    /// older PowerAuth server would.
    #[arg(long, value_delimiter = ',', value_name = "VERSIONS")]
    pub protocol_versions: Vec<powerauth::ProtocolVersion>,
    /// Serve no mobile-token API (operations, push, inbox), as a plain PowerAuth server.
    #[arg(long)]
    pub no_mobile_token_api: bool,
    /// The PowerAuth Server release to answer as (reported by /rest/v3/status; behaviour
    /// follows it where releases differ), 1.0.0 to 1.9.x.
    #[arg(long, env = "TOKENSIM_SERVER_VERSION", value_name = "X.Y.Z", default_value_t = ServerVersion::NEWEST)]
    pub server_version: ServerVersion,
}

impl Policy {
    /// Writes these policies into `config` (listening and storage are left as they are).
    pub fn apply(self, config: &mut Config) {
        config.activation_validity = Duration::from_secs(self.activation_validity_secs);
        config.max_failed_attempts = self.max_failed_attempts;
        config.look_ahead = self.look_ahead;
        config.body_limit = self.body_limit;
        config.recovery_codes = !self.no_recovery_codes;
        config.admin_password = self.admin_password;
        config.integration_password = self.integration_password;
        config.callbacks = CallbackConfig {
            response_timeout: Duration::from_secs(self.callback_timeout_secs),
            ..CallbackConfig::default()
        };
        config.protocol_versions = if self.protocol_versions.is_empty() {
            powerauth::ProtocolVersion::ALL.to_vec()
        } else {
            self.protocol_versions
        };
        config.mobile_token_api = !self.no_mobile_token_api;
        config.server_version = self.server_version;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Both {
        #[command(flatten)]
        policy: Policy,
    }

    #[test]
    fn defaults_are_the_in_memory_configs_and_flags_change_them() {
        let mut config = Config::in_memory();
        Both::try_parse_from(["x"])
            .unwrap()
            .policy
            .apply(&mut config);
        let default = Config::in_memory();
        assert_eq!(config.protocol_versions, default.protocol_versions);
        assert!(config.mobile_token_api && config.recovery_codes);
        assert_eq!(config.look_ahead, default.look_ahead);
        assert_eq!(config.server_version, default.server_version);

        Both::try_parse_from([
            "x",
            "--protocol-versions",
            "3.0,3.1",
            "--no-mobile-token-api",
            "--look-ahead",
            "7",
        ])
        .unwrap()
        .policy
        .apply(&mut config);
        assert_eq!(
            config.protocol_versions,
            [
                powerauth::ProtocolVersion::V3_0,
                powerauth::ProtocolVersion::V3_1
            ]
        );
        assert!(!config.mobile_token_api);
        assert_eq!(config.look_ahead, 7);
    }
}
