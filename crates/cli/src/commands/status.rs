//! `tokensim status [--sync]`: the activation status and the counter reconciliation.

use super::{Ctx, Ran, Result};
use crate::cli::StatusArgs;
use crate::output::Output;

pub(super) async fn status(ctx: &Ctx<'_>, args: StatusArgs) -> Result<Output> {
    let mut dev = ctx.device()?;
    let ran = tokensim_api::status(&ctx.runner(), &mut dev, args.sync).await?;
    let name = dev.device.profile.name.clone();
    Ran::from(ran).output(|status| {
        let mut text = format!(
            "{name}: {}\n  failed PIN attempts: {} of {} ({} left)\n  counter: {}\n",
            status.state,
            status.failed_attempts,
            status.max_failed_attempts,
            status.remaining_attempts,
            status.counter
        );
        if let Some(before) = &status.before {
            text.push_str(&format!("  before the resynchronisation: {before}\n"));
        }
        Output::typed(text, &status)
    })
}
