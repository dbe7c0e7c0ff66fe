//! `tokensim snapshot save|list|restore|diff|remove`: a device's whole state saved under a
//! name and put back on purpose (`tokensim_wallet::Snapshots`).

use clap::Subcommand;
use serde::Serialize;
use tokensim_device::rollback::RestoreReport;
use tokensim_device::state::FieldChange;
use tokensim_device::{DeviceState, Session};

use tokensim_wallet::SnapshotInfo;

use super::{Ctx, Result};
use crate::output::Output;

/// `tokensim snapshot`.
#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Save the device's whole state (counter, keys, tokens, biometry) as NAME.
    Save {
        /// The device: its id, name or activation id.
        #[arg(value_name = "DEVICE")]
        selector: String,
        /// The snapshot's name (letters, digits, '-', '_').
        name: String,
        /// Replace a snapshot of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// List the device's snapshots, oldest first.
    List {
        /// The device.
        #[arg(value_name = "DEVICE")]
        selector: String,
    },
    /// Put the device back to snapshot NAME, then show the server's reaction.
    Restore {
        /// The device.
        #[arg(value_name = "DEVICE")]
        selector: String,
        /// The snapshot.
        name: String,
        /// Do not call the server afterwards: the next command meets its reaction.
        #[arg(long)]
        no_check: bool,
    },
    /// Show what changed from snapshot NAME to snapshot OTHER (default: the device now),
    /// secrets redacted.
    Diff {
        /// The device.
        #[arg(value_name = "DEVICE")]
        selector: String,
        /// The older snapshot.
        name: String,
        /// The newer snapshot (default: the device as it is now).
        other: Option<String>,
    },
    /// Delete snapshot NAME.
    Remove {
        /// The device.
        #[arg(value_name = "DEVICE")]
        selector: String,
        /// The snapshot.
        name: String,
    },
}

/// `tokensim --json snapshot save`.
#[derive(Serialize)]
struct Saved<'a> {
    id: &'a str,
    snapshot: &'a SnapshotInfo,
}

/// `tokensim --json snapshot list`: oldest first.
#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    snapshots: &'a [SnapshotInfo],
}

/// `tokensim --json snapshot restore`: the server's reaction unless `--no-check`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Restored<'a> {
    id: &'a str,
    snapshot: &'a SnapshotInfo,
    restore_report: Option<&'a RestoreReport>,
}

/// `tokensim --json snapshot diff`.
#[derive(Serialize)]
struct Diffed<'a> {
    id: &'a str,
    from: &'a str,
    to: &'a str,
    changes: &'a [FieldChange],
}

/// `tokensim --json snapshot remove`: the removed snapshot's name.
#[derive(Serialize)]
struct Deleted<'a> {
    id: &'a str,
    removed: &'a str,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs a `snapshot` subcommand.
