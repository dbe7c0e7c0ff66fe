//! `tokensim devices import-cmdtool` and `export-cmdtool`: Wultra's command-line client's
//! status files (`tokensim_device::cmdtool`).

use std::path::{Path, PathBuf};

use clap::Args;
use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use serde::Serialize;
use tokensim_device::cmdtool::{CmdToolError, StatusFile, import};
use tokensim_device::{DeviceState, Error as DeviceError, Profile, Session};
use tokensim_wallet::BackendKind;

use super::{Ctx, Result, read_pin};
use crate::cli::PinArgs;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit_stderr};

/// What `tokensim --json devices import-cmdtool` prints: the device as stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Imported<'a> {
    id: &'a str,
    name: &'a str,
    activation_id: &'a str,
    fingerprint: &'a str,
    /// The protocol version, e.g. `3.3`.
    version: &'a str,
    /// The server's status after the import, `UNKNOWN` when it could not be fetched.
    state: &'a str,
    counter: u64,
    server_url: &'a str,
    store: BackendKind,
}

/// What `tokensim --json devices export-cmdtool` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exported<'a> {
    id: &'a str,
    file: &'a Path,
    activation_id: &'a str,
    counter: u64,
    /// The file holds the keys in plain JSON: what that means.
    warning: &'a str,
}

/// `devices import-cmdtool`.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The cmd-tool status file (its --status-file).
    pub file: PathBuf,
    /// The application: a mobile SDK configuration string, or the cmd-tool's config file
    /// (JSON with `mobileSdkConfig`, or `applicationKey`, `applicationSecret`,
    /// `masterPublicKey`).
    #[arg(long, env = "TOKENSIM_MOBILE_SDK_CONFIG", value_name = "CONFIG")]
    pub config: String,
    /// The server the activation lives on (the cmd-tool's --url without the path).
    #[arg(long, env = "TOKENSIM_SERVER")]
    pub server: String,
    /// The PIN the file was created with.
    #[command(flatten)]
    pub pin: PinArgs,
    /// Protocol version to speak (the file keeps only the major version; the cmd-tool
    /// speaks 3.3 unless told otherwise).
    #[arg(long, default_value = "3.3", value_parser = ["3.0", "3.1", "3.2", "3.3"])]
    pub version: String,
    /// A name for the device (default: "cmd-tool " and the file name).
    #[arg(long)]
    pub name: Option<String>,
}

/// `devices export-cmdtool`.
#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// The device: its id, name or activation id.
    #[arg(value_name = "DEVICE")]
    pub selector: String,
    /// The status file to write (mode 0600).
    pub file: PathBuf,
}

/// Reads the status file, unlocks the vault once on the server, checks the PIN offline,
/// and adds the device to the store.
pub(super) async fn import_cmdtool(ctx: &Ctx<'_>, args: ImportArgs) -> Result<Output> {
    ctx.no_fault("devices import-cmdtool")?;
    let version: ProtocolVersion = args
        .version
        .parse()
        .map_err(|_| Failure::new(Class::Usage, ErrorKind::Usage, "--version takes 3.0 to 3.3"))?;
    let application = application(&args.config)?;
    let bytes = read_limited(&args.file)?;
    let file = StatusFile::parse(&bytes).map_err(|e| failure(e, &args.file))?;
    let wallet = ctx.wallet()?;
    let pin = read_pin(&args.pin, "PIN of the status file")?;
    let name = args.name.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("cmd-tool {stem}").trim().to_owned()
    });
    let profile = Profile::new(&name, &args.server, application, version);
    let bar = ctx.spinner("unlocking the vault on the server…");
    let device = import(&ctx.client, &file, profile, &pin).await;
    bar.finish_and_clear();
    let mut device = device.map_err(|e| failure(e, &args.file))?;
    let id = wallet.add(&DeviceState::Active(device.clone()))?;
    let mut persist = wallet.persister(&id);
    let status = Session::new(&ctx.client, &mut device, &mut persist)
        .status()
        .await;
    wallet.save(&id, &DeviceState::Active(device.clone()))?;
    let state = status
        .as_ref()
        .map(|s| s.snapshot.state.clone())
        .unwrap_or_else(|_| "UNKNOWN".to_owned());
    let text = format!(
        "imported {name:?} as device {id} from {file}\n  activation id: {aid}\n  fingerprint:   {fp}\n  version:       {version}\n  state:         {state}\n  counter:       {counter}\nThe import unlocked the vault once, so {file} is now a step behind the server: the cmd-tool's\nnext signature is still inside the server's look-ahead window. Use one of the two copies at a time.\n",
        file = args.file.display(),
        aid = device.activation_id,
        fp = device.fingerprint,
        counter = device.counter,
    );
    Output::typed(
        text,
        &Imported {
            id: id.as_str(),
            name: &name,
            activation_id: &device.activation_id,
            fingerprint: &device.fingerprint,
            version: version.as_str(),
            state: &state,
            counter: device.counter,
            server_url: &device.profile.server_url,
            store: wallet.backend(),
        },
    )
}

