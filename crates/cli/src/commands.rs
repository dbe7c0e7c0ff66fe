//! The commands: each one opens the wallet, loads the device, runs one engine call (faulted
//! when `--fault` says so), saves the device, and returns what to print.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::CommandFactory;
use powerauth::signature::SignatureType;
use serde_json::Value;
use tokensim_api::{Leased, Runner};
use tokensim_device::{Client, ClientConfig, Factors, FaultReport, Recorder, Session};
use tokensim_wallet::{BackendKind, Passphrase, Wallet};
use zeroize::Zeroizing;

use crate::cli::*;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit, emit_stderr};
use crate::trace::Sink;

mod activate;
mod biometry;
pub(crate) mod cmdtool;
mod devices;
mod diagnose;
pub(crate) mod doctor;
mod ecies;
pub(crate) mod facemap;
pub(crate) mod fleet;
mod inbox;
mod offline;
mod ops;
mod pin;
pub(crate) mod profile;
mod profile_jwt;
mod profile_oauth;
mod profile_signed_token;
mod push;
mod remove;
mod sandbox;
mod sign;
pub(crate) mod snapshot;
mod status;
mod tokens;
mod vault;

type Result<T, E = Failure> = std::result::Result<T, E>;

/// How many exchanges `diagnose` keeps from the last commands.
const KEPT_EXCHANGES: usize = 20;
const EXCHANGES_FILE: &str = "last-exchanges.json";

/// Runs the parsed command line; returns the exit code.
pub(crate) async fn run(cli: Cli) -> Result<u8> {
    let ctx = Ctx::new(&cli.global)?;
    let result = dispatch(&ctx, cli.command).await;
    ctx.keep_exchanges();
    let output = result?;
    if output.json.is_null() && output.text.is_empty() {
        // Printed as it happened (push listen, sandbox).
    } else if ctx.g.json {
        emit(&format!("{}\n", output.json));
    } else if !output.text.is_empty() {
        let mut text = output.text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        emit(&text);
    }
    Ok(output.code)
}

async fn dispatch(ctx: &Ctx<'_>, command: Command) -> Result<Output> {
    match command {
        Command::Sandbox(args) => sandbox::sandbox(ctx, args).await,
        Command::Activate(args) => activate::activate_device(ctx, args).await,
        Command::Devices {
            command: Some(DevicesCommand::ImportCmdtool(args)),
        } => cmdtool::import_cmdtool(ctx, args).await,
        Command::Devices {
            command: Some(DevicesCommand::ExportCmdtool(args)),
        } => cmdtool::export_cmdtool(ctx, args),
        Command::Devices { command } => {
            devices::devices(ctx, command.unwrap_or(DevicesCommand::List))
        }
        Command::Status(args) => status::status(ctx, args).await,
        Command::Sign(args) => sign::sign(ctx, args).await,
        Command::SignData(args) => sign::sign_data(ctx, args).await,
        Command::Tokens(command) => tokens::tokens(ctx, command).await,
        Command::Ops(command) => ops::ops(ctx, command).await,
        Command::Offline(args) => offline::offline(ctx, args).await,
        Command::Push(command) => push::push(ctx, command).await,
        Command::Inbox(command) => inbox::inbox(ctx, command).await,
        Command::Vault(VaultCommand::Unlock { reason, factors }) => {
            vault::vault_unlock(ctx, &reason, &factors).await
        }
        Command::Pin(PinCommand::Change { pin, new_pin_env }) => {
            pin::pin_change(ctx, &pin, &new_pin_env).await
        }
        Command::Pin(PinCommand::Verify { reason, factors }) => {
            pin::pin_verify(ctx, &reason, &factors).await
        }
        Command::Biometry(command) => biometry::biometry(ctx, command).await,
        Command::Remove(pin) => remove::remove(ctx, &pin).await,
        Command::Ecies(args) => ecies::run(ctx, args).await,
        Command::Diagnose(args) => diagnose::diagnose(ctx, &args),
        Command::Snapshot(command) => snapshot::run(ctx, command).await,
        Command::Doctor(args) => doctor::run(ctx, args).await,
        Command::Fleet(args) => fleet::fleet(ctx, *args).await,
        Command::Profile(command) => profile::run(ctx, command).await,
        Command::Completions(args) => {
            let mut buffer = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "tokensim", &mut buffer);
            let script = String::from_utf8_lossy(&buffer).into_owned();
            let shell = args.shell.to_string();
            Output::typed(
                script.clone(),
                &Completions {
                    shell: &shell,
                    script: &script,
                },
            )
        }
    }
}

