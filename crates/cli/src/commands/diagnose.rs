//! `tokensim diagnose`: a redacted bundle for a bug report ([`tokensim_api::diagnose`], the
//! bundle the desktop app exports too), over the exchanges the last commands kept.

use serde::Serialize;
use serde_json::Value;
use std::path::PathBuf;
use tokensim_api::DiagnoseRequest;

use super::{Ctx, EXCHANGES_FILE, Result, write_private};
use crate::cli::DiagnoseArgs;
use crate::output::Output;

/// What `tokensim --json diagnose` prints.
#[derive(Debug, Serialize)]
pub(crate) struct DiagnoseWritten {
    /// The bundle's file.
    pub file: PathBuf,
    /// How many devices it lists.
    pub devices: usize,
}

pub(super) fn diagnose(ctx: &Ctx<'_>, args: &DiagnoseArgs) -> Result<Output> {
    ctx.no_fault("diagnose")?;
    let dir = ctx.data_dir()?;
    let wallet = ctx.wallet()?;
    let exchanges: Vec<Value> = std::fs::read(dir.join(EXCHANGES_FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let bundle = tokensim_api::diagnose(
        &wallet,
        DiagnoseRequest {
            made_by: "tokensim",
            device: ctx.g.device.as_deref(),
            exchanges,
            ..DiagnoseRequest::default()
        },
    )?;
    write_private(&args.out, bundle.to_pretty_json()?.as_bytes())?;
    let written = DiagnoseWritten {
        file: args.out.clone(),
        devices: bundle.devices.len(),
    };
    Output::typed(
        format!(
            "wrote {} ({} devices, {} exchanges); attach it to the bug report",
            args.out.display(),
            bundle.devices.len(),
            bundle.exchanges.len()
        ),
        &written,
    )
}
