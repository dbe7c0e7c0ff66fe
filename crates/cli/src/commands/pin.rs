//! `tokensim pin verify` and `pin change`.

use serde_json::json;

use super::{Ctx, Result, factors, knows, read_pin};
use crate::cli::{FactorArgs, PinArgs};
use crate::output::Output;

pub(super) async fn pin_verify(ctx: &Ctx<'_>, reason: &str, f: &FactorArgs) -> Result<Output> {
    let factors = factors(f.factors, &f.pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, knows(&factors), async |s| {
            s.validate_signature(&factors, reason).await
        })
        .await?;
    ran.output(|()| {
        Ok(Output::new(
            "the server accepted the signature: the PIN is right",
            json!({ "valid": true }),
        ))
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
    let ran = ctx
        .call_with(&mut dev, true, async |s| s.change_pin(&old, &new).await)
        .await?;
    ran.output(|()| Ok(Output::new("PIN changed", json!({ "pinChanged": true }))))
}