/// Writes the device as a status file the cmd-tool reads, 0600, atomically.
pub(super) fn export_cmdtool(ctx: &Ctx<'_>, args: ExportArgs) -> Result<Output> {
    ctx.no_fault("devices export-cmdtool")?;
    let wallet = ctx.wallet()?;
    let id = wallet.resolve(Some(&args.selector))?;
    let device = wallet.load_active(&id)?;
    let file = StatusFile::from_device(&device);
    let text = zeroize::Zeroizing::new(file.to_json());
    write_atomically(&args.file, text.as_bytes())?;
    let warning = format!(
        "{} keeps the device's keys in plain JSON, as the cmd-tool does (only the PIN protects the knowledge key): keep it private and delete it when done. TokenSim and the cmd-tool now share one activation: use one at a time, or their counters drift apart.",
        args.file.display()
    );
    if !ctx.g.quiet && !ctx.g.json {
        emit_stderr(&format!("warning: {warning}\n"));
    }
    Output::typed(
        format!(
            "device {id} written to {} as a cmd-tool status file (counter {}, mode 0600)",
            args.file.display(),
            device.counter
        ),
        &Exported {
            id: id.as_str(),
            file: &args.file,
            activation_id: &device.activation_id,
            counter: device.counter,
            warning: &warning,
        },
    )
}

/// The application from `--config`: a mobile SDK configuration string, or the cmd-tool's
/// config file.
fn application(config: &str) -> Result<ApplicationConfig> {
    let path = Path::new(config);
    if !path.is_file() {
        return ApplicationConfig::from_mobile_sdk_config(config.trim())
            .map_err(|e| Failure::from(DeviceError::Config(e)));
    }
    let bytes = read_limited(path)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(
            Class::Usage,
            ErrorKind::Config,
            format!("{} is not JSON: {e}", path.display()),
        )
        .hint("give the mobile SDK configuration string, or the cmd-tool's config.json")
    })?;
    let field = |key: &str| value.get(key).and_then(serde_json::Value::as_str);
    let parsed = match (
        field("mobileSdkConfig"),
        field("applicationKey"),
        field("applicationSecret"),
        field("masterPublicKey"),
    ) {
        (Some(sdk), ..) => ApplicationConfig::from_mobile_sdk_config(sdk.trim()),
        (None, Some(key), Some(secret), Some(master)) => {
            ApplicationConfig::from_b64_parts(key, secret, master)
        }
        _ => {
            return Err(Failure::new(
                Class::Usage,
                ErrorKind::Config,
                format!(
                    "{} has neither mobileSdkConfig nor applicationKey, applicationSecret and masterPublicKey",
                    path.display()
                ),
            )
            .hint("give the mobile SDK configuration string, or the cmd-tool's config.json"));
        }
    };
    parsed.map_err(|e| Failure::from(DeviceError::Config(e)))
}

/// A status or config file: a few kilobytes; anything over 1 MiB is not one.
fn read_limited(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Failure::io("read", path, &e))?;
    let mut bytes = Vec::new();
    file.take(1 << 20 | 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::io("read", path, &e))?;
    if bytes.len() > 1 << 20 {
        return Err(Failure::new(
            Class::Usage,
            ErrorKind::CmdtoolFile,
            format!(
                "{} is larger than 1 MiB: not a status or config file",
                path.display()
            ),
        )
        .hint("give the file the cmd-tool wrote with --status-file"));
    }
    Ok(bytes)
}

fn failure(error: CmdToolError, file: &Path) -> Failure {
    match error {
        CmdToolError::Device(e) => Failure::from(e),
        CmdToolError::WrongPin => Failure::new(Class::Rejected, ErrorKind::WrongPin, error.to_string())
            .hint("type the PIN the cmd-tool asked for at create (its -p option); nothing was stored"),
        CmdToolError::NotActive(_) => Failure::new(Class::Rejected, ErrorKind::NotActive, error.to_string())
            .hint("commit or unblock the activation on the server first, or activate a new device"),
        CmdToolError::KeysDisagree(_) => {
            Failure::new(Class::Rejected, ErrorKind::CmdtoolKeys, error.to_string())
                .hint("import the file against the server it was activated on (--server), with its application (--config)")
        }
        _ => Failure::new(
            Class::Usage,
            ErrorKind::CmdtoolFile,
            format!("{}: {error}", file.display()),
        )
        .hint("give the file the cmd-tool wrote with --status-file after a successful create"),
    }
}

/// Writes `bytes` to a temporary file beside `path` (0600), then renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "status".to_owned());
    let temporary = path.with_file_name(format!(".{name}.tmp"));
    super::write_private(&temporary, bytes)?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Failure::io("write", path, &e)
    })
}
