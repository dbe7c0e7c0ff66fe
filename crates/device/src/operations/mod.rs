//! The mobile-token operations API (digest §11, §16.4): list, detail and claim with the
//! `possession_universal` token; authorize, cancel and history with signatures over the
//! exact body bytes. Paths are relative to the server URL (`/api/auth/token/app/…`).

mod render;

pub use render::render_operation;

use crate::client::envelope;
use crate::session::{Factors, Session};
use crate::token::{POSSESSION_UNIVERSAL, token_post};
use crate::{Error, Result};
use powerauth::signature::SignatureType;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

const BASE: &str = "/api/auth/token/app/operation";

/// An operation as the mobile API shows it; unknown fields are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// Operation id.
    pub id: String,
    /// Operation type name, e.g. `authorize_payment`.
    pub name: String,
    /// The operation data string; signed exactly as received.
    pub data: String,
    /// `PENDING`, `APPROVED`, …
    #[serde(default)]
    pub status: Option<String>,
    /// Which factors may approve it.
    pub allowed_signature_type: AllowedSignatureType,
    /// Title, message and attributes for the screen.
    #[serde(default)]
    pub form_data: Option<Value>,
    /// UI hints (pre-approval screen, flip buttons…).
    #[serde(default)]
    pub ui: Option<Value>,
    /// Everything else (timestamps, statusReason…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `allowedSignatureType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedSignatureType {
    /// `1FA`, `2FA` or `ECDSA`.
    #[serde(rename = "type")]
    pub kind: String,
    /// For 2FA: `possession_knowledge`, `possession_biometry`.
    #[serde(default)]
    pub variants: Vec<String>,
}

impl Operation {
    /// Whether `signature_type` may approve this operation.
    pub fn allows(&self, signature_type: SignatureType) -> bool {
        match self.allowed_signature_type.kind.as_str() {
            "1FA" => signature_type == SignatureType::Possession,
            _ => self
                .allowed_signature_type
                .variants
                .iter()
                .any(|v| v.eq_ignore_ascii_case(signature_type.as_str())),
        }
    }
}

/// The proximity check sent with an approval (digest §11.1, §11.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProximityCheck {
    /// The TOTP read from the QR code or deeplink.
    pub otp: String,
    /// `QR_CODE` or `DEEPLINK`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the app received the OTP (ISO-8601).
    pub timestamp_received: String,
    /// When the app sends it (ISO-8601).
    pub timestamp_sent: String,
}

/// The exact body of `operation/authorize`, as signed and sent.
pub fn authorize_body(operation: &Operation, proximity: Option<&ProximityCheck>) -> Vec<u8> {
    let mut object = json!({ "id": operation.id, "data": operation.data });
    if let Some(proximity) = proximity {
        object["proximityCheck"] = json!(proximity);
    }
    envelope::request_body(&object)
}

fn operations(value: Value, what: &'static str) -> Result<Vec<Operation>> {
    serde_json::from_value(value).map_err(|e| Error::invalid(what, e.to_string()))
}

