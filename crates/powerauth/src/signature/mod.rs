//! PowerAuth signatures: the multi-factor HMAC over normalized request data that
//! authenticates a request (digest §5), for both the client and the server.
//!
//! Client, one signed request:
//! ```
//! use powerauth::signature::{Authorization, FactorKeys, RequestToSign, SignatureType};
//! use powerauth::{ActivationKeys, CtrData, ProtocolVersion, SeededRandom, SymmetricKey};
//!
//! let keys = ActivationKeys::derive(&SymmetricKey::from_bytes([7; 16]));
//! let mut ctr_data = CtrData::from_bytes([1; 16]);
//! let authorization = Authorization {
//!     activation_id: "c564e700-7e86-4a87-b6c8-a5a0cc89683f",
//!     application_key: "Z19gyYaW5kb521fYWN0aXQ==",
//!     application_secret: "fLz13bJJtBHZCgJve1oHUQ==",
//!     version: ProtocolVersion::V3_3,
//!     signature_type: SignatureType::PossessionKnowledge,
//! };
//! let request = RequestToSign { method: "POST", uri_id: "/pa/signature/validate", body: b"{}" };
//! let header = authorization
//!     .sign(&FactorKeys::from(&keys), &mut ctr_data, &request, &SeededRandom::new(b"doc"))
//!     .unwrap();
//! assert!(header.to_header_value().starts_with("PowerAuth pa_activation_id="));
//! ```
//!
//! Server: [`AuthorizationHeader::parse`], rebuild [`RequestData`] from the request,
//! append the application secret, then [`Verifier::verify_online`], and apply the
//! failed-attempt policy of [`FailedAttempts`].

mod attempts;
mod compute;
mod data;
mod factors;
mod header;
mod verify;

pub use crate::header_fields::HeaderFields;
pub use attempts::{AfterInvalid, DEFAULT_MAX_FAILED_ATTEMPTS, FailedAttempts, counts_as_attempt};
pub use compute::{ComponentLength, SignatureFormat, compute_signature};
pub use data::{
    OFFLINE_APPLICATION_SECRET, QueryError, RequestData, SignatureBase, canonicalize_params,
    canonicalize_query,
};
pub use factors::{Factor, FactorKeys, SignatureType, UnknownSignatureType};
pub use header::{AuthorizationHeader, AuthorizationHeaderError};
pub use verify::{DEFAULT_LOOKAHEAD, Diagnosis, OfflineOptions, Verified, Verifier};

pub(crate) use crate::header_fields::build as build_header_fields;

use crate::counter::CtrData;
use crate::random::RandomSource;
use crate::version::ProtocolVersion;

/// Why a signature could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature type needs a factor whose key the caller does not hold (knowledge
    /// not unlocked, biometry not enabled).
    #[error("the {0:?} factor key is not available")]
    MissingFactorKey(Factor),
    /// A decimal component length outside 4..=8.
    #[error("decimal signature component length {0} is outside 4..=8")]
    InvalidComponentLength(u8),
}

/// The parts of a request that get signed.
#[derive(Clone, Copy, Debug)]
pub struct RequestToSign<'a> {
    /// The HTTP method (upper-cased when normalized).
    pub method: &'a str,
    /// The resource id, e.g. `/pa/token/create` or `/operation/authorize`.
    pub uri_id: &'a str,
    /// The exact body bytes sent; for GET, the output of [`canonicalize_query`].
    pub body: &'a [u8],
}

/// Who signs and how: everything of an `X-PowerAuth-Authorization` header except the
/// per-request nonce and signature.
#[derive(Clone, Copy, Debug)]
pub struct Authorization<'a> {
    /// The activation's `ACTIVATION_ID`.
    pub activation_id: &'a str,
    /// `APP_KEY`, the Base64 string.
    pub application_key: &'a str,
    /// `APP_SECRET`, the Base64 string (it is signed as text).
    pub application_secret: &'a str,
    /// The protocol version to speak; 3.0 signs in decimal, 3.1+ in Base64.
    pub version: ProtocolVersion,
    /// The factors to sign with.
    pub signature_type: SignatureType,
}

impl Authorization<'_> {
    /// Signs `request` with a fresh 16-byte nonce from `rng`; see [`Self::sign_with_nonce`].
    pub fn sign(
        &self,
        keys: &FactorKeys<'_>,
        ctr_data: &mut CtrData,
        request: &RequestToSign<'_>,
        rng: &dyn RandomSource,
    ) -> Result<AuthorizationHeader, SignatureError> {
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        self.sign_with_nonce(keys, ctr_data, request, nonce)
    }

    /// Signs `request` with `nonce`, advances `ctr_data`, and returns the header.
    pub fn sign_with_nonce(
        &self,
        keys: &FactorKeys<'_>,
        ctr_data: &mut CtrData,
        request: &RequestToSign<'_>,
        nonce: [u8; 16],
    ) -> Result<AuthorizationHeader, SignatureError> {
        let data = RequestData::new(request.method, request.uri_id, &nonce, request.body);
        let base = data.with_application_secret(self.application_secret);
        let format = SignatureFormat::online(self.version);
        let signature = compute_signature(keys, self.signature_type, ctr_data, &base, format)?;
        Ok(AuthorizationHeader {
            activation_id: self.activation_id.to_string(),
            application_key: self.application_key.to_string(),
            nonce,
            signature_type: self.signature_type,
            signature,
            version: self.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{ActivationKeys, SymmetricKey};

    #[test]
    fn a_signed_header_verifies_on_the_server_side() {
        let keys = ActivationKeys::derive(&SymmetricKey::from_bytes([9; 16]));
        let server_ctr = CtrData::from_bytes([4; 16]);
        let mut client_ctr = server_ctr.clone();
        let secret = "fLz13bJJtBHZCgJve1oHUQ==";
        for version in ProtocolVersion::ALL {
            let authorization = Authorization {
                activation_id: "c564e700-7e86-4a87-b6c8-a5a0cc89683f",
                application_key: "Z19gyYaW5kb521fYWN0aXQ==",
                application_secret: secret,
                version,
                signature_type: SignatureType::PossessionKnowledge,
            };
            let request = RequestToSign {
                method: "post",
                uri_id: "/pa/vault/unlock",
                body: b"{\"a\":1}",
            };
            let header = authorization
                .sign_with_nonce(&FactorKeys::from(&keys), &mut client_ctr, &request, [3; 16])
                .unwrap();

            // The server's view: parse the header, rebuild DATA, verify.
            let parsed = AuthorizationHeader::parse(&header.to_header_value()).unwrap();
            let base = RequestData::new("POST", "/pa/vault/unlock", &parsed.nonce, b"{\"a\":1}")
                .with_application_secret(secret);
            let verified = Verifier::new(FactorKeys::from(&keys))
                .verify_online(
                    &server_ctr,
                    parsed.signature_type,
                    &parsed.signature,
                    &base,
                    parsed.version,
                )
                .unwrap();
            assert_eq!(verified.next_ctr_data, client_ctr);
        }
        assert_eq!(client_ctr, server_ctr.advanced(4));
    }
}
