//! The operation JSON of the mobile API (digest §11.3, §16.4): form data rendered from
//! the template with the operation's parameters, allowed signature types, UI.

use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::operations::render;
use crate::state::AppState;
use crate::store::Operation;
use powerauth::signature::SignatureType;
use serde_json::{Map, Value, json};

/// The operation JSON of the mobile API.
pub async fn view(state: &AppState, operation: &Operation) -> Result<Option<Value>, Error> {
    // An operation without a template is left out (digest §16.4).
    let Some(template) = state.store.template(&operation.template_name).await? else {
        return Ok(None);
    };
    let mut form_data = template.form_data.clone();
    fill(&mut form_data, &operation.parameters)?;
    let two_factor: Vec<&str> = operation
        .signature_types
        .iter()
        .filter_map(|t| t.parse::<SignatureType>().ok())
        .filter(|t| *t != SignatureType::Possession)
        .map(SignatureType::as_str)
        .collect();
    let allowed = if two_factor.is_empty() {
        json!({"type": "1FA", "variants": []})
    } else {
        json!({"type": "2FA", "variants": two_factor})
    };
    let mut object = json!({
        "id": operation.operation_id,
        "name": operation.operation_type,
        "data": operation.data,
        "status": operation.status,
        "operationCreated": iso8601_mobile(operation.timestamp_created),
        "operationExpires": iso8601_mobile(operation.timestamp_expires),
        "allowedSignatureType": allowed,
        "formData": form_data,
    });
    if let Some(reason) = &operation.status_reason {
        object["statusReason"] = json!(reason);
    }
    let mut ui = template.ui.unwrap_or_else(|| json!({}));
    // The app learns of a proximity check from the QR_SCAN pre-approval screen (§11.5).
    if operation.totp_seed.is_some() {
        ui["preApprovalScreen"] = json!({
            "type": "QR_SCAN",
            "heading": "Scan the QR code",
            "message": "Scan the code shown on the other screen to continue.",
        });
    }
    if ui.as_object().is_some_and(|o| !o.is_empty()) {
        object["ui"] = ui;
    }
    Ok(Some(object))
}

/// Fills `${…}` in every string of a form; an AMOUNT's `amount` becomes a number.
fn fill(value: &mut Value, parameters: &Map<String, Value>) -> Result<(), Error> {
    match value {
        Value::String(text) => *text = render(text, parameters)?,
        Value::Array(items) => {
            for item in items {
                fill(item, parameters)?;
            }
        }
        Value::Object(map) => {
            for item in map.values_mut() {
                fill(item, parameters)?;
            }
            if map.get("type").and_then(Value::as_str) == Some("AMOUNT")
                && let Some(amount) = map.get("amount").and_then(Value::as_str)
                && let Ok(number) = amount.parse::<f64>()
            {
                map.insert("amount".to_owned(), json!(number));
            }
        }
        _ => {}
    }
    Ok(())
}
