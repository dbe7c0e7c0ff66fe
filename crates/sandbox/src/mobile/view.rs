//! The operation JSON of the mobile API (digest §11.3, §16.4) as the enrollment server's
//! `MobileTokenConverter` makes it: form data rendered from the template with the
//! operation's parameters and its amounts written for the caller's language, the allowed
//! signature types, the UI hints.

use super::money;
use crate::clock::iso8601_mobile;
use crate::error::Error;
use crate::operations::render;
use crate::state::AppState;
use crate::store::Operation;
use powerauth::signature::SignatureType;
use serde_json::{Map, Value, json};

/// The operation JSON of the mobile API, amounts written for `language` (see [`money`]).
pub(super) async fn view(
    state: &AppState,
    operation: &Operation,
    language: &str,
) -> Result<Option<Value>, Error> {
    // An operation without a template is left out (digest §16.4).
    let Some(template) = state.store.template(&operation.template_name).await? else {
        return Ok(None);
    };
    let mut form_data = template.form_data.clone();
    fill(&mut form_data, &operation.parameters)?;
    format_amounts(&mut form_data, language);
    let mut object = json!({
        "id": operation.operation_id,
        "name": operation.operation_type,
        "data": operation.data,
        "status": operation.status,
        "operationCreated": iso8601_mobile(operation.timestamp_created),
        "operationExpires": iso8601_mobile(operation.timestamp_expires),
        "allowedSignatureType": allowed_signature_type(&operation.signature_types),
        "formData": form_data,
    });
    if let Some(reason) = &operation.status_reason {
        object["statusReason"] = json!(reason);
    }
    if let Some(ui) = ui(template.ui, operation)? {
        object["ui"] = ui;
    }
    Ok(Some(object))
}

/// `allowedSignatureType` as MobileTokenConverter makes it: `1FA` whenever the operation
/// accepts `POSSESSION` alone, else `2FA` with the variants it accepts, knowledge first.
fn allowed_signature_type(signature_types: &[String]) -> Value {
    let accepts = |wanted: SignatureType| {
        signature_types
            .iter()
            .any(|t| t.parse::<SignatureType>().ok() == Some(wanted))
    };
    if accepts(SignatureType::Possession) {
        return json!({"type": "1FA", "variants": []});
    }
    let variants: Vec<&str> = [
        SignatureType::PossessionKnowledge,
        SignatureType::PossessionBiometry,
    ]
    .into_iter()
    .filter(|t| accepts(*t))
    .map(SignatureType::as_str)
    .collect();
    json!({"type": "2FA", "variants": variants})
}

/// The template's `ui` wins; without one, the operation's risk flags make it. A `QR_SCAN`
/// pre-approval screen the template asks for is dropped when the operation has no
/// proximity OTP, as the converter does; the sandbox never adds one of its own.
fn ui(template_ui: Option<Value>, operation: &Operation) -> Result<Option<Value>, Error> {
    match template_ui.filter(|ui| !ui.is_null()) {
        Some(mut ui) => {
            fill(&mut ui, &operation.parameters)?;
            if operation.totp_seed.is_none()
                && ui["preApprovalScreen"]["type"].as_str() == Some("QR_SCAN")
                && let Some(map) = ui.as_object_mut()
            {
                map.remove("preApprovalScreen");
            }
            Ok(Some(ui))
        }
        None => Ok(operation
            .risk_flags
            .as_deref()
            .filter(|flags| !flags.trim().is_empty())
            .map(risk_flags_ui)),
    }
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

/// Fills `${…}` in every string of a form.
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
        }
        _ => {}
    }
    Ok(())
}

/// The amounts of `AMOUNT` and `AMOUNT_CONVERSION` attributes written for `language`.
fn format_amounts(form: &mut Value, language: &str) {
    let Some(attributes) = form.get_mut("attributes").and_then(Value::as_array_mut) else {
        return;
    };
    for attribute in attributes.iter_mut().filter_map(Value::as_object_mut) {
        match attribute.get("type").and_then(Value::as_str) {
            Some("AMOUNT") => format_amount(attribute, "", language),
            Some("AMOUNT_CONVERSION") => {
                format_amount(attribute, "source", language);
                format_amount(attribute, "target", language);
            }
            _ => {}
        }
    }
}

/// `amount` (a number), `amountFormatted`, `currencyFormatted` and `valueFormatted` from
/// `amount` and `currency`, each name after `prefix` (`sourceAmount`…). An amount that is
/// not a number stays out, its text in `amountFormatted`, as the converter does.
fn format_amount(attribute: &mut Map<String, Value>, prefix: &str, language: &str) {
    let key = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            let mut chars = name.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            format!("{prefix}{}{}", first.unwrap_or_default(), chars.as_str())
        }
    };
    let text = |value: Option<&Value>| match value {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let (Some(amount), Some(currency)) = (
        text(attribute.get(&key("amount"))),
        text(attribute.get(&key("currency"))),
    ) else {
        return;
    };
    let (number, amount_formatted, value_formatted) = match amount.parse::<money::Decimal>() {
        Ok(decimal) => (
            amount.parse::<f64>().ok().map(|n| json!(n)),
            money::format_amount(&decimal, &currency, language),
            money::format_value(&decimal, &currency, language),
        ),
        Err(()) => (None, amount.clone(), format!("{amount} {currency}")),
    };
    match number {
        Some(number) => attribute.insert(key("amount"), number),
        None => attribute.remove(&key("amount")),
    };
    attribute.insert(key("amountFormatted"), json!(amount_formatted));
    attribute.insert(
        key("currencyFormatted"),
        json!(money::currency_symbol(&currency, language)),
    );
    attribute.insert(key("valueFormatted"), json!(value_formatted));
}
