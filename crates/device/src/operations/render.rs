//! The operation's form data as a banking app shows it, as plain text for a terminal.

use super::Operation;
use serde_json::Value;
use std::fmt::Write;

/// Renders title, message and attributes (amounts, key-values, notes, headings, alerts,
/// party info); unknown attribute types show their label and type.
pub fn render_operation(operation: &Operation) -> String {
    let mut out = String::new();
    let form = operation.form_data.as_ref().unwrap_or(&Value::Null);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let title = text(form, "title");
    let _ = writeln!(
        out,
        "{}",
        if title.is_empty() {
            &operation.name
        } else {
            &title
        }
    );
    let message = text(form, "message");
    if !message.is_empty() {
        let _ = writeln!(out, "{message}");
    }
    let _ = writeln!(out);
    for attribute in form
        .get("attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let label = text(attribute, "label");
        let kind = text(attribute, "type");
        let line = match kind.as_str() {
            "AMOUNT" => {
                let formatted = text(attribute, "valueFormatted");
                if formatted.is_empty() {
                    format!(
                        "{} {}",
                        text(attribute, "amountFormatted"),
                        text(attribute, "currencyFormatted")
                    )
                } else {
                    formatted
                }
            }
            "AMOUNT_CONVERSION" => format!(
                "{} {} → {} {}",
                text(attribute, "sourceAmountFormatted"),
                text(attribute, "sourceCurrencyFormatted"),
                text(attribute, "targetAmountFormatted"),
                text(attribute, "targetCurrencyFormatted")
            ),
            "KEY_VALUE" => text(attribute, "value"),
            "NOTE" => text(attribute, "note"),
            "HEADING" => {
                let _ = writeln!(out, "== {label} ==");
                continue;
            }
            "ALERT" => format!(
                "[{}] {}: {}",
                text(attribute, "alertType"),
                text(attribute, "title"),
                text(attribute, "message")
            ),
            "PARTY_INFO" => {
                let party = attribute.get("partyInfo").unwrap_or(&Value::Null);
                format!("{} ({})", text(party, "name"), text(party, "websiteUrl"))
            }
            "IMAGE" => text(attribute, "thumbnailUrl"),
            other => format!("({other})"),
        };
        let _ = writeln!(out, "{label:>20}: {line}");
    }
    let allowed = &operation.allowed_signature_type;
    let _ = writeln!(
        out,
        "\nApprove with: {} {}",
        allowed.kind,
        allowed.variants.join(" or ")
    );
    out
}
