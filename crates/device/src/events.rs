//! The inspector: every HTTP exchange, with ECIES payloads decrypted alongside, reported
//! through the [`Events`] trait (ripgrep's `Sink` idea): the engine emits, the CLI prints
//! text or JSON Lines, the desktop app forwards to its window.
//!
//! Secrets are redacted before an event leaves the engine unless the client was built
//! with `reveal_secrets`: signature values, token digests, token secrets, vault keys,
//! `ctrData`, OTPs, PUKs and push tokens.

use serde::Serialize;
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

/// The text that replaces a redacted value.
pub const REDACTED: &str = "<redacted>";

/// One HTTP request and its answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// What the engine was doing, e.g. `activation/create`.
    pub label: &'static str,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Request headers as sent (redacted).
    pub request_headers: Vec<(String, String)>,
    /// Request body as sent (JSON bodies redacted).
    pub request_body: String,
    /// The request's plaintext before ECIES encryption, if it was encrypted.
    pub request_plaintext: Option<String>,
    /// HTTP status, if an answer arrived.
    pub status: Option<u16>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// Response body.
    pub response_body: String,
    /// The response's decrypted plaintext, if it was encrypted and decrypted.
    pub response_plaintext: Option<String>,
    /// Time from sending to the complete answer.
    pub elapsed: Duration,
    /// The transport error, if no answer arrived.
    pub error: Option<String>,
    /// The fault applied to this exchange, if any.
    pub fault: Option<String>,
}

/// Something the tester should know that is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warning {
    /// A stable code, e.g. `COUNTER_DRIFT`.
    pub code: &'static str,
    /// The explanation.
    pub message: String,
}

/// Where the engine reports what it does. Both methods default to doing nothing.
pub trait Events: Send + Sync {
    /// An HTTP exchange finished (or failed).
    fn exchange(&self, exchange: &Exchange) {
        let _ = exchange;
    }
    /// A warning, e.g. counter drift.
    fn warning(&self, warning: &Warning) {
        let _ = warning;
    }
}

/// Discards every event.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Events for NoEvents {}

/// Keeps every event in memory: for tests, fault reports and `diagnose` bundles.
#[derive(Debug, Default)]
pub struct Recorder {
    exchanges: Mutex<Vec<Exchange>>,
    warnings: Mutex<Vec<Warning>>,
}

impl Recorder {
    /// The exchanges so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// The warnings so far.
    pub fn warnings(&self) -> Vec<Warning> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Forgets everything recorded.
    pub fn clear(&self) {
        if let Ok(mut e) = self.exchanges.lock() {
            e.clear();
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.clear();
        }
    }
}

impl Events for Recorder {
    fn exchange(&self, exchange: &Exchange) {
        if let Ok(mut e) = self.exchanges.lock() {
            e.push(exchange.clone());
        }
    }
    fn warning(&self, warning: &Warning) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(warning.clone());
        }
    }
}

/// Sends every event to two sinks.
pub struct Tee<'a>(pub &'a dyn Events, pub &'a dyn Events);

impl Events for Tee<'_> {
    fn exchange(&self, exchange: &Exchange) {
        self.0.exchange(exchange);
        self.1.exchange(exchange);
    }
    fn warning(&self, warning: &Warning) {
        self.0.warning(warning);
        self.1.warning(warning);
    }
}

/// JSON fields whose values are secrets.
const SECRET_FIELDS: &[&str] = &[
    "tokenSecret",
    "encryptedVaultEncryptionKey",
    "ctrData",
    "activationOtp",
    "otp",
    "puk",
    "recoveryCode",
    "token",
    "jwt",
    // A signature value sent for verification (`/rest/v3/signature/verify`, offline verify).
    "signature",
    // OAuth 2.0 (RFC 6749, RFC 8628): tokens, the device code and, while live, the user code.
    "access_token",
    "refresh_token",
    "device_code",
    "user_code",
    "client_secret",
    "verification_uri_complete",
    // Device profiles: passwords, API keys and secrets.
    "password",
    "api_key",
    "apiKey",
    "mobileApiKey",
    "apiSecret",
];

/// Header fields whose values are secrets.
const SECRET_HEADER_FIELDS: &[&str] = &["pa_signature", "token_digest"];

/// Header names whose whole value is a secret (a device profile's API key).
const SECRET_HEADERS: &[&str] = &["x-api-key"];

