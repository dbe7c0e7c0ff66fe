//! Offline operations from a QR code: the operation data string (digest §11.4) turned
//! into the form attributes the inbox renders, so an offline payment looks like an online
//! one before the user signs it; the preview (verified, not signed) and the signature
//! ([`Core::offline_preview`], [`Core::sign_offline`]). Signing itself is
//! `tokensim-api`'s (`sign_offline`); nothing here touches a key.

use crate::core::Core;
use crate::core::actions::approval_factors;
use crate::types::{AppError, Approval, OfflinePreview, OfflineSigned, OperationView};
use serde_json::{Value, json};

/// Splits `data` at unescaped `*` and resolves `\n`, `\\`, `\*` in each field.
fn fields(data: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = data.chars();
    while let Some(c) = chars.next() {
        let field = out.last_mut().expect("never empty");
        match c {
            '\\' => match chars.next() {
                Some('n') => field.push('\n'),
                Some(other) => field.push(other),
                None => field.push('\\'),
            },
            '*' => out.push(String::new()),
            c => field.push(c),
        }
    }
    out
}

/// `A1492.50EUR` → (`1492.50`, `EUR`).
fn amount(value: &str) -> (String, String) {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',' || c == '-'))
        .unwrap_or(value.len());
    (value[..split].to_owned(), value[split..].to_owned())
}

/// `20190629` → `2019-06-29` (left as it is when it is not eight digits).
fn date(value: &str) -> String {
    if value.len() == 8 && value.chars().all(|c| c.is_ascii_digit()) {
        format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..])
    } else {
        value.to_owned()
    }
}

/// The operation's name for its template number (`0` generic, `1` payment, `2` login).
pub fn template_name(data: &str) -> &'static str {
    match fields(data).first().map(String::as_str) {
        Some("A1") => "payment",
        Some("A2") => "login",
        _ => "offline operation",
    }
}

/// Form data (`title`, `message`, `attributes`) for an offline QR's `title`, `message` and
/// operation data string, in the mobile API's attribute types so the inbox's renderer
/// shows it. Unknown field letters are free text, as the grammar says.
pub fn form_data(title: &str, message: &str, data: &str) -> Value {
    let mut attributes = Vec::new();
    for (index, field) in fields(data).iter().enumerate().skip(1) {
        let id = format!("operation.field{index}");
        let mut chars = field.chars();
        let Some(letter) = chars.next() else {
            continue;
        };
        let value = chars.as_str();
        let attribute = match letter {
            'A' => {
                let (amount, currency) = amount(value);
                json!({"type": "AMOUNT", "id": "operation.amount", "label": "Amount",
                       "amount": amount, "currency": currency,
                       "amountFormatted": amount, "currencyFormatted": currency})
            }
            'I' => {
                let (iban, bic) = value.split_once(',').unwrap_or((value, ""));
                let label = if bic.is_empty() {
                    "To account".to_owned()
                } else {
                    format!("To account (BIC {bic})")
                };
                json!({"type": "KEY_VALUE", "id": "operation.account", "label": label, "value": iban})
            }
            'Q' => {
                json!({"type": "KEY_VALUE", "id": "operation.account", "label": "To account", "value": value})
            }
            'D' => {
                json!({"type": "KEY_VALUE", "id": "operation.dueDate", "label": "Due date", "value": date(value)})
            }
            'R' => {
                json!({"type": "KEY_VALUE", "id": "operation.reference", "label": "Reference", "value": value})
            }
            'N' => json!({"type": "NOTE", "id": "operation.note", "label": "Note", "note": value}),
            _ => json!({"type": "KEY_VALUE", "id": id, "label": "Text", "value": field}),
        };
        attributes.push(attribute);
    }
    json!({"title": title, "message": message, "attributes": attributes})
}

