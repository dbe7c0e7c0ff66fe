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
    // The template's `ui` wins; without one, the operation's risk flags make it, as the
    // enrollment server's MobileTokenConverter does: X flips the buttons, C blocks approval
    // during a call, F puts a WARNING screen with a SLIDER first (it sets no heading or
    // message, and neither does this).
    let mut ui = template
        .ui
        .unwrap_or_else(|| risk_flags_ui(operation.risk_flags.as_deref().unwrap_or("")));
    fill(&mut ui, &operation.parameters)?;
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

/// The `ui` the enrollment server derives from risk flags (`X`, `C`, `F`).
fn risk_flags_ui(flags: &str) -> Value {
    let mut ui = Map::new();
    if flags.contains('X') {
        ui.insert("flipButtons".to_owned(), json!(true));
    }
    if flags.contains('C') {
        ui.insert("blockApprovalOnCall".to_owned(), json!(true));
    }
    if flags.contains('F') {
        ui.insert(
            "preApprovalScreen".to_owned(),
            json!({"type": "WARNING", "approvalType": "SLIDER"}),
        );
    }
    Value::Object(ui)
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
