//! MAC tokens and the `X-PowerAuth-Token` header (digest §8, §14 #29, §16.2).
//!
//! A token is a `(token_id, token_secret)` pair obtained from `/pa/v3/token/create`.
//! Each use proves possession of the secret with a digest over a fresh nonce and the
//! current time; no request data is covered, so tokens suit read-only calls.
//!
//! ```text
//! data   = nonce ‖ "&" ‖ utf8(decimal timestamp_ms)                    (3.0, 3.1)
//! data   = nonce ‖ "&" ‖ utf8(decimal timestamp_ms) ‖ "&" ‖ version    (3.2, 3.3)
//! digest = HMAC-SHA256(token_secret, data)
//! ```

use crate::encoding::is_uuid;
use crate::encoding::{b64, b64_decode_array};
use crate::hazmat::{constant_time_eq, hmac_sha256};
use crate::keys::SymmetricKey;
use crate::random::RandomSource;
use crate::signature::{HeaderFields, build_header_fields};
use crate::version::ProtocolVersion;
use std::fmt;

/// The digest input for one use of a token.
pub fn token_digest_data(nonce: &[u8; 16], timestamp_ms: u64, version: ProtocolVersion) -> Vec<u8> {
    let mut data = Vec::with_capacity(40);
    data.extend_from_slice(nonce);
    data.push(b'&');
    data.extend_from_slice(timestamp_ms.to_string().as_bytes());
    if version >= ProtocolVersion::V3_2 {
        data.push(b'&');
        data.extend_from_slice(version.as_str().as_bytes());
    }
    data
}

/// `token_digest = HMAC-SHA256(token_secret, data)`.
pub fn token_digest(
    token_secret: &SymmetricKey,
    nonce: &[u8; 16],
    timestamp_ms: u64,
    version: ProtocolVersion,
) -> [u8; 32] {
    hmac_sha256(
        token_secret.expose_bytes(),
        &token_digest_data(nonce, timestamp_ms, version),
    )
}

/// How far a token timestamp may be from the server's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimestampWindow {
    /// Oldest accepted age (`token.timestamp.validity`, default 2 hours).
    pub max_age_ms: u64,
    /// Furthest accepted future (`token.timestamp.forward.validity`, default 30 minutes).
    pub max_ahead_ms: u64,
}

impl Default for TimestampWindow {
    fn default() -> Self {
        Self {
            max_age_ms: 7_200_000,
            max_ahead_ms: 1_800_000,
        }
    }
}

/// Why an `X-PowerAuth-Token` value was refused. Checked in the order of Wultra's
/// `PowerAuthTokenHttpHeaderValidator`; the first failure is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenHeaderError {
    /// The value does not start with `PowerAuth `: another scheme, or an empty header.
    #[error("the header value does not start with \"PowerAuth \"")]
    NotPowerAuth,
    /// No `token_id`.
    #[error("token_id is missing")]
    MissingTokenId,
    /// `token_id` is not an RFC 4122 UUID (version 1-5, variant 8-b).
    #[error("token_id is not a UUID")]
    InvalidTokenId,
    /// No `token_digest`.
    #[error("token_digest is missing")]
    MissingDigest,
    /// `token_digest` is not Base64 of 32 bytes.
    #[error("token_digest is not Base64 of 32 bytes")]
    InvalidDigest,
    /// No `nonce`.
    #[error("nonce is missing")]
    MissingNonce,
    /// `nonce` is not Base64 of 16 bytes.
    #[error("nonce is not Base64 of 16 bytes")]
    InvalidNonce,
    /// No `timestamp`.
    #[error("timestamp is missing")]
    MissingTimestamp,
    /// `timestamp` is not 9 to 15 decimal digits (Unix milliseconds). A client sending
    /// seconds gets this too.
    #[error("timestamp is not 9 to 15 decimal digits")]
    InvalidTimestamp,
    /// No `version`, or it is empty.
    #[error("version is missing")]
    MissingVersion,
    /// `version` is not 3.0 to 3.3.
    #[error("version is not 3.0, 3.1, 3.2 or 3.3")]
    InvalidVersion,
}

/// Why a well-formed token header does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The timestamp is older than the window allows (ERR0030): a replay, or a client
    /// clock far behind.
    #[error("token timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further in the future than the window allows (ERR0044): a client
    /// clock far ahead.
    #[error("token timestamp is too far in the future")]
    TimestampInFuture,
    /// The digest does not match: wrong or removed token secret, or the digest was
    /// computed for another version.
    #[error("token digest does not match")]
    DigestMismatch,
}

