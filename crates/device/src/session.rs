//! [`Session`]: an [`ActiveDevice`] talking to its server through a [`Client`], with the
//! [`Persist`] hook that saves the device before any signed request leaves (digest
//! §16.10: the counter moves when a signature is computed, and is never rolled back).
//!
//! Each operation lives in its own module (`status.rs`, `token.rs`, `vault.rs`, …) as an
//! `impl Session` block. State changes other than the counter are made only after the
//! server's answer was read and checked, so a failed call leaves the device as it was.

use crate::client::{AUTHORIZATION, Client, Reply, Request};
use crate::fault::Fault;
use crate::state::ActiveDevice;
use crate::{Error, Result};
use powerauth::ecies::{Encryptor, Recipient, Scope, SharedInfo1};
use powerauth::signature::{Authorization, FactorKeys, RequestToSign, SignatureType};
use zeroize::Zeroizing;

/// Saves the device; called before each signed request is sent.
pub trait Persist: Send {
    /// Saves `device` durably. An error stops the request before it is sent.
    fn persist(&mut self, device: &ActiveDevice) -> std::result::Result<(), String>;
}

impl<F> Persist for F
where
    F: FnMut(&ActiveDevice) -> std::result::Result<(), String> + Send,
{
    fn persist(&mut self, device: &ActiveDevice) -> std::result::Result<(), String> {
        self(device)
    }
}

/// Which factors sign a request, and the PIN if knowledge is one of them.
#[derive(Clone)]
pub struct Factors {
    /// The signature type.
    pub signature_type: SignatureType,
    pin: Option<Zeroizing<String>>,
}

impl Factors {
    /// `possession`.
    pub fn possession() -> Self {
        Self::new(SignatureType::Possession, None)
    }
    /// `possession_knowledge` with `pin`.
    pub fn pin(pin: &str) -> Self {
        Self::new(SignatureType::PossessionKnowledge, Some(pin))
    }
    /// `possession_biometry`.
    pub fn biometry() -> Self {
        Self::new(SignatureType::PossessionBiometry, None)
    }
    /// The PIN, or empty.
    pub(crate) fn pin_text(&self) -> &str {
        self.pin.as_deref().map(String::as_str).unwrap_or("")
    }

    /// Any type; `pin` is used when the type includes knowledge.
    pub fn new(signature_type: SignatureType, pin: Option<&str>) -> Self {
        Self {
            signature_type,
            pin: pin.map(|p| Zeroizing::new(p.to_owned())),
        }
    }
}

impl std::fmt::Debug for Factors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factors")
            .field("signature_type", &self.signature_type)
            .field("pin", &self.pin.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A device and its client for one or more calls.
pub struct Session<'a> {
    /// The HTTP client (possibly with a fault armed).
    pub client: &'a Client,
    /// The device; changed only as each operation documents.
    pub device: &'a mut ActiveDevice,
    pub(crate) persist: &'a mut dyn Persist,
}

impl<'a> Session<'a> {
    /// A session over `device`.
    pub fn new(
        client: &'a Client,
        device: &'a mut ActiveDevice,
        persist: &'a mut dyn Persist,
    ) -> Self {
        Self {
            client,
            device,
            persist,
        }
    }

    /// Sends a request to the device's server. When an authenticated request is refused
    /// with 401, fetches the status: if the activation is not `ACTIVE` (blocked after too
    /// many wrong PINs, removed) that is the error the tester needs to see.
    pub(crate) async fn execute(&mut self, request: Request) -> Result<Reply> {
        let authenticated = request.header_value(AUTHORIZATION).is_some()
            || request
                .header_value(powerauth::token::TokenHeader::NAME)
                .is_some();
        let reply = self
            .client
            .execute(&self.device.profile.server_url, request)
            .await?;
        if authenticated && reply.status == 401 && self.fetch_status().await.is_ok() {
            self.require_active()?;
        }
        Ok(reply)
    }

