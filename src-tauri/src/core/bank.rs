//! The Sandbox panel: the bank's side of the current server through its Cloud API (the
//! typed client of `tokensim-backend`), as its integration user: registrations with their
//! QR code, operations for a device's user, an operation's status.

use super::Core;
use crate::types::{AppError, Registration};
use serde_json::json;
use tokensim_backend::{NewOperation, NewRegistration};

impl Core {
    /// Sandbox panel: a new registration for `user` (committed on key exchange), with its QR.
    pub async fn new_registration(&self, user: &str) -> Result<Registration, AppError> {
        let user = if user.trim().is_empty() {
            "tester"
        } else {
            user.trim()
        };
        let created = self
            .slot
            .cloud()?
            .create_registration(&NewRegistration {
                user_id: user.to_owned(),
                app_id: sandbox::apps::DEFAULT_APPLICATION.to_owned(),
                commit_phase: Some("ON_KEY_EXCHANGE".to_owned()),
                ..NewRegistration::default()
            })
            .await
            .map_err(|e| cloud_error("creating a registration", &e))?;
        Ok(Registration {
            activation_id: created.registration_id,
            user_id: user.to_owned(),
            qr_png: crate::qr_image::qr_png(&created.activation_qr_code_data)?,
            qr_text: created.activation_qr_code_data,
        })
    }

    /// Sandbox panel: a `login` or `payment` operation for the user of device `id`.
    pub async fn new_operation(&self, id: &str, template: &str) -> Result<String, AppError> {
        let activation_id = self
            .book
            .summary(id)?
            .activation_id
            .ok_or_else(|| AppError::new("NOT_ACTIVE", "this device is not activated"))?;
        let cloud = self.slot.cloud()?;
        let registration = cloud
            .registration(&activation_id)
            .await
            .map_err(|e| cloud_error("reading the registration", &e))?;
        let mut parameters = serde_json::Map::new();
        if template == "payment" {
            for (name, value) in [
                ("amount", "1250.00"),
                ("currency", "EUR"),
                ("iban", "CZ6508000000192000145399"),
            ] {
                parameters.insert(name.to_owned(), json!(value));
            }
        }
        let operation = cloud
            .create_operation(&NewOperation {
                user_id: Some(registration.user_id),
                template: template.to_owned(),
                parameters,
                ..NewOperation::default()
            })
            .await
            .map_err(|e| cloud_error("creating an operation", &e))?;
        Ok(operation.operation_id)
    }

    /// Sandbox panel: an operation's status as the bank sees it.
    pub async fn operation_status(&self, operation_id: &str) -> Result<String, AppError> {
        let operation = self
            .slot
            .cloud()?
            .operation(operation_id)
            .await
            .map_err(|e| cloud_error("reading the operation", &e))?;
        Ok(operation.status)
    }
}

/// A Cloud API failure as the app shows it: what it was doing, and the server's answer.
fn cloud_error(what: &str, error: &tokensim_backend::Error) -> AppError {
    AppError::new("CLOUD", format!("{what}: {error}"))
}
