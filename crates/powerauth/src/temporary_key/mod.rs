//! Temporary encryption keys of protocol 3.3 (digest §7.7, §16.11): the JWT exchange of
//! `POST /pa/v3/keystore/create`, client and server side.
//!
//! ```text
//! client: TemporaryKeyRequest::new            -> request JWT (HS256)
//! server: UnverifiedKeyRequest::parse/verify  -> VerifiedKeyRequest
//! server: VerifiedKeyRequest::respond         -> response JWT (ES256)
//! client: TemporaryKeyRequest::verify_response -> TemporaryPublicKey
//! ```
//!
//! The HS256 key is the Base64-*decoded* application secret (application scope), or
//! `KDF_INTERNAL(KEY_TRANSPORT, decoded secret)` (activation scope) (digest §14 #3). The
//! response is signed with `KEY_SERVER_MASTER_PRIVATE` or the activation's
//! `KEY_SERVER_PRIVATE`. JWT parts are base64url without padding.

mod client;
mod jwt;
mod server;
#[cfg(test)]
mod tests;

pub use client::TemporaryKeyRequest;
pub use server::{UnverifiedKeyRequest, VerifiedKeyRequest, make_key_id};

use crate::ecies::{Recipient, Scope};
use crate::keys::{PublicKey, SymmetricKey};

/// How long the reference server keeps a temporary key (`temporaryKey.validity`), in ms.
pub const DEFAULT_VALIDITY_MS: u64 = 300_000;

/// How long before `exp_ms` the mobile SDK stops using a cached key, in ms.
pub const EXPIRY_MARGIN_MS: u64 = 10_000;

/// The HS256 key of the request JWT. Zeroized on drop; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestJwtKey(SymmetricKey);

impl RequestJwtKey {
    /// Derives the key for `scope` from the Base64 application secret: the decoded secret
    /// itself (application scope), or `KDF_INTERNAL(KEY_TRANSPORT, decoded secret)`.
    pub fn derive(application_secret: &str, scope: &Scope<'_>) -> Result<Self, TemporaryKeyError> {
        let secret = zeroize::Zeroizing::new(
            crate::encoding::b64_decode_array::<16>(application_secret)
                .map_err(|_| TemporaryKeyError::InvalidApplicationSecret)?,
        );
        let key = match scope {
            Scope::Application => *secret,
            Scope::Activation { transport_key, .. } => {
                crate::hazmat::kdf_internal(transport_key.expose_bytes(), &secret[..])
            }
        };
        Ok(Self(SymmetricKey::from_bytes(key)))
    }

    /// The raw 16 key bytes.
    pub fn expose_bytes(&self) -> &[u8; 16] {
        self.0.expose_bytes()
    }
}

impl std::fmt::Debug for RequestJwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestJwtKey(<redacted>)")
    }
}

/// The claims of a request JWT that the server reads; any others are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRequestClaims {
    /// `applicationKey`: the Base64 application key.
    pub application_key: String,
    /// `activationId`: present in activation scope only.
    pub activation_id: Option<String>,
    /// `challenge`: random Base64 the response must echo.
    pub challenge: String,
}

/// A temporary public key the client verified, with what it is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemporaryPublicKey {
    /// `sub`: the key id, sent as `temporaryKeyId` in ECIES requests.
    pub id: String,
    /// `publicKey`: the key to encrypt to.
    pub public_key: PublicKey,
    /// `applicationKey` the key is bound to.
    pub application_key: String,
    /// `activationId` the key is bound to (activation scope only).
    pub activation_id: Option<String>,
    /// `iat_ms`: the server's clock when it issued the key; the SDK syncs its clock to it.
    pub issued_at_ms: u64,
    /// `exp_ms`: when the server forgets the key.
    pub expires_at_ms: u64,
}

impl TemporaryPublicKey {
    /// The ECIES recipient this key stands for.
    pub fn recipient(&self) -> Recipient<'_> {
        Recipient::Temporary {
            id: &self.id,
            public_key: &self.public_key,
        }
    }

    /// Whether the SDK would still use the key at server time `now_ms`: until
    /// [`EXPIRY_MARGIN_MS`] before `exp_ms`.
    pub fn is_usable_at(&self, now_ms: u64) -> bool {
        now_ms < self.expires_at_ms.saturating_sub(EXPIRY_MARGIN_MS)
    }
}

/// Why a temporary key JWT was not built or not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemporaryKeyError {
    /// The application secret is not Base64 of 16 bytes: a configuration error.
    #[error("the application secret is not Base64 of 16 bytes")]
    InvalidApplicationSecret,
    /// Not three base64url parts separated by dots, or a part that should be a JSON object
    /// is not. The JWT was truncated or is not a JWT.
    #[error("malformed JWT: {0}")]
    Malformed(&'static str),
    /// The header names another algorithm (request: `HS256`; response: `ES256` with `typ`
    /// `JWT`). An `alg` of `none` or a swapped algorithm is an attack or a wrong endpoint.
    #[error("the JWT header does not name the expected algorithm")]
    UnsupportedAlgorithm,
    /// A claim is absent, null or of the wrong JSON type.
    #[error("the JWT claim `{0}` is missing or not of the expected type")]
    InvalidClaim(&'static str),
    /// The signature does not verify: a wrong application secret or `KEY_TRANSPORT`
    /// (request), a wrong master or server public key (response), or a tampered JWT.
    #[error("the JWT signature is invalid")]
    InvalidSignature,
    /// The request's `activationId` presence or value does not match the scope the server
    /// verifies it in.
    #[error("the JWT's activationId does not match the scope")]
    ScopeMismatch,
    /// The request JWT's `exp` lies in the past.
    #[error("the JWT has expired")]
    Expired,
    /// The request JWT's `iat` or `nbf` lies in the future.
    #[error("the JWT is not valid yet")]
    NotYetValid,
    /// The response does not echo the request's claim: a response to another request, or a
    /// replay.
    #[error("the response JWT does not echo the request's `{0}`")]
    EchoMismatch(&'static str),
    /// The response's `publicKey` is not a valid P-256 point.
    #[error("the response JWT's publicKey is not a valid P-256 point")]
    InvalidPublicKey,
}
