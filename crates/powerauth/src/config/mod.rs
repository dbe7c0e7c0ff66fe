//! What a client must know about the application before it can talk to the server
//! (digest §13): the application key `APP_KEY`, the application secret `APP_SECRET` and the
//! master server public key `KEY_SERVER_MASTER_PUBLIC`. They come as three Base64 strings
//! (mobile SDK before 1.8, and the fields of the server's application API) or packed into
//! the single `mobileSdkConfig` string of PowerAuth Server 1.5+ and SDK 1.8+.

mod mobile_sdk_config;

use crate::encoding::{b64, b64_decode};
use crate::keys::PublicKey;
use crate::random::RandomSource;
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// A part of the configuration, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigField {
    /// The whole `mobileSdkConfig` string.
    MobileSdkConfig,
    /// The leading format version byte.
    Version,
    /// `APP_KEY`.
    ApplicationKey,
    /// `APP_SECRET`.
    ApplicationSecret,
    /// The number of public keys.
    KeyCount,
    /// A public key's id byte.
    KeyId,
    /// A public key's bytes.
    KeyData,
    /// `KEY_SERVER_MASTER_PUBLIC`.
    MasterServerPublicKey,
}

impl fmt::Display for ConfigField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MobileSdkConfig => "mobile SDK configuration",
            Self::Version => "format version",
            Self::ApplicationKey => "application key",
            Self::ApplicationSecret => "application secret",
            Self::KeyCount => "number of public keys",
            Self::KeyId => "public key id",
            Self::KeyData => "public key bytes",
            Self::MasterServerPublicKey => "master server public key",
        })
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The text is not standard, padded Base64. Likely cause: only part of the value was
    /// copied, or line breaks or quotes came along.
    #[error("the {0} is not Base64 text: copy the whole value as the server shows it")]
    NotBase64(ConfigField),
    /// The first byte is not format version 1. Likely cause: a configuration from a newer
    /// server, or another Base64 value pasted in its place.
    #[error("configuration format version {0} is not supported (expected 1)")]
    UnsupportedVersion(u8),
    /// The bytes end inside a field. Likely cause: the value was cut off when copied.
    #[error("the configuration ends inside the {0}: it was cut off")]
    Truncated(ConfigField),
    /// A key or secret that is not 16 bytes long.
    #[error("the {field} must be 16 bytes, found {found}")]
    WrongLength {
        /// The field.
        field: ConfigField,
        /// Its length in bytes.
        found: usize,
    },
    /// No public key with id 0x01 (P-256). Likely cause: a configuration for another
    /// cryptography version.
    #[error("the configuration holds no P-256 master server public key (key id 0x01)")]
    MissingMasterKey,
    /// The master key is not a point on P-256. Likely cause: a corrupted value.
    #[error("the master server public key is not a valid P-256 point")]
    InvalidMasterKey,
}

/// `APP_KEY`: 16 random bytes identifying an application version; public, sent in headers
/// as Base64.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApplicationKey([u8; 16]);

impl ApplicationKey {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Decodes the Base64 form.
    pub fn from_b64(text: &str) -> Result<Self, ConfigError> {
        decode_16(text, ConfigField::ApplicationKey).map(|bytes| Self(*bytes))
    }

    /// A fresh key (server side, new application version).
    pub fn make(rng: &dyn RandomSource) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The Base64 form, as in `application_key="..."` header fields.
    pub fn to_b64(&self) -> String {
        b64(self.0)
    }
}

impl fmt::Display for ApplicationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_b64())
    }
}

impl fmt::Debug for ApplicationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApplicationKey({})", self.to_b64())
    }
}

/// `APP_SECRET`: 16 random bytes, never sent. Signatures and the ECIES `SH2_BASE` use its
/// Base64 *text*; temporary-key JWTs use the decoded bytes (§14 #3). Zeroized on drop;
/// `Debug` never prints it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ApplicationSecret([u8; 16]);

impl ApplicationSecret {
    /// Wraps 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Decodes the Base64 form.
    pub fn from_b64(text: &str) -> Result<Self, ConfigError> {
        decode_16(text, ConfigField::ApplicationSecret).map(|bytes| Self(*bytes))
    }

    /// A fresh secret (server side, new application version).
    pub fn make(rng: &dyn RandomSource) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The decoded 16 bytes.
    pub fn expose_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The Base64 text, the form signature data and `SH2_BASE` take.
    pub fn expose_b64(&self) -> Zeroizing<String> {
        Zeroizing::new(b64(self.0))
    }
}

