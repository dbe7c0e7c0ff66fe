//! `tokensim diagnose`: a redacted bundle for a bug report.

use powerauth::ProtocolVersion;
use serde_json::{Value, json};

use super::{Ctx, EXCHANGES_FILE, Result, write_private};
use crate::cli::DiagnoseArgs;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

pub(super) fn diagnose(ctx: &Ctx<'_>, args: &DiagnoseArgs) -> Result<Output> {
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
            ErrorKind::Diagnose,
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
