//! Activation with its doctor report: the code checked before anything is sent, the key
//! exchange, the device stored, its first status; every step explained, and a failure in
//! the doctor's words (the same in the CLI and the app).

use powerauth::ProtocolVersion;
use powerauth::activation_code::SignatureCheck;
use powerauth::config::ApplicationConfig;
use serde::Serialize;
use tokensim_device::activation::{ActivationInput, activate as activate_device};
use tokensim_device::doctor::{self, CodeProblem, Diagnosis};
use tokensim_device::{
    ActiveDevice, Client, DeviceState, Error as DeviceError, Exchange, Fault, FaultRun,
    PendingActivation, Profile, Recorder, Session,
};
use tokensim_wallet::{BackendKind, Wallet};

use crate::{Class, Error, ErrorKind, Ran};

/// What to activate.
#[derive(Debug)]
pub struct ActivateRequest<'a> {
    /// The device's name (its id is made from it).
    pub name: String,
    /// The server's base URL.
    pub server_url: String,
    /// The application that issued the code.
    pub application: ApplicationConfig,
    /// The protocol version to speak.
    pub version: ProtocolVersion,
    /// `CODE#SIGNATURE` or a bare code.
    pub code: String,
    /// The new PIN (never stored, never shown).
    pub pin: &'a str,
    /// The activation OTP, when the registration asks for one.
    pub otp: Option<String>,
    /// Enrol simulated biometry under this OS enrollment name.
    pub biometry_enrollment: Option<String>,
}

/// One step of an activation, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// What was done.
    pub title: String,
    /// Why, or what came back.
    pub detail: String,
    /// `done` or `failed`.
    pub outcome: String,
}

impl Step {
    fn done(title: &str, detail: &str) -> Self {
        Self {
            title: title.to_owned(),
            detail: detail.to_owned(),
            outcome: "done".to_owned(),
        }
    }

    fn failed(title: &str, detail: &str) -> Self {
        Self {
            title: title.to_owned(),
            detail: detail.to_owned(),
            outcome: "failed".to_owned(),
        }
    }
}

/// The activated device, as `tokensim activate --json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Activated {
    /// The store id.
    pub id: String,
    /// The device's name.
    pub name: String,
    /// `ACTIVATION_ID`.
    pub activation_id: String,
    /// The fingerprint to compare with the server's.
    pub fingerprint: String,
    /// `3.0` … `3.3`.
    pub version: String,
    /// The state the first status reported (`UNKNOWN` when it failed).
    pub state: String,
    /// The server's base URL.
    pub server_url: String,
}

/// How an activation went: the steps, and the device, the fault report or the failure.
#[derive(Debug)]
pub struct Activation {
    /// The steps, in order (the last one failed when the activation did).
    pub steps: Vec<Step>,
    /// The device (or, under a fault, the report), or why there is none.
    pub result: Result<Ran<Activated>, Error>,
}

const CODE_READ: &str = "The code's shape and CRC-16 checksum are right.";

/// The doctor's check of `code`, before anything is sent or a PIN is asked for: the steps
/// it passed, or the failure with the steps up to it.
pub fn check_code(
    code: &str,
    application: &ApplicationConfig,
) -> Result<Vec<Step>, Box<Activation>> {
    match doctor::check_code(code, application) {
        Ok(check) => {
            if check == SignatureCheck::Unsigned {
                tracing::info!(
                    "the code carries no signature, so it was not checked against the application; a QR payload CODE#SIGNATURE can be"
                );
            }
            Ok(vec![
                Step::done(doctor::Step::ReadCode.title(), CODE_READ),
                Step::done(
                    doctor::Step::VerifySignature.title(),
                    match check {
                        SignatureCheck::Verified => {
                            "The QR payload's signature verifies with the application's master public key: the server of this application issued it."
                        }
                        SignatureCheck::Unsigned => {
                            "The code carries no signature (a typed-in code), so it could not be checked against the application; a QR payload CODE#SIGNATURE can be."
                        }
                    },
                ),
            ])
        }
        Err(problem) => {
            let diagnosis = problem.diagnosis();
            let mut steps = Vec::new();
            if diagnosis.step == doctor::Step::VerifySignature {
                steps.push(Step::done(doctor::Step::ReadCode.title(), CODE_READ));
            }
            steps.push(Step::failed(diagnosis.step.title(), &diagnosis.message));
            let error = match problem {
                CodeProblem::Invalid(error) => Error::from(error),
                CodeProblem::RecoveryCode => Error::new(
                    Class::Usage,
                    ErrorKind::ActivationCode,
                    diagnosis.message.clone(),
                ),
            };
            Err(Box::new(Activation {
                steps,
                result: Err(error.hint(diagnosis.hint)),
            }))
        }
    }
}

