//! The server side: decrypt a request, then encrypt the one response that answers it.

use super::cipher::{Exchange, check_request_fields};
use super::{EciesError, EncryptedRequest, EncryptedResponse, Encryptor};
use crate::keys::PrivateKey;
use crate::random::RandomSource;

impl Encryptor<'_> {
    /// Verifies and decrypts a request with the private key it was encrypted to:
    /// `KEY_SERVER_MASTER_PRIVATE` (application scope), `KEY_SERVER_PRIVATE` (activation
    /// scope), or in 3.3 the temporary private key named by `request.temporary_key_id`.
    ///
    /// Field presence is strict (digest §7.3): `nonce` from 3.1, `timestamp` from 3.2 and
    /// `temporaryKeyId` in 3.3 are required, and forbidden in the versions before.
    pub fn decrypt_request(
        &self,
        recipient: &PrivateKey,
        request: &EncryptedRequest,
    ) -> Result<(Vec<u8>, ResponseEncryptor), EciesError> {
        let version = self.version;
        // Field presence first: a 3.2 request without timestamp must not cost an ECDH.
        check_request_fields(version, request)?;
        let exchange = Exchange::new(
            version,
            &recipient.ecdh(&request.ephemeral_public_key),
            &self.shared_info1.derive_bytes(version),
            request.ephemeral_public_key.encoded(),
            self.shared_info2_base(),
            self.associated_data(request.temporary_key_id.as_deref()),
        );
        let plaintext = exchange.open_request(request)?;
        let encryptor = ResponseEncryptor {
            exchange,
            request_nonce: request.nonce,
        };
        Ok((plaintext, encryptor))
    }
}

/// The server's half of one exchange, ready to answer the request it decrypted.
pub struct ResponseEncryptor {
    exchange: Exchange,
    request_nonce: Option<[u8; 16]>,
}

impl ResponseEncryptor {
    pub(super) fn new(exchange: Exchange, request_nonce: Option<[u8; 16]>) -> Self {
        Self {
            exchange,
            request_nonce,
        }
    }

    /// Encrypts the response with a fresh nonce (different from the request's) and `now_ms`
    /// as the timestamp.
    pub fn encrypt_response(
        self,
        plaintext: &[u8],
        rng: &dyn RandomSource,
        now_ms: u64,
    ) -> EncryptedResponse {
        let mut nonce = [0u8; 16];
        // Like Wultra's server, draw again if the response nonce repeats the request's.
        for _ in 0..8 {
            rng.fill(&mut nonce);
            if Some(nonce) != self.request_nonce {
                break;
            }
        }
        self.encrypt_response_with(plaintext, nonce, now_ms)
    }

    /// Encrypts the response with explicit values, for replaying vectors.
    ///
    /// From 3.2 the response carries `nonce` and `timestamp`. Before 3.2 both are ignored:
    /// 3.1 reuses the request nonce for the IV, 3.0 uses a zero IV.
    pub fn encrypt_response_with(
        self,
        plaintext: &[u8],
        nonce: [u8; 16],
        timestamp_ms: u64,
    ) -> EncryptedResponse {
        let own_nonce = self.exchange.version().ecies_has_timestamp();
        let nonce = own_nonce.then_some(nonce);
        let timestamp = own_nonce.then_some(timestamp_ms);
        let iv_nonce = if own_nonce { nonce } else { self.request_nonce };
        let shared_info2 = self.exchange.shared_info2(nonce.as_ref(), timestamp, None);
        let (encrypted_data, mac) = self
            .exchange
            .seal(plaintext, iv_nonce.as_ref(), &shared_info2);
        EncryptedResponse {
            encrypted_data,
            mac,
            nonce,
            timestamp,
        }
    }
}

impl std::fmt::Debug for ResponseEncryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseEncryptor(<redacted>)")
    }
}