/// What `tokensim --json completions SHELL` prints.
#[derive(serde::Serialize)]
struct Completions<'a> {
    shell: &'a str,
    script: &'a str,
}

/// What every command shares: the options, the engine client and its recorder.
struct Ctx<'g> {
    g: &'g Global,
    recorder: Arc<Recorder>,
    client: Client,
}

/// The certificates of `--ca-cert FILE`.
fn read_ca_cert(path: &std::path::Path) -> Result<Vec<Vec<u8>>> {
    let usage = |why: String| {
        Failure::new(
            Class::Usage,
            ErrorKind::Usage,
            format!("--ca-cert {}: {why}", path.display()),
        )
        .hint("give the certificate authority's certificate as a PEM or DER file")
    };
    let bytes = std::fs::read(path).map_err(|e| usage(e.to_string()))?;
    tokensim_device::doctor::tls::read_certificates(&bytes).map_err(usage)
}

impl<'g> Ctx<'g> {
    fn new(g: &'g Global) -> Result<Self> {
        let recorder = Arc::new(Recorder::default());
        let sink = Sink {
            recorder: recorder.clone(),
            trace: g.trace,
            json: g.json,
            quiet: g.quiet,
        };
        let timeout = Duration::from_secs(g.timeout.max(1));
        let config = ClientConfig {
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(5)),
            reveal_secrets: g.reveal_secrets,
            accept_language: None,
            extra_roots: match &g.ca_cert {
                Some(path) => read_ca_cert(path)?,
                None => Vec::new(),
            },
        };
        let client = Client::new(config, Arc::new(sink))?;
        Ok(Self {
            g,
            recorder,
            client,
        })
    }

    fn data_dir(&self) -> Result<PathBuf> {
        match &self.g.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => tokensim_wallet::default_folder()
                .map_err(|e| Failure::from(tokensim_wallet::Error::from(e))),
        }
    }

    /// Opens the wallet; asks for the store passphrase on a terminal when it is needed and
    /// not in the environment.
    fn wallet(&self) -> Result<Wallet> {
        let dir = self.data_dir()?;
        let backend = match (self.g.store, self.g.store_passphrase) {
            (Some(StoreKind::Keychain), _) => Some(BackendKind::Keychain),
            (Some(StoreKind::File), _) | (None, true) => Some(BackendKind::EncryptedFile),
            (Some(StoreKind::Memory), _) => Some(BackendKind::Memory),
            (None, false) => None,
        };
        let passphrase = env_secret(&self.g.passphrase_env).map(|p| Passphrase::new(p.to_string()));
        if backend == Some(BackendKind::Memory) && !self.g.quiet {
            emit_stderr(
                "warning: --store memory keeps device secrets only until this command ends\n",
            );
        }
        match Wallet::open(&dir, backend, passphrase) {
            Err(tokensim_wallet::Error::PassphraseNeeded { .. })
                if std::io::stdin().is_terminal() =>
            {
                let passphrase = prompt("Passphrase of the device store: ")?;
                Ok(Wallet::open(
                    &dir,
                    backend,
                    Some(Passphrase::new(passphrase.to_string())),
                )?)
            }
            // No keychain, on a terminal: say why and offer the encrypted file, which the
            // tester accepts by typing a passphrase (never chosen silently).
            Err(tokensim_wallet::Error::NoKeychain(reason))
                if std::io::stdin().is_terminal() && backend.is_none() =>
            {
                emit_stderr(&format!(
                    "{reason}\nDevices can be kept in a passphrase-encrypted file in {} instead.\n",
                    dir.display()
                ));
                let passphrase = prompt("New passphrase for the device file (empty to stop): ")?;
                if passphrase.is_empty() {
                    return Err(tokensim_wallet::Error::NoKeychain(reason).into());
                }
                if *prompt("Repeat the passphrase: ")? != *passphrase {
                    return Err(Failure::new(
                        Class::Usage,
                        ErrorKind::PassphraseMismatch,
                        "the two passphrases differ",
                    )
                    .hint("run the command again and type the same passphrase twice"));
                }
                Ok(Wallet::open(
                    &dir,
                    Some(BackendKind::EncryptedFile),
                    Some(Passphrase::new(passphrase.to_string())),
                )?)
            }
            other => Ok(other?),
        }
    }

    /// The device `--device` names (or the only one), leased until the command ends (after
    /// the last save: another process, the app or another `tokensim`, waits instead of
    /// signing with the same counter value), loaded and ready for a session.
    fn device(&self) -> Result<Dev> {
        let wallet = self.wallet()?;
        let id = wallet.resolve(self.g.device.as_deref())?;
        Leased::open(&wallet, &id)
    }

    /// The runner of this command's calls: `--fault` applies to each.
    fn runner(&self) -> Runner<'_> {
        Runner::new(&self.client, self.g.fault)
    }

    /// A spinner on stderr for long work (hidden when stderr is not a terminal, with
    /// `--json` or `--quiet`).
    fn spinner(&self, message: &str) -> indicatif::ProgressBar {
        if self.g.json || self.g.quiet || !std::io::stderr().is_terminal() {
            return indicatif::ProgressBar::hidden();
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// Keeps the last exchanges (redacted) in the data folder for `diagnose`. Not with
    /// `--reveal-secrets`, whose exchanges carry secrets.
    fn keep_exchanges(&self) {
        let exchanges = self.recorder.exchanges();
        if exchanges.is_empty() || self.g.reveal_secrets {
            return;
        }
        let Ok(dir) = self.data_dir() else { return };
        if !dir.is_dir() {
            return;
        }
        let path = dir.join(EXCHANGES_FILE);
        let mut kept: Vec<Value> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        kept.extend(
            exchanges
                .iter()
                .filter_map(|e| serde_json::to_value(e).ok()),
        );
        let excess = kept.len().saturating_sub(KEPT_EXCHANGES);
        kept.drain(..excess);
        // One fixed temporary name: a process killed while writing leaves at most this one
        // file, which the next write replaces.
        let temporary = dir.join(format!(".{EXCHANGES_FILE}.tmp"));
        let written = serde_json::to_vec_pretty(&kept)
            .ok()
            .and_then(|bytes| write_private(&temporary, &bytes).ok())
            .and_then(|()| std::fs::rename(&temporary, &path).ok());
        if written.is_none() {
            let _ = std::fs::remove_file(&temporary);
            tracing::debug!("could not keep the last exchanges in {}", path.display());
        }
    }

    /// [`Runner::call_with`]: `knowledge` says whether the call carries the PIN
    /// (`--fault wrong-pin` needs one).
    async fn call_with<T>(
        &self,
        dev: &mut Dev,
        knowledge: bool,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<Ran<T>> {
        self.runner()
            .call_with(dev, knowledge, op)
            .await
            .map(Ran::from)
    }

    /// Refuses `--fault` on a command that makes no HTTP call.
    fn no_fault(&self, what: &'static str) -> Result<()> {
        self.runner().no_fault(what)
    }
}

/// A leased, loaded device and where it is saved.
type Dev = Leased;

/// A call's result, or the report of its faulted run.
enum Ran<T> {
    Done(T),
    Fault(FaultReport),
}

impl<T> From<tokensim_api::Ran<T>> for Ran<T> {
    fn from(ran: tokensim_api::Ran<T>) -> Self {
        match ran {
            tokensim_api::Ran::Done(value) => Ran::Done(value),
            tokensim_api::Ran::Fault(report) => Ran::Fault(report),
        }
    }
}

impl<T> Ran<T> {
    fn output(self, render: impl FnOnce(T) -> Result<Output>) -> Result<Output> {
        match self {
            Ran::Done(value) => render(value),
            Ran::Fault(report) => fault_output(&report),
        }
    }
}

/// What `tokensim --json --fault ...` prints: the fault's report instead of the result.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Faulted<'a> {
    fault_report: &'a FaultReport,
}

fn fault_output(report: &FaultReport) -> Result<Output> {
    let mut output = Output::typed(
        crate::fault::report_text(report),
        &Faulted {
            fault_report: report,
        },
    )?;
    if !report.matched {
        output.code = Class::Rejected.code();
    }
    Ok(output)
}

// ---------------------------------------------------------------------------------------
// Secrets from the environment, files and the terminal.

fn env_secret(var: &str) -> Option<Zeroizing<String>> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Zeroizing::new)
}

