//! The device's actions, each one use case of `tokensim-api` under the device's lock and
//! lease ([`Core::on_device`]): status, operations (list, history, approve, reject), push,
//! signing data, the vault, the PIN, biometry, removal; and the window's views of them.

use super::{Core, lock};
use crate::types::{AppError, Approval, DeviceDetail, OperationView, ProximityInput, SignedData};
use powerauth::signature::SignatureType;
use serde_json::Value;
use std::sync::Arc;
use tokensim_api::Ran;
use tokensim_device::Factors;
use tokensim_device::operations::{Operation, ProximityCheck};

impl Core {
    /// Status and public facts of a device (fetches the status from the server).
    pub async fn detail(&self, id: &str) -> Result<DeviceDetail, AppError> {
        // Not `client_for`: showing the device must not spend a fault armed for its next action.
        let status = self
            .on_device(id, self.client_tagged(id), async |r, d| {
                tokensim_api::status(r, d, false).await
            })
            .await
            .map(|status| status.counter);
        let device = self.book.load_active(id)?;
        let summary = self.book.summary(id)?;
        let snapshot = device.last_status.clone();
        let (counter, status_error) = match status {
            Ok(words) => (words, None),
            Err(e) => (String::new(), Some(e.message)),
        };
        Ok(DeviceDetail {
            summary: self.summary(&summary),
            activation_id: device.activation_id.clone(),
            fingerprint: device.fingerprint.clone(),
            failed_attempts: snapshot.as_ref().map_or(0, |s| s.failed_attempts.into()),
            max_failed_attempts: snapshot
                .as_ref()
                .map_or(0, |s| s.max_failed_attempts.into()),
            counter,
            tokens: device.tokens.keys().cloned().collect(),
            biometry: device.biometry.is_some(),
            recovery: device.recovery.is_some(),
            status_error,
        })
    }

