//! `tokensim activate`: the doctor checks the code, then the device is activated and stored.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use tokensim_api::{ActivateRequest, Activation, Ran};
use tokensim_device::Error as DeviceError;

use super::{Ctx, Result, fault_output, read_pin};
use crate::cli::ActivateArgs;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

pub(super) async fn activate_device(ctx: &Ctx<'_>, args: ActivateArgs) -> Result<Output> {
    let version: ProtocolVersion = args.version.parse().map_err(|_| {
        Failure::new(
            Class::Usage,
            ErrorKind::Usage,
            "--version takes 3.0, 3.1, 3.2 or 3.3",
        )
    })?;
    let application = ApplicationConfig::from_mobile_sdk_config(args.config.trim())
        .map_err(|e| Failure::from(DeviceError::Config(e)))?;
    let code = match (&args.code, &args.qr, &args.image) {
        (_, _, Some(image)) => {
            let bar = ctx.spinner("reading the QR code…");
            let text = tokensim_device::qr_image::decode_file(image);
            bar.finish_and_clear();
            text.map_err(DeviceError::from)?
        }
        (_, Some(qr), _) => qr.clone(),
        (Some(code), _, _) => code.clone(),
        _ => unreachable!("clap requires one of --code, --qr, --image"),
    };
    // The doctor: the code's checksum and signature are checked before anything is sent,
    // stored or asked for, with the failure explained (activate() checks again, cheaply).
    if let Err(failed) = tokensim_api::check_code(&code, &application) {
        return Err(failure(*failed));
    }
    let wallet = ctx.wallet()?;
    let pin = read_pin(&args.pin, "new PIN")?;
    let request = ActivateRequest {
        name: args.name.clone(),
        server_url: args.server.clone(),
        application,
        version,
        code,
        pin: &pin,
        otp: args.otp.clone(),
        biometry_enrollment: args.biometry.then(|| "enrolled".to_owned()),
    };
    let bar = ctx.spinner("activating…");
    let activation =
        tokensim_api::activate(&ctx.client, &ctx.recorder, &wallet, request, ctx.g.fault).await;
    bar.finish_and_clear();
    let device = match activation.result {
        Ok(Ran::Done(device)) => device,
        Ok(Ran::Fault(report)) => return fault_output(&report),
        Err(error) => return Err(error),
    };
    let mut text = format!(
        "activated {name:?} as device {id}\n  activation id: {aid}\n  fingerprint:   {fp}\n  version:       {version}\n  state:         {state}\n",
        name = device.name,
        id = device.id,
        aid = device.activation_id,
        fp = device.fingerprint,
        version = device.version,
        state = device.state,
    );
    if device.state == "PENDING_COMMIT" {
        text.push_str("  hint: the server must commit the activation before the device can sign\n");
    }
    Output::typed(text, &device)
}

/// The failure of an activation the doctor explained.
fn failure(activation: Activation) -> Failure {
    match activation.result {
        Err(error) => error,
        Ok(_) => Failure::new(
            Class::Error,
            ErrorKind::Error,
            "the activation code check failed without a reason",
        ),
    }
}