impl PartialEq for ApplicationSecret {
    fn eq(&self, other: &Self) -> bool {
        crate::hazmat::constant_time_eq(&self.0, &other.0)
    }
}

impl Eq for ApplicationSecret {}

impl fmt::Debug for ApplicationSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApplicationSecret(<redacted>)")
    }
}

/// Everything the client needs to know about the application version it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationConfig {
    /// `APP_KEY`.
    pub application_key: ApplicationKey,
    /// `APP_SECRET`.
    pub application_secret: ApplicationSecret,
    /// `KEY_SERVER_MASTER_PUBLIC`: verifies activation code signatures and server ECDSA
    /// signatures, and is the application-scope ECIES key before 3.3.
    pub master_server_public_key: PublicKey,
}

impl ApplicationConfig {
    /// Reads the legacy form: three Base64 strings (mobile SDK before 1.8, and the
    /// `applicationKey`, `applicationSecret`, `masterPublicKey` fields of the server API).
    pub fn from_b64_parts(
        application_key: &str,
        application_secret: &str,
        master_server_public_key: &str,
    ) -> Result<Self, ConfigError> {
        let key_bytes = b64_decode(master_server_public_key)
            .map_err(|_| ConfigError::NotBase64(ConfigField::MasterServerPublicKey))?;
        Ok(Self {
            application_key: ApplicationKey::from_b64(application_key)?,
            application_secret: ApplicationSecret::from_b64(application_secret)?,
            master_server_public_key: PublicKey::from_sec1(&key_bytes)
                .map_err(|_| ConfigError::InvalidMasterKey)?,
        })
    }

    /// A new application version's key and secret for a given master key (server side).
    pub fn make(master_server_public_key: PublicKey, rng: &dyn RandomSource) -> Self {
        Self {
            application_key: ApplicationKey::make(rng),
            application_secret: ApplicationSecret::make(rng),
            master_server_public_key,
        }
    }
}

/// Decodes Base64 that must hold exactly 16 bytes.
fn decode_16(text: &str, field: ConfigField) -> Result<Zeroizing<[u8; 16]>, ConfigError> {
    let bytes = Zeroizing::new(b64_decode(text).map_err(|_| ConfigError::NotBase64(field))?);
    let mut out = Zeroizing::new([0u8; 16]);
    if bytes.len() != 16 {
        return Err(ConfigError::WrongLength {
            field,
            found: bytes.len(),
        });
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_parts() {
        let config = ApplicationConfig::from_b64_parts(
            "01gz8NtAgW/mlHiLlstuTA==",
            "fLz13bJJtBHZCgJve1oHUQ==",
            "BD7KcJ2c4+wDsNHphJPyedVdemaZAzBhN1U9782/t1ofahAPDACQUyzyd14BZK+jgVUApKQXs6W1zsdcR71QKsk=",
        )
        .unwrap();
        assert_eq!(
            config.application_key.to_string(),
            "01gz8NtAgW/mlHiLlstuTA=="
        );
        assert_eq!(
            config.application_secret.expose_bytes(),
            &b64_decode("fLz13bJJtBHZCgJve1oHUQ==").unwrap()[..]
        );
        assert_eq!(
            ApplicationKey::from_b64("AAAA"),
            Err(ConfigError::WrongLength {
                field: ConfigField::ApplicationKey,
                found: 3
            })
        );
        assert_eq!(
            ApplicationSecret::from_b64("fLz13bJJtBHZCgJve1oHUQ"),
            Err(ConfigError::NotBase64(ConfigField::ApplicationSecret))
        );
        assert_eq!(
            ApplicationConfig::from_b64_parts(
                "01gz8NtAgW/mlHiLlstuTA==",
                "fLz13bJJtBHZCgJve1oHUQ==",
                "BAAA"
            ),
            Err(ConfigError::InvalidMasterKey)
        );
    }

    #[test]
    fn the_secret_does_not_print() {
        let secret = ApplicationSecret::from_bytes([0xAB; 16]);
        assert_eq!(format!("{secret:?}"), "ApplicationSecret(<redacted>)");
        assert!(!format!("{secret:?}").contains(secret.expose_b64().as_str()));
    }
}
