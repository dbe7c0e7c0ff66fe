//! The command line, as clap types: global options, then one subcommand per thing a phone does.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also: a fault whose server answer is what the protocol requires)
  1  error: server failure, network, timeout, file I/O
  2  usage: unknown command or option, missing argument
  3  rejected: the server refused, a verification failed, or a fault was answered wrongly
  4  device or store problem: no such device, keychain unavailable, wrong passphrase

With --json, stdout holds one JSON document (errors: {\"error\", \"kind\", \"hint\"}).";

/// A simulated PowerAuth mobile token for testers: activate devices against a PowerAuth
/// server, approve operations, sign, and watch every exchange.
#[derive(Debug, Parser)]
#[command(name = "tokensim", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The device to use: its id, name or activation id (default: the only device).
    #[arg(long, short = 'd', global = true, env = "TOKENSIM_DEVICE")]
    pub device: Option<String>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show each HTTP exchange on stderr, ECIES payloads decrypted, secrets redacted.
    #[arg(long, global = true)]
    pub trace: bool,
    /// Show secrets (signatures, token digests, keys, the vault key) in traces and output.
    #[arg(long, global = true)]
    pub reveal_secrets: bool,
    /// Where devices are kept (default: tokensim in the user's data folder).
    #[arg(long, global = true, env = "TOKENSIM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Where device secrets go: the OS keychain, a passphrase-encrypted file, or memory
    /// (gone when the command ends). Default: what the store was created with, else the
    /// keychain.
    #[arg(long, global = true, env = "TOKENSIM_STORE", value_enum)]
    pub store: Option<StoreKind>,
    /// Same as --store file.
    #[arg(long, global = true, conflicts_with = "store")]
    pub store_passphrase: bool,
    /// Environment variable holding the passphrase of the encrypted file store (asked on
    /// the terminal when it is not set).
    #[arg(
        long,
        global = true,
        value_name = "VAR",
        default_value = "TOKENSIM_PASSPHRASE"
    )]
    pub passphrase_env: String,
    /// Inject a fault into the command's main call and report what the server answered:
    /// wrong-pin, replay, clock-skew[=MS], stale-counter[=N], corrupted-mac,
    /// dropped-response, slow-network[=MS]; for `profile` commands also expired-token,
    /// wrong-secret, server-down.
    #[arg(long, global = true, value_name = "FAULT", value_parser = crate::fault::parse)]
    pub fault: Option<tokensim_device::Fault>,
    /// HTTP timeout in seconds.
    /// Trust the certificate authority in FILE (PEM or DER) besides the built-in roots: a
    /// server whose certificate a private authority issued.
    #[arg(long, global = true, env = "TOKENSIM_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[arg(long, global = true, default_value_t = 20, value_name = "SECS")]
    pub timeout: u64,
    /// Less output: no progress, no warnings.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More logging on stderr (-v info, -vv debug).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--store` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StoreKind {
    /// The OS keychain.
    Keychain,
    /// A passphrase-encrypted file beside the device index.
    File,
    /// Memory only: nothing survives the command.
    Memory,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a local PowerAuth sandbox server; print its URL, logins and mobile SDK config.
    Sandbox(SandboxArgs),
    /// Activate a new device with an activation code, a QR payload or a QR image.
    Activate(ActivateArgs),
    /// List and manage the devices kept here.
    Devices {
        #[command(subcommand)]
        command: Option<DevicesCommand>,
    },
    /// Fetch and decrypt the activation status; check the counters.
    Status(StatusArgs),
    /// Sign a request (method, uriId, body) with any factors; optionally verify on the server.
    Sign(SignArgs),
    /// Sign a string or a file (message signing) and optionally verify it on the server.
    SignData(SignDataArgs),
    /// MAC tokens: create, list, remove, compute a header.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Operations waiting for approval: list, show, history, approve, reject.
    #[command(subcommand)]
    Ops(OpsCommand),
    /// Sign an offline operation from its QR code; prints the code to retype.
    Offline(OfflineArgs),
    /// Push notifications: register, listen.
    #[command(subcommand)]
    Push(PushCommand),
    /// The message inbox: list, read.
    #[command(subcommand)]
    Inbox(InboxCommand),
    /// The secure vault.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// The PIN.
    #[command(subcommand)]
    Pin(PinCommand),
    /// The simulated biometry.
    #[command(subcommand)]
    Biometry(BiometryCommand),
    /// Remove the activation on the server, then the device here.
    Remove(PinArgs),
    /// Send data ECIES-encrypted (application or activation scope, optionally signed) to
    /// an endpoint of the device's server; print the decrypted answer.
    Ecies(EciesArgs),
    /// Write a redacted bug-report bundle: device state, last exchanges, versions.
    Diagnose(DiagnoseArgs),
    /// Save a device's whole state under a name, list, diff, and restore it on purpose.
    #[command(subcommand)]
    Snapshot(crate::commands::snapshot::SnapshotCommand),
    /// Check a server before activating: reachability, TLS, /pa/v3, protocol versions,
    /// clock, mobile-token API, push and inbox, the application.
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Activate a fleet of devices and run approvals, rejections and faults against a server
    /// (the embedded sandbox by default); report throughput, latencies and fault verdicts.
    Fleet(Box<crate::commands::fleet::FleetArgs>),
    /// Device profiles beside PowerAuth: device JWT, mobile API key… (`profile jwt enroll`,
    /// `profile jwt call`); accounts are kept in the same store as the devices.
    #[command(subcommand)]
    Profile(crate::commands::profile::ProfileCommand),
}

