//! `tokensim vault unlock`: the vault key, redacted unless `--reveal-secrets`.

use super::{Ctx, Ran, Result, factors};
use crate::cli::FactorArgs;
use crate::output::Output;

pub(super) async fn vault_unlock(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
    let factors = factors(f.factors, &f.pin)?;
    let mut dev = ctx.device()?;
    let reveal = ctx.g.reveal_secrets;
    let ran = tokensim_api::unlock_vault(&ctx.runner(), &mut dev, &factors, reason, reveal).await?;
    Ran::from(ran).output(|unlocked| {
        Output::typed(
            format!("vault unlocked; vault key: {}", unlocked.vault_key),
            &unlocked,
        )
    })
}