    /// Signs `body` for `uri_id`: computes the `X-PowerAuth-Authorization` value, advances
    /// `CTR_DATA` (and the known counter byte), and persists the device. If persisting
    /// fails the counter is put back and nothing may be sent.
    pub fn sign(
        &mut self,
        factors: &Factors,
        method: &str,
        uri_id: &str,
        body: &[u8],
    ) -> Result<String> {
        let device = &*self.device;
        let signature_type = factors.signature_type;
        let needs = |f| signature_type.factors().contains(&f);
        let knowledge = if needs(powerauth::signature::Factor::Knowledge) {
            let pin = factors.pin_text();
            let pin = match self.client.fault {
                // Any other PIN: one more digit is the classic typo.
                Some(Fault::WrongPin) => Zeroizing::new(format!("{pin}0")),
                _ => Zeroizing::new(pin.to_owned()),
            };
            Some(
                self.client
                    .knowledge_key(&device.activation_id, &device.knowledge_key, &pin),
            )
        } else {
            None
        };
        let biometry = if needs(powerauth::signature::Factor::Biometry) {
            Some(device.biometry_key()?.clone())
        } else {
            None
        };
        let keys = FactorKeys {
            possession: Some(&device.possession_key),
            knowledge: knowledge.as_ref(),
            biometry: biometry.as_ref(),
        };
        let application_key = device.application_key();
        let application_secret = device.profile.application.application_secret.expose_b64();
        let authorization = Authorization {
            activation_id: &device.activation_id,
            application_key: &application_key,
            application_secret: &application_secret,
            version: device.profile.version,
            signature_type,
        };
        let skipped = match self.client.fault {
            Some(Fault::StaleCounter(steps)) => steps,
            _ => 0,
        };
        let mut ctr_data = device.ctr_data.advanced(skipped);
        let request = RequestToSign {
            method,
            uri_id,
            body,
        };
        let header = authorization
            .sign(&keys, &mut ctr_data, &request, self.client.rng())
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let previous = (device.ctr_data.clone(), device.ctr_byte, device.counter);
        self.device.ctr_data = ctr_data;
        self.device.ctr_byte = previous
            .1
            .map(|b| b.wrapping_add(1).wrapping_add(skipped as u8));
        self.device.counter = previous.2 + 1 + u64::from(skipped);
        if let Err(e) = self.persist.persist(self.device) {
            (
                self.device.ctr_data,
                self.device.ctr_byte,
                self.device.counter,
            ) = previous;
            return Err(Error::Persist(e));
        }
        Ok(header.to_header_value())
    }

    /// A signed `POST` of `body` to `path` with resource id `uri_id`.
    pub(crate) fn signed_post(
        &mut self,
        label: &'static str,
        path: &str,
        uri_id: &str,
        factors: &Factors,
        body: Vec<u8>,
    ) -> Result<Request> {
        let header = self.sign(factors, "POST", uri_id, &body)?;
        Ok(Request::post(label, path, body).header(AUTHORIZATION, header))
    }

    /// Encrypts `plaintext` in activation scope for `shared_info1` (3.3: to the cached or
    /// a fresh activation-scope temporary key). Returns the request body and decryptor.
    pub(crate) async fn encrypt_for_activation(
        &mut self,
        shared_info1: SharedInfo1,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, powerauth::ecies::ResponseDecryptor)> {
        let temporary = if self.device.profile.version.uses_temporary_keys() {
            Some(self.activation_temporary_key().await?)
        } else {
            None
        };
        let device = &*self.device;
        let application_key = device.application_key();
        let secret = device.profile.application.application_secret.expose_b64();
        let scope = Scope::Activation {
            activation_id: &device.activation_id,
            transport_key: &device.transport_key,
        };
        let encryptor = Encryptor::new(
            device.profile.version,
            shared_info1,
            &application_key,
            &secret,
            scope,
        )
        .map_err(|e| Error::Protocol(e.to_string()))?;
        let recipient = match &temporary {
            Some(key) => key.recipient(),
            None => Recipient::Static(&device.server_public_key),
        };
        crate::client::encrypt(self.client, &encryptor, recipient, plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_never_print_the_pin() {
        let debug = format!("{:?}", Factors::pin("987654"));
        assert!(!debug.contains("987654"), "{debug}");
        assert!(debug.contains("PossessionKnowledge"), "{debug}");
    }
}

#[cfg(test)]
// Compile-time checks: these functions only need to type-check.
mod send_tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Tauri runs commands on a multi-threaded runtime: every flow's future must be Send.
    #[allow(dead_code)]
    fn flows_are_send(client: &Client, device: &mut ActiveDevice, persist: &mut dyn Persist) {
        let future = async move {
            let mut session = Session::new(client, device, persist);
            let _ = session.status().await;
            let _ = session.create_token("t", &Factors::possession()).await;
            let _ = session.enroll_biometry("1").await;
            let _ = session.list_operations().await;
            let _ = session.inbox_count().await;
        };
        assert_send(&future);
    }

    #[allow(dead_code)]
    fn activation_is_send(
        client: &Client,
        pending: crate::PendingActivation,
        input: &crate::activation::ActivationInput,
    ) {
        assert_send(&crate::activation::activate(client, pending, input));
    }
}