#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// Port to listen on, on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8780, conflicts_with = "bind")]
    pub port: u16,
    /// Address to listen on instead of 127.0.0.1:PORT. An address other than loopback
    /// needs --allow-remote.
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub bind: Option<std::net::SocketAddr>,
    /// Serve on a --bind address other than loopback, to other machines; /rest/v3 then
    /// asks for the Basic credentials of a Cloud API user (admin or integration).
    #[arg(long)]
    pub allow_remote: bool,
    /// SQLite database file (default: in memory, nothing survives).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Database URL (`sqlite://…`, `postgres://…`) instead of --db.
    #[arg(long, value_name = "URL", conflicts_with = "db")]
    pub database_url: Option<String>,
    /// The sandbox's policies: the same flags as the `tokensim-sandbox` binary.
    #[command(flatten)]
    pub policy: sandbox::flags::Policy,
}

/// Where the PIN comes from: an environment variable, a file, or the terminal.
#[derive(Debug, Args, Clone)]
pub(crate) struct PinArgs {
    /// Environment variable holding the PIN.
    #[arg(long, value_name = "VAR", default_value = "TOKENSIM_PIN")]
    pub pin_env: String,
    /// File holding the PIN (first line).
    #[arg(long, value_name = "FILE")]
    pub pin_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ActivateArgs {
    /// The server's base URL.
    #[arg(long, env = "TOKENSIM_SERVER")]
    pub server: String,
    /// The application's mobile SDK configuration string (tokensim sandbox prints it).
    #[arg(long, env = "TOKENSIM_MOBILE_SDK_CONFIG", value_name = "CONFIG")]
    pub config: String,
    /// The activation code XXXXX-XXXXX-XXXXX-XXXXX (no signature check possible).
    #[arg(long, group = "source", required_unless_present_any = ["qr", "image"])]
    pub code: Option<String>,
    /// The QR payload CODE#SIGNATURE.
    #[arg(long, group = "source")]
    pub qr: Option<String>,
    /// A PNG or JPEG image of the activation QR code.
    #[arg(long, group = "source", value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// The activation OTP, when the server asks for one.
    #[arg(long)]
    pub otp: Option<String>,
    #[command(flatten)]
    pub pin: PinArgs,
    /// Store a biometry key at activation.
    #[arg(long)]
    pub biometry: bool,
    /// Protocol version to speak.
    #[arg(long, default_value = "3.3", value_parser = ["3.0", "3.1", "3.2", "3.3"])]
    pub version: String,
    /// A name for the device.
    #[arg(long, default_value = "TokenSim device")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DevicesCommand {
    /// List the devices (the default).
    List,
    /// Show one device (--device), nothing secret.
    Show,
    /// Rename a device; its id stays.
    Rename {
        /// The new name.
        name: String,
    },
    /// Forget a device here without telling the server.
    RemoveLocal,
    /// Write a device as a passphrase-encrypted bundle.
    Export {
        /// The bundle file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Environment variable holding the bundle passphrase (asked when unset).
        #[arg(long, value_name = "VAR", default_value = "TOKENSIM_BUNDLE_PASSPHRASE")]
        bundle_passphrase_env: String,
    },
    /// Add a device from a bundle.
    Import {
        /// The bundle file.
        file: PathBuf,
        /// A new name (and id) for it.
        #[arg(long)]
        name: Option<String>,
        /// Environment variable holding the bundle passphrase (asked when unset).
        #[arg(long, value_name = "VAR", default_value = "TOKENSIM_BUNDLE_PASSPHRASE")]
        bundle_passphrase_env: String,
    },
    /// Add a device from a status file of Wultra's cmd-tool (asks its PIN, unlocks the vault once).
    ImportCmdtool(crate::commands::cmdtool::ImportArgs),
    /// Write a device as a status file of Wultra's cmd-tool (keys in plain JSON, mode 0600).
    ExportCmdtool(crate::commands::cmdtool::ExportArgs),
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// Also send a resynchronising signature so the server's counter meets the device's.
    #[arg(long)]
    pub sync: bool,
}

/// Factors: `possession`, `possession,knowledge`, `possession,biometry`,
/// `possession,knowledge,biometry`.
#[derive(Debug, Args, Clone)]
pub(crate) struct FactorArgs {
    /// Signature factors, comma-separated.
    #[arg(long, default_value = "possession,knowledge", value_parser = crate::commands::parse_factors)]
    pub factors: powerauth::signature::SignatureType,
    #[command(flatten)]
    pub pin: PinArgs,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// HTTP method.
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// The resource id signed (not the URL path), e.g. /pa/signature/validate.
    #[arg(long)]
    pub uri_id: String,
    /// File with the exact body bytes (default: empty body).
    #[arg(long, value_name = "FILE", conflicts_with = "body")]
    pub body_file: Option<PathBuf>,
    /// The body as text.
    #[arg(long)]
    pub body: Option<String>,
    #[command(flatten)]
    pub factors: FactorArgs,
    /// Ask the server (/rest/v3/signature/verify) whether the signature is valid.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SignDataArgs {
    /// The data as text.
    #[arg(long, group = "input", required_unless_present = "file")]
    pub data: Option<String>,
    /// A file with the data.
    #[arg(long, group = "input", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The resource id signed.
    #[arg(long, default_value = "/pa/signature/validate")]
    pub uri_id: String,
    #[command(flatten)]
    pub factors: FactorArgs,
    /// Ask the server whether the signature is valid.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// Create a token on the server and keep it.
    Create {
        /// Local name of the token.
        #[arg(long, default_value = "possession_universal")]
        name: String,
        #[command(flatten)]
        factors: PossessionFactorArgs,
    },
    /// List the tokens kept on the device.
    List,
    /// Remove a token on the server and here.
    Remove {
        /// Local name of the token.
        name: String,
    },
    /// Print a fresh X-PowerAuth-Token header value.
    Header {
        /// Local name of the token.
        #[arg(default_value = "possession_universal")]
        name: String,
    },
}

/// Factors defaulting to possession (tokens).
#[derive(Debug, Args, Clone)]
pub(crate) struct PossessionFactorArgs {
    /// Signature factors, comma-separated.
    #[arg(long, default_value = "possession", value_parser = crate::commands::parse_factors)]
    pub factors: powerauth::signature::SignatureType,
    #[command(flatten)]
    pub pin: PinArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OpsCommand {
    /// Pending operations.
    List,
    /// One operation, rendered as a banking app shows it.
    Show {
        /// Operation id.
        id: String,
    },
    /// Past operations (signed with the PIN).
    History {
        #[command(flatten)]
        factors: FactorArgs,
    },
    /// Bind an operation created without a user to this device's user, then show it.
    Claim {
        /// Operation id.
        id: String,
    },
    /// Approve an operation.
    Approve {
        /// Operation id.
        id: String,
        #[command(flatten)]
        factors: FactorArgs,
        /// The proximity OTP read from the QR code or deeplink, for an operation that
        /// requires a proximity check.
        #[arg(long, value_name = "OTP")]
        proximity_otp: Option<String>,
        /// Where the proximity OTP came from.
        #[arg(long, value_enum, default_value_t = ProximitySource::QrCode, requires = "proximity_otp")]
        proximity_source: ProximitySource,
    },
    /// Reject an operation.
    Reject {
        /// Operation id.
        id: String,
        /// Why: UNKNOWN, INCORRECT_DATA, UNEXPECTED_OPERATION or free text.
        #[arg(long, default_value = "UNEXPECTED_OPERATION")]
        reason: String,
    },
}

/// `--proximity-source` values: the proximity check's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProximitySource {
    /// `QR_CODE`: scanned from the screen that shows the operation.
    QrCode,
    /// `DEEPLINK`: opened from a link.
    Deeplink,
}

impl ProximitySource {
    /// The protocol's name for it.
    pub(crate) fn as_protocol(self) -> &'static str {
        match self {
            Self::QrCode => "QR_CODE",
            Self::Deeplink => "DEEPLINK",
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct OfflineArgs {
    /// A PNG or JPEG image of the offline QR code.
    #[arg(
        long,
        group = "input",
        required_unless_present = "payload",
        value_name = "FILE"
    )]
    pub image: Option<PathBuf>,
    /// The QR code's text.
    #[arg(long, group = "input")]
    pub payload: Option<String>,
    #[command(flatten)]
    pub factors: FactorArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PushCommand {
    /// Register a push token for this device.
    Register {
        /// Push platform: fcm, apns, hms.
        #[arg(long, default_value = "fcm")]
        platform: String,
        /// The push token (default: one made from the activation id).
        #[arg(long)]
        token: Option<String>,
    },
    /// Print pushes for this device as the sandbox sends them.
    Listen {
        /// Stop after this many pushes.
        #[arg(long)]
        count: Option<u64>,
        /// Stop after this many seconds.
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
        /// Cloud API user of the sandbox.
        #[arg(long, env = "TOKENSIM_CLOUD_USER", default_value = "integration")]
        cloud_user: String,
        /// Environment variable holding the Cloud API password.
        #[arg(long, value_name = "VAR", default_value = "TOKENSIM_CLOUD_PASSWORD")]
        cloud_password_env: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum InboxCommand {
    /// List messages.
    List {
        /// Only unread messages.
        #[arg(long)]
        unread: bool,
    },
    /// Show a message and mark it read.
    Read {
        /// Message id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum VaultCommand {
    /// Unlock the vault (proves the factors; the key is shown only with --reveal-secrets).
    Unlock {
        /// Reason sent to the server.
        #[arg(long, default_value = "NOT_SPECIFIED")]
        reason: String,
        #[command(flatten)]
        factors: FactorArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PinCommand {
    /// Check the PIN online (a signed /pa/v3/signature/validate; a wrong PIN costs an attempt).
    Verify {
        /// Reason sent to the server.
        #[arg(long, default_value = "PIN_CHECK")]
        reason: String,
        #[command(flatten)]
        factors: FactorArgs,
    },
    /// Change the PIN (the old one from --pin-env/--pin-file, the new one from --new-pin-env).
    Change {
        #[command(flatten)]
        pin: PinArgs,
        /// Environment variable holding the new PIN (asked when unset).
        #[arg(long, value_name = "VAR", default_value = "TOKENSIM_NEW_PIN")]
        new_pin_env: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BiometryCommand {
    /// Enroll biometry (needs the PIN once).
    Enroll {
        #[command(flatten)]
        pin: PinArgs,
    },
    /// Change the simulated OS enrollment: like a phone, the biometry key is dropped.
    Change {
        /// The new enrollment id.
        #[arg(long, default_value = "changed")]
        enrollment: String,
    },
    /// Remove the biometry key.
    Remove,
}

#[derive(Debug, Args)]
pub(crate) struct DiagnoseArgs {
    /// The bundle file to write (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}

/// The key set a generic ECIES exchange is encrypted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EciesScopeArg {
    /// The application's (sharedInfo1 /pa/generic/application).
    Application,
    /// The device's activation (sharedInfo1 /pa/generic/activation).
    Activation,
}

#[derive(Debug, Args)]
pub(crate) struct EciesArgs {
    /// Which key set encrypts the data.
    #[arg(long, value_enum)]
    pub scope: EciesScopeArg,
    /// The endpoint's path under the device's server URL, e.g. /exchange/v3/activation.
    #[arg(long)]
    pub path: String,
    /// The plaintext to send; @FILE sends the bytes of FILE.
    #[arg(long)]
    pub data: String,
    /// Also sign the data for this resource id with --factors before encrypting it
    /// (sign-then-encrypt, as Wultra's SDK does; activation scope only;
    /// X-PowerAuth-Authorization then replaces X-PowerAuth-Encryption).
    #[arg(long, value_name = "URI_ID")]
    pub sign: Option<String>,
    #[command(flatten)]
    pub factors: FactorArgs,
}
