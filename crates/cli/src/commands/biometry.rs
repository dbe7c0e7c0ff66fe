//! `tokensim biometry`: enroll, change (the simulated OS enrollment), remove.

use serde_json::json;

use super::{Ctx, Result, read_pin};
use crate::cli::BiometryCommand;
use crate::output::Output;

pub(super) async fn biometry(ctx: &Ctx<'_>, command: BiometryCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        BiometryCommand::Enroll { pin } => {
            let pin = read_pin(&pin, "PIN")?;
            let ran = ctx
                .call_with(&mut dev, true, async |s| s.enroll_biometry(&pin).await)
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    "biometry enrolled",
                    json!({ "biometry": "enrolled" }),
                ))
            })
        }
        BiometryCommand::Change { enrollment } => {
            ctx.no_fault("biometry change")?;
            dev.device.change_biometric_enrollment(enrollment.clone());
            dev.save()?;
            Ok(Output::new(
                format!(
                    "the simulated OS enrollment is now {enrollment:?}; the biometry key was invalidated"
                ),
                json!({ "enrollment": enrollment, "biometry": "invalidated" }),
            ))
        }
        BiometryCommand::Remove => {
            ctx.no_fault("biometry remove")?;
            dev.device.remove_biometry();
            dev.save()?;
            Ok(Output::new(
                "biometry removed",
                json!({ "biometry": "removed" }),
            ))
        }
    }
}