fn prompt(text: &str) -> Result<Zeroizing<String>> {
    rpassword::prompt_password(text)
        .map(Zeroizing::new)
        .map_err(|e| {
            Failure::new(
                Class::Error,
                ErrorKind::Io,
                format!("cannot read from the terminal: {e}"),
            )
        })
}

fn read_pin(args: &PinArgs, what: &str) -> Result<Zeroizing<String>> {
    if let Some(file) = &args.pin_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(file).map_err(|e| Failure::io("read", file, &e))?,
        );
        return Ok(Zeroizing::new(
            text.lines().next().unwrap_or_default().trim().to_owned(),
        ));
    }
    if let Some(pin) = env_secret(&args.pin_env) {
        return Ok(pin);
    }
    if std::io::stdin().is_terminal() {
        return prompt(&format!("{what}: "));
    }
    Err(
        Failure::new(Class::Usage, ErrorKind::NoPin, format!("no {what} given"))
            .hint(format!(
                "set ${} (or name another variable with --pin-env), use --pin-file FILE, or run in a terminal to be asked",
                args.pin_env
            )),
    )
}

/// Parses `--factors`: `possession`, `possession,knowledge`, `possession,biometry`,
/// `possession,knowledge,biometry` (any order), or a type name like `possession_knowledge`.
pub(crate) fn parse_factors(text: &str) -> std::result::Result<SignatureType, String> {
    if let Ok(kind) = text.parse::<SignatureType>() {
        return Ok(kind);
    }
    let mut factors: Vec<&str> = text.split(',').map(str::trim).collect();
    factors.sort_unstable();
    factors.dedup();
    match factors.as_slice() {
        ["possession"] => Ok(SignatureType::Possession),
        ["knowledge", "possession"] => Ok(SignatureType::PossessionKnowledge),
        ["biometry", "possession"] => Ok(SignatureType::PossessionBiometry),
        ["biometry", "knowledge", "possession"] => Ok(SignatureType::PossessionKnowledgeBiometry),
        ["knowledge"] => Ok(SignatureType::Knowledge),
        ["biometry"] => Ok(SignatureType::Biometry),
        _ => Err(format!(
            "{text:?} is not a factor combination: use possession, possession,knowledge, possession,biometry or possession,knowledge,biometry"
        )),
    }
}

