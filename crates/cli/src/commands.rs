//! The commands: each one opens the wallet, loads the device, runs one engine call (faulted
//! when `--fault` says so), saves the device, and returns what to print.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::CommandFactory;
use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::encoding::b64;
use powerauth::signature::{AuthorizationHeader, RequestData, SignatureType};
use serde_json::{Value, json};
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::operations::{ProximityCheck, render_operation};
use tokensim_device::push::{CloudCredentials, PushStream};
use tokensim_device::signing::DataSignature;
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, DeviceState, Error as DeviceError, Factors, Fault,
    FaultReport, FaultRun, PendingActivation, Profile, Recorder, Session,
};
use tokensim_wallet::{BackendKind, DeviceId, Passphrase, Wallet, WalletPersist};
use zeroize::Zeroizing;

use crate::cli::*;
use crate::error::{Class, Failure};
use crate::output::{Output, emit, emit_stderr};
use crate::trace::Sink;

mod ecies;

type Result<T, E = Failure> = std::result::Result<T, E>;

/// How many exchanges `diagnose` keeps from the last commands.
const KEPT_EXCHANGES: usize = 20;
const EXCHANGES_FILE: &str = "last-exchanges.json";

/// Runs the parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
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
        Command::Sandbox(args) => sandbox(ctx, args).await,
        Command::Activate(args) => activate_device(ctx, args).await,
        Command::Devices { command } => devices(ctx, command.unwrap_or(DevicesCommand::List)),
        Command::Status(args) => status(ctx, args).await,
        Command::Sign(args) => sign(ctx, args).await,
        Command::SignData(args) => sign_data(ctx, args).await,
        Command::Tokens(command) => tokens(ctx, command).await,
        Command::Ops(command) => ops(ctx, command).await,
        Command::Offline(args) => offline(ctx, args).await,
        Command::Push(command) => push(ctx, command).await,
        Command::Inbox(command) => inbox(ctx, command).await,
        Command::Vault(VaultCommand::Unlock { reason, factors }) => {
            vault_unlock(ctx, &reason, &factors).await
        }
        Command::Pin(PinCommand::Change { pin, new_pin_env }) => {
            pin_change(ctx, &pin, &new_pin_env).await
        }
        Command::Pin(PinCommand::Verify { reason, factors }) => {
            pin_verify(ctx, &reason, &factors).await
        }
        Command::Biometry(command) => biometry(ctx, command).await,
        Command::Remove(pin) => remove(ctx, &pin).await,
        Command::Ecies(args) => ecies::run(ctx, args).await,
        Command::Diagnose(args) => diagnose(ctx, &args),
        Command::Fleet(args) => fleet(ctx, *args).await,
        Command::Completions(args) => {
            let mut buffer = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "tokensim", &mut buffer);
            let script = String::from_utf8_lossy(&buffer).into_owned();
            Ok(Output::new(
                script.clone(),
                json!({ "shell": args.shell.to_string(), "script": script }),
            ))
        }
    }
}

