//! `tokensim vault unlock`: the vault key, redacted unless `--reveal-secrets`.

use powerauth::encoding::b64;
use serde_json::json;

use super::{Ctx, Result, factors, knows};
use crate::cli::FactorArgs;
use crate::output::Output;

pub(super) async fn vault_unlock(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
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
