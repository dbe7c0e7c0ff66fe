//! The flow the window offers, in the terminal, for machines without a display: start the
//! sandbox, show its URL and credentials, activate a demo device, create a payment
//! operation and approve it with the PIN, printing each step.

use crate::core::Core;
use crate::types::{ActivateRequest, Approval};
use std::process::ExitCode;
use std::sync::Arc;

const DEMO_PIN: &str = "1234";

/// Runs the demo; fails with the step that failed.
pub async fn run(core: Arc<Core>) -> ExitCode {
    match demo(&core).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo(core: &Core) -> Result<(), crate::types::AppError> {
    println!(
        "No display (DISPLAY and WAYLAND_DISPLAY are unset): running the app's flow in the terminal."
    );
    let info = core.slot.start_sandbox(None, 0).await?;
    println!("1. Embedded sandbox at {}", info.url);
    println!("   web console: {}", info.console_url);
    println!(
        "   Cloud API user {} / password {}",
        info.cloud_user, info.cloud_password
    );
    println!("   device store: {}", core.book.kind());
    let registration = core.new_registration("demo-user").await?;
    println!(
        "2. Registration {} for user {}; QR code data {}",
        registration.activation_id, registration.user_id, registration.qr_text
    );
    let report = core
        .activate(ActivateRequest {
            name: "Demo phone".to_owned(),
            code: registration.qr_text,
            pin: DEMO_PIN.to_owned(),
            version: "3.3".to_owned(),
            biometry: false,
            otp: None,
        })
        .await;
    println!("3. Activation (protocol 3.3, PIN {DEMO_PIN}):");
    for step in &report.steps {
        println!("   [{}] {}: {}", step.outcome, step.title, step.detail);
    }
    if let Some(error) = report.error {
        return Err(error);
    }
    let device = report
        .device
        .ok_or_else(|| crate::types::AppError::new("DEVICE", "the device was not stored"))?;
    println!(
        "   device {} is {}, fingerprint {}",
        device.id,
        device.state,
        report.fingerprint.unwrap_or_default()
    );
    let operation_id = core.new_operation(&device.id, "payment").await?;
    println!("4. The bank created payment operation {operation_id}");
    let pending = core.operations(&device.id).await?;
    for operation in &pending {
        let form = operation.form_data.clone().unwrap_or_default();
        println!(
            "   inbox: {} ({} approval)",
            form["title"].as_str().unwrap_or(&operation.name),
            operation.signature_kind
        );
        for attribute in form["attributes"].as_array().into_iter().flatten() {
            let value = match attribute["type"].as_str() {
                Some("AMOUNT") => format!(
                    "{} {}",
                    attribute["amountFormatted"].as_str().unwrap_or(""),
                    attribute["currencyFormatted"].as_str().unwrap_or("")
                ),
                _ => ["valueFormatted", "value", "note", "message"]
                    .iter()
                    .find_map(|k| attribute[*k].as_str())
                    .unwrap_or("")
                    .to_owned(),
            };
            println!(
                "     {}: {}",
                attribute["label"].as_str().unwrap_or(""),
                value
            );
        }
    }
    core.approve(
        &device.id,
        &operation_id,
        Approval::Pin {
            pin: DEMO_PIN.to_owned(),
        },
        None,
    )
    .await?;
    println!("5. Approved with the PIN (possession_knowledge signature)");
    let status = core.operation_status(&operation_id).await?;
    println!("6. The bank sees the operation as {status}");
    println!(
        "   {} HTTP exchanges recorded by the inspector (secrets redacted).",
        core.recorder.exchanges().len()
    );
    core.shutdown().await;
    Ok(())
}
