//! `tokensim status [--sync]`: the activation status and the counter reconciliation.

use serde_json::json;

use super::{Ctx, Result};
use crate::cli::StatusArgs;
use crate::output::Output;

pub(super) async fn status(ctx: &Ctx<'_>, args: StatusArgs) -> Result<Output> {
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
