//! The normalized request data a signature covers (digest §5.1, §16.14).
//!
//! ```text
//! REQUEST_DATA = METHOD "&" B64(utf8(uri_id)) "&" B64(nonce) "&" B64(body)
//! DATA         = REQUEST_DATA "&" application_secret        (offline: "offline")
//! ```

use crate::encoding::b64;
use std::cmp::Ordering;

/// The application secret offline signatures use in place of the real one.
pub const OFFLINE_APPLICATION_SECRET: &str = "offline";

/// `REQUEST_DATA`: what the intermediate server forwards to PowerAuth Server as `data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestData(String);

impl RequestData {
    /// Normalizes one request. `method` is upper-cased; `uri_id` is the resource id
    /// (e.g. `/pa/token/create`), not the URL path; `body` is the exact raw body bytes
    /// (for encrypted endpoints the encrypted JSON). For GET, pass the canonical query
    /// as the body, or use [`RequestData::for_get`].
    pub fn new(method: &str, uri_id: &str, nonce: &[u8; 16], body: &[u8]) -> Self {
        Self(format!(
            "{}&{}&{}&{}",
            method.to_ascii_uppercase(),
            b64(uri_id.as_bytes()),
            b64(nonce),
            b64(body)
        ))
    }

    /// Normalizes a GET request, whose signed "body" is its canonical query string.
    /// `query` is the raw query string, without the leading `?`.
    pub fn for_get(uri_id: &str, nonce: &[u8; 16], query: &str) -> Result<Self, QueryError> {
        Ok(Self::new(
            "GET",
            uri_id,
            nonce,
            canonicalize_query(query)?.as_bytes(),
        ))
    }

