//! `tokensim offline`: the offline signature of an operation QR code.

use tokensim_device::Error as DeviceError;

use super::{Ctx, Ran, Result, factors};
use crate::cli::OfflineArgs;
use crate::output::Output;

pub(super) async fn offline(ctx: &Ctx<'_>, args: OfflineArgs) -> Result<Output> {
    let text = match (&args.image, &args.payload) {
        (Some(image), _) => {
            tokensim_device::qr_image::decode_file(image).map_err(DeviceError::from)?
        }
        (None, Some(payload)) => payload.clone(),
        (None, None) => unreachable!("clap requires --image or --payload"),
    };
    let factors = factors(args.factors.factors, &args.factors.pin)?;
    let mut dev = ctx.device()?;
    let ran = tokensim_api::sign_offline(&ctx.runner(), &mut dev, &text, &factors).await?;
    Ran::from(ran).output(|code| {
        Output::typed(
            format!(
                "{}\n{}\n\noffline code: {}\n",
                code.title, code.message, code.display
            ),
            &code,
        )
    })
}