impl Session<'_> {
    /// Pending operations (token auth).
    pub async fn list_operations(&mut self) -> Result<Vec<Operation>> {
        self.ensure_token(POSSESSION_UNIVERSAL).await?;
        let request = token_post(
            self,
            "operation/list",
            &format!("{BASE}/list"),
            POSSESSION_UNIVERSAL,
            None,
        )?;
        let reply = self.execute(request).await?;
        operations(
            envelope::response_object(&reply, "operation/list")?,
            "operation/list",
        )
    }

    /// One operation (token auth).
    pub async fn operation_detail(&mut self, id: &str) -> Result<Operation> {
        self.operation_by_id("operation/detail", "detail", id).await
    }

    /// Binds a user-less operation to this device's user (token auth).
    pub async fn claim_operation(&mut self, id: &str) -> Result<Operation> {
        self.operation_by_id("operation/detail/claim", "detail/claim", id)
            .await
    }

    async fn operation_by_id(
        &mut self,
        what: &'static str,
        path: &str,
        id: &str,
    ) -> Result<Operation> {
        self.ensure_token(POSSESSION_UNIVERSAL).await?;
        let request = token_post(
            self,
            what,
            &format!("{BASE}/{path}"),
            POSSESSION_UNIVERSAL,
            Some(&json!({ "id": id })),
        )?;
        let reply = self.execute(request).await?;
        serde_json::from_value(envelope::response_object(&reply, what)?)
            .map_err(|e| Error::invalid(what, e.to_string()))
    }

    /// All operations in any state (signed `possession_knowledge` or `possession_biometry`).
    pub async fn operation_history(&mut self, factors: &Factors) -> Result<Vec<Operation>> {
        const WHAT: &str = "operation/history";
        let body = envelope::request_body(&json!({}));
        let request = self.signed_post(
            WHAT,
            &format!("{BASE}/history"),
            "/operation/history",
            factors,
            body,
        )?;
        let reply = self.execute(request).await?;
        operations(envelope::response_object(&reply, WHAT)?, WHAT)
    }

    /// Approves `operation` with `factors`, which it must allow. The signature covers the
    /// exact body bytes sent.
    pub async fn approve_operation(
        &mut self,
        operation: &Operation,
        factors: &Factors,
        proximity: Option<&ProximityCheck>,
    ) -> Result<()> {
        const WHAT: &str = "operation/authorize";
        if !operation.allows(factors.signature_type) {
            let allowed = &operation.allowed_signature_type;
            return Err(Error::FactorNotAllowed {
                what: format!("operation {}", operation.id),
                used: factors.signature_type.to_string(),
                allowed: format!("{} {}", allowed.kind, allowed.variants.join(" or ")),
            });
        }
        let body = authorize_body(operation, proximity);
        let request = self.signed_post(
            WHAT,
            &format!("{BASE}/authorize"),
            "/operation/authorize",
            factors,
            body,
        )?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, WHAT).map(|_| ())
    }

    /// Rejects the operation `id` with `reason` (`UNKNOWN`, `INCORRECT_DATA`,
    /// `UNEXPECTED_OPERATION`, or free text), signed `possession`.
    pub async fn reject_operation(&mut self, id: &str, reason: &str) -> Result<()> {
        const WHAT: &str = "operation/cancel";
        let body = envelope::request_body(&json!({ "id": id, "reason": reason }));
        let request = self.signed_post(
            WHAT,
            &format!("{BASE}/cancel"),
            "/operation/cancel",
            &Factors::possession(),
            body,
        )?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, WHAT).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn operation(kind: &str, variants: &[&str]) -> Operation {
        serde_json::from_value(json!({
            "id": "op-1",
            "name": "authorize_payment",
            "data": "A1*A100CZK*Q238400856/0300**D20190629*NUtility Bill",
            "status": "PENDING",
            "operationCreated": "2018-07-02T14:43:13+0000",
            "allowedSignatureType": {"type": kind, "variants": variants},
            "formData": {"title": "Confirm Payment", "message": "Hello", "attributes": [
                {"type": "AMOUNT", "id": "a", "label": "Amount", "amount": 100, "currency": "CZK", "amountFormatted": "100.00", "currencyFormatted": "Kč"},
                {"type": "HEADING", "id": "h", "label": "Details"},
                {"type": "FUTURE_THING", "id": "f", "label": "Later"}
            ]}
        }))
        .unwrap()
    }

    #[test]
    fn the_authorize_body_is_exact_and_carries_the_proximity_check() {
        let op = operation("2FA", &["possession_knowledge"]);
        assert_eq!(
            String::from_utf8(authorize_body(&op, None)).unwrap(),
            r#"{"requestObject":{"data":"A1*A100CZK*Q238400856/0300**D20190629*NUtility Bill","id":"op-1"}}"#
        );
        let proximity = ProximityCheck {
            otp: "12345678".to_owned(),
            kind: "QR_CODE".to_owned(),
            timestamp_received: "2026-01-01T00:00:00Z".to_owned(),
            timestamp_sent: "2026-01-01T00:00:05Z".to_owned(),
        };
        let body: Value = serde_json::from_slice(&authorize_body(&op, Some(&proximity))).unwrap();
        assert_eq!(body["requestObject"]["proximityCheck"]["otp"], "12345678");
        assert_eq!(body["requestObject"]["proximityCheck"]["type"], "QR_CODE");
        assert_eq!(
            body["requestObject"]["proximityCheck"]["timestampReceived"],
            "2026-01-01T00:00:00Z"
        );
    }

    #[test]
    fn allowed_factors_follow_the_operation() {
        let two = operation("2FA", &["possession_knowledge", "possession_biometry"]);
        assert!(two.allows(SignatureType::PossessionKnowledge));
        assert!(two.allows(SignatureType::PossessionBiometry));
        assert!(!two.allows(SignatureType::Possession));
        let one = operation("1FA", &[]);
        assert!(one.allows(SignatureType::Possession));
        assert!(!one.allows(SignatureType::PossessionKnowledge));
        assert_eq!(
            one.extra["operationCreated"], "2018-07-02T14:43:13+0000",
            "unknown fields are kept"
        );
    }

    #[test]
    fn the_screen_shows_amounts_headings_and_tolerates_unknown_attributes() {
        let screen = render_operation(&operation("2FA", &["possession_knowledge"]));
        assert!(screen.starts_with("Confirm Payment\nHello\n"), "{screen}");
        assert!(screen.contains("Amount: 100.00 Kč"), "{screen}");
        assert!(screen.contains("== Details =="), "{screen}");
        assert!(screen.contains("Later: (FUTURE_THING)"), "{screen}");
    }
}
