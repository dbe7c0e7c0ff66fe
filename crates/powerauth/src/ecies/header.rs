//! The `X-PowerAuth-Encryption` header of encrypted calls without a signature (digest §7.5,
//! §16.2): `PowerAuth application_key="…", activation_id="…", version="3.3"`.

use super::EncryptorScope;
use crate::ProtocolVersion;
use crate::encoding::is_uuid;
use crate::header_fields::{HeaderFields, PREFIX};

/// The header's name.
pub const ENCRYPTION_HEADER_NAME: &str = "X-PowerAuth-Encryption";

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
        let fields = HeaderFields::parse(value).ok_or(HeaderError::MissingPrefix)?;
        let (mut application_key, mut activation_id, mut version) = (None, None, None);
        for (key, field_value) in fields.iter() {
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
    fn unclosed_quote_reads_like_java() {
        // Java's regex falls back to the unquoted alternative and reads `3.3`.
        let value = r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", version="3.3"#;
        let header = EncryptionHeader::parse(value, EncryptorScope::Application).unwrap();
        assert_eq!(header.version(), ProtocolVersion::V3_3);
    }

    #[test]
    fn enforces_scope_and_values() {
        use EncryptorScope::{Activation, Application};
        let app = EncryptionHeader::application(APP_KEY, ProtocolVersion::V3_3).to_string();
        let act =
            EncryptionHeader::activation(APP_KEY, ACTIVATION_ID, ProtocolVersion::V3_3).to_string();
        let cases: [(&str, EncryptorScope, HeaderError); 9] = [
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
                r#"PowerAuth version="3.3", version="3.2""#,
                Application,
                HeaderError::DuplicateField("version".into()),
            ),
            (
                r#"PowerAuth application_key="hF2rMg8p/tEJB8+/apTzyg==", version="3.3", activation_id="""#,
                Activation,
                HeaderError::InvalidActivationId,
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