/// What every command shares: the options, the engine client and its recorder.
struct Ctx<'g> {
    g: &'g Global,
    recorder: Arc<Recorder>,
    client: Client,
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
                        "passphrase-mismatch",
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

    /// The device `--device` names (or the only one), loaded and ready for a session.
    fn device(&self) -> Result<Dev> {
        let wallet = self.wallet()?;
        let id = wallet.resolve(self.g.device.as_deref())?;
        let device = wallet.load_active(&id)?;
        let persist = wallet.persister(&id);
        Ok(Dev {
            wallet,
            id,
            device,
            persist,
        })
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

    /// [`Self::call_with`] for a call that carries no PIN.
    async fn call<T>(
        &self,
        dev: &mut Dev,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<Ran<T>> {
        self.call_with(dev, false, op).await
    }

    /// Runs `op` on the device: plainly, or under `--fault` with a report. The device is
    /// saved afterwards either way. `knowledge` says whether the call carries the PIN
    /// (`--fault wrong-pin` needs one).
    async fn call_with<T>(
        &self,
        dev: &mut Dev,
        knowledge: bool,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<Ran<T>> {
        if self.g.fault == Some(Fault::WrongPin) && !knowledge {
            return Err(Failure::from(DeviceError::FaultNotApplicable {
                fault: Fault::WrongPin.to_string(),
                what: "a call without the PIN",
            })
            .hint("wrong-pin needs a command that signs with the PIN, e.g. `vault unlock` or `ops approve` with --factors possession,knowledge"));
        }
        match self.g.fault {
            None => {
                let result = {
                    let mut session = Session::new(&self.client, &mut dev.device, &mut dev.persist);
                    op(&mut session).await
                };
                dev.save()?;
                Ok(Ran::Done(result?))
            }
            Some(fault) => {
                let run =
                    FaultRun::start(&self.client, &mut dev.device, &mut dev.persist, fault).await?;
                let result = {
                    let mut session = Session::new(run.client(), &mut dev.device, &mut dev.persist);
                    op(&mut session).await
                };
                let report = run.finish(&mut dev.device, &mut dev.persist, &result).await;
                dev.save()?;
                Ok(Ran::Fault(report))
            }
        }
    }

    /// Runs `op` without any fault (preparation steps such as an operation's detail).
    async fn plain<T>(
        &self,
        dev: &mut Dev,
        op: impl AsyncFnOnce(&mut Session<'_>) -> tokensim_device::Result<T>,
    ) -> Result<T> {
        let result = {
            let mut session = Session::new(&self.client, &mut dev.device, &mut dev.persist);
            op(&mut session).await
        };
        dev.save()?;
        Ok(result?)
    }

    /// Refuses `--fault` on a command that makes no HTTP call.
    fn no_fault(&self, what: &'static str) -> Result<()> {
        match self.g.fault {
            Some(fault) => Err(DeviceError::FaultNotApplicable {
                fault: fault.to_string(),
                what,
            }
            .into()),
            None => Ok(()),
        }
    }
}

/// A loaded device and where it is saved.
struct Dev {
    wallet: Wallet,
    id: DeviceId,
    device: ActiveDevice,
    persist: WalletPersist,
}

impl Dev {
    fn save(&self) -> Result<()> {
        Ok(self
            .wallet
            .save(&self.id, &DeviceState::Active(self.device.clone()))?)
    }
}

/// A call's result, or the report of its faulted run.
enum Ran<T> {
    Done(T),
    Fault(FaultReport),
}

impl<T> Ran<T> {
    fn output(self, render: impl FnOnce(T) -> Result<Output>) -> Result<Output> {
        match self {
            Ran::Done(value) => render(value),
            Ran::Fault(report) => Ok(fault_output(&report)),
        }
    }
}

fn fault_output(report: &FaultReport) -> Output {
    Output {
        text: crate::fault::report_text(report),
        json: json!({ "faultReport": report }),
        code: if report.matched {
            0
        } else {
            Class::Rejected.code()
        },
    }
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
                "io",
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
        Failure::new(Class::Usage, "no-pin", format!("no {what} given"))
            .hint(format!(
                "set ${} (or name another variable with --pin-env), use --pin-file FILE, or run in a terminal to be asked",
                args.pin_env
            )),
    )
}

/// Parses `--factors`: `possession`, `possession,knowledge`, `possession,biometry`,
/// `possession,knowledge,biometry` (any order), or a type name like `possession_knowledge`.
pub fn parse_factors(text: &str) -> std::result::Result<SignatureType, String> {
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

/// Whether `factors` include the PIN.
fn knows(factors: &Factors) -> bool {
    factors
        .signature_type
        .factors()
        .contains(&powerauth::signature::Factor::Knowledge)
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

// ---------------------------------------------------------------------------------------
// sandbox

/// `tokensim fleet`: the fleet engine writes its own report (table or JSON, and `--html`);
/// a fleet that is not clean (a device failed, an operation failed, a fault answered
/// wrongly) exits 3.
async fn fleet(ctx: &Ctx<'_>, mut args: tokensim_fleet::FleetArgs) -> Result<Output> {
    ctx.no_fault("fleet (use its --faults mix)")?;
    args.json |= ctx.g.json;
    let mut report_text = Vec::new();
    let report = tokensim_fleet::run(&args, &mut report_text)
        .await
        .map_err(|e| {
            let class = match e {
                tokensim_fleet::Error::Options(_) => Class::Usage,
                _ => Class::Error,
            };
            Failure::new(class, "fleet", e.to_string())
                .hint("fix what the message says and run the fleet again (tokensim fleet --help)")
        })?;
    emit(&String::from_utf8_lossy(&report_text));
    Ok(Output {
        text: String::new(),
        json: serde_json::Value::Null,
        code: if report.is_clean() { 0 } else { 3 },
    })
}

async fn sandbox(ctx: &Ctx<'_>, args: SandboxArgs) -> Result<Output> {
    ctx.no_fault("sandbox")?;
    let mut config = sandbox::Config::in_memory();
    config.bind = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, args.port));
    if let Some(db) = &args.db {
        config.database_url = sandbox::Config::sqlite_url(db);
    }
    let server = sandbox::Sandbox::start(config).await.map_err(|e| {
        Failure::new(
            Class::Error,
            "sandbox",
            format!("the sandbox did not start: {e}"),
        )
        .hint("choose another --port, or check the --db file")
    })?;
    let sdk_config = server
        .default_mobile_sdk_config()
        .await
        .map_err(|e| Failure::new(Class::Error, "sandbox", e.to_string()))?
        .unwrap_or_default();
    let info = json!({
        "url": server.url(),
        "admin": {"username": server.admin().username, "password": server.admin().password},
        "integration": {"username": server.integration().username, "password": server.integration().password},
        "mobileSdkConfig": sdk_config,
    });
    if ctx.g.json {
        emit(&format!("{info}\n"));
    } else {
        emit(&format!(
            "PowerAuth sandbox running at {url}\n  admin:        {au} / {ap}\n  integration:  {iu} / {ip}\n  mobile SDK config:\n    {sdk_config}\n\nActivate a device:\n  tokensim activate --server {url} --config {sdk_config} --qr 'CODE#SIGNATURE'\n\nCtrl-C stops it.\n",
            url = server.url(),
            au = server.admin().username,
            ap = server.admin().password,
            iu = server.integration().username,
            ip = server.integration().password,
        ));
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(Output::new("", json!(null)))
}

// ---------------------------------------------------------------------------------------
// activate

async fn activate_device(ctx: &Ctx<'_>, args: ActivateArgs) -> Result<Output> {
    let version: ProtocolVersion = args.version.parse().map_err(|_| {
        Failure::new(
            Class::Usage,
            "usage",
            "--version takes 3.0, 3.1, 3.2 or 3.3",
        )
    })?;
    let application = ApplicationConfig::from_mobile_sdk_config(args.config.trim())
        .map_err(|e| Failure::from(DeviceError::Config(e)))?;
    let code = match (&args.code, &args.qr, &args.image) {
        (_, _, Some(image)) => {
            let bar = ctx.spinner("reading the QR code…");
            let text = tokensim_device::qr_image::decode_file(image);
            bar.finish_and_clear();
            text.map_err(DeviceError::from)?
        }
        (_, Some(qr), _) => qr.clone(),
        (Some(code), _, _) => code.clone(),
        _ => unreachable!("clap requires one of --code, --qr, --image"),
    };
    // The doctor: the code's checksum and signature are checked before anything is sent
    // or stored, with the failure explained (activate() checks again, cheaply).
    doctor(&code, &application)?;
    let wallet = ctx.wallet()?;
    let pin = read_pin(&args.pin, "new PIN")?;
    let mut input = ActivationInput::new(code, &pin);
    input.otp = args.otp.clone();
    if args.biometry {
        input.biometry_enrollment = Some("enrolled".to_owned());
    }
    let pending =
        PendingActivation::new(Profile::new(&args.name, &args.server, application, version));
    let bar = ctx.spinner("activating…");
    let device = match ctx.g.fault {
        None => activate(&ctx.client, pending, &input).await,
        Some(fault) => {
            let run = FaultRun::detached(&ctx.client, fault);
            let result = activate(run.client(), pending, &input).await;
            bar.finish_and_clear();
            let report = run.judge(&result);
            if let Ok(device) = result {
                wallet.add(&DeviceState::Active(device))?;
            }
            return Ok(fault_output(&report));
        }
    };
    bar.finish_and_clear();
    let mut device = device?;
    let id = wallet.add(&DeviceState::Active(device.clone()))?;
    let mut persist = wallet.persister(&id);
    let status = Session::new(&ctx.client, &mut device, &mut persist)
        .status()
        .await;
    wallet.save(&id, &DeviceState::Active(device.clone()))?;
    let state = match &status {
        Ok(report) => report.snapshot.state.clone(),
        Err(e) => {
            tracing::warn!("activated, but the first status failed: {e}");
            "UNKNOWN".to_owned()
        }
    };
    let mut text = format!(
        "activated {name:?} as device {id}\n  activation id: {aid}\n  fingerprint:   {fp}\n  version:       {version}\n  state:         {state}\n",
        name = device.profile.name,
        aid = device.activation_id,
        fp = device.fingerprint,
    );
    if state == "PENDING_COMMIT" {
        text.push_str("  hint: the server must commit the activation before the device can sign\n");
    }
    Ok(Output::new(
        text,
        json!({
            "id": id.as_str(),
            "name": device.profile.name,
            "activationId": device.activation_id,
            "fingerprint": device.fingerprint,
            "version": version.as_str(),
            "state": state,
            "serverUrl": device.profile.server_url,
        }),
    ))
}

/// Explains, before anything is sent, why an activation code cannot work (the shared
/// doctor of `tokensim_device::doctor`, which the desktop app shows too).
fn doctor(code: &str, application: &ApplicationConfig) -> Result<()> {
    use tokensim_device::doctor::{CodeProblem, RECOVERY_CODE, RECOVERY_CODE_HINT, check_code};
    match check_code(code, application) {
        Ok(powerauth::activation_code::SignatureCheck::Unsigned) => {
            tracing::info!(
                "the code carries no signature, so it was not checked against the application; a QR payload CODE#SIGNATURE can be"
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(CodeProblem::Invalid(error)) => Err(error.into()),
        Err(CodeProblem::RecoveryCode) => {
            Err(Failure::new(Class::Usage, "activation-code", RECOVERY_CODE)
                .hint(RECOVERY_CODE_HINT))
        }
    }
}

// ---------------------------------------------------------------------------------------
// devices

fn devices(ctx: &Ctx<'_>, command: DevicesCommand) -> Result<Output> {
    ctx.no_fault("devices")?;
    let wallet = ctx.wallet()?;
    match command {
        DevicesCommand::List => {
            let devices = wallet.list()?;
            let mut text = String::new();
            if devices.is_empty() {
                text.push_str("no devices yet: tokensim activate adds one\n");
            } else {
                text.push_str(&format!(
                    "{:<24} {:<24} {:<5} {:<15} {:<38} {}\n",
                    "ID", "NAME", "VER", "STATE", "ACTIVATION", "SERVER"
                ));
                for d in &devices {
                    text.push_str(&format!(
                        "{:<24} {:<24} {:<5} {:<15} {:<38} {}\n",
                        d.id,
                        d.name,
                        d.version,
                        d.state,
                        d.activation_id.as_deref().unwrap_or("-"),
                        d.server_url
                    ));
                }
            }
            Ok(Output::new(
                text,
                json!({ "devices": devices, "store": wallet.backend(), "dataDir": wallet.folder() }),
            ))
        }
        DevicesCommand::Show => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            let summary = wallet.summary(&id)?;
            let record = wallet.record(&id)?;
            let activation = record.activation.as_ref();
            let mut text = format!(
                "{}  ({})\n  server:        {}\n  version:       {}\n  state:         {}\n",
                summary.name, summary.id, summary.server_url, summary.version, summary.state
            );
            if let Some(a) = activation {
                text.push_str(&format!(
                    "  activation id: {}\n  fingerprint:   {}\n  biometry:      {}\n  tokens:        {}\n",
                    a.activation_id,
                    a.fingerprint,
                    if a.biometry_enrollment.is_some() { "enrolled" } else { "no" },
                    if a.tokens.is_empty() {
                        "none".to_owned()
                    } else {
                        a.tokens.keys().cloned().collect::<Vec<_>>().join(", ")
                    }
                ));
                if let Some(s) = &a.last_status {
                    text.push_str(&format!(
                        "  failed PIN attempts: {} of {}\n",
                        s.failed_attempts, s.max_failed_attempts
                    ));
                }
            }
            Ok(Output::new(
                text,
                json!({ "device": summary, "record": record }),
            ))
        }
        DevicesCommand::Rename { name } => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            wallet.rename(&id, &name)?;
            Ok(Output::new(
                format!("device {id} is now called {name:?}"),
                json!({ "id": id.as_str(), "name": name }),
            ))
        }
        DevicesCommand::RemoveLocal => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            wallet.remove(&id)?;
            Ok(Output::new(
                format!("device {id} removed here (the server still has its activation)"),
                json!({ "id": id.as_str(), "removed": true }),
            ))
        }
        DevicesCommand::Export {
            out,
            bundle_passphrase_env,
        } => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            let passphrase = bundle_passphrase(&bundle_passphrase_env)?;
            let bundle = wallet.export(&id, &passphrase)?;
            write_private(&out, &bundle)?;
            Ok(Output::new(
                format!("device {id} exported to {} (encrypted)", out.display()),
                json!({ "id": id.as_str(), "file": out }),
            ))
        }
        DevicesCommand::Import {
            file,
            name,
            bundle_passphrase_env,
        } => {
            let bundle = std::fs::read(&file).map_err(|e| Failure::io("read", &file, &e))?;
            let passphrase = bundle_passphrase(&bundle_passphrase_env)?;
            let id = wallet.import(&bundle, &passphrase, name.as_deref())?;
            Ok(Output::new(
                format!("imported device {id}"),
                json!({ "id": id.as_str() }),
            ))
        }
    }
}

fn bundle_passphrase(var: &str) -> Result<Passphrase> {
    if let Some(passphrase) = env_secret(var) {
        return Ok(Passphrase::new(passphrase.to_string()));
    }
    if std::io::stdin().is_terminal() {
        return Ok(Passphrase::new(prompt("Bundle passphrase: ")?.to_string()));
    }
    Err(
        Failure::new(Class::Usage, "no-passphrase", "no bundle passphrase given")
            .hint(format!("set ${var}, or run in a terminal to be asked")),
    )
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

// ---------------------------------------------------------------------------------------
// status, sign

async fn status(ctx: &Ctx<'_>, args: StatusArgs) -> Result<Output> {
    let mut dev = ctx.device()?;
    let sync = args.sync;
    let ran = ctx
        .call(&mut dev, async |s| {
            let report = s.status().await?;
            if sync {
                s.synchronize_counter().await?;
                return s.status().await.map(|after| (report, Some(after)));
            }
            Ok((report, None))
        })
        .await?;
    let name = dev.device.profile.name.clone();
    ran.output(|(report, after)| {
        let shown = after.as_ref().unwrap_or(&report);
        let s = &shown.snapshot;
        let mut text = format!(
            "{name}: {}\n  failed PIN attempts: {} of {} ({} left)\n  counter: {}\n",
            s.state,
            s.failed_attempts,
            s.max_failed_attempts,
            s.remaining_attempts(),
            shown
        );
        if after.is_some() {
            text.push_str(&format!("  before the resynchronisation: {report}\n"));
        }
        Ok(Output::new(
            text,
            json!({
                "state": s.state,
                "failedAttempts": s.failed_attempts,
                "maxFailedAttempts": s.max_failed_attempts,
                "remainingAttempts": s.remaining_attempts(),
                "counter": shown.to_string(),
                "inSync": shown.in_sync(),
                "resynchronized": shown.resynchronized || after.is_some(),
                "snapshot": s,
            }),
        ))
    })
}

async fn sign(ctx: &Ctx<'_>, args: SignArgs) -> Result<Output> {
    let body = match (&args.body_file, &args.body) {
        (Some(file), _) => std::fs::read(file).map_err(|e| Failure::io("read", file, &e))?,
        (None, Some(body)) => body.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    signed(
        ctx,
        &args.method,
        &args.uri_id,
        body,
        &args.factors,
        args.verify,
    )
    .await
}

async fn sign_data(ctx: &Ctx<'_>, args: SignDataArgs) -> Result<Output> {
    let data = match (&args.file, &args.data) {
        (Some(file), _) => std::fs::read(file).map_err(|e| Failure::io("read", file, &e))?,
        (None, Some(data)) => data.clone().into_bytes(),
        (None, None) => unreachable!("clap requires --data or --file"),
    };
    signed(ctx, "POST", &args.uri_id, data, &args.factors, args.verify).await
}

async fn signed(
    ctx: &Ctx<'_>,
    method: &str,
    uri_id: &str,
    body: Vec<u8>,
    factor_args: &FactorArgs,
    verify: bool,
) -> Result<Output> {
    if ctx.g.fault.is_some() {
        return Err(ctx.no_fault("sign").unwrap_err().hint(
            "sign computes the header locally and --verify asks the server API, not the device API; inject faults on a call the device makes: status, vault unlock, ops approve, tokens create",
        ));
    }
    let factors = factors(factor_args.factors, &factor_args.pin)?;
    let mut dev = ctx.device()?;
    let method = method.to_ascii_uppercase();
    let ran = ctx
        .call(&mut dev, async |s| {
            let header = s.sign(&factors, &method, uri_id, &body)?;
            if !verify {
                return Ok((header, None));
            }
            let parsed = AuthorizationHeader::parse(&header)
                .map_err(|e| DeviceError::Protocol(e.to_string()))?;
            let request_data = RequestData::new(&method, uri_id, &parsed.nonce, &body)
                .as_str()
                .to_owned();
            let signature = DataSignature {
                header: parsed,
                request_data,
            };
            let valid = s.verify_data_signature(&signature).await?;
            Ok((header, Some(valid)))
        })
        .await?;
    ran.output(|(header, valid)| {
        if valid == Some(false) {
            return Err(Failure::new(
                Class::Rejected,
                "signature-invalid",
                "the server says the signature is not valid",
            )
            .hint("check the PIN and the factors; `tokensim status` shows failed attempts and counter sync"));
        }
        let mut text = format!("{}: {header}\n", AuthorizationHeader::NAME);
        if valid == Some(true) {
            text.push_str("the server verified the signature: valid\n");
        }
        Ok(Output::new(
            text,
            json!({ "header": AuthorizationHeader::NAME, "value": header, "verified": valid }),
        ))
    })
}

// ---------------------------------------------------------------------------------------
// tokens

async fn tokens(ctx: &Ctx<'_>, command: TokensCommand) -> Result<Output> {
    match command {
        TokensCommand::Create { name, factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let mut dev = ctx.device()?;
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.create_token(&name, &factors).await
                })
                .await?;
            ran.output(|token_id| {
                Ok(Output::new(
                    format!("token {name:?} created: {token_id}"),
                    json!({ "name": name, "tokenId": token_id }),
                ))
            })
        }
        TokensCommand::List => {
            ctx.no_fault("tokens list")?;
            let dev = ctx.device()?;
            let tokens: Vec<Value> = dev
                .device
                .tokens
                .iter()
                .map(|(name, t)| {
                    json!({"name": name, "tokenId": t.token_id, "signatureType": t.signature_type.as_str()})
                })
                .collect();
            let mut text = String::new();
            if tokens.is_empty() {
                text.push_str("no tokens: tokensim tokens create makes one\n");
            }
            for (name, t) in &dev.device.tokens {
                text.push_str(&format!(
                    "{name:<24} {}  {}\n",
                    t.token_id,
                    t.signature_type.as_str()
                ));
            }
            Ok(Output::new(text, json!({ "tokens": tokens })))
        }
        TokensCommand::Remove { name } => {
            let mut dev = ctx.device()?;
            let ran = ctx
                .call(&mut dev, async |s| {
                    s.remove_token(&name, &Factors::possession()).await
                })
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("token {name:?} removed"),
                    json!({ "name": name, "removed": true }),
                ))
            })
        }
        TokensCommand::Header { name } => {
            // Only a clock skew means something here: the header's timestamp moves.
            let client = match ctx.g.fault {
                Some(fault @ Fault::ClockSkew(_)) => ctx.client.with_fault(fault),
                Some(_) => {
                    ctx.no_fault("tokens header")?;
                    unreachable!("no_fault refused the fault")
                }
                None => ctx.client.clone(),
            };
            let dev = ctx.device()?;
            let header = dev.device.token_header(&name, &client)?;
            Ok(Output::new(
                format!("{}: {header}", powerauth::token::TokenHeader::NAME),
                json!({ "header": powerauth::token::TokenHeader::NAME, "value": header }),
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// operations, offline

fn operation_line(op: &tokensim_device::operations::Operation) -> String {
    let title = op
        .form_data
        .as_ref()
        .and_then(|f| f.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("");
    format!(
        "{}  {:<22} {:<9} {}",
        op.id,
        op.name,
        op.status.as_deref().unwrap_or("-"),
        title
    )
}

async fn ops(ctx: &Ctx<'_>, command: OpsCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        OpsCommand::List => {
            let ran = ctx
                .call(&mut dev, async |s| s.list_operations().await)
                .await?;
            ran.output(|list| {
                let mut text = String::new();
                if list.is_empty() {
                    text.push_str("no pending operations\n");
                }
                for op in &list {
                    text.push_str(&operation_line(op));
                    text.push('\n');
                }
                Ok(Output::new(text, json!({ "operations": list })))
            })
        }
        OpsCommand::Show { id } => {
            let ran = ctx
                .call(&mut dev, async |s| s.operation_detail(&id).await)
                .await?;
            ran.output(|op| {
                Ok(Output::new(
                    render_operation(&op),
                    json!({ "operation": op }),
                ))
            })
        }
        OpsCommand::History { factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.operation_history(&factors).await
                })
                .await?;
            ran.output(|list| {
                let text: String = list
                    .iter()
                    .map(|op| format!("{}\n", operation_line(op)))
                    .collect();
                Ok(Output::new(text, json!({ "operations": list })))
            })
        }
        OpsCommand::Claim { id } => {
            let ran = ctx
                .call(&mut dev, async |s| s.claim_operation(&id).await)
                .await?;
            ran.output(|op| {
                Ok(Output::new(
                    format!("{}\nclaimed operation {id}", render_operation(&op)),
                    json!({ "id": id, "claimed": true, "operation": op }),
                ))
            })
        }
        OpsCommand::Approve {
            id,
            factors: f,
            proximity_otp,
            proximity_source,
        } => {
            let received = std::time::SystemTime::now();
            let factors = factors(f.factors, &f.pin)?;
            let operation = ctx
                .plain(&mut dev, async |s| s.operation_detail(&id).await)
                .await?;
            let rendered = render_operation(&operation);
            let proximity = proximity_otp.map(|otp| ProximityCheck {
                otp,
                kind: proximity_source.as_protocol().to_owned(),
                timestamp_received: humantime::format_rfc3339_millis(received).to_string(),
                timestamp_sent: humantime::format_rfc3339_millis(std::time::SystemTime::now())
                    .to_string(),
            });
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.approve_operation(&operation, &factors, proximity.as_ref())
                        .await
                })
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("{rendered}\napproved operation {id}"),
                    json!({ "id": id, "approved": true, "operation": operation }),
                ))
            })
        }
        OpsCommand::Reject { id, reason } => {
            let ran = ctx
                .call(&mut dev, async |s| s.reject_operation(&id, &reason).await)
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("rejected operation {id} ({reason})"),
                    json!({ "id": id, "rejected": true, "reason": reason }),
                ))
            })
        }
    }
}

