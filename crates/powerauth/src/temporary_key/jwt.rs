//! Compact JWS framing: base64url parts, JSON objects, typed claims.

use super::TemporaryKeyError;
use crate::encoding::{b64url, b64url_decode};
use serde_json::{Map, Value};

/// A compact JWS split into its parts; nothing verified yet.
pub(super) struct Compact {
    /// `base64url(header) "." base64url(payload)`, the bytes the signature covers.
    pub(super) signing_input: String,
    pub(super) header: Map<String, Value>,
    pub(super) payload: Vec<u8>,
    pub(super) signature: Vec<u8>,
}

impl Compact {
    /// Splits `header.payload.signature` and decodes the header and signature.
    pub(super) fn split(jwt: &str) -> Result<Self, TemporaryKeyError> {
        let mut parts = jwt.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TemporaryKeyError::Malformed(
                "expected three dot-separated parts",
            ));
        };
        let signing_input =
            jwt.get(..header.len() + 1 + payload.len())
                .ok_or(TemporaryKeyError::Malformed(
                    "expected three dot-separated parts",
                ))?;
        Ok(Self {
            signing_input: signing_input.to_owned(),
            header: object(
                &decode(header, "header is not base64url")?,
                "header is not a JSON object",
            )?,
            payload: decode(payload, "payload is not base64url")?,
            signature: decode(signature, "signature is not base64url")?,
        })
    }

    /// The payload as a JSON object; call only after the signature verified.
    pub(super) fn claims(&self) -> Result<Map<String, Value>, TemporaryKeyError> {
        object(&self.payload, "payload is not a JSON object")
    }
}

/// `base64url(header_json) "." base64url(payload_json)`.
pub(super) fn signing_input(header_json: &str, payload_json: &str) -> String {
    format!("{}.{}", encode(header_json), encode(payload_json))
}

/// base64url without padding.
pub(super) fn encode(bytes: impl AsRef<[u8]>) -> String {
    b64url(bytes)
}

fn decode(text: &str, why: &'static str) -> Result<Vec<u8>, TemporaryKeyError> {
    b64url_decode(text).map_err(|_| TemporaryKeyError::Malformed(why))
}

fn object(bytes: &[u8], why: &'static str) -> Result<Map<String, Value>, TemporaryKeyError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TemporaryKeyError::Malformed(why)),
    }
}

/// A string claim: `None` when absent or null, an error when of another type.
pub(super) fn string_claim(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, TemporaryKeyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(TemporaryKeyError::InvalidClaim(name)),
    }
}

/// A string claim that must be present.
pub(super) fn required_string(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<String, TemporaryKeyError> {
    string_claim(claims, name)?.ok_or(TemporaryKeyError::InvalidClaim(name))
}

/// A NumericDate claim (seconds, possibly fractional) in milliseconds: `None` when absent or
/// null, an error when not a non-negative number.
pub(super) fn seconds_claim_ms(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, TemporaryKeyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(seconds) if seconds >= 0.0 => Ok(Some(seconds * 1000.0)),
            _ => Err(TemporaryKeyError::InvalidClaim(name)),
        },
        Some(_) => Err(TemporaryKeyError::InvalidClaim(name)),
    }
}

/// A millisecond claim (`iat_ms`, `exp_ms`) that must be a non-negative integer.
pub(super) fn required_millis(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<u64, TemporaryKeyError> {
    claims
        .get(name)
        .and_then(Value::as_u64)
        .ok_or(TemporaryKeyError::InvalidClaim(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rejects_wrong_shapes() {
        let header = encode(r#"{"alg":"HS256"}"#);
        for jwt in [
            String::new(),
            "a.b".to_owned(),
            format!("{header}.e30.c2ln.extra"),
            format!("{header}.e30=.c2ln"),
            format!("{}.e30.c2ln", encode("[]")),
            "é.é.é".to_owned(),
        ] {
            assert!(
                matches!(Compact::split(&jwt), Err(TemporaryKeyError::Malformed(_))),
                "{jwt}"
            );
        }
        let compact = Compact::split(&format!("{header}.e30.c2ln")).unwrap();
        assert_eq!(compact.signing_input, format!("{header}.e30"));
        assert_eq!(compact.signature, b"sig");
        assert!(compact.claims().unwrap().is_empty());
    }
}
