//! ECIES end-to-end encryption of request and response bodies, protocol 3.0 to 3.3, both
//! scopes, client and server side (digest §7, §14 #3 #4 #15, §16.2).
//!
//! One [`Encryptor`] names what both sides agree on for an endpoint: version,
//! [`SharedInfo1`], application key and secret, and the [`Scope`]. Then the protocol steps
//! are types that consume themselves, so a context can serve exactly one exchange:
//!
//! ```text
//! client: Encryptor::encrypt_request  -> (EncryptedRequest, ResponseDecryptor)
//! server: Encryptor::decrypt_request  -> (plaintext, ResponseEncryptor)
//! server: ResponseEncryptor::encrypt_response -> EncryptedResponse
//! client: ResponseDecryptor::decrypt_response -> plaintext
//! ```
//!
//! What differs per version: 3.0 uses a zero IV and no nonce; 3.1 adds a request nonce that
//! the response reuses; 3.2 adds timestamps, associated data and a versioned sharedInfo1, and
//! the response gets its own nonce; 3.3 encrypts to a temporary key whose id enters the
//! associated data. Field presence is strict on both sides.

mod cipher;
mod client;
mod envelope;
mod external;
mod header;
mod server;
#[cfg(test)]
mod tests;

pub use client::{Recipient, ResponseDecryptor};
pub use envelope::{EncryptedRequest, EncryptedResponse, EnvelopeError};
pub use external::{ExternalDecryptor, ExternalSecrets};
pub use header::{ENCRYPTION_HEADER_NAME, EncryptionHeader, HeaderError};
pub use server::ResponseEncryptor;

use crate::ProtocolVersion;
use crate::keys::SymmetricKey;

/// The `sharedInfo1` constant of each ECIES use (digest §7.2). It selects the KDF info and
/// so separates the keys of different endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SharedInfo1 {
    /// `/pa/generic/application`: activation layer 1 and generic application-scope calls.
    ApplicationScopeGeneric,
    /// `/pa/activation`: activation layer 2, the part PowerAuth Server decrypts.
    ActivationLayer2,
    /// `/pa/upgrade`: `/pa/v3/upgrade/start`.
    Upgrade,
    /// `/pa/vault/unlock`: `/pa/v3/vault/unlock`.
    VaultUnlock,
    /// `/pa/token/create`: `/pa/v3/token/create`.
    CreateToken,
    /// `/pa/recovery/confirm`: `/pa/v3/recovery/confirm`.
    ConfirmRecoveryCode,
    /// `/pa/generic/activation`: activation detail, user info and business APIs.
    ActivationScopeGeneric,
}

impl SharedInfo1 {
    /// Every constant, in the order of digest §7.2.
    pub const ALL: [SharedInfo1; 7] = [
        Self::ApplicationScopeGeneric,
        Self::ActivationLayer2,
        Self::Upgrade,
        Self::VaultUnlock,
        Self::CreateToken,
        Self::ConfirmRecoveryCode,
        Self::ActivationScopeGeneric,
    ];

    /// The constant as the spec writes it, e.g. `"/pa/token/create"`.
    pub fn constant(self) -> &'static str {
        match self {
            Self::ApplicationScopeGeneric => "/pa/generic/application",
            Self::ActivationLayer2 => "/pa/activation",
            Self::Upgrade => "/pa/upgrade",
            Self::VaultUnlock => "/pa/vault/unlock",
            Self::CreateToken => "/pa/token/create",
            Self::ConfirmRecoveryCode => "/pa/recovery/confirm",
            Self::ActivationScopeGeneric => "/pa/generic/activation",
        }
    }

    /// The scope an encryptor with this constant works in.
    pub fn scope(self) -> EncryptorScope {
        match self {
            Self::ApplicationScopeGeneric | Self::ActivationLayer2 => EncryptorScope::Application,
            _ => EncryptorScope::Activation,
        }
    }

    /// The bytes that enter the KDF before the ephemeral key: `utf8(constant)` for 3.0 and
    /// 3.1, `utf8(version) || utf8(constant)` from 3.2 on (digest §14 #4).
    pub fn derive_bytes(self, version: ProtocolVersion) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.constant().len());
        if version.ecies_has_timestamp() {
            out.extend_from_slice(version.as_str().as_bytes());
        }
        out.extend_from_slice(self.constant().as_bytes());
        out
    }
}

