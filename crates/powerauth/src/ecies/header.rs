//! The `X-PowerAuth-Encryption` header of encrypted calls without a signature (digest §7.5,
//! §16.2): `PowerAuth application_key="…", activation_id="…", version="3.3"`.

use super::EncryptorScope;
use crate::ProtocolVersion;

/// The header's name.
pub const ENCRYPTION_HEADER_NAME: &str = "X-PowerAuth-Encryption";

const PREFIX: &str = "PowerAuth ";

/// A parsed or to-be-sent `X-PowerAuth-Encryption` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncryptionHeader {
    application_key: String,
    activation_id: Option<String>,
    version: ProtocolVersion,
}

/// Why an `X-PowerAuth-Encryption` value was rejected. Wultra's RESTful layer answers all of
/// these with 401 `POWER_AUTH_REQUEST_INVALID`-style errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The value does not start with `PowerAuth `: another scheme, or no header at all.
    #[error("the encryption header does not start with \"PowerAuth \"")]
    MissingPrefix,
    /// Not a list of `key="value"` pairs: a quote is not closed, a key has no `=`, or a value
    /// is empty.
    #[error("the encryption header is not a list of key=\"value\" pairs")]
    Malformed,
    /// A key appears twice; which one a server would read is ambiguous.
    #[error("the encryption header repeats the field `{0}`")]
    DuplicateField(String),
    /// `application_key` or `version` is absent.
    #[error("the encryption header lacks the field `{0}`")]
    MissingField(&'static str),
    /// `application_key` is not Base64 of 16 bytes.
    #[error("the encryption header's application_key is not Base64 of 16 bytes")]
    InvalidApplicationKey,
    /// `version` is not 3.0, 3.1, 3.2 or 3.3.
    #[error("the encryption header's version is not supported")]
    UnsupportedVersion,
    /// An application-scope call carries `activation_id`: the client mixed up the scopes.
    #[error("the encryption header carries activation_id in application scope")]
    UnexpectedActivationId,
    /// An activation-scope call lacks `activation_id`.
    #[error("the encryption header lacks activation_id in activation scope")]
    MissingActivationId,
    /// `activation_id` is not an RFC 4122 UUID (version 1–5, variant 8–b).
    #[error("the encryption header's activation_id is not a UUID")]
    InvalidActivationId,
}

impl EncryptionHeader {
    /// The header of an application-scope call.
    pub fn application(application_key: &str, version: ProtocolVersion) -> Self {
        Self {
            application_key: application_key.to_owned(),
            activation_id: None,
            version,
        }
    }

    /// The header of an activation-scope call.
    pub fn activation(
        application_key: &str,
        activation_id: &str,
        version: ProtocolVersion,
    ) -> Self {
        Self {
            application_key: application_key.to_owned(),
            activation_id: Some(activation_id.to_owned()),
            version,
        }
    }

    /// Parses a header value for an endpoint of the given scope. Fields may come in any
    /// order; unknown fields are ignored.
    pub fn parse(value: &str, scope: EncryptorScope) -> Result<Self, HeaderError> {
        let fields = value
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(HeaderError::MissingPrefix)?;
        let (mut application_key, mut activation_id, mut version) = (None, None, None);
        for pair in Pairs(fields) {
            let (key, field_value) = pair?;
            let slot = match key {
                "application_key" => &mut application_key,
                "activation_id" => &mut activation_id,
                "version" => &mut version,
                _ => continue,
            };
            if slot.replace(field_value).is_some() {
                return Err(HeaderError::DuplicateField(key.to_owned()));
            }
        }
        let application_key =
            application_key.ok_or(HeaderError::MissingField("application_key"))?;
        if crate::encoding::b64_decode_array::<16>(application_key).is_err() {
            return Err(HeaderError::InvalidApplicationKey);
        }
        let version = version
            .ok_or(HeaderError::MissingField("version"))?
            .parse::<ProtocolVersion>()
            .map_err(|_| HeaderError::UnsupportedVersion)?;
        match (scope, activation_id) {
            (EncryptorScope::Application, Some(_)) => Err(HeaderError::UnexpectedActivationId),
            (EncryptorScope::Activation, None) => Err(HeaderError::MissingActivationId),
            (EncryptorScope::Activation, Some(id)) if !is_uuid(id) => {
                Err(HeaderError::InvalidActivationId)
            }
            (_, activation_id) => Ok(Self {
                application_key: application_key.to_owned(),
                activation_id: activation_id.map(str::to_owned),
                version,
            }),
        }
    }

    /// The Base64 application key.
    pub fn application_key(&self) -> &str {
        &self.application_key
    }

    /// The activation id, present in activation scope only.
    pub fn activation_id(&self) -> Option<&str> {
        self.activation_id.as_deref()
    }

    /// The protocol version the call speaks.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The scope the header names.
    pub fn scope(&self) -> EncryptorScope {
        match self.activation_id {
            None => EncryptorScope::Application,
            Some(_) => EncryptorScope::Activation,
        }
    }
}

/// The header value as Wultra's builder writes it: `application_key`, then `activation_id`
/// when present, then `version`.
impl std::fmt::Display for EncryptionHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}application_key=\"{}\", ", self.application_key)?;
        if let Some(activation_id) = &self.activation_id {
            write!(f, "activation_id=\"{activation_id}\", ")?;
        }
        write!(f, "version=\"{}\"", self.version)
    }
}

