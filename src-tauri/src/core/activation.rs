//! Activation with its narrative: the steps `tokensim_api::activate` ran (the doctor's
//! words on the failed one), the stored device, or the error with its hint.

use super::Core;
use crate::inspector::DeviceEvents;
use crate::types::{ActivateRequest, ActivationReport, AppError, Step};
use powerauth::ProtocolVersion;
use std::sync::Arc;

impl Core {
    /// Activates a device with `request` on the current server and stores it, then gives
    /// the pages of the buffers the key exchange and PIN derivation freed back to the system.
    pub async fn activate(&self, request: ActivateRequest) -> ActivationReport {
        let report = self.activate_and_store(request).await;
        tokensim_memory::release();
        report
    }

    /// [`Core::activate`] without the memory release.
    async fn activate_and_store(&self, request: ActivateRequest) -> ActivationReport {
        let steps = Vec::new();
        let failed = |steps: Vec<Step>, error: AppError| ActivationReport {
            steps,
            device: None,
            fingerprint: None,
            error: Some(error),
        };
        let server = match self.slot.require() {
            Ok(server) => server,
            Err(e) => return failed(steps, e),
        };
        let version: ProtocolVersion = match request.version.parse() {
            Ok(v) => v,
            Err(_) => {
                return failed(
                    steps,
                    AppError::new("INPUT", "choose a protocol version: 3.0, 3.1, 3.2 or 3.3"),
                );
            }
        };
        if request.pin.len() < 4 || !request.pin.chars().all(|c| c.is_ascii_digit()) {
            return failed(
                steps,
                AppError::new("INPUT", "the PIN must be at least 4 digits"),
            );
        }
        let name = if request.name.trim().is_empty() {
            "My phone".to_owned()
        } else {
            request.name.trim().to_owned()
        };
        let request = tokensim_api::ActivateRequest {
            name,
            server_url: server.info.url.clone(),
            application: server.application.clone(),
            version,
            code: request.code,
            pin: &request.pin,
            otp: request.otp.filter(|otp| !otp.trim().is_empty()),
            biometry_enrollment: request.biometry.then(|| "enrollment-1".to_owned()),
        };
        // The inspector lists the activation's exchanges under the new device's name.
        let tagged = self.client.with_events(Arc::new(DeviceEvents {
            timeline: self.timeline.clone(),
            device: request.name.clone(),
        }));
        let activation =
            tokensim_api::activate(&tagged, &self.recorder, self.book.wallet(), request, None)
                .await;
        let steps = activation.steps;
        match activation.result {
            Ok(tokensim_api::Ran::Done(device)) => {
                let summary = self.book.summary(&device.id).map(|d| self.summary(&d)).ok();
                ActivationReport {
                    steps,
                    device: summary,
                    fingerprint: Some(device.fingerprint),
                    error: None,
                }
            }
            // Not armed here: the app arms faults on a device's next call.
            Ok(tokensim_api::Ran::Fault(report)) => failed(
                steps,
                AppError::new("ACTIVATION", format!("fault {} ran", report.fault)),
            ),
            Err(error) => failed(steps, AppError::from_api("ACTIVATION", error)),
        }
    }
}
