//! The server side: read and verify the request JWT, then sign the response JWT.

use super::jwt::{self, Compact};
use super::{KeyRequestClaims, RequestJwtKey, TemporaryKeyError};
use crate::ecies::Scope;
use crate::keys::{KeyPair, PublicKey};
use crate::random::RandomSource;
use serde::Serialize;
use serde_json::Value;

/// The response header, byte for byte what the SDK expects (digest §16.11).
const RESPONSE_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// A request JWT as received: its claims are readable so the server can look up the
/// application and activation, but its signature is not checked yet.
#[derive(Debug)]
pub struct UnverifiedKeyRequest {
    signing_input: String,
    signature: Vec<u8>,
    claims: KeyRequestClaims,
    issued_at_ms: Option<f64>,
    not_before_ms: Option<f64>,
    expires_at_ms: Option<f64>,
}

impl UnverifiedKeyRequest {
    /// Parses a request JWT from untrusted text. The header must name `HS256`; `typ` and
    /// other header fields are ignored, as are claims other than `applicationKey`,
    /// `activationId`, `challenge` and the time claims `iat`, `nbf`, `exp`.
    pub fn parse(request_jwt: &str) -> Result<Self, TemporaryKeyError> {
        let compact = Compact::split(request_jwt)?;
        if compact.header.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(TemporaryKeyError::UnsupportedAlgorithm);
        }
        let claims = compact.claims()?;
        Ok(Self {
            claims: KeyRequestClaims {
                application_key: jwt::required_string(&claims, "applicationKey")?,
                activation_id: jwt::string_claim(&claims, "activationId")?,
                challenge: jwt::required_string(&claims, "challenge")?,
            },
            issued_at_ms: jwt::seconds_claim_ms(&claims, "iat")?,
            not_before_ms: jwt::seconds_claim_ms(&claims, "nbf")?,
            expires_at_ms: jwt::seconds_claim_ms(&claims, "exp")?,
            signing_input: compact.signing_input,
            signature: compact.signature,
        })
    }

    /// The claims, unverified: use them only to find the application and activation.
    pub fn claims(&self) -> &KeyRequestClaims {
        &self.claims
    }

    /// Verifies the HS256 signature with the key of `scope`, and the time claims against
    /// `now_ms` when present (as Wultra's JWT library does: `exp` not passed, `iat` and
    /// `nbf` not in the future). The scope must match the `activationId` claim.
    pub fn verify(
        self,
        application_secret: &str,
        scope: Scope<'_>,
        now_ms: u64,
    ) -> Result<VerifiedKeyRequest, TemporaryKeyError> {
        let scope_matches = match scope {
            Scope::Application => self.claims.activation_id.is_none(),
            Scope::Activation { activation_id, .. } => {
                self.claims.activation_id.as_deref() == Some(activation_id)
            }
        };
        if !scope_matches {
            return Err(TemporaryKeyError::ScopeMismatch);
        }
        let key = RequestJwtKey::derive(application_secret, &scope)?;
        let mac = crate::hazmat::hmac_sha256(key.expose_bytes(), self.signing_input.as_bytes());
        if !crate::hazmat::constant_time_eq(&mac, &self.signature) {
            return Err(TemporaryKeyError::InvalidSignature);
        }
        let now = now_ms as f64;
        if self.expires_at_ms.is_some_and(|exp| now > exp) {
            return Err(TemporaryKeyError::Expired);
        }
        if [self.issued_at_ms, self.not_before_ms]
            .into_iter()
            .flatten()
            .any(|t| now < t)
        {
            return Err(TemporaryKeyError::NotYetValid);
        }
        Ok(VerifiedKeyRequest {
            claims: self.claims,
        })
    }
}

/// A request whose signature verified: the server may issue a key for it.
#[derive(Clone, Debug)]
pub struct VerifiedKeyRequest {
    claims: KeyRequestClaims,
}

#[derive(Serialize)]
struct ResponsePayload<'a> {
    sub: &'a str,
    exp: u64,
    iat: u64,
    #[serde(rename = "applicationKey")]
    application_key: &'a str,
    #[serde(rename = "activationId", skip_serializing_if = "Option::is_none")]
    activation_id: Option<&'a str>,
    challenge: &'a str,
    #[serde(rename = "publicKey")]
    public_key: String,
    iat_ms: u64,
    exp_ms: u64,
}

impl VerifiedKeyRequest {
    /// The verified claims.
    pub fn claims(&self) -> &KeyRequestClaims {
        &self.claims
    }

    /// The ES256 response JWT for a freshly made temporary key, signed by `signer`
    /// (`KEY_SERVER_MASTER_PRIVATE` in application scope, `KEY_SERVER_PRIVATE` in activation
    /// scope). Header `{"typ":"JWT","alg":"ES256"}`; claims in the reference server's order:
    /// `sub`, `exp`, `iat`, `applicationKey`, `activationId` (activation scope), `challenge`,
    /// `publicKey` (Base64 uncompressed), `iat_ms`, `exp_ms`. `exp_ms = now_ms +
    /// validity_ms` ([`super::DEFAULT_VALIDITY_MS`] on the reference server).
    pub fn respond(
        self,
        temporary_key_id: &str,
        temporary_public_key: &PublicKey,
        signer: &KeyPair,
        now_ms: u64,
        validity_ms: u64,
        rng: &dyn ring::rand::SecureRandom,
    ) -> String {
        let expires_ms = now_ms.saturating_add(validity_ms);
        let payload = serde_json::to_string(&ResponsePayload {
            sub: temporary_key_id,
            exp: expires_ms / 1000,
            iat: now_ms / 1000,
            application_key: &self.claims.application_key,
            activation_id: self.claims.activation_id.as_deref(),
            challenge: &self.claims.challenge,
            public_key: crate::encoding::b64(temporary_public_key.to_uncompressed()),
            iat_ms: now_ms,
            exp_ms: expires_ms,
        })
        .expect("a struct of strings and integers always serialises");
        let signing_input = jwt::signing_input(RESPONSE_HEADER, &payload);
        let signature = signer.sign_ecdsa_fixed(signing_input.as_bytes(), rng);
        format!("{signing_input}.{}", jwt::encode(signature))
    }
}

/// A fresh temporary key id: a random (version 4) UUID, lower-case.
pub fn make_key_id(rng: &dyn RandomSource) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
