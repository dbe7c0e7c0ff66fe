//! The JSON bodies of encrypted requests and responses (digest §7.3, §7.4, §16.2).
//!
//! Field names are camelCase exactly as Wultra's models: `temporaryKeyId`,
//! `ephemeralPublicKey`, `encryptedData`, `mac`, `nonce`, `timestamp`. A `null` reads like an
//! absent field (the standalone RESTful server writes explicit nulls); absent fields are left
//! out when writing. Unknown fields are ignored, so an envelope can sit inside a larger body.
//! Which optional fields must be present depends on the version, and is checked when the
//! envelope is opened, not here.

use crate::encoding::{b64, b64_decode};
use crate::keys::PublicKey;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An encrypted request body as sent by the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "RawRequest")]
pub struct EncryptedRequest {
    /// `temporaryKeyId` (3.3): the id of the temporary key the request is encrypted to.
    pub temporary_key_id: Option<String>,
    /// `ephemeralPublicKey`: the client's ephemeral key, keeping its transmitted encoding.
    pub ephemeral_public_key: PublicKey,
    /// `encryptedData`: the AES-CBC ciphertext.
    pub encrypted_data: Vec<u8>,
    /// `mac`: HMAC-SHA256 over the ciphertext and sharedInfo2.
    pub mac: [u8; 32],
    /// `nonce` (3.1+): 16 random bytes from which the IV derives.
    pub nonce: Option<[u8; 16]>,
    /// `timestamp` (3.2+): Unix milliseconds.
    pub timestamp: Option<u64>,
}

/// An encrypted response body as sent by the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "RawResponse")]
pub struct EncryptedResponse {
    /// `encryptedData`: the AES-CBC ciphertext.
    pub encrypted_data: Vec<u8>,
    /// `mac`: HMAC-SHA256 over the ciphertext and sharedInfo2.
    pub mac: [u8; 32],
    /// `nonce` (3.2+): the response's own 16-byte nonce.
    pub nonce: Option<[u8; 16]>,
    /// `timestamp` (3.2+): Unix milliseconds.
    pub timestamp: Option<u64>,
}

/// Why bytes are not an ECIES envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// Not JSON, not an object, or a field of the wrong JSON type (a `timestamp` that is a
    /// string or negative, a `nonce` that is a number). The body is not an ECIES envelope.
    #[error("not an ECIES envelope: {0}")]
    Json(String),
    /// A field every version requires (`ephemeralPublicKey`, `encryptedData`, `mac`) is
    /// absent or null.
    #[error("the envelope lacks the field `{0}`")]
    MissingField(&'static str),
    /// A field is not standard, padded Base64 (URL-safe Base64 is a common sender mistake).
    #[error("the envelope field `{0}` is not standard Base64")]
    InvalidBase64(&'static str),
    /// A field decodes to the wrong number of bytes: `mac` must be 32, `nonce` 16.
    #[error("the envelope field `{field}` has {actual} bytes, expected {expected}")]
    InvalidLength {
        /// The JSON field name.
        field: &'static str,
        /// The length the protocol fixes.
        expected: usize,
        /// The decoded length.
        actual: usize,
    },
    /// `ephemeralPublicKey` is not a P-256 point (compressed or uncompressed SEC1).
    #[error("the envelope's ephemeralPublicKey is not a valid P-256 point")]
    InvalidEphemeralPublicKey,
}

impl EncryptedRequest {
    /// Parses a request body from untrusted bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice::<Map<String, Value>>(bytes)
            .map_err(|e| EnvelopeError::Json(e.to_string()))?
            .try_into()
    }

    /// The JSON body, absent fields left out.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&RawRequest::from(self.clone()))
            .expect("an envelope of strings and integers always serialises")
    }
}

impl EncryptedResponse {
    /// Parses a response body from untrusted bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice::<Map<String, Value>>(bytes)
            .map_err(|e| EnvelopeError::Json(e.to_string()))?
            .try_into()
    }

    /// The JSON body, absent fields left out.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&RawResponse::from(self.clone()))
            .expect("an envelope of strings and integers always serialises")
    }
}

/// The wire form: every field optional, so a missing one is a typed error, not a serde one.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    temporary_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ephemeral_public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encrypted_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    encrypted_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timestamp: Option<u64>,
}

impl TryFrom<RawRequest> for EncryptedRequest {
    type Error = EnvelopeError;

    fn try_from(raw: RawRequest) -> Result<Self, Self::Error> {
        let key_bytes = decode(
            required(raw.ephemeral_public_key, "ephemeralPublicKey")?,
            "ephemeralPublicKey",
        )?;
        Ok(Self {
            temporary_key_id: raw.temporary_key_id,
            ephemeral_public_key: PublicKey::from_sec1(&key_bytes)
                .map_err(|_| EnvelopeError::InvalidEphemeralPublicKey)?,
            encrypted_data: decode(
                required(raw.encrypted_data, "encryptedData")?,
                "encryptedData",
            )?,
            mac: decode_array(&required(raw.mac, "mac")?, "mac")?,
            nonce: raw.nonce.map(|n| decode_array(&n, "nonce")).transpose()?,
            timestamp: raw.timestamp,
        })
    }
}

impl TryFrom<RawResponse> for EncryptedResponse {
    type Error = EnvelopeError;