pub(super) async fn run(ctx: &Ctx<'_>, command: SnapshotCommand) -> Result<Output> {
    let wallet = ctx.wallet()?;
    match command {
        SnapshotCommand::Save {
            selector,
            name,
            replace,
        } => {
            ctx.no_fault("snapshot save")?;
            let id = wallet.resolve(Some(&selector))?;
            let info = wallet.snapshots(&id)?.save(&name, now_ms(), replace)?;
            Output::typed(
                format!(
                    "saved snapshot {name:?} of device {id} (counter {}, {} tokens, biometry {})",
                    info.counter,
                    info.tokens.len(),
                    if info.biometry { "enrolled" } else { "no" }
                ),
                &Saved {
                    id: id.as_str(),
                    snapshot: &info,
                },
            )
        }
        SnapshotCommand::List { selector } => {
            ctx.no_fault("snapshot list")?;
            let id = wallet.resolve(Some(&selector))?;
            let all = wallet.snapshots(&id)?.list()?;
            let mut text = String::new();
            if all.is_empty() {
                text.push_str(&format!(
                    "device {id} has no snapshots: tokensim snapshot save {id} NAME makes one\n"
                ));
            } else {
                text.push_str(&format!(
                    "{:<24} {:<24} {:>8} {:<10} {}\n",
                    "NAME", "SAVED (UTC)", "COUNTER", "STATE", "TOKENS"
                ));
                for s in &all {
                    text.push_str(&format!(
                        "{:<24} {:<24} {:>8} {:<10} {}\n",
                        s.name,
                        utc(s.saved_at_ms),
                        s.counter,
                        s.state.as_deref().unwrap_or("-"),
                        s.tokens.join(",")
                    ));
                }
            }
            Output::typed(
                text,
                &Listed {
                    id: id.as_str(),
                    snapshots: &all,
                },
            )
        }
        SnapshotCommand::Restore {
            selector,
            name,
            no_check,
        } => {
            ctx.no_fault("snapshot restore")?;
            let id = wallet.resolve(Some(&selector))?;
            // The lease, held through the restore and the check that follows: a signature
            // in flight in another process finishes first, and none starts in between.
            let lease = wallet.lease(&id)?;
            let info = wallet.snapshots(&id)?.restore(&name, &lease)?;
            let mut text = format!(
                "device {id} restored to snapshot {name:?} (saved {}, counter {})\n",
                utc(info.saved_at_ms),
                info.counter
            );
            let mut report: Option<RestoreReport> = None;
            if !no_check {
                if let DeviceState::Active(mut device) = wallet.load(&id)? {
                    let mut persist = wallet.persister(&id);
                    let checked = Session::new(&ctx.client, &mut device, &mut persist)
                        .check_restored()
                        .await;
                    wallet.save(&id, &DeviceState::Active(device))?;
                    let checked = checked?;
                    text.push_str(&restore_text(&checked));
                    report = Some(checked);
                }
            } else {
                text.push_str("the server was not called: the next command meets its reaction\n");
            }
            Output::typed(
                text,
                &Restored {
                    id: id.as_str(),
                    snapshot: &info,
                    restore_report: report.as_ref(),
                },
            )
        }
        SnapshotCommand::Diff {
            selector,
            name,
            other,
        } => {
            ctx.no_fault("snapshot diff")?;
            let id = wallet.resolve(Some(&selector))?;
            let changes = wallet.snapshots(&id)?.diff(&name, other.as_deref())?;
            let to = other.as_deref().unwrap_or("now");
            let mut text = format!("device {id}: snapshot {name:?} -> {to}\n");
            if changes.is_empty() {
                text.push_str("  no field changed\n");
            }
            for c in &changes {
                match (c.secret, &c.before, &c.after) {
                    (true, ..) => {
                        text.push_str(&format!("  {:<44} <redacted> {}\n", c.field, c.note));
                    }
                    (false, before, after) => text.push_str(&format!(
                        "  {:<44} {} -> {}\n",
                        c.field,
                        before.as_deref().unwrap_or("(none)"),
                        after.as_deref().unwrap_or("(none)")
                    )),
                }
            }
            Output::typed(
                text,
                &Diffed {
                    id: id.as_str(),
                    from: &name,
                    to,
                    changes: &changes,
                },
            )
        }
        SnapshotCommand::Remove { selector, name } => {
            ctx.no_fault("snapshot remove")?;
            let id = wallet.resolve(Some(&selector))?;
            wallet.snapshots(&id)?.remove(&name)?;
            Output::typed(
                format!("snapshot {name:?} of device {id} deleted"),
                &Deleted {
                    id: id.as_str(),
                    removed: &name,
                },
            )
        }
    }
}

/// The report in the words of `--fault` reports.
fn restore_text(report: &RestoreReport) -> String {
    let mut out = String::from("first call after the restore:\n");
    for sent in &report.sent {
        out.push_str(&format!("  sent:     {sent}\n"));
    }
    out.push_str(&format!("  answered: {}\n", report.answered));
    out.push_str(&format!(
        "  reaction: {}\n",
        serde_json::to_value(report.reaction)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    ));
    out.push_str(&format!("  required: {}\n", report.required));
    out.push_str(&format!("  to do:    {}\n", report.hint));
    out
}

/// `2026-12-07T13:20:15Z` from Unix ms.
fn utc(ms: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ms / 1000);
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(1_796_649_615_000), "2026-12-07T13:20:15Z");
    }
}
