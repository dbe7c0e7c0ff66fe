//! `tokensim biometry`: enroll, change (the simulated OS enrollment), remove.

use super::{Ctx, Ran, Result, read_pin};
use crate::cli::BiometryCommand;
use crate::output::Output;

pub(super) async fn biometry(ctx: &Ctx<'_>, command: BiometryCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    let runner = ctx.runner();
    match command {
        BiometryCommand::Enroll { pin } => {
            let pin = read_pin(&pin, "PIN")?;
            let ran = tokensim_api::enroll_biometry(&runner, &mut dev, &pin).await?;
            Ran::from(ran).output(|enrolled| Output::typed("biometry enrolled", &enrolled))
        }
        BiometryCommand::Change { enrollment } => {
            let changed = tokensim_api::change_enrollment(&runner, &mut dev, &enrollment)?;
            Output::typed(
                format!(
                    "the simulated OS enrollment is now {enrollment:?}; the biometry key was invalidated"
                ),
                &changed,
            )
        }
        BiometryCommand::Remove => {
            let removed = tokensim_api::remove_biometry(&runner, &mut dev)?;
            Output::typed("biometry removed", &removed)
        }
    }
}