/// Activates a device with `request` and stores it in `wallet`; under `fault`, judges the
/// server's answer instead (a device that activated anyway is still stored). The steps
/// explain the exchanges `recorder` saw during the call.
pub async fn activate(
    client: &Client,
    recorder: &Recorder,
    wallet: &Wallet,
    request: ActivateRequest<'_>,
    fault: Option<Fault>,
) -> Activation {
    let mut steps = match check_code(&request.code, &request.application) {
        Ok(steps) => steps,
        Err(failed) => return *failed,
    };
    let otp_given = request.otp.is_some();
    let mut input = ActivationInput::new(request.code.trim(), request.pin);
    input.otp = request.otp;
    input.biometry_enrollment = request.biometry_enrollment;
    let version = request.version;
    let pending = PendingActivation::new(Profile::new(
        request.name,
        request.server_url,
        request.application,
        version,
    ));
    if let Some(fault) = fault {
        let run = FaultRun::detached(client, fault);
        let result = activate_device(run.client(), pending, &input).await;
        let report = run.judge(&result);
        if let Ok(device) = result {
            let stored = wallet.add(&DeviceState::Active(device));
            if let Err(e) = stored {
                return Activation {
                    steps,
                    result: Err(e.into()),
                };
            }
        }
        return Activation {
            steps,
            result: Ok(Ran::Fault(report)),
        };
    }
    let seen = recorder.exchanges().len();
    let result = activate_device(client, pending, &input).await;
    steps.extend(recorder.exchanges().iter().skip(seen).map(explain_exchange));
    let device = match result {
        Ok(device) => device,
        Err(e) => return failed(steps, &e, doctor::diagnose(&e, otp_given)),
    };
    let id = match wallet.add(&DeviceState::Active(device.clone())) {
        Ok(id) => id,
        Err(e) => {
            let error = Error::from(e);
            steps.push(Step::failed("Saving the device", &error.message));
            return Activation {
                steps,
                result: Err(error),
            };
        }
    };
    steps.push(Step::done(
        "Stored the device",
        &format!(
            "Keys and counter saved in the {} store; the PIN-protected knowledge key never leaves it.",
            store_name(wallet.backend())
        ),
    ));
    let state = first_status(client, wallet, &id, device.clone(), &mut steps).await;
    Activation {
        steps,
        result: Ok(Ran::Done(Activated {
            id: id.as_str().to_owned(),
            name: device.profile.name.clone(),
            activation_id: device.activation_id.clone(),
            fingerprint: device.fingerprint.clone(),
            version: version.as_str().to_owned(),
            state,
            server_url: device.profile.server_url.clone(),
        })),
    }
}

/// The first status of a just stored device, saved; its state, `UNKNOWN` when it failed.
async fn first_status(
    client: &Client,
    wallet: &Wallet,
    id: &tokensim_wallet::DeviceId,
    mut device: ActiveDevice,
    steps: &mut Vec<Step>,
) -> String {
    let status = {
        // A device stored a moment ago: nobody else waits for it, but the rule holds.
        let _lease = wallet.lease(id);
        let mut persist = wallet.persister(id);
        let status = Session::new(client, &mut device, &mut persist)
            .status()
            .await;
        if let Err(e) = wallet.save(id, &DeviceState::Active(device)) {
            tracing::warn!("activated, but saving the first status failed: {e}");
        }
        status
    };
    match status {
        Ok(report) => {
            let state = report.snapshot.state.clone();
            steps.push(Step::done(
                "Fetched the activation status",
                &format!(
                    "The server reports {state}{}",
                    if state == "PENDING_COMMIT" {
                        ": the bank must commit the activation before the device can sign"
                    } else {
                        ""
                    }
                ),
            ));
            state
        }
        Err(e) => {
            tracing::warn!("activated, but the first status failed: {e}");
            "UNKNOWN".to_owned()
        }
    }
}

/// The failure at the doctor's step, in its words, with the class and kind of `error`.
fn failed(mut steps: Vec<Step>, error: &DeviceError, diagnosis: Diagnosis) -> Activation {
    steps.push(Step::failed(diagnosis.step.title(), &diagnosis.message));
    let class = Error::from(error).class;
    let kind = ErrorKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == diagnosis.kind)
        .unwrap_or(ErrorKind::Error);
    Activation {
        steps,
        result: Err(Error::new(class, kind, diagnosis.message).hint(diagnosis.hint)),
    }
}

/// `keychain`, `encrypted-file` or `memory`.
pub fn store_name(backend: BackendKind) -> &'static str {
    match backend {
        BackendKind::Keychain => "keychain",
        BackendKind::EncryptedFile => "encrypted-file",
        BackendKind::Memory => "memory",
        _ => "other",
    }
}

fn explain_exchange(exchange: &Exchange) -> Step {
    let ok = exchange.status.is_some_and(|s| (200..300).contains(&s));
    // What was asked, and on success what came back: a failed step never claims an answer,
    // and the words carry no HTTP status (the inspector and `--json` keep the exchange).
    let (asked, answered) = match exchange.label {
        "activation/create" => (
            "Sent the device public key in two ECIES layers (the activation code outside, the key exchange inside)",
            "the server answered with its public key and the initial counter",
        ),
        label if label.contains("temporary") || label.contains("keystore") => (
            "Asked the server for a temporary ECIES key (protocol 3.3: each encryption goes to a short-lived server key)",
            "it gave one",
        ),
        "activation/status" => (
            "Asked the server for the activation status",
            "it sent the encrypted status blob",
        ),
        _ => ("Sent a request to the server", "it answered"),
    };
    let took = exchange.elapsed.as_millis();
    let detail = match (ok, exchange.status, &exchange.error) {
        (true, _, _) => format!("{asked}; {answered} ({took} ms)."),
        (false, Some(status), _) if status >= 500 => {
            format!("{asked}; the server failed on its side ({took} ms).")
        }
        (false, Some(_), _) => format!("{asked}; the server refused it ({took} ms)."),
        (false, None, Some(error)) => format!("{asked}; no answer came: {error}."),
        (false, None, None) => format!("{asked}; no answer came."),
    };
    let title = format!("{} {}", exchange.method, exchange.label);
    if ok {
        Step::done(&title, &detail)
    } else {
        Step::failed(&title, &detail)
    }
}