async fn offline(ctx: &Ctx<'_>, args: OfflineArgs) -> Result<Output> {
    let text = match (&args.image, &args.payload) {
        (Some(image), _) => {
            tokensim_device::qr_image::decode_file(image).map_err(DeviceError::from)?
        }
        (None, Some(payload)) => payload.clone(),
        (None, None) => unreachable!("clap requires --image or --payload"),
    };
    let factors = factors(args.factors.factors, &args.factors.pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, knows(&factors), async |s| {
            s.sign_offline(&text, &factors)
        })
        .await?;
    ran.output(|code| {
        Ok(Output::new(
            format!(
                "{}\n{}\n\noffline code: {}\n",
                code.title, code.message, code.display
            ),
            json!({
                "operationId": code.operation_id,
                "title": code.title,
                "message": code.message,
                "operationData": code.operation_data,
                "signature": code.signature,
                "display": code.display,
            }),
        ))
    })
}

// ---------------------------------------------------------------------------------------
// push, inbox

async fn push(ctx: &Ctx<'_>, command: PushCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        PushCommand::Register { platform, token } => {
            let token = token.unwrap_or_else(|| format!("tokensim-{}", dev.device.activation_id));
            let ran = ctx
                .call(&mut dev, async |s| s.register_push(&platform, &token).await)
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("registered for {platform} pushes"),
                    json!({ "platform": platform, "registered": true }),
                ))
            })
        }
        PushCommand::Listen {
            count,
            wait,
            cloud_user,
            cloud_password_env,
        } => {
            ctx.no_fault("push listen")?;
            let password = env_secret(&cloud_password_env).ok_or_else(|| {
                Failure::new(Class::Usage, "no-password", "no Cloud API password given")
                    .hint(format!(
                        "set ${cloud_password_env} to the sandbox's {cloud_user} password (tokensim sandbox prints it)"
                    ))
            })?;
            let credentials = CloudCredentials {
                username: cloud_user,
                password,
            };
            let device = &dev.device;
            let mut stream = PushStream::open(
                &ctx.client,
                &device.profile.server_url,
                &device.activation_id,
                &credentials,
            )
            .await?;
            if !ctx.g.quiet {
                emit_stderr(&format!(
                    "listening for pushes to {}…\n",
                    device.activation_id
                ));
            }
            let bar = ctx.spinner("waiting for pushes…");
            let deadline = wait.map(|secs| tokio::time::Instant::now() + Duration::from_secs(secs));
            let mut received = 0u64;
            while count.is_none_or(|count| received < count) {
                let next = match deadline {
                    Some(deadline) => {
                        match tokio::time::timeout_at(deadline, stream.next()).await {
                            Ok(next) => next,
                            Err(_) => break,
                        }
                    }
                    None => stream.next().await,
                };
                let Some(message) = next else { break };
                let message = message?;
                received += 1;
                bar.suspend(|| {
                    if ctx.g.json {
                        emit(&format!("{}\n", json!({ "push": message })));
                    } else {
                        emit(&format!("push {}: {}\n", message.message_id, message.body));
                    }
                });
            }
            bar.finish_and_clear();
            if let Some(count) = count
                && received < count
            {
                return Err(Failure::new(
                    Class::Error,
                    "timeout",
                    format!("received {received} of {count} pushes before the stream ended or --wait ran out"),
                )
                .hint("raise --wait, or check that pushes are sent to this device's user"));
            }
            // Pushes were printed as they came; nothing more on stdout.
            Ok(Output::new("", Value::Null))
        }
    }
}

