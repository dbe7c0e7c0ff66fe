//! `tokensim remove`: the activation removed on the server, then the device here.

use powerauth::signature::SignatureType;

use super::{Ctx, Ran, Result, factors};
use crate::cli::PinArgs;
use crate::output::Output;

pub(super) async fn remove(ctx: &Ctx<'_>, pin: &PinArgs) -> Result<Output> {
    let factors = factors(SignatureType::PossessionKnowledge, pin)?;
    let mut dev = ctx.device()?;
    let ran = tokensim_api::remove(&ctx.runner(), &mut dev, &factors).await?;
    Ran::from(ran).output(|removed| {
        Output::typed(
            format!(
                "activation removed on the server; device {} removed here",
                removed.id
            ),
            &removed,
        )
    })
}
