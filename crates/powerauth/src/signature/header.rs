//! The `X-PowerAuth-Authorization` header (digest §5.5, §14 #16, §16.16): built in
//! Wultra's field order, parsed leniently, validated strictly.

use super::factors::SignatureType;
use crate::encoding::is_uuid;
use crate::encoding::{b64, b64_decode, b64_decode_array};
use crate::header_fields::{HeaderFields, build};
use crate::version::ProtocolVersion;
use std::fmt;

/// Why an `X-PowerAuth-Authorization` value was refused. Checked in the order of
/// Wultra's `PowerAuthSignatureHttpHeaderValidator`; the first failure is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationHeaderError {
    /// The value does not start with `PowerAuth `: another scheme, or an empty header.
    #[error("the header value does not start with \"PowerAuth \"")]
    NotPowerAuth,
    /// No `pa_activation_id`: the client sent a header for an application-scope call.
    #[error("pa_activation_id is missing")]
    MissingActivationId,
    /// `pa_activation_id` is not an RFC 4122 UUID (version 1-5, variant 8-b).
    #[error("pa_activation_id is not a UUID")]
    InvalidActivationId,
    /// No `pa_nonce`.
    #[error("pa_nonce is missing")]
    MissingNonce,
    /// `pa_nonce` is not Base64 of exactly 16 bytes.
    #[error("pa_nonce is not Base64 of 16 bytes")]
    InvalidNonce,
    /// No `pa_signature_type`.
    #[error("pa_signature_type is missing")]
    MissingSignatureType,
    /// `pa_signature_type` is none of the six types.
    #[error("pa_signature_type is not a known signature type")]
    InvalidSignatureType,
    /// No `pa_signature`.
    #[error("pa_signature is missing")]
    MissingSignature,
    /// `pa_signature` is neither 1-3 groups of 8 digits nor Base64 of 24, 44 or 64
    /// characters (16 to 48 bytes).
    #[error("pa_signature is neither decimal nor Base64 of a valid length")]
    InvalidSignature,
    /// No `pa_application_key`.
    #[error("pa_application_key is missing")]
    MissingApplicationKey,
    /// `pa_application_key` is not Base64 of 16 bytes: a wrong SDK configuration.
    #[error("pa_application_key is not Base64 of 16 bytes")]
    InvalidApplicationKey,
    /// No `pa_version`, or it is empty.
    #[error("pa_version is missing")]
    MissingVersion,
    /// `pa_version` is not one of 3.0 to 3.3 (a V2 client, or a newer protocol).
    #[error("pa_version is not 3.0, 3.1, 3.2 or 3.3")]
    InvalidVersion,
}

/// A validated `X-PowerAuth-Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// `pa_activation_id`, as sent.
    pub activation_id: String,
    /// `pa_application_key`: the Base64 `APP_KEY` string, as sent.
    pub application_key: String,
    /// `pa_nonce`, decoded; it enters the signed data re-encoded, as on Wultra's server.
    pub nonce: [u8; 16],
    /// `pa_signature_type`.
    pub signature_type: SignatureType,
    /// `pa_signature`: decimal (3.0) or Base64 (3.1+).
    pub signature: String,
    /// `pa_version`: selects the signature format.
    pub version: ProtocolVersion,
}

impl AuthorizationHeader {
    /// The HTTP header name.
    pub const NAME: &'static str = "X-PowerAuth-Authorization";

    /// The header value, fields in Wultra's builder order separated by `", "`.
    pub fn to_header_value(&self) -> String {
        build(&[
            ("pa_activation_id", &self.activation_id),
            ("pa_application_key", &self.application_key),
            ("pa_nonce", &b64(self.nonce)),
            ("pa_signature_type", self.signature_type.as_str()),
            ("pa_signature", &self.signature),
            ("pa_version", self.version.as_str()),
        ])
    }

    /// Parses a header value in any field order, then validates every field.
    pub fn parse(header_value: &str) -> Result<Self, AuthorizationHeaderError> {
        use AuthorizationHeaderError as E;
        let fields = HeaderFields::parse(header_value).ok_or(E::NotPowerAuth)?;

        let activation_id = fields
            .get("pa_activation_id")
            .ok_or(E::MissingActivationId)?;
        if !is_uuid(activation_id) {
            return Err(E::InvalidActivationId);
        }
        let nonce = fields.get("pa_nonce").ok_or(E::MissingNonce)?;
        let nonce = b64_decode_array::<16>(nonce).map_err(|_| E::InvalidNonce)?;
        let signature_type = fields
            .get("pa_signature_type")
            .ok_or(E::MissingSignatureType)?
            .parse()
            .map_err(|_| E::InvalidSignatureType)?;
        let signature = fields.get("pa_signature").ok_or(E::MissingSignature)?;
        if !is_valid_signature_value(signature) {
            return Err(E::InvalidSignature);
        }
        let application_key = fields
            .get("pa_application_key")
            .ok_or(E::MissingApplicationKey)?;
        if b64_decode_array::<16>(application_key).is_err() {
            return Err(E::InvalidApplicationKey);
        }
        let version = match fields.get("pa_version") {
            None | Some("") => return Err(E::MissingVersion),
            Some(v) => v.parse().map_err(|_| E::InvalidVersion)?,
        };

        Ok(Self {
            activation_id: activation_id.to_string(),
            application_key: application_key.to_string(),
            nonce,
            signature_type,
            signature: signature.to_string(),
            version,
        })
    }
}

impl fmt::Display for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