async fn inbox(ctx: &Ctx<'_>, command: InboxCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        InboxCommand::List { unread } => {
            let ran = ctx
                .call(&mut dev, async |s| s.inbox_list(0, 100, unread).await)
                .await?;
            ran.output(|messages| {
                let mut text = String::new();
                if messages.is_empty() {
                    text.push_str("no messages\n");
                }
                for m in &messages {
                    text.push_str(&format!(
                        "{} {} {}  {}\n",
                        if m.read { " " } else { "*" },
                        m.id,
                        m.subject,
                        m.summary
                    ));
                }
                Ok(Output::new(text, json!({ "messages": messages })))
            })
        }
        InboxCommand::Read { id } => {
            let ran = ctx
                .call(&mut dev, async |s| {
                    let message = s.inbox_detail(&id).await?;
                    s.inbox_read(&id).await?;
                    Ok(message)
                })
                .await?;
            ran.output(|m| {
                Ok(Output::new(
                    format!(
                        "{}\n{}\n\n{}\n",
                        m.subject,
                        m.summary,
                        m.body.as_deref().unwrap_or("")
                    ),
                    json!({ "message": m }),
                ))
            })
        }
    }
}

// ---------------------------------------------------------------------------------------
// vault, pin, biometry, remove

async fn vault_unlock(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
    let factors = factors(f.factors, &f.pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, knows(&factors), async |s| {
            s.unlock_vault(&factors, reason).await
        })
        .await?;
    let reveal = ctx.g.reveal_secrets;
    ran.output(|key| {
        let shown = if reveal {
            b64(key.expose_bytes())
        } else {
            tokensim_device::events::REDACTED.to_owned()
        };
        Ok(Output::new(
            format!("vault unlocked; vault key: {shown}"),
            json!({ "unlocked": true, "vaultKey": shown }),
        ))
    })
}