impl Core {
    /// Reads an offline operation's QR `text` for device `id`: its layout, and its ECDSA
    /// signature (the application's master key or this activation's server key); the
    /// operation rendered like an online one. Nothing is signed and the counter stays.
    pub fn offline_preview(&self, id: &str, text: &str) -> Result<OfflinePreview, AppError> {
        let device = self.book.load_active(id)?;
        let offline_error = |e: powerauth::offline::OfflineQrError| {
            let error = tokensim_device::Error::from(e);
            AppError::from_device(&error)
                .with_hint("scan the QR code this device's server issued for this device")
        };
        let qr = powerauth::offline::OfflineQr::parse(text.trim_end_matches(['\r', '\n']))
            .map_err(offline_error)?;
        qr.verify(
            &device.profile.application.master_server_public_key,
            &device.server_public_key,
        )
        .map_err(offline_error)?;
        let data = qr.operation_data();
        Ok(OfflinePreview {
            operation: OperationView {
                id: qr.operation_id().to_owned(),
                name: template_name(data).to_owned(),
                data: data.to_owned(),
                status: Some("OFFLINE".to_owned()),
                signature_kind: "2FA".to_owned(),
                variants: if qr.flags().biometry_allowed {
                    vec![
                        "possession_knowledge".to_owned(),
                        "possession_biometry".to_owned(),
                    ]
                } else {
                    vec!["possession_knowledge".to_owned()]
                },
                form_data: Some(form_data(qr.title(), qr.message(), data)),
                created: None,
                expires: None,
                status_reason: None,
                ui: None,
            },
            biometry_allowed: qr.flags().biometry_allowed,
            kind: match qr.signing_key() {
                powerauth::offline::SigningKeyKind::Personalized => "personalized",
                powerauth::offline::SigningKeyKind::Master => "non-personalized",
            }
            .to_owned(),
        })
    }

    /// Signs an offline operation's QR `text` with device `id` (PIN or biometry): the
    /// offline signature the user types into the web page. No request is sent; the
    /// counter advances and is saved.
    pub async fn sign_offline(
        &self,
        id: &str,
        text: &str,
        approval: Approval,
    ) -> Result<OfflineSigned, AppError> {
        let factors = approval_factors(&approval)?;
        let code = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::sign_offline(r, d, text, &factors).await
            })
            .await?;
        Ok(OfflineSigned {
            operation_id: code.operation_id,
            signature: code.signature,
            display: code.display,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payment_s_fields_become_the_inbox_s_attributes() {
        let form = form_data(
            "Payment",
            "Pay 100 CZK",
            r"A1*A100CZK*Q238400856/0300**D20190629*NFor the\* cake\nand tea",
        );
        assert_eq!(form["title"], "Payment");
        let attributes = form["attributes"].as_array().unwrap();
        assert_eq!(attributes.len(), 4, "{form}");
        assert_eq!(attributes[0]["type"], "AMOUNT");
        assert_eq!(attributes[0]["amount"], "100");
        assert_eq!(attributes[0]["currency"], "CZK");
        assert_eq!(attributes[1]["value"], "238400856/0300");
        assert_eq!(attributes[2]["value"], "2019-06-29");
        assert_eq!(attributes[3]["note"], "For the* cake\nand tea");
        assert_eq!(template_name("A1*A100CZK"), "payment");
        assert_eq!(template_name("A2"), "login");
        assert_eq!(template_name("A0*Thello"), "offline operation");
    }

    #[test]
    fn an_iban_with_a_bic_and_unknown_letters_are_shown_not_dropped() {
        let form = form_data(
            "t",
            "m",
            "A1*A1492.50EUR*ICZ6508000000192000145399,GIBACZPX*Xsomething",
        );
        let attributes = form["attributes"].as_array().unwrap();
        assert_eq!(attributes[1]["value"], "CZ6508000000192000145399");
        assert!(
            attributes[1]["label"]
                .as_str()
                .unwrap()
                .contains("GIBACZPX")
        );
        assert_eq!(attributes[2]["value"], "Xsomething");
        // No data at all: no attributes, no panic.
        assert_eq!(form_data("t", "m", "")["attributes"], json!([]));
    }
}