/// `ValueTypeValidator.isValidSignatureValue`: `^[0-9]{8}(-[0-9]{8}){0,2}$` for 8, 17 or
/// 26 characters; Base64 of 16 to 48 bytes for 24, 44 or 64 characters.
fn is_valid_signature_value(signature: &str) -> bool {
    match signature.len() {
        8 | 17 | 26 => signature
            .split('-')
            .all(|group| group.len() == 8 && group.bytes().all(|b| b.is_ascii_digit())),
        24 | 44 | 64 => b64_decode(signature).is_ok_and(|b| (16..=48).contains(&b.len())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "PowerAuth pa_activation_id=\"7a24c6e9-48e9-43c2-ab4a-aed6270e924d\", \
        pa_application_key=\"Z19gyYaW5kb521fYWN0aXQ==\", pa_nonce=\"kYjzVBB8Y0ZFabxSWbWovQ==\", \
        pa_signature_type=\"possession_knowledge\", \
        pa_signature=\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\", pa_version=\"3.3\"";

    #[test]
    fn parses_and_rebuilds_the_example() {
        let header = AuthorizationHeader::parse(EXAMPLE).unwrap();
        assert_eq!(header.signature_type, SignatureType::PossessionKnowledge);
        assert_eq!(header.version, ProtocolVersion::V3_3);
        assert_eq!(header.to_header_value(), EXAMPLE);
    }

    #[test]
    fn field_order_and_case_do_not_matter() {
        let reordered = "PowerAuth pa_version=\"3.0\" pa_signature=\"12345678-87654321\" \
            pa_signature_type=\"POSSESSION_Biometry\" pa_nonce=\"kYjzVBB8Y0ZFabxSWbWovQ==\" \
            pa_application_key=\"Z19gyYaW5kb521fYWN0aXQ==\" \
            pa_activation_id=\"7A24C6E9-48E9-43C2-AB4A-AED6270E924D\"";
        let header = AuthorizationHeader::parse(reordered).unwrap();
        assert_eq!(header.signature_type, SignatureType::PossessionBiometry);
        assert_eq!(header.activation_id, "7A24C6E9-48E9-43C2-AB4A-AED6270E924D");
    }

    #[test]
    fn each_field_is_checked() {
        use AuthorizationHeaderError as E;
        let with = |from: &str, to: &str| AuthorizationHeader::parse(&EXAMPLE.replace(from, to));
        assert_eq!(with("PowerAuth ", "Bearer "), Err(E::NotPowerAuth));
        assert_eq!(with("pa_activation_id", "x"), Err(E::MissingActivationId));
        assert_eq!(with("-43c2-", "-03c2-"), Err(E::InvalidActivationId));
        assert_eq!(with("-ab4a-", "-cb4a-"), Err(E::InvalidActivationId));
        assert_eq!(with("pa_nonce", "x"), Err(E::MissingNonce));
        assert_eq!(
            with("kYjzVBB8Y0ZFabxSWbWovQ==", "kYjz"),
            Err(E::InvalidNonce)
        );
        assert_eq!(with("pa_signature_type", "x"), Err(E::MissingSignatureType));
        assert_eq!(
            with("possession_knowledge", "pin"),
            Err(E::InvalidSignatureType)
        );
        assert_eq!(with("pa_signature=", "x="), Err(E::MissingSignature));
        assert_eq!(with("MDEy", "MD!y"), Err(E::InvalidSignature));
        assert_eq!(
            with("pa_application_key", "x"),
            Err(E::MissingApplicationKey)
        );
        assert_eq!(
            with("Z19gyYaW5kb521fYWN0aXQ==", "Z19n"),
            Err(E::InvalidApplicationKey)
        );
        assert_eq!(with(", pa_version=\"3.3\"", ""), Err(E::MissingVersion));
        // An empty quoted value cannot exist in Java's syntax: the quote itself is read.
        assert_eq!(
            with("pa_version=\"3.3\"", "pa_version=\"\""),
            Err(E::InvalidVersion)
        );
        assert_eq!(with("\"3.3\"", "\"2.1\""), Err(E::InvalidVersion));
    }

    #[test]
    fn signature_values() {
        assert!(is_valid_signature_value("12345678"));
        assert!(is_valid_signature_value("12345678-12345678-12345678"));
        assert!(!is_valid_signature_value("1234567a"));
        assert!(!is_valid_signature_value("12345678_12345678"));
        assert!(!is_valid_signature_value("1234-5678-1234-56"));
        assert!(is_valid_signature_value(&b64([7u8; 16])));
        assert!(is_valid_signature_value(&b64([7u8; 32])));
        assert!(is_valid_signature_value(&b64([7u8; 48])));
        assert!(!is_valid_signature_value(&b64([7u8; 15])));
    }

    fn uuid() -> impl Strategy<Value = String> {
        "[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    }

    fn signature_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{8}(-[0-9]{8}){0,2}",
            prop::collection::vec(any::<u8>(), 1..=3)
                .prop_flat_map(|n| prop::collection::vec(any::<u8>(), 16 * n.len()))
                .prop_map(b64),
        ]
    }

    proptest! {
        #[test]
        fn build_then_parse_round_trips(
            activation_id in uuid(),
            application_key in any::<[u8; 16]>(),
            nonce in any::<[u8; 16]>(),
            type_index in 0..6usize,
            signature in signature_value(),
            version_index in 0..4usize,
        ) {
            let header = AuthorizationHeader {
                activation_id,
                application_key: b64(application_key),
                nonce,
                signature_type: SignatureType::ALL[type_index],
                signature,
                version: ProtocolVersion::ALL[version_index],
            };
            prop_assert_eq!(AuthorizationHeader::parse(&header.to_header_value()), Ok(header));
        }

        #[test]
        fn parse_never_panics(value in "PowerAuth [a-z_=\", 0-9A-Za-z+/-]{0,200}") {
            let _ = AuthorizationHeader::parse(&value);
        }
    }
}