async fn pin_verify(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
    let factors = factors(f.factors, &f.pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, knows(&factors), async |s| {
            s.validate_signature(&factors, reason).await
        })
        .await?;
    ran.output(|()| {
        Ok(Output::new(
            "the server accepted the signature: the PIN is right",
            json!({ "valid": true }),
        ))
    })
}

async fn pin_change(ctx: &Ctx<'_>, pin: &PinArgs, new_pin_env: &str) -> Result<Output> {
    let old = read_pin(pin, "current PIN")?;
    let new = read_pin(
        &PinArgs {
            pin_env: new_pin_env.to_owned(),
            pin_file: None,
        },
        "new PIN",
    )?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, true, async |s| s.change_pin(&old, &new).await)
        .await?;
    ran.output(|()| Ok(Output::new("PIN changed", json!({ "pinChanged": true }))))
}

async fn biometry(ctx: &Ctx<'_>, command: BiometryCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        BiometryCommand::Enroll { pin } => {
            let pin = read_pin(&pin, "PIN")?;
            let ran = ctx
                .call_with(&mut dev, true, async |s| s.enroll_biometry(&pin).await)
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    "biometry enrolled",
                    json!({ "biometry": "enrolled" }),
                ))
            })
        }
        BiometryCommand::Change { enrollment } => {
            ctx.no_fault("biometry change")?;
            dev.device.change_biometric_enrollment(enrollment.clone());
            dev.save()?;
            Ok(Output::new(
                format!(
                    "the simulated OS enrollment is now {enrollment:?}; the biometry key was invalidated"
                ),
                json!({ "enrollment": enrollment, "biometry": "invalidated" }),
            ))
        }
        BiometryCommand::Remove => {
            ctx.no_fault("biometry remove")?;
            dev.device.remove_biometry();
            dev.save()?;
            Ok(Output::new(
                "biometry removed",
                json!({ "biometry": "removed" }),
            ))
        }
    }
}