/// Redacts secret header fields (`pa_signature`, `token_digest`) in a PowerAuth header, the
/// credentials of `Authorization` (its scheme stays: `Bearer <redacted>`) and API key headers.
pub fn redact_header(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower == "authorization" {
        return match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        };
    }
    if SECRET_HEADERS.contains(&lower.as_str()) {
        return REDACTED.to_owned();
    }
    if !lower.starts_with("x-powerauth") {
        return value.to_owned();
    }
    let mut out = value.to_owned();
    for field in SECRET_HEADER_FIELDS {
        let marker = format!("{field}=\"");
        if let Some(start) = out.find(&marker) {
            let from = start + marker.len();
            if let Some(len) = out[from..].find('"') {
                out.replace_range(from..from + len, REDACTED);
            }
        }
    }
    out
}

/// Redacts secret fields anywhere in a JSON text; other text is returned as is.
pub fn redact_json(text: &str) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => text.to_owned(),
    }
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        // A live activation or recovery code under any name (`activationCode`,
        // `identityAttributes.code`, a QR payload `CODE#SIGNATURE`): a bug report must not
        // carry a code someone else could still activate with.
        Value::String(text) if holds_activation_code(text) => *text = REDACTED.to_owned(),
        _ => {}
    }
}

/// Whether `text` is an activation code (`XXXXX-XXXXX-XXXXX-XXXXX`, Base32 letters), alone,
/// after `R:` (recovery), or followed by `#` and a signature.
fn holds_activation_code(text: &str) -> bool {
    let text = text.strip_prefix("R:").unwrap_or(text);
    let bytes = text.as_bytes();
    if bytes.len() < 23 || !(bytes.len() == 23 || bytes[23] == b'#') {
        return false;
    }
    bytes[..23].iter().enumerate().all(|(i, &b)| {
        if i % 6 == 5 {
            b == b'-'
        } else {
            b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by libFuzzer (`device_reply`): an 88-digit number redacted to
    /// `7.777777777777777e+87`, which redacted again to `…778e+87` (serde_json's fast float
    /// parsing is off by one unit in the last place without `float_roundtrip`).
    #[test]
    fn redaction_of_a_long_number_is_stable() {
        let once = redact_json(&"7".repeat(88));
        assert_eq!(redact_json(&once), once);
        let once = redact_json(r#"{"amount":7.777777777777777e87,"activationCode":"x"}"#);
        assert_eq!(redact_json(&once), once);
    }

    #[test]
    fn header_signature_and_digest_are_redacted() {
        let header = r#"PowerAuth pa_activation_id="a", pa_nonce="n", pa_signature="SECRET==", pa_version="3.3""#;
        let out = redact_header("X-PowerAuth-Authorization", header);
        assert!(!out.contains("SECRET"), "{out}");
        assert!(out.contains("pa_nonce=\"n\""), "{out}");
        let token = r#"PowerAuth token_id="t", token_digest="DIGEST", nonce="n""#;
        assert!(!redact_header("X-PowerAuth-Token", token).contains("DIGEST"));
        assert_eq!(redact_header("Content-Type", "x"), "x");
        assert_eq!(
            redact_header("Authorization", "Bearer eyJ.secret.sig"),
            "Bearer <redacted>"
        );
        assert_eq!(redact_header("X-Api-Key", "k3y"), REDACTED);
        let json = redact_json(r#"{"password":"pw","apiKey":"k","jwt":"j","username":"alice"}"#);
        assert!(
            !json.contains("\"pw\"") && !json.contains("\"k\"") && !json.contains("\"j\""),
            "{json}"
        );
        assert!(json.contains("alice"), "{json}");
    }

    #[test]
    fn activation_codes_are_redacted_under_any_name() {
        let out = redact_json(
            r#"{"activationCode":"AAAAA-BBBBB-CCCCC-DDDDD","identityAttributes":{"code":"ABCDE-FGHIJ-KLMNO-PQRST"},"activationQrCodeData":"AAAAA-BBBBB-CCCCC-DDDDD#MEUCIQ==","x":"R:AAAAA-BBBBB-CCCCC-DDDDD","userId":"AAAAA-BBBBB","code":"ERR_ACTIVATION"}"#,
        );
        for code in ["BBBBB-CCCCC", "FGHIJ"] {
            assert!(!out.contains(code), "{out}");
        }
        assert!(out.contains("AAAAA-BBBBB\""), "{out}");
        assert!(out.contains("ERR_ACTIVATION"), "{out}");
    }

    #[test]
    fn json_secrets_are_redacted_at_any_depth() {
        let out =
            redact_json(r#"{"a":{"tokenSecret":"S1","tokenId":"id"},"b":[{"ctrData":"S2"}]}"#);
        assert!(!out.contains("S1") && !out.contains("S2"), "{out}");
        assert!(out.contains("\"tokenId\":\"id\""), "{out}");
        assert_eq!(redact_json("not json"), "not json");
    }
}