    fn try_from(raw: RawResponse) -> Result<Self, Self::Error> {
        Ok(Self {
            encrypted_data: decode(
                required(raw.encrypted_data, "encryptedData")?,
                "encryptedData",
            )?,
            mac: decode_array(&required(raw.mac, "mac")?, "mac")?,
            nonce: raw.nonce.map(|n| decode_array(&n, "nonce")).transpose()?,
            timestamp: raw.timestamp,
        })
    }
}

impl From<EncryptedRequest> for RawRequest {
    fn from(request: EncryptedRequest) -> Self {
        Self {
            temporary_key_id: request.temporary_key_id,
            ephemeral_public_key: Some(b64(request.ephemeral_public_key.encoded())),
            encrypted_data: Some(b64(&request.encrypted_data)),
            mac: Some(b64(request.mac)),
            nonce: request.nonce.map(b64),
            timestamp: request.timestamp,
        }
    }
}

impl From<EncryptedResponse> for RawResponse {
    fn from(response: EncryptedResponse) -> Self {
        Self {
            encrypted_data: Some(b64(&response.encrypted_data)),
            mac: Some(b64(response.mac)),
            nonce: response.nonce.map(b64),
            timestamp: response.timestamp,
        }
    }
}

impl TryFrom<Map<String, Value>> for EncryptedRequest {
    type Error = EnvelopeError;

    fn try_from(object: Map<String, Value>) -> Result<Self, Self::Error> {
        raw::<RawRequest>(object)?.try_into()
    }
}

impl TryFrom<Map<String, Value>> for EncryptedResponse {
    type Error = EnvelopeError;

    fn try_from(object: Map<String, Value>) -> Result<Self, Self::Error> {
        raw::<RawResponse>(object)?.try_into()
    }
}

/// Reads the wire form from a JSON object only: serde would also take an array for a struct.
fn raw<T: serde::de::DeserializeOwned>(object: Map<String, Value>) -> Result<T, EnvelopeError> {
    serde_json::from_value(Value::Object(object)).map_err(|e| EnvelopeError::Json(e.to_string()))
}

fn required(value: Option<String>, field: &'static str) -> Result<String, EnvelopeError> {
    value.ok_or(EnvelopeError::MissingField(field))
}

fn decode(text: String, field: &'static str) -> Result<Vec<u8>, EnvelopeError> {
    b64_decode(&text).map_err(|_| EnvelopeError::InvalidBase64(field))
}

fn decode_array<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], EnvelopeError> {
    let bytes = b64_decode(text).map_err(|_| EnvelopeError::InvalidBase64(field))?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| EnvelopeError::InvalidLength {
        field,
        expected: N,
        actual,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "BMmqtezltdPBKy0L5wXEseu8lA0UoPPbN4xFfVGXNF3JOY/zo/kCGrlpwom6B5eC8Yy0EiQY7UEzae4Qy2v2OgA=";

    #[test]
    fn null_reads_like_absent_and_absent_is_omitted() {
        let body = format!(
            r#"{{"temporaryKeyId":null,"ephemeralPublicKey":"{KEY}","encryptedData":"AAAAAAAAAAAAAAAAAAAAAA==","mac":"{mac}","nonce":null,"timestamp":null,"extra":1}}"#,
            mac = b64([7; 32])
        );
        let request = EncryptedRequest::from_json(body.as_bytes()).unwrap();
        assert_eq!(request.nonce, None);
        assert_eq!(request.timestamp, None);
        let json = request.to_json();
        assert!(!json.contains("null") && !json.contains("nonce"), "{json}");
        assert_eq!(
            EncryptedRequest::from_json(json.as_bytes()).unwrap(),
            request
        );
    }

    #[test]
    fn untrusted_bodies_fail_with_typed_errors() {
        let mac = b64([7; 32]);
        let cases: [(String, EnvelopeError); 5] = [
            (
                format!(r#"{{"encryptedData":"AA==","mac":"{mac}"}}"#),
                EnvelopeError::MissingField("ephemeralPublicKey"),
            ),
            (
                format!(r#"{{"ephemeralPublicKey":"{KEY}","encryptedData":"A-==","mac":"{mac}"}}"#),
                EnvelopeError::InvalidBase64("encryptedData"),
            ),
            (
                format!(r#"{{"ephemeralPublicKey":"{KEY}","encryptedData":"AA==","mac":"AA=="}}"#),
                EnvelopeError::InvalidLength {
                    field: "mac",
                    expected: 32,
                    actual: 1,
                },
            ),
            (
                format!(r#"{{"ephemeralPublicKey":"AA==","encryptedData":"AA==","mac":"{mac}"}}"#),
                EnvelopeError::InvalidEphemeralPublicKey,
            ),
            (
                format!(
                    r#"{{"ephemeralPublicKey":"{KEY}","encryptedData":"AA==","mac":"{mac}","nonce":"AA=="}}"#
                ),
                EnvelopeError::InvalidLength {
                    field: "nonce",
                    expected: 16,
                    actual: 1,
                },
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                EncryptedRequest::from_json(body.as_bytes()),
                Err(expected),
                "{body}"
            );
        }
        for body in [&b"[]"[..], b"{", b"{\"mac\":1}", b"{\"timestamp\":-1}"] {
            assert!(matches!(
                EncryptedResponse::from_json(body),
                Err(EnvelopeError::Json(_))
            ));
        }
    }
}
