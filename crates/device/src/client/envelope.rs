//! The JSON envelopes of the RESTful and mobile-token APIs: `{"requestObject": …}` in,
//! `{"status":"OK","responseObject": …}` out, errors as
//! `{"status":"ERROR","responseObject":{"code","message"}}` (digest §10, §11.7).

use super::Reply;
use crate::Error;
use serde_json::Value;

/// `(code, message)` of an error body, if it has that shape.
pub fn error_parts(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let object = value.get("responseObject")?;
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    Some((text("code")?, text("message").unwrap_or_default()))
}

/// Fails with [`Error::Server`] unless the status is 200.
pub(crate) fn check_status(reply: &Reply) -> Result<(), Error> {
    if reply.status == 200 {
        return Ok(());
    }
    let (code, message) = error_parts(&reply.body).unwrap_or_else(|| {
        let body = String::from_utf8_lossy(&reply.body);
        let snippet: String = body.chars().take(120).collect();
        (String::new(), snippet)
    });
    Err(Error::Server {
        status: reply.status,
        code,
        message,
    })
}

/// The `responseObject` of a successful envelope (`Null` when absent, as for `{"status":"OK"}`).
pub fn response_object(reply: &Reply, what: &'static str) -> Result<Value, Error> {
    check_status(reply)?;
    envelope_object(&reply.body, what)
}

/// The `responseObject` of an envelope given as bytes (e.g. a decrypted body).
pub(crate) fn envelope_object(body: &[u8], what: &'static str) -> Result<Value, Error> {
    let mut value: Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid(what, format!("not JSON: {e}")))?;
    match value.get("status").and_then(Value::as_str) {
        Some("OK") => Ok(value
            .get_mut("responseObject")
            .map(Value::take)
            .unwrap_or(Value::Null)),
        _ => Err(Error::invalid(what, "the envelope's status is not OK")),
    }
}

/// A required string field of a JSON object.
pub(crate) fn string_field(value: &Value, key: &str, what: &'static str) -> Result<String, Error> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::invalid(what, format!("the field {key} is missing")))
}

/// `{"requestObject": object}` as bytes.
pub(crate) fn request_body(object: &Value) -> Vec<u8> {
    serde_json::json!({ "requestObject": object })
        .to_string()
        .into_bytes()
}
