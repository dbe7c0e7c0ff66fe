//! Offline operations from a QR code: the operation data string (digest §11.4) turned
//! into the form attributes the inbox renders, so an offline payment looks like an online
//! one before the user signs it. Signing itself is `tokensim-device`'s
//! (`Session::sign_offline`); nothing here touches a key.

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