/// Which key set a message is bound to (digest §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncryptorScope {
    /// Bound to the application: `SH2_BASE = SHA256(utf8(APP_SECRET))`, no activation id.
    Application,
    /// Bound to one activation: `SH2_BASE = HMAC(KEY_TRANSPORT, utf8(APP_SECRET))`, and the
    /// activation id enters the associated data.
    Activation,
}

/// The scope with what it needs: nothing for the application, the activation id and
/// `KEY_TRANSPORT` for an activation.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Application scope.
    Application,
    /// Activation scope.
    Activation {
        /// The activation id (UUID) as sent in headers.
        activation_id: &'a str,
        /// `KEY_TRANSPORT` of the activation.
        transport_key: &'a SymmetricKey,
    },
}

impl Scope<'_> {
    /// The scope without its data.
    pub fn kind(&self) -> EncryptorScope {
        match self {
            Scope::Application => EncryptorScope::Application,
            Scope::Activation { .. } => EncryptorScope::Activation,
        }
    }

    fn activation_id(&self) -> Option<&str> {
        match self {
            Scope::Application => None,
            Scope::Activation { activation_id, .. } => Some(activation_id),
        }
    }
}

/// What client and server agree on for one endpoint before any byte is encrypted.
///
/// Client side: [`Encryptor::encrypt_request`]. Server side: [`Encryptor::decrypt_request`].
/// `Debug` leaves the application secret out.
#[derive(Clone, Copy)]
pub struct Encryptor<'a> {
    version: ProtocolVersion,
    shared_info1: SharedInfo1,
    application_key: &'a str,
    application_secret: &'a str,
    scope: Scope<'a>,
}

impl<'a> Encryptor<'a> {
    /// An encryptor for `shared_info1` in `scope`. The application key and secret are the
    /// Base64 strings of the app configuration, used as text (digest §14 #3).
    ///
    /// Fails with [`EciesError::ScopeMismatch`] when the constant belongs to the other scope.
    pub fn new(
        version: ProtocolVersion,
        shared_info1: SharedInfo1,
        application_key: &'a str,
        application_secret: &'a str,
        scope: Scope<'a>,
    ) -> Result<Self, EciesError> {
        if shared_info1.scope() != scope.kind() {
            return Err(EciesError::ScopeMismatch {
                shared_info1,
                scope: scope.kind(),
            });
        }
        Ok(Self {
            version,
            shared_info1,
            application_key,
            application_secret,
            scope,
        })
    }

    /// The protocol version this encryptor speaks.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The sharedInfo1 constant.
    pub fn shared_info1(&self) -> SharedInfo1 {
        self.shared_info1
    }

    /// The scope without its data.
    pub fn scope(&self) -> EncryptorScope {
        self.scope.kind()
    }

    /// `SH2_BASE` of digest §7.1.
    fn shared_info2_base(&self) -> [u8; 32] {
        let secret = self.application_secret.as_bytes();
        match self.scope {
            Scope::Application => crate::hazmat::sha256(secret),
            Scope::Activation { transport_key, .. } => {
                crate::hazmat::hmac_sha256(transport_key.expose_bytes(), secret)
            }
        }
    }

    /// The associated data of 3.2+ (`None` before 3.2), digest §7.1.
    fn associated_data(&self, temporary_key_id: Option<&str>) -> Option<Vec<u8>> {
        associated_data(
            self.version,
            self.application_key,
            self.scope.activation_id(),
            temporary_key_id,
        )
    }
}

