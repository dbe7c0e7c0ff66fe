//! Offline operations (digest §5.7, §16.13): parse the QR text, verify its ECDSA
//! signature, compute the decimal offline signature. No network; the counter advances
//! and is saved like for any signature.

use crate::fault::Fault;
use crate::session::{Factors, Session};
use crate::{Error, Result};
use powerauth::offline::{OfflineQr, compute_offline_signature, display_signature};
use powerauth::signature::{Factor, FactorKeys, SignatureType};
use zeroize::Zeroizing;

/// What the device shows after signing an offline operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineCode {
    /// Operation id from the QR.
    pub operation_id: String,
    /// Title from the QR.
    pub title: String,
    /// Message from the QR.
    pub message: String,
    /// Operation data string.
    pub operation_data: String,
    /// The signature as the backend expects it (`NNNNNNNN-NNNNNNNN`).
    pub signature: String,
    /// The same, grouped by four for retyping.
    pub display: String,
}

impl Session<'_> {
    /// Verifies the offline QR `text` and signs it with `factors`
    /// (`possession_knowledge`, or `possession_biometry` when the QR allows biometry).
    pub fn sign_offline(&mut self, text: &str, factors: &Factors) -> Result<OfflineCode> {
        let qr = OfflineQr::parse(text)?;
        let device = &*self.device;
        qr.verify(
            &device.profile.application.master_server_public_key,
            &device.server_public_key,
        )?;
        let signature_type = factors.signature_type;
        let allowed = signature_type == SignatureType::PossessionKnowledge
            || (signature_type == SignatureType::PossessionBiometry && qr.flags().biometry_allowed);
        if !allowed {
            return Err(Error::FactorNotAllowed {
                what: format!("offline operation {}", qr.operation_id()),
                used: signature_type.to_string(),
                allowed: if qr.flags().biometry_allowed {
                    "possession_knowledge or possession_biometry".to_owned()
                } else {
                    "possession_knowledge".to_owned()
                },
            });
        }
        let knowledge = if signature_type.factors().contains(&Factor::Knowledge) {
            let pin = factors_pin(factors, self.client.fault);
            Some(device.knowledge_key.unlock(&pin))
        } else {
            None
        };
        let biometry = if signature_type.factors().contains(&Factor::Biometry) {
            Some(device.biometry_key()?.clone())
        } else {
            None
        };
        let keys = FactorKeys {
            possession: Some(&device.possession_key),
            knowledge: knowledge.as_ref(),
            biometry: biometry.as_ref(),
        };
        let mut ctr_data = device.ctr_data.clone();
        let signature = compute_offline_signature(&keys, signature_type, &mut ctr_data, &qr)
            .map_err(|e| Error::Protocol(e.to_string()))?;
        let previous = (device.ctr_data.clone(), device.ctr_byte, device.counter);
        self.device.ctr_data = ctr_data;
        self.device.ctr_byte = previous.1.map(|b| b.wrapping_add(1));
        self.device.counter = previous.2 + 1;
        if let Err(e) = self.persist.persist(self.device) {
            (
                self.device.ctr_data,
                self.device.ctr_byte,
                self.device.counter,
            ) = previous;
            return Err(Error::Persist(e));
        }
        Ok(OfflineCode {
            operation_id: qr.operation_id().to_owned(),
            title: qr.title().to_owned(),
            message: qr.message().to_owned(),
            operation_data: qr.operation_data().to_owned(),
            display: display_signature(&signature),
            signature,
        })
    }
}

fn factors_pin(factors: &Factors, fault: Option<Fault>) -> Zeroizing<String> {
    let pin = factors.pin_text();
    match fault {
        Some(Fault::WrongPin) => Zeroizing::new(format!("{pin}0")),
        _ => Zeroizing::new(pin.to_owned()),
    }
}