/// A validated `X-PowerAuth-Token` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHeader {
    /// `token_id`, as sent.
    pub token_id: String,
    /// `token_digest`, decoded.
    pub token_digest: [u8; 32],
    /// `nonce`, decoded.
    pub nonce: [u8; 16],
    /// `timestamp`: Unix milliseconds.
    pub timestamp_ms: u64,
    /// `version`: selects the digest input.
    pub version: ProtocolVersion,
}

impl TokenHeader {
    /// The HTTP header name.
    pub const NAME: &'static str = "X-PowerAuth-Token";

    /// A header for one use of the token, with a fresh nonce from `rng`.
    pub fn make(
        token_id: &str,
        token_secret: &SymmetricKey,
        version: ProtocolVersion,
        timestamp_ms: u64,
        rng: &dyn RandomSource,
    ) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        Self::make_with(token_id, token_secret, version, timestamp_ms, nonce)
    }

    /// A header for one use of the token, with an explicit nonce.
    pub fn make_with(
        token_id: &str,
        token_secret: &SymmetricKey,
        version: ProtocolVersion,
        timestamp_ms: u64,
        nonce: [u8; 16],
    ) -> Self {
        Self {
            token_id: token_id.to_string(),
            token_digest: token_digest(token_secret, &nonce, timestamp_ms, version),
            nonce,
            timestamp_ms,
            version,
        }
    }

    /// The header value, fields in Wultra's builder order. The timestamp is written with at
    /// least 9 digits (zero-padded), the shortest Wultra's validator accepts: `parse` takes
    /// `084588115` as 84,588,115 ms (as Java's `Long.parseLong` does), and the header rebuilt
    /// from it must parse again. The digest is over the plain decimal number either way.
    pub fn to_header_value(&self) -> String {
        build_header_fields(&[
            ("token_id", &self.token_id),
            ("token_digest", &b64(self.token_digest)),
            ("nonce", &b64(self.nonce)),
            ("timestamp", &format!("{:09}", self.timestamp_ms)),
            ("version", self.version.as_str()),
        ])
    }

    /// Parses a header value in any field order, then validates every field.
    pub fn parse(header_value: &str) -> Result<Self, TokenHeaderError> {
        use TokenHeaderError as E;
        let fields = HeaderFields::parse(header_value).ok_or(E::NotPowerAuth)?;

        let token_id = fields.get("token_id").ok_or(E::MissingTokenId)?;
        if !is_uuid(token_id) {
            return Err(E::InvalidTokenId);
        }
        let digest = fields.get("token_digest").ok_or(E::MissingDigest)?;
        let token_digest = b64_decode_array::<32>(digest).map_err(|_| E::InvalidDigest)?;
        let nonce = fields.get("nonce").ok_or(E::MissingNonce)?;
        let nonce = b64_decode_array::<16>(nonce).map_err(|_| E::InvalidNonce)?;
        let timestamp = fields.get("timestamp").ok_or(E::MissingTimestamp)?;
        if !(9..=15).contains(&timestamp.len()) || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::InvalidTimestamp);
        }
        // At most 15 digits: always fits.
        let timestamp_ms = timestamp.parse().map_err(|_| E::InvalidTimestamp)?;
        let version = match fields.get("version") {
            None | Some("") => return Err(E::MissingVersion),
            Some(v) => v.parse().map_err(|_| E::InvalidVersion)?,
        };

        Ok(Self {
            token_id: token_id.to_string(),
            token_digest,
            nonce,
            timestamp_ms,
            version,
        })
    }

    /// Server side: checks the timestamp against `now_ms` and the window, then the digest
    /// (recomputed for the header's version, compared in constant time). Looking up the
    /// secret by `token_id`, the activation state and the nonce replay store are the
    /// caller's.
    pub fn validate(
        &self,
        token_secret: &SymmetricKey,
        now_ms: u64,
        window: TimestampWindow,
    ) -> Result<(), TokenError> {
        if self.timestamp_ms.saturating_add(window.max_age_ms) < now_ms {
            return Err(TokenError::TimestampTooOld);
        }
        if self.timestamp_ms > now_ms.saturating_add(window.max_ahead_ms) {
            return Err(TokenError::TimestampInFuture);
        }
        let expected = token_digest(token_secret, &self.nonce, self.timestamp_ms, self.version);
        if !constant_time_eq(&expected, &self.token_digest) {
            return Err(TokenError::DigestMismatch);
        }
        Ok(())
    }
}

