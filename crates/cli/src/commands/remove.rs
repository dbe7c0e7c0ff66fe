//! `tokensim remove`: the activation removed on the server, then the device here.

use powerauth::signature::SignatureType;
use serde_json::json;

use super::{Ctx, Ran, Result, factors};
use crate::cli::PinArgs;
use crate::output::Output;

pub(super) async fn remove(ctx: &Ctx<'_>, pin: &PinArgs) -> Result<Output> {
    let factors = factors(SignatureType::PossessionKnowledge, pin)?;
    let mut dev = ctx.device()?;
    let ran = ctx
        .call_with(&mut dev, true, async |s| {
            s.remove_activation(&factors).await
        })
        .await?;
    if let Ran::Done(()) = ran {
        dev.wallet().remove(dev.id())?;
    }
    let id = dev.id().clone();
    ran.output(|()| {
        Ok(Output::new(
            format!("activation removed on the server; device {id} removed here"),
            json!({ "id": id.as_str(), "removed": true }),
        ))
    })
}
