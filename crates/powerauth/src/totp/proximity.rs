//! The codes that hand a proximity-check OTP to the app (digest §16.7), read as the
//! mtoken SDK's `PACUtils` reads them:
//!
//! - a deeplink or scanned URI `scheme://host?oid=<operationId>&potp=<otp>` (or `totp=`),
//! - a URI whose first query parameter holds a JWT, or
//! - a bare JWT whose payload is `{"oid": "...", "potp": "..."}` (signature not checked).

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// An operation id and the OTP to send with its approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProximityCode {
    /// The operation the OTP belongs to.
    pub operation_id: String,
    /// The OTP, when the code carries one.
    pub otp: Option<String>,
}

/// Why a scanned or opened code carries no proximity OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProximityCodeError {
    /// A URI without `oid` and without any query parameter to read a JWT from, an opaque
    /// URI (`mailto:`-like), or text with no JWT shape: not a proximity code at all.
    #[error("not a proximity-check deeplink or JWT")]
    NotRecognized,
    /// The `oid` value is not found verbatim in the decoded query: the issuer did not
    /// percent-encode it (a Base64 id with `+` read as a space). The SDK refuses it.
    #[error("the operation id in the deeplink is not URL-encoded")]
    OperationIdNotEncoded,
    /// The JWT payload is not Base64 JSON with a string `oid`.
    #[error("the JWT payload does not hold an operation id")]
    InvalidJwt,
}

impl ProximityCode {
    /// Reads a deeplink, a scanned URI or a bare JWT.
    pub fn parse(code: &str) -> Result<Self, ProximityCodeError> {
        // Android's `Uri.parse`: a scheme is whatever precedes the first ':'.
        match code.split_once(':') {
            Some((_, rest)) => Self::from_uri(rest),
            None => Self::from_jwt(code),
        }
    }

    fn from_uri(after_scheme: &str) -> Result<Self, ProximityCodeError> {
        // Only hierarchical URIs have query parameters; `getQueryParameter` throws otherwise.
        if !after_scheme.starts_with('/') {
            return Err(ProximityCodeError::NotRecognized);
        }
        let without_fragment = after_scheme.split('#').next().unwrap_or("");
        let (_, query) = without_fragment
            .split_once('?')
            .ok_or(ProximityCodeError::NotRecognized)?;
        if let Some(operation_id) = query_parameter(query, "oid") {
            if !percent_decode(query, false).contains(&operation_id) {
                return Err(ProximityCodeError::OperationIdNotEncoded);
            }
            let otp = query_parameter(query, "totp").or_else(|| query_parameter(query, "potp"));
            return Ok(Self { operation_id, otp });
        }
        let first = query.split('&').next().unwrap_or("");
        let (name, _) = first.split_once('=').unwrap_or((first, ""));
        if first.is_empty() {
            return Err(ProximityCodeError::NotRecognized);
        }
        let jwt = query_parameter(query, name).unwrap_or_default();
        Self::from_jwt(&jwt)
    }

    fn from_jwt(code: &str) -> Result<Self, ProximityCodeError> {
        let mut parts = code.split('.');
        let payload = match (parts.next(), parts.next()) {
            (Some(_), Some(payload)) => payload,
            _ => return Err(ProximityCodeError::NotRecognized),
        };
        if payload.is_empty() {
            return Err(ProximityCodeError::NotRecognized);
        }
        // Android's `Base64.DEFAULT`: standard alphabet, padding optional.
        let lenient = GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            GeneralPurposeConfig::new()
                .with_decode_padding_mode(DecodePaddingMode::Indifferent)
                .with_decode_allow_trailing_bits(true),
        );
        let json = lenient
            .decode(payload)
            .map_err(|_| ProximityCodeError::InvalidJwt)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&json).map_err(|_| ProximityCodeError::InvalidJwt)?;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let operation_id = text("oid").ok_or(ProximityCodeError::InvalidJwt)?;
        Ok(Self {
            operation_id,
            otp: text("potp").or_else(|| text("totp")),
        })
    }
}

/// Android's `Uri.getQueryParameter`: the first parameter named exactly `name` (a
/// parameter without `=` has the empty value), form-decoded.
fn query_parameter(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| percent_decode(value, true))
    })
}

