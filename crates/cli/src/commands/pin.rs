//! `tokensim pin verify` and `pin change`.

use super::{Ctx, Ran, Result, factors, read_pin};
use crate::cli::{FactorArgs, PinArgs};
use crate::output::Output;

pub(super) async fn pin_verify(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
    let factors = factors(f.factors, &f.pin)?;
    let mut dev = ctx.device()?;
    let ran = tokensim_api::verify_pin(&ctx.runner(), &mut dev, &factors, reason).await?;
    Ran::from(ran).output(|valid| {
        Output::typed(
            "the server accepted the signature: the PIN is right",
            &valid,
        )
    })
}

pub(super) async fn pin_change(ctx: &Ctx<'_>, pin: &PinArgs, new_pin_env: &str) -> Result<Output> {
    let old = read_pin(pin, "current PIN")?;
    let new = read_pin(
        &PinArgs {
            pin_env: new_pin_env.to_owned(),
            pin_file: None,
        },
        "new PIN",
    )?;
    let mut dev = ctx.device()?;
    let ran = tokensim_api::change_pin(&ctx.runner(), &mut dev, &old, &new).await?;
    Ran::from(ran).output(|changed| Output::typed("PIN changed", &changed))
}
