//! `tokensim activate`: the doctor checks the code, then the device is activated and stored.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use serde_json::json;
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::{
    DeviceState, Error as DeviceError, FaultRun, PendingActivation, Profile, Session,
};

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
    // The doctor: the code's checksum and signature are checked before anything is sent
    // or stored, with the failure explained (activate() checks again, cheaply).
    doctor(&code, &application)?;
    let wallet = ctx.wallet()?;
    let pin = read_pin(&args.pin, "new PIN")?;
    let mut input = ActivationInput::new(code, &pin);
    input.otp = args.otp.clone();
    if args.biometry {
        input.biometry_enrollment = Some("enrolled".to_owned());
    }
    let pending =
        PendingActivation::new(Profile::new(&args.name, &args.server, application, version));
    let bar = ctx.spinner("activating…");
    let device = match ctx.g.fault {
        None => activate(&ctx.client, pending, &input).await,
        Some(fault) => {
            let run = FaultRun::detached(&ctx.client, fault);
            let result = activate(run.client(), pending, &input).await;
            bar.finish_and_clear();
            let report = run.judge(&result);
            if let Ok(device) = result {
                wallet.add(&DeviceState::Active(device))?;
            }
            return Ok(fault_output(&report));
        }
    };
    bar.finish_and_clear();
    let mut device = device?;
    let id = wallet.add(&DeviceState::Active(device.clone()))?;
    let mut persist = wallet.persister(&id);
    let status = Session::new(&ctx.client, &mut device, &mut persist)
        .status()
        .await;
    wallet.save(&id, &DeviceState::Active(device.clone()))?;
    let state = match &status {
        Ok(report) => report.snapshot.state.clone(),
        Err(e) => {
            tracing::warn!("activated, but the first status failed: {e}");
            "UNKNOWN".to_owned()
        }
    };
    let mut text = format!(
        "activated {name:?} as device {id}\n  activation id: {aid}\n  fingerprint:   {fp}\n  version:       {version}\n  state:         {state}\n",
        name = device.profile.name,
        aid = device.activation_id,
        fp = device.fingerprint,
    );
    if state == "PENDING_COMMIT" {
        text.push_str("  hint: the server must commit the activation before the device can sign\n");
    }
    Ok(Output::new(
        text,
        json!({
            "id": id.as_str(),
            "name": device.profile.name,
            "activationId": device.activation_id,
            "fingerprint": device.fingerprint,
            "version": version.as_str(),
            "state": state,
            "serverUrl": device.profile.server_url,
        }),
    ))
}

/// Explains, before anything is sent, why an activation code cannot work (the shared
/// doctor of `tokensim_device::doctor`, which the desktop app shows too).
fn doctor(code: &str, application: &ApplicationConfig) -> Result<()> {
    use tokensim_device::doctor::{CodeProblem, RECOVERY_CODE, RECOVERY_CODE_HINT, check_code};
    match check_code(code, application) {
        Ok(powerauth::activation_code::SignatureCheck::Unsigned) => {
            tracing::info!(
                "the code carries no signature, so it was not checked against the application; a QR payload CODE#SIGNATURE can be"
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(CodeProblem::Invalid(error)) => Err(error.into()),
        Err(CodeProblem::RecoveryCode) => {
            Err(
                Failure::new(Class::Usage, ErrorKind::ActivationCode, RECOVERY_CODE)
                    .hint(RECOVERY_CODE_HINT),
            )
        }
    }
}
