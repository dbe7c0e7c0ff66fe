//! `tokensim devices`: list, show, rename, remove-local, export, import.

use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use tokensim_device::DeviceRecord;
use tokensim_wallet::{BackendKind, DeviceSummary, Passphrase};

use super::{Ctx, Result, env_secret, prompt, write_private};
use crate::cli::DevicesCommand;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// `tokensim --json devices list`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceList<'a> {
    devices: &'a [DeviceSummary],
    store: BackendKind,
    data_dir: &'a Path,
}

/// `tokensim --json devices show`.
#[derive(Serialize)]
struct DeviceShown<'a> {
    device: &'a DeviceSummary,
    record: &'a DeviceRecord,
}

/// `tokensim --json devices rename NAME`.
#[derive(Serialize)]
struct Renamed<'a> {
    id: &'a str,
    name: &'a str,
}

/// `tokensim --json devices remove-local`.
#[derive(Serialize)]
struct RemovedHere<'a> {
    id: &'a str,
    removed: bool,
}

/// `tokensim --json devices export`.
#[derive(Serialize)]
struct Exported<'a> {
    id: &'a str,
    file: PathBuf,
}

/// `tokensim --json devices import`.
#[derive(Serialize)]
struct Imported<'a> {
    id: &'a str,
}

pub(super) fn devices(ctx: &Ctx<'_>, command: DevicesCommand) -> Result<Output> {
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
            Output::typed(
                text,
                &DeviceList {
                    devices: &devices,
                    store: wallet.backend(),
                    data_dir: wallet.folder(),
                },
            )
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
            Output::typed(
                text,
                &DeviceShown {
                    device: &summary,
                    record: &record,
                },
            )
        }
        DevicesCommand::Rename { name } => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            wallet.rename(&id, &name)?;
            Output::typed(
                format!("device {id} is now called {name:?}"),
                &Renamed {
                    id: id.as_str(),
                    name: &name,
                },
            )
        }
        DevicesCommand::RemoveLocal => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            wallet.remove(&id)?;
            Output::typed(
                format!("device {id} removed here (the server still has its activation)"),
                &RemovedHere {
                    id: id.as_str(),
                    removed: true,
                },
            )
        }
        DevicesCommand::Export {
            out,
            bundle_passphrase_env,
        } => {
            let id = wallet.resolve(ctx.g.device.as_deref())?;
            let passphrase = bundle_passphrase(&bundle_passphrase_env)?;
            let bundle = wallet.export(&id, &passphrase)?;
            write_private(&out, &bundle)?;
            Output::typed(
                format!("device {id} exported to {} (encrypted)", out.display()),
                &Exported {
                    id: id.as_str(),
                    file: out.clone(),
                },
            )
        }
        DevicesCommand::Import {
            file,
            name,
            bundle_passphrase_env,
        } => {
            let bundle = std::fs::read(&file).map_err(|e| Failure::io("read", &file, &e))?;
            let passphrase = bundle_passphrase(&bundle_passphrase_env)?;
            let id = wallet.import(&bundle, &passphrase, name.as_deref())?;
            Output::typed(
                format!("imported device {id}"),
                &Imported { id: id.as_str() },
            )
        }
        // Dispatched before: the import is async, and both live in `cmdtool`.
        DevicesCommand::ImportCmdtool(_) | DevicesCommand::ExportCmdtool(_) => {
            unreachable!("run::dispatch sends the cmd-tool commands to commands::cmdtool")
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
    Err(Failure::new(
        Class::Usage,
        ErrorKind::NoPassphrase,
        "no bundle passphrase given",
    )
    .hint(format!("set ${var}, or run in a terminal to be asked")))
}