impl fmt::Display for TokenHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN_ID: &str = "d6561669-34d6-4fee-8913-89477687a5cb";

    fn header() -> TokenHeader {
        let secret = SymmetricKey::from_bytes([1; 16]);
        TokenHeader::make_with(
            TOKEN_ID,
            &secret,
            ProtocolVersion::V3_3,
            1_691_762_307_385,
            [2; 16],
        )
    }

    #[test]
    fn header_layout() {
        let value = header().to_header_value();
        assert!(value.starts_with(
            "PowerAuth token_id=\"d6561669-34d6-4fee-8913-89477687a5cb\", token_digest=\""
        ));
        assert!(value.ends_with(
            "nonce=\"AgICAgICAgICAgICAgICAg==\", timestamp=\"1691762307385\", version=\"3.3\""
        ));
    }

    /// Found by libFuzzer (`token_header`): a timestamp sent with a leading zero parsed, but
    /// the header rebuilt from it had 8 digits and no longer parsed.
    #[test]
    fn a_short_timestamp_round_trips() {
        let value = header()
            .to_header_value()
            .replace("1691762307385", "084588115");
        let parsed = TokenHeader::parse(&value).unwrap();
        assert_eq!(parsed.timestamp_ms, 84_588_115);
        let rebuilt = parsed.to_header_value();
        assert!(rebuilt.contains("timestamp=\"084588115\""), "{rebuilt}");
        assert_eq!(TokenHeader::parse(&rebuilt), Ok(parsed));
        // The digest is over the number, not the digits as sent.
        assert_eq!(
            token_digest_data(&[2; 16], 84_588_115, ProtocolVersion::V3_3),
            b"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02&84588115&3.3"
        );
    }

    #[test]
    fn timestamp_window_edges() {
        let secret = SymmetricKey::from_bytes([1; 16]);
        let h = header();
        let w = TimestampWindow::default();
        let ts = h.timestamp_ms;
        assert_eq!(h.validate(&secret, ts + w.max_age_ms, w), Ok(()));
        assert_eq!(
            h.validate(&secret, ts + w.max_age_ms + 1, w),
            Err(TokenError::TimestampTooOld)
        );
        assert_eq!(h.validate(&secret, ts - w.max_ahead_ms, w), Ok(()));
        assert_eq!(
            h.validate(&secret, ts - w.max_ahead_ms - 1, w),
            Err(TokenError::TimestampInFuture)
        );
        let other = SymmetricKey::from_bytes([9; 16]);
        assert_eq!(h.validate(&other, ts, w), Err(TokenError::DigestMismatch));
    }

    #[test]
    fn each_field_is_checked() {
        use TokenHeaderError as E;
        let value = header().to_header_value();
        let with = |from: &str, to: &str| TokenHeader::parse(&value.replace(from, to));
        assert_eq!(with("PowerAuth", "Basic"), Err(E::NotPowerAuth));
        assert_eq!(with("token_id", "id"), Err(E::MissingTokenId));
        assert_eq!(with("-4fee-", "-6fee-"), Err(E::InvalidTokenId));
        assert_eq!(with("token_digest", "digest"), Err(E::MissingDigest));
        assert_eq!(
            with("token_digest=\"", "token_digest=\"AA"),
            Err(E::InvalidDigest)
        );
        assert_eq!(with(" nonce", " n"), Err(E::MissingNonce));
        assert_eq!(
            with("AgICAgICAgICAgICAgICAg==", "AgIC"),
            Err(E::InvalidNonce)
        );
        assert_eq!(with("timestamp", "time"), Err(E::MissingTimestamp));
        assert_eq!(with("1691762307385", "16917623"), Err(E::InvalidTimestamp));
        assert_eq!(
            with("1691762307385", "1691762307385000"),
            Err(E::InvalidTimestamp)
        );
        assert_eq!(
            with("1691762307385", "+691762307385"),
            Err(E::InvalidTimestamp)
        );
        assert_eq!(with(", version=\"3.3\"", ""), Err(E::MissingVersion));
        assert_eq!(with("\"3.3\"", "\"3.4\""), Err(E::InvalidVersion));
    }

    proptest! {
        #[test]
        fn make_parse_validate_round_trip(
            id in "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            secret in any::<[u8; 16]>(),
            nonce in any::<[u8; 16]>(),
            timestamp_ms in 100_000_000u64..999_999_999_999_999,
            version_index in 0..4usize,
        ) {
            let secret = SymmetricKey::from_bytes(secret);
            let version = ProtocolVersion::ALL[version_index];
            let header = TokenHeader::make_with(&id, &secret, version, timestamp_ms, nonce);
            let parsed = TokenHeader::parse(&header.to_header_value());
            prop_assert_eq!(parsed.as_ref(), Ok(&header));
            prop_assert_eq!(header.validate(&secret, timestamp_ms, TimestampWindow::default()), Ok(()));
        }
    }
}