/// Percent-decoding as UTF-8, lenient like Android's `UriCodec`: a malformed escape or
/// byte sequence becomes U+FFFD. `plus_as_space` for query values.
fn percent_decode(text: &str, plus_as_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|&c| char::from(c).to_digit(16));
        match byte {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    out.extend_from_slice("\u{FFFD}".as_bytes());
                    i += 1;
                }
            },
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(code: &str) -> Result<(String, Option<String>), ProximityCodeError> {
        ProximityCode::parse(code).map(|c| (c.operation_id, c.otp))
    }

    fn ok(id: &str, otp: Option<&str>) -> Result<(String, Option<String>), ProximityCodeError> {
        Ok((id.to_string(), otp.map(str::to_string)))
    }

    // The cases of mtoken-sdk-android's PACUtilsTests.
    #[test]
    fn deeplinks() {
        assert_eq!(
            parsed("scheme://operation?oid=6a1cb007-ff75-4f40-a21b-0b546f0f6cad&potp=73743194"),
            ok("6a1cb007-ff75-4f40-a21b-0b546f0f6cad", Some("73743194"))
        );
        assert_eq!(
            parsed(
                "scheme://operation?oid=E/+DRFVmd4iZABEiM0RVZneImQARIjNEVWZ3iJkAESIzRFVmd4iZAA=&totp=12345678"
            ),
            Err(ProximityCodeError::OperationIdNotEncoded)
        );
        assert_eq!(
            parsed(
                "scheme://operation?oid=E%2F%2BDRFVmd4iZABEiM0RVZneImQARIjNEVWZ3iJkAESIzRFVmd4iZAA%3D&totp=12345678"
            ),
            ok(
                "E/+DRFVmd4iZABEiM0RVZneImQARIjNEVWZ3iJkAESIzRFVmd4iZAA=",
                Some("12345678")
            )
        );
        assert_eq!(
            parsed("scheme://an-invalid-url.com"),
            Err(ProximityCodeError::NotRecognized)
        );
        assert_eq!(
            parsed("scheme://operation?code=abc"),
            Err(ProximityCodeError::NotRecognized)
        );
        assert_eq!(
            parsed("operation?oid=df6128fc-ca51-44b7-befa-ca0e1408aa63&potp=56725494"),
            Err(ProximityCodeError::NotRecognized)
        );
    }

    #[test]
    fn jwts() {
        assert_eq!(
            parsed(
                "eyJhbGciOiJub25lIiwidHlwZSI6IkpXVCJ9.eyJvaWQiOiIzYjllZGZkMi00ZDgyLTQ3N2MtYjRiMy0yMGZhNWM5OWM5OTMiLCJwb3RwIjoiMTQzNTc0NTgifQ=="
            ),
            ok("3b9edfd2-4d82-477c-b4b3-20fa5c99c993", Some("14357458"))
        );
        assert_eq!(
            parsed(
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJvaWQiOiJMRG5JY0NjRGhjRHdHNVNLejhLeWdQeG9PbXh3dHpJc29zMEUrSFBYUHlvIiwicG90cCI6IjU4NTkwMDU5In0"
            ),
            ok(
                "LDnIcCcDhcDwG5SKz8KygPxoOmxwtzIsos0E+HPXPyo",
                Some("58590059")
            )
        );
        assert_eq!(
            parsed(
                "scheme://operation?jwt=eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJvaWQiOiJMRG5JY0NjRGhjRHdHNVNLejhLeWdQeG9PbXh3dHpJc29zMEUrSFBYUHlvIiwicG90cCI6IjU4NTkwMDU5In0"
            ),
            ok(
                "LDnIcCcDhcDwG5SKz8KygPxoOmxwtzIsos0E+HPXPyo",
                Some("58590059")
            )
        );
        assert_eq!(
            parsed(
                "eyJhbGciOiJub25lIiwidHlwZSI6IkpXVCJ9eyJvaWQiOiIzYjllZGZkMi00ZDgyLTQ3N2MtYjRiMy0yMGZhNWM5OWM5OTMiLCJwb3RwIjoiMTQzNTc0NTgifQ=="
            ),
            Err(ProximityCodeError::NotRecognized)
        );
        assert_eq!(
            parsed(
                "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.1eyJvaWQiOiJMRG5JY0NjRGhjRHdHNVNLejhLeWdQeG9PbXh3dHpJc29zMEUrSFBYUHlvIiwicG90cCI6IjU4NTkwMDU5In0"
            ),
            Err(ProximityCodeError::InvalidJwt)
        );
        assert_eq!(parsed(""), Err(ProximityCodeError::NotRecognized));
        assert_eq!(parsed("abc"), Err(ProximityCodeError::NotRecognized));
    }
}