fn factors(kind: SignatureType, pin: &PinArgs) -> Result<Factors> {
    let needs_pin = kind
        .factors()
        .contains(&powerauth::signature::Factor::Knowledge);
    if needs_pin {
        let pin = read_pin(pin, "PIN")?;
        Ok(Factors::new(kind, Some(&pin)))
    } else {
        Ok(Factors::new(kind, None))
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = |mut file: std::fs::File| {
        // An existing file keeps its mode through `open`: narrow it too.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    options
        .open(path)
        .and_then(write)
        .map_err(|e| Failure::io("write", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokensim_device::Fault;

    fn report(matched: bool) -> FaultReport {
        FaultReport {
            fault: Fault::WrongPin,
            sent: vec!["POST http://127.0.0.1:9/pa/v3/signature/validate".to_owned()],
            answered: "HTTP 200".to_owned(),
            required: "HTTP 401 and the server's failed attempts +1".to_owned(),
            matched,
            exchanges: Vec::new(),
        }
    }

    #[test]
    fn a_fault_answered_wrongly_exits_3_and_says_so() {
        let wrong = fault_output(&report(false)).unwrap();
        assert_eq!(wrong.code, 3);
        assert!(
            wrong.text.contains("NOT what the protocol requires"),
            "{}",
            wrong.text
        );
        assert_eq!(wrong.json["faultReport"]["matched"], false);
        let right = fault_output(&report(true)).unwrap();
        assert_eq!(right.code, 0);
        assert!(right.text.contains("as the protocol requires"));
    }

    #[test]
    fn factor_lists_read_in_any_order() {
        assert_eq!(
            parse_factors("knowledge,possession"),
            Ok(SignatureType::PossessionKnowledge)
        );
        assert_eq!(
            parse_factors("possession, biometry"),
            Ok(SignatureType::PossessionBiometry)
        );
        assert_eq!(
            parse_factors("possession_knowledge_biometry"),
            Ok(SignatureType::PossessionKnowledgeBiometry)
        );
        assert!(parse_factors("possession,telepathy").is_err());
    }
}
