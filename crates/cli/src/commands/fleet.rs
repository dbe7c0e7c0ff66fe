//! `tokensim fleet`: many devices at once (the fleet engine prints its own report).

use super::{Ctx, Result};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit};

/// `tokensim fleet`: the fleet engine writes its own report (table or JSON, and `--html`);
/// a fleet that is not clean (a device failed, an operation failed, a fault answered
/// wrongly) exits 3, or 1 when every error was the server out of reach.
pub(super) async fn fleet(ctx: &Ctx<'_>, mut args: tokensim_fleet::FleetArgs) -> Result<Output> {
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
            Failure::new(class, ErrorKind::Fleet, e.to_string())
                .hint("fix what the message says and run the fleet again (tokensim fleet --help)")
        })?;
    emit(&String::from_utf8_lossy(&report_text));
    Ok(Output {
        text: String::new(),
        json: serde_json::Value::Null,
        code: if report.is_clean() {
            0
        } else if report.failed_on_network_only() {
            1
        } else {
            3
        },
    })
}