    /// Pending operations of a device.
    pub async fn operations(&self, id: &str) -> Result<Vec<OperationView>, AppError> {
        let mark = self.pending_mark(id);
        let list = self
            .on_device(id, self.client_for(id), tokensim_api::list_operations)
            .await?;
        let count = u32::try_from(list.operations.len()).unwrap_or(u32::MAX);
        lock(&self.pending).listed(id, count, mark);
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Pending operations, without inspector events (the background poll).
    pub async fn operations_quiet(&self, id: &str) -> Result<Vec<OperationView>, AppError> {
        let quiet = self.client.with_events(Arc::new(tokensim_device::NoEvents));
        let list = self
            .on_device(id, quiet, tokensim_api::list_operations)
            .await?;
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Registers device `id` for push messages and opens the server's push stream for it
    /// (the sandbox's outbox, Server-Sent Events).
    pub async fn push_stream(
        &self,
        id: &str,
    ) -> Result<tokensim_device::push::PushStream, AppError> {
        let server = self.slot.require()?;
        let quiet = self.client.with_events(Arc::new(tokensim_device::NoEvents));
        let token = format!("tokensim-app-{id}");
        self.on_device(id, quiet.clone(), async |r, d| {
            tokensim_api::register_push(r, d, "fcm", Some(&token)).await
        })
        .await?;
        let activation_id = self
            .book
            .summary(id)?
            .activation_id
            .ok_or_else(|| AppError::new("NOT_ACTIVE", "this device is not activated"))?;
        let credentials = tokensim_device::push::CloudCredentials {
            username: server.info.cloud_user.clone(),
            password: zeroize::Zeroizing::new(server.info.cloud_password.clone()),
        };
        tokensim_device::push::PushStream::open(
            &quiet,
            &server.info.url,
            &activation_id,
            &credentials,
        )
        .await
        .map_err(|e| AppError::from_device(&e))
    }

    /// Operation history (signed with the PIN).
    pub async fn history(&self, id: &str, pin: &str) -> Result<Vec<OperationView>, AppError> {
        require_pin(pin)?;
        let factors = Factors::pin(pin);
        let list = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::operation_history(r, d, &factors).await
            })
            .await?;
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Approves an operation.
    pub async fn approve(
        &self,
        id: &str,
        operation_id: &str,
        approval: Approval,
        proximity: Option<ProximityInput>,
    ) -> Result<(), AppError> {
        let factors = approval_factors(&approval)?;
        let client = self.client_for(id);
        let proximity = proximity.map(|p| ProximityCheck {
            otp: p.otp.trim().to_owned(),
            kind: p.kind,
            timestamp_received: p.timestamp_received,
            timestamp_sent: crate::proximity::iso8601(client.now_ms()),
        });
        self.on_device(id, client, async |r, d| {
            tokensim_api::approve_operation(r, d, operation_id, &factors, proximity.as_ref()).await
        })
        .await?;
        lock(&self.pending).acted(id);
        Ok(())
    }

    /// Rejects an operation with `reason` (`UNEXPECTED_OPERATION`, `INCORRECT_DATA`, …).
    pub async fn reject(&self, id: &str, operation_id: &str, reason: &str) -> Result<(), AppError> {
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::reject_operation(r, d, operation_id, reason).await
        })
        .await?;
        lock(&self.pending).acted(id);
        Ok(())
    }

    /// Signs `data` for `uri_id` and returns the header (no request is sent).
    pub async fn sign_data(
        &self,
        id: &str,
        data: &[u8],
        uri_id: &str,
        approval: Approval,
        possession_only: bool,
    ) -> Result<SignedData, AppError> {
        let factors = match (&approval, possession_only) {
            (_, true) => Factors::possession(),
            (Approval::Pin { pin }, false) => Factors::pin(pin),
            (Approval::Biometry, false) => Factors::new(SignatureType::PossessionBiometry, None),
            (Approval::Possession, false) => Factors::possession(),
        };
        if let Approval::Pin { pin } = &approval
            && !possession_only
        {
            require_pin(pin)?;
        }
        let request = tokensim_api::SignRequest {
            method: "POST",
            uri_id,
            body: data,
            factors: &factors,
            verify: false,
        };
        let signed = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::sign(r, d, request).await.map(Ran::Done)
            })
            .await?;
        Ok(SignedData {
            header_name: signed.header.to_owned(),
            header_value: signed.value,
        })
    }

    /// Checks the PIN against the server by unlocking the vault (the vault key stays here).
    pub async fn unlock_vault(&self, id: &str, pin: &str) -> Result<(), AppError> {
        require_pin(pin)?;
        let factors = Factors::pin(pin);
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::unlock_vault(r, d, &factors, "TokenSim vault check", false).await
        })
        .await
        .map(drop)
    }

    /// Changes the PIN.
    pub async fn change_pin(&self, id: &str, old_pin: &str, new_pin: &str) -> Result<(), AppError> {
        require_pin(old_pin)?;
        if new_pin.len() < 4 || !new_pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::new(
                "INPUT",
                "the new PIN must be at least 4 digits",
            ));
        }
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::change_pin(r, d, old_pin, new_pin).await
        })
        .await
        .map(drop)
    }

    /// Enrols simulated biometry (the vault is unlocked with the PIN).
    pub async fn enroll_biometry(&self, id: &str, pin: &str) -> Result<(), AppError> {
        require_pin(pin)?;
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::enroll_biometry(r, d, pin).await
        })
        .await
        .map(drop)
    }

    /// Simulates the OS biometric enrollment changing: the biometry key stops working.
    pub async fn change_enrollment(&self, id: &str) -> Result<(), AppError> {
        let enrollment = format!("enrollment-{}", self.client.now_ms());
        self.on_device(id, self.client.clone(), async |r, d| {
            tokensim_api::change_enrollment(r, d, &enrollment).map(Ran::Done)
        })
        .await
        .map(drop)
    }

    /// Removes the biometry key.
    pub async fn remove_biometry(&self, id: &str) -> Result<(), AppError> {
        self.on_device(id, self.client.clone(), async |r, d| {
            tokensim_api::remove_biometry(r, d).map(Ran::Done)
        })
        .await
        .map(drop)
    }

    /// Removes the activation on the server (with the PIN), then forgets the device; with
    /// `local_only`, only forgets it.
    pub async fn remove(
        &self,
        id: &str,
        pin: Option<&str>,
        local_only: bool,
    ) -> Result<(), AppError> {
        if !local_only {
            // The server removes an activation only with possession and knowledge: without
            // a PIN nothing is sent.
            let pin = pin.unwrap_or_default();
            require_pin(pin)?;
            let factors = Factors::pin(pin);
            // Forgets the device here too, under the same lease.
            return self
                .on_device(id, self.client_for(id), async |r, d| {
                    tokensim_api::remove(r, d, &factors).await
                })
                .await
                .map(drop);
        }
        self.book.delete(id)
    }

    /// Renames a device.
    pub fn rename(&self, id: &str, name: &str) -> Result<(), AppError> {
        if name.trim().is_empty() {
            return Err(AppError::new("INPUT", "a device needs a name"));
        }
        self.book.rename(id, name.trim())
    }

    /// Biometry lifecycle `action`: `enroll` (with the PIN), `change-enrollment`, `remove`.
    pub async fn biometry(
        &self,
        id: &str,
        action: &str,
        pin: Option<&str>,
    ) -> Result<(), AppError> {
        match action {
            "enroll" => self.enroll_biometry(id, pin.unwrap_or("")).await,
            "change-enrollment" => self.change_enrollment(id).await,
            "remove" => self.remove_biometry(id).await,
            other => Err(AppError::new(
                "INPUT",
                format!("unknown biometry action {other}"),
            )),
        }
    }
}

pub(crate) fn operation_view(operation: &Operation) -> OperationView {
    let text = |name: &str| {
        operation
            .extra
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    OperationView {
        id: operation.id.clone(),
        name: operation.name.clone(),
        data: operation.data.clone(),
        status: operation.status.clone(),
        signature_kind: operation.allowed_signature_type.kind.clone(),
        variants: operation.allowed_signature_type.variants.clone(),
        form_data: operation.form_data.clone(),
        created: text("operationCreated"),
        expires: text("operationExpires"),
        status_reason: text("statusReason"),
        ui: operation.ui.clone(),
    }
}

/// Nothing is signed with an empty or short PIN: it would cost a real attempt on the server.
pub(crate) fn require_pin(pin: &str) -> Result<(), AppError> {
    if pin.is_empty() {
        return Err(AppError::new(
            "INPUT",
            "Type the PIN first: nothing was sent.",
        ));
    }
    if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::new(
            "INPUT",
            "A PIN is at least 4 digits: nothing was sent.",
        ));
    }
    Ok(())
}

/// The factors of an approval (the PIN checked first).
pub(crate) fn approval_factors(approval: &Approval) -> Result<Factors, AppError> {
    Ok(match approval {
        Approval::Pin { pin } => {
            require_pin(pin)?;
            Factors::pin(pin)
        }
        Approval::Biometry => Factors::biometry(),
        Approval::Possession => Factors::possession(),
    })
}