async fn remove(ctx: &Ctx<'_>, pin: &PinArgs) -> Result<Output> {
    let factors = factors(SignatureType::PossessionKnowledge, pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, true, async |s| {
            s.remove_activation(&factors).await
        })
        .await?;
    if let Ran::Done(()) = ran {
        dev.wallet.remove(&dev.id)?;
    }
    let id = dev.id.clone();
    ran.output(|()| {
        Ok(Output::new(
            format!("activation removed on the server; device {id} removed here"),
            json!({ "id": id.as_str(), "removed": true }),
        ))
    })
}

// ---------------------------------------------------------------------------------------
// diagnose

fn diagnose(ctx: &Ctx<'_>, args: &DiagnoseArgs) -> Result<Output> {
    ctx.no_fault("diagnose")?;
    let dir = ctx.data_dir()?;
    let wallet = ctx.wallet()?;
    let devices = wallet.list()?;
    let device = match wallet.resolve(ctx.g.device.as_deref()) {
        Ok(id) => json!({ "summary": wallet.summary(&id)?, "record": wallet.record(&id)? }),
        Err(e) => json!({ "unresolved": e.to_string() }),
    };
    let exchanges: Value = std::fs::read(dir.join(EXCHANGES_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(json!([]));
    let bundle = json!({
        "format": "tokensim-diagnose",
        "formatVersion": 1,
        "tokensim": env!("CARGO_PKG_VERSION"),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "protocolVersions": ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "store": wallet.backend(),
        "devices": devices,
        "device": device,
        "lastExchanges": exchanges,
        "note": "secrets are redacted: signatures, token digests, keys and ctrData never enter this file",
    });
    let text = serde_json::to_vec_pretty(&bundle).map_err(|e| {
        Failure::new(
            Class::Error,
            "diagnose",
            format!("cannot encode the bundle: {e}"),
        )
    })?;
    write_private(&args.out, &text)?;
    Ok(Output::new(
        format!(
            "wrote {} ({} devices, {} exchanges); attach it to the bug report",
            args.out.display(),
            devices.len(),
            exchanges.as_array().map_or(0, Vec::len)
        ),
        json!({ "file": args.out, "devices": devices.len() }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let wrong = fault_output(&report(false));
        assert_eq!(wrong.code, 3);
        assert!(
            wrong.text.contains("NOT what the protocol requires"),
            "{}",
            wrong.text
        );
        assert_eq!(wrong.json["faultReport"]["matched"], false);
        let right = fault_output(&report(true));
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