/// `key="value"` pairs separated by commas and ASCII whitespace. A value may also be
/// unquoted (up to the next comma or space), as Wultra's lenient parser allows. Positions
/// only ever split at ASCII bytes, so slicing the `&str` stays on char boundaries.
struct Pairs<'a>(&'a str);

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a str, &'a str), HeaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.0;
        let bytes = text.as_bytes();
        let start = bytes
            .iter()
            .position(|b| !(b.is_ascii_whitespace() || *b == b','))?;
        let key_len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let key_end = start + key_len;
        let span = (key_len > 0 && bytes.get(key_end) == Some(&b'='))
            .then(|| value_span(bytes, key_end + 1))
            .flatten();
        let Some((value_start, value_end, resume)) = span else {
            // Report the error once, then stop.
            self.0 = "";
            return Some(Err(HeaderError::Malformed));
        };
        self.0 = &text[resume..];
        Some(Ok((&text[start..key_end], &text[value_start..value_end])))
    }
}

/// The value after `=`: `(start, end, resume)`, or `None` if unterminated or empty.
fn value_span(bytes: &[u8], at: usize) -> Option<(usize, usize, usize)> {
    let (start, end, resume) = if bytes.get(at) == Some(&b'"') {
        let len = bytes.get(at + 1..)?.iter().position(|b| *b == b'"')?;
        (at + 1, at + 1 + len, at + 2 + len)
    } else {
        let rest = bytes.get(at..)?;
        let len = rest
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b',')
            .unwrap_or(rest.len());
        (at, at + len, at + len)
    };
    (end > start).then_some((start, end, resume))
}

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$` after
/// lower-casing, as Wultra's `ValueTypeValidator.isValidUuid`.
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            14 => (b'1'..=b'5').contains(b),
            19 => matches!(b.to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b'),
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP_KEY: &str = "hF2rMg8p/tEJB8+/apTzyg==";
    const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";

    #[test]
    fn builds_like_wultra() {
        let header = EncryptionHeader::activation(APP_KEY, ACTIVATION_ID, ProtocolVersion::V3_3);
        assert_eq!(
            header.to_string(),
            format!(
                r#"PowerAuth application_key="{APP_KEY}", activation_id="{ACTIVATION_ID}", version="3.3""#
            )
        );
        let header = EncryptionHeader::application(APP_KEY, ProtocolVersion::V3_1);
        assert_eq!(
            header.to_string(),
            format!(r#"PowerAuth application_key="{APP_KEY}", version="3.1""#)
        );
    }

    #[test]
    fn parses_in_any_order_and_leniently() {
        let value = format!(
            r#"  PowerAuth version="3.2",activation_id={ACTIVATION_ID}  application_key="{APP_KEY}", extra="x""#
        );
        let header = EncryptionHeader::parse(&value, EncryptorScope::Activation).unwrap();
        assert_eq!(
            header,
            EncryptionHeader::activation(APP_KEY, ACTIVATION_ID, ProtocolVersion::V3_2)
        );
    }

    #[test]
    fn enforces_scope_and_values() {
        use EncryptorScope::{Activation, Application};
        let app = EncryptionHeader::application(APP_KEY, ProtocolVersion::V3_3).to_string();
        let act =
            EncryptionHeader::activation(APP_KEY, ACTIVATION_ID, ProtocolVersion::V3_3).to_string();
        let cases: [(&str, EncryptorScope, HeaderError); 10] = [
            (&app, Activation, HeaderError::MissingActivationId),
            (&act, Application, HeaderError::UnexpectedActivationId),
            ("Bearer x", Application, HeaderError::MissingPrefix),
            (
                r#"PowerAuth version="3.3""#,
                Application,
                HeaderError::MissingField("application_key"),
            ),
            (
                r#"PowerAuth application_key="AAAA""#,
                Application,
                HeaderError::InvalidApplicationKey,
            ),
            (
                r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", version="2.1""#,
                Application,
                HeaderError::UnsupportedVersion,
            ),
            (
                r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", version="3.3"#,
                Application,
                HeaderError::Malformed,
            ),
            (
                r#"PowerAuth version="3.3", version="3.2""#,
                Application,
                HeaderError::DuplicateField("version".into()),
            ),
            (
                r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", version="3.3", activation_id="""#,
                Activation,
                HeaderError::Malformed,
            ),
            (
                r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", activation_id="c564e700-7e86-6a87-b6c8-a5a0cc89683f", version="3.3""#,
                Activation,
                HeaderError::InvalidActivationId,
            ),
        ];
        for (value, scope, expected) in cases {
            assert_eq!(
                EncryptionHeader::parse(value, scope),
                Err(expected),
                "{value}"
            );
        }
    }

    #[test]
    fn uuid_check_matches_wultra() {
        assert!(is_uuid(ACTIVATION_ID));
        assert!(is_uuid(&ACTIVATION_ID.to_uppercase()));
        assert!(
            !is_uuid("c564e700-7e86-4a87-c6c8-a5a0cc89683f"),
            "variant must be 8-b"
        );
        assert!(!is_uuid("c564e700x7e86-4a87-b6c8-a5a0cc89683f"));
        assert!(!is_uuid("é564e700-7e86-4a87-b6c8-a5a0cc8968"));
    }
}