/// `AD` of digest §7.1: `concatWithSizes(ver, appKey[, activationId][, tempKeyId])` from
/// 3.2, `None` before.
fn associated_data(
    version: ProtocolVersion,
    application_key: &str,
    activation_id: Option<&str>,
    temporary_key_id: Option<&str>,
) -> Option<Vec<u8>> {
    if !version.ecies_has_timestamp() {
        return None;
    }
    let mut parts: Vec<Option<&[u8]>> = vec![
        Some(version.as_str().as_bytes()),
        Some(application_key.as_bytes()),
    ];
    if let Some(activation_id) = activation_id {
        parts.push(Some(activation_id.as_bytes()));
    }
    if version.uses_temporary_keys() {
        parts.push(temporary_key_id.map(str::as_bytes));
    }
    Some(crate::encoding::concat_with_sizes(&parts))
}

impl std::fmt::Debug for Encryptor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("version", &self.version)
            .field("shared_info1", &self.shared_info1)
            .field("application_key", &self.application_key)
            .field("activation_id", &self.scope.activation_id())
            .finish_non_exhaustive()
    }
}

/// Why an ECIES message could not be produced or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EciesError {
    /// The sharedInfo1 constant belongs to the other scope, e.g. `/pa/token/create` with an
    /// application-scope encryptor: a bug in the caller's endpoint table.
    #[error("sharedInfo1 {shared_info1:?} is not used in {scope:?} scope")]
    ScopeMismatch {
        /// The constant given.
        shared_info1: SharedInfo1,
        /// The scope given.
        scope: EncryptorScope,
    },
    /// Protocol 3.3 encrypts to a temporary key, but a static server key was given: fetch a
    /// temporary key first (`/pa/v3/keystore/create`).
    #[error("protocol {0} encrypts to a temporary key; a static server key was given")]
    TemporaryKeyRequired(ProtocolVersion),
    /// A temporary key was given to a version before 3.3, which encrypts to
    /// `KEY_SERVER_MASTER_PUBLIC` or `KEY_SERVER_PUBLIC`.
    #[error("protocol {0} does not use temporary keys")]
    TemporaryKeyNotSupported(ProtocolVersion),
    /// The received envelope lacks a field its version requires: no `nonce` from 3.1, no
    /// `timestamp` from 3.2, no `temporaryKeyId` in 3.3. The peer speaks an older version
    /// than it declared.
    #[error("the {version} envelope lacks the field `{field}`")]
    MissingField {
        /// The JSON field name.
        field: &'static str,
        /// The version the envelope was checked against.
        version: ProtocolVersion,
    },
    /// The received envelope carries a field its version forbids, e.g. a `nonce` in 3.0 or a
    /// response `timestamp` in 3.1. The peer speaks a newer version than it declared.
    #[error("the {version} envelope must not carry the field `{field}`")]
    UnexpectedField {
        /// The JSON field name.
        field: &'static str,
        /// The version the envelope was checked against.
        version: ProtocolVersion,
    },
    /// The MAC does not match: a wrong recipient key, application secret, `KEY_TRANSPORT`,
    /// sharedInfo1, version, application key, activation id or temporary key id, or the
    /// message was altered in transit.
    #[error("ECIES MAC mismatch: wrong keys or parameters, or the message was altered")]
    MacMismatch,
    /// Secrets handed to an external decryptor have the wrong length: the envelope key is
    /// 48 bytes, `SH2_BASE` 32.
    #[error("ECIES external secrets must be a 48-byte envelope key and a 32-byte sharedInfo2 base")]
    InvalidSecrets,
    /// The MAC matched but the ciphertext is not whole AES blocks with PKCS#7 padding: the
    /// sender encrypted incorrectly.
    #[error("ECIES ciphertext has an invalid length or padding")]
    InvalidCiphertext,
}
