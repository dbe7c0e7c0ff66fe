//! `tokensim offline`: the offline signature of an operation QR code.

use serde_json::json;
use tokensim_device::Error as DeviceError;

use super::{Ctx, Result, factors, knows};
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
    let ran = ctx
        .call_with(&mut dev, knows(&factors), async |s| {
            s.sign_offline(&text, &factors)
        })
        .await?;
    ran.output(|code| {
        Ok(Output::new(
            format!(
                "{}\n{}\n\noffline code: {}\n",
                code.title, code.message, code.display
            ),
            json!({
                "operationId": code.operation_id,
                "title": code.title,
                "message": code.message,
                "operationData": code.operation_data,
                "signature": code.signature,
                "display": code.display,
            }),
        ))
    })
}
