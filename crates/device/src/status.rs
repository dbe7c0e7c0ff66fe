//! Activation status (digest §6, §16.10): fetch and decrypt the status blob, reconcile
//! the counter as the mobile SDK does, warn about drift, and resynchronise when the
//! protocol allows (a possession-signed `/pa/v3/signature/validate`).

use crate::client::{Request, envelope};
use crate::session::Session;
use crate::state::StatusSnapshot;
use crate::{Error, Result};
use powerauth::encoding::b64;
use powerauth::status::{
    ActivationStatusBlob, CounterSync, StatusExchange, make_status_challenge, synchronize_counter,
};
use serde_json::{Value, json};

/// The status endpoint.
pub const STATUS_PATH: &str = "/pa/v3/activation/status";

/// What a status call found.
#[derive(Debug, Clone)]
pub struct StatusReport {
    /// The decrypted blob, as stored on the device.
    pub snapshot: StatusSnapshot,
    /// The counter reconciliation (before any resynchronisation this call made).
    pub sync: CounterSync,
    /// Whether a resynchronising signature was sent and accepted.
    pub resynchronized: bool,
    /// `customObject` of the response, if any.
    pub custom_object: Option<Value>,
}

impl StatusReport {
    /// Whether the counters agree or will repair themselves.
    pub fn in_sync(&self) -> bool {
        !matches!(self.sync, CounterSync::Invalid(_))
    }
}

impl std::fmt::Display for StatusReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sync {
            CounterSync::Ok { client_ahead: 0 } => f.write_str("counters in sync"),
            CounterSync::Ok { client_ahead } => write!(
                f,
                "device counter {client_ahead} steps ahead, within the window"
            ),
            CounterSync::Unchecked(reason) => write!(f, "counter not checked ({reason:?})"),
            CounterSync::Updated { server_ahead, .. } => write!(
                f,
                "device counter adopted the server's ({server_ahead} steps)"
            ),
            CounterSync::CalculateSignatureSoon {
                client_ahead,
                look_ahead,
            } => write!(
                f,
                "device counter {client_ahead} of {look_ahead} steps ahead{}",
                if self.resynchronized {
                    ", resynchronised"
                } else {
                    ", needs a signature soon"
                }
            ),
            CounterSync::Invalid(deadlock) => write!(f, "counter deadlock: {deadlock}"),
        }
    }
}

impl Session<'_> {
    /// Fetches the status. Saves the new status and any adopted counter; warns about
    /// drift; resynchronises when the device is more than half the window ahead.
    pub async fn status(&mut self) -> Result<StatusReport> {
        let mut report = self.fetch_status().await?;
        if matches!(report.sync, CounterSync::CalculateSignatureSoon { .. })
            && report.snapshot.state == "ACTIVE"
        {
            match self.synchronize_counter().await {
                Ok(()) => report.resynchronized = true,
                Err(e) => self.client.warn(
                    "RESYNC_FAILED",
                    format!("resynchronising the counter failed: {e}"),
                ),
            }
        }
        Ok(report)
    }

    /// [`Self::status`] without the resynchronisation.
    pub(crate) async fn fetch_status(&mut self) -> Result<StatusReport> {
        const WHAT: &str = "activation/status";
        let challenge = self
            .device
            .profile
            .version
            .status_has_challenge()
            .then(|| make_status_challenge(self.client.rng()));
        let mut object = json!({ "activationId": self.device.activation_id });
        if let Some(challenge) = challenge {
            object["challenge"] = json!(b64(challenge));
        }
        let request = Request::post(WHAT, STATUS_PATH, envelope::request_body(&object));
        // Straight to the client: `Session::execute` calls this method to explain a 401.
        let reply = self
            .client
            .execute(&self.device.profile.server_url, request)
            .await?;
        let response = envelope::response_object(&reply, WHAT)?;
        let blob_b64 = envelope::string_field(&response, "encryptedStatusBlob", WHAT)?;
        let blob_bytes = powerauth::encoding::b64_decode(&blob_b64)
            .map_err(|_| Error::invalid(WHAT, "encryptedStatusBlob is not Base64"))?;
        let nonce = match response.get("nonce").and_then(Value::as_str) {
            Some(text) => Some(
                powerauth::encoding::b64_decode(text)
                    .map_err(|_| Error::invalid(WHAT, "nonce is not Base64"))?,
            ),
            None => None,
        };
        let exchange = StatusExchange::from_response(challenge, nonce.as_deref())?;
        let blob =
            ActivationStatusBlob::decrypt(&blob_bytes, &self.device.transport_key, &exchange)?;
        let snapshot = StatusSnapshot::from_blob(&blob, self.client.now_ms());
        let sync = synchronize_counter(
            &self.device.ctr_data,
            self.device.ctr_byte,
            &blob,
            &self.device.transport_key,
        );

        // Commit: everything read and checked.
        if let CounterSync::Updated {
            ctr_data,
            ctr_byte,
            server_ahead,
        } = &sync
        {
            if *server_ahead > 0 {
                self.client.warn("COUNTER_ADOPTED", format!(
                    "the server's counter was {server_ahead} steps ahead of the device's (signatures this device never saw); the device adopted it"
                ));
            }
            self.device.ctr_data = ctr_data.clone();
            self.device.ctr_byte = Some(*ctr_byte);
            self.device.counter += u64::from(*server_ahead);
        }
        self.device.last_status = Some(snapshot.clone());
        self.persist.persist(self.device).map_err(Error::Persist)?;

        match &sync {
            CounterSync::Ok { client_ahead } if *client_ahead > 0 => self.client.warn(
                "COUNTER_DRIFT",
                format!(
                    "the device counter is {client_ahead} steps ahead of the server's (requests that never arrived); the server's window of {} still covers it",
                    blob.ctr_look_ahead
                ),
            ),
            CounterSync::CalculateSignatureSoon {
                client_ahead,
                look_ahead,
            } => self.client.warn(
                "COUNTER_DRIFT",
                format!(
                    "the device counter is {client_ahead} steps ahead, more than half the server's window of {look_ahead}: a possession signature resynchronises it"
                ),
            ),
            CounterSync::Invalid(deadlock) => self.client.warn("COUNTER_DEADLOCK", format!(
                "{deadlock}: every signature will be rejected; remove the activation and activate again"
            )),
            _ => {}
        }
        Ok(StatusReport {
            snapshot,
            sync,
            resynchronized: false,
            custom_object: response.get("customObject").cloned(),
        })
    }

    /// Fails with [`Error::NotActive`] unless the last known status is `ACTIVE`.
    pub fn require_active(&self) -> Result<()> {
        match &self.device.last_status {
            Some(s) if s.state != "ACTIVE" => Err(Error::NotActive {
                state: match s.state.as_str() {
                    "CREATED" => "CREATED",
                    "PENDING_COMMIT" => "PENDING_COMMIT",
                    "BLOCKED" => "BLOCKED",
                    "REMOVED" => "REMOVED",
                    _ => "UNKNOWN",
                },
                failed_attempts: s.failed_attempts,
                max_failed_attempts: s.max_failed_attempts,
            }),
            _ => Ok(()),
        }
    }
}