    /// A `REQUEST_DATA` string as received (PowerAuth Server's `data` field), unchecked.
    pub fn from_received(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The string form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `DATA` for an online signature: the application secret is appended as its Base64
    /// *string*, not decoded (digest §14 #3).
    pub fn with_application_secret(&self, application_secret: &str) -> SignatureBase {
        SignatureBase(format!("{}&{application_secret}", self.0).into_bytes())
    }

    /// `DATA` for an offline signature: the secret is the literal `offline`.
    pub fn with_offline_secret(&self) -> SignatureBase {
        self.with_application_secret(OFFLINE_APPLICATION_SECRET)
    }
}

/// `DATA`: the exact bytes the signature components are HMACs of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureBase(Vec<u8>);

impl SignatureBase {
    /// Raw bytes, for test vectors that give `DATA` directly.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A query string that Java's `URLDecoder` would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A `%` is not followed by two hex digits: the client did not percent-encode the
    /// query (a literal `%` must be sent as `%25`).
    #[error("malformed percent escape at byte {0} of the query string")]
    InvalidEscape(usize),
}

/// Canonicalizes a raw GET query string as PowerAuth's Java server does
/// (`canonizeGetParameters`, digest §16.14): split on `&`, drop pairs without `=`,
/// form-decode keys and values, sort by key then value (UTF-16 order), re-encode with
/// form encoding and join with `&`. An empty result is the empty string.
pub fn canonicalize_query(query: &str) -> Result<String, QueryError> {
    let mut offset = 0;
    let mut pairs = Vec::new();
    for part in query.split('&') {
        if let Some((key, value)) = part.split_once('=') {
            let value_offset = offset + key.len() + 1;
            pairs.push((form_decode(key, offset)?, form_decode(value, value_offset)?));
        }
        offset += part.len() + 1;
    }
    Ok(canonicalize_params(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// Canonicalizes already decoded query parameters, as the mobile SDK does from its
/// key-value map: sorted by key then value (UTF-16 order), form-encoded, joined by `&`.
pub fn canonicalize_params<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params.into_iter().collect();
    pairs.sort_by(|a, b| utf16_cmp(a.0, b.0).then_with(|| utf16_cmp(a.1, b.1)));
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect();
    encoded.join("&")
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `URLEncoder.encode(s, UTF_8)`: `A-Za-z0-9.-*_` stay, space becomes `+`, every other
/// byte of the UTF-8 form becomes `%XX` (upper-case hex).
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(char::from(byte))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// `URLDecoder.decode(s, UTF_8)`: `+` is a space, each run of `%XX` escapes is decoded as
/// UTF-8 (malformed sequences become U+FFFD), anything else is kept as is.
/// `offset` only positions the error. (Java's `Integer.parseInt` also reads quirks such
/// as `%+F` as 0x0F; no client sends those, and they are refused here.)
fn form_decode(text: &str, offset: usize) -> Result<String, QueryError> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => {
                out.push(' ');
                i += 1;
            }
            b'%' => {
                let mut run = Vec::new();
                while bytes.get(i) == Some(&b'%') {
                    let high = bytes.get(i + 1).and_then(|&c| char::from(c).to_digit(16));
                    let low = bytes.get(i + 2).and_then(|&c| char::from(c).to_digit(16));
                    match (high, low) {
                        (Some(h), Some(l)) => run.push((h * 16 + l) as u8),
                        _ => return Err(QueryError::InvalidEscape(offset + i)),
                    }
                    i += 3;
                }
                out.push_str(&String::from_utf8_lossy(&run));
            }
            _ => {
                // Copy the whole character; `i` stays on a char boundary because every
                // byte handled above is ASCII.
                let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_data_layout() {
        let data = RequestData::new("post", "/pa/signature/validate", &[0; 16], b"{}");
        assert_eq!(
            data.as_str(),
            "POST&L3BhL3NpZ25hdHVyZS92YWxpZGF0ZQ==&AAAAAAAAAAAAAAAAAAAAAA==&e30="
        );
        assert_eq!(
            data.with_offline_secret().as_bytes(),
            b"POST&L3BhL3NpZ25hdHVyZS92YWxpZGF0ZQ==&AAAAAAAAAAAAAAAAAAAAAA==&e30=&offline"
        );
        let empty = RequestData::new("DELETE", "/x", &[0; 16], b"");
        assert!(empty.as_str().ends_with("AAAAAAAAAAAAAAAAAAAAAA==&"));
    }

    #[test]
    fn query_is_sorted_decoded_and_reencoded() {
        assert_eq!(
            canonicalize_query("b=2&a=z&a=y&flag&c=a%20b+c&d=%C3%A9~").unwrap(),
            "a=y&a=z&b=2&c=a+b+c&d=%C3%A9%7E"
        );
        assert_eq!(canonicalize_query("").unwrap(), "");
        assert_eq!(canonicalize_query("&&x").unwrap(), "");
        assert_eq!(canonicalize_query("k=&=v").unwrap(), "=v&k=");
        assert_eq!(canonicalize_query("a=1=2").unwrap(), "a=1%3D2");
    }

    #[test]
    fn sort_is_by_utf16_code_units() {
        // U+1F600 sorts before U+FF5E in UTF-16 (0xD83D < 0xFF5E), after it in UTF-8.
        assert_eq!(
            canonicalize_params([("\u{FF5E}", "2"), ("\u{1F600}", "1")]),
            "%F0%9F%98%80=1&%EF%BD%9E=2"
        );
    }

    #[test]
    fn malformed_escapes_are_refused() {
        assert_eq!(
            canonicalize_query("a=1&b=%4"),
            Err(QueryError::InvalidEscape(6))
        );
        assert_eq!(
            canonicalize_query("a=%zz"),
            Err(QueryError::InvalidEscape(2))
        );
        assert_eq!(canonicalize_query("a=%C3").unwrap(), "a=%EF%BF%BD");
    }

    proptest! {
        #[test]
        fn canonical_form_is_a_fixed_point(query in "[a-zA-Z0-9%+=& ~\u{e9}]{0,40}") {
            if let Ok(canonical) = canonicalize_query(&query) {
                prop_assert_eq!(canonicalize_query(&canonical).unwrap(), canonical.clone());
            }
        }

        #[test]
        fn params_survive_encoding(key in "\\PC{0,8}", value in "\\PC{0,8}") {
            let canonical = canonicalize_params([(key.as_str(), value.as_str())]);
            let (k, v) = canonical.split_once('=').unwrap();
            prop_assert_eq!(form_decode(k, 0).unwrap(), key);
            prop_assert_eq!(form_decode(v, 0).unwrap(), value);
        }
    }
}
