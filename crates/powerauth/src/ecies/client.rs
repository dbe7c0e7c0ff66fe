//! The client side: encrypt a request, then decrypt the one response it answers.

use super::cipher::{Exchange, check_presence};
use super::{EciesError, EncryptedRequest, EncryptedResponse, Encryptor};
use crate::keys::{KeyPair, PublicKey};
use crate::random::RandomSource;

/// The public key a request is encrypted to (`KEY_ENC_PUB`, digest §7.1).
#[derive(Clone, Copy, Debug)]
pub enum Recipient<'a> {
    /// 3.0–3.2: `KEY_SERVER_MASTER_PUBLIC` (application scope) or `KEY_SERVER_PUBLIC`
    /// (activation scope).
    Static(&'a PublicKey),
    /// 3.3: a temporary key from `/pa/v3/keystore/create`, with its id.
    Temporary {
        /// The `sub` of the temporary key JWT, sent as `temporaryKeyId`.
        id: &'a str,
        /// The temporary public key.
        public_key: &'a PublicKey,
    },
}

impl Encryptor<'_> {
    /// Encrypts a request body with a fresh ephemeral key (sent compressed, as the mobile
    /// SDK does), a fresh nonce, and `now_ms` as the timestamp.
    pub fn encrypt_request(
        &self,
        recipient: Recipient<'_>,
        plaintext: &[u8],
        rng: &dyn RandomSource,
        now_ms: u64,
    ) -> Result<(EncryptedRequest, ResponseDecryptor), EciesError> {
        let pair = KeyPair::make(rng);
        let ephemeral = KeyPair {
            public: pair.public.compressed(),
            private: pair.private,
        };
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        self.encrypt_request_with(recipient, plaintext, &ephemeral, nonce, now_ms)
    }

    /// Encrypts a request body with explicit values, for replaying vectors.
    ///
    /// `ephemeral.public` must be `ephemeral.private`'s key; its encoding (compressed or
    /// uncompressed) is what goes on the wire and into the KDF. The nonce is used from 3.1,
    /// the timestamp from 3.2; older versions ignore them.
    pub fn encrypt_request_with(
        &self,
        recipient: Recipient<'_>,
        plaintext: &[u8],
        ephemeral: &KeyPair,
        nonce: [u8; 16],
        timestamp_ms: u64,
    ) -> Result<(EncryptedRequest, ResponseDecryptor), EciesError> {
        let (public_key, temporary_key_id) = match (recipient, self.version.uses_temporary_keys()) {
            (Recipient::Static(key), false) => (key, None),
            (Recipient::Temporary { id, public_key }, true) => (public_key, Some(id)),
            (Recipient::Static(_), true) => {
                return Err(EciesError::TemporaryKeyRequired(self.version));
            }
            (Recipient::Temporary { .. }, false) => {
                return Err(EciesError::TemporaryKeyNotSupported(self.version));
            }
        };
        let ephemeral_bytes = ephemeral.public.encoded();
        let exchange = Exchange::new(
            self.version,
            &ephemeral.private.ecdh(public_key),
            &self.shared_info1.derive_bytes(self.version),
            ephemeral_bytes,
            self.shared_info2_base(),
            self.associated_data(temporary_key_id),
        );
        let nonce = self.version.ecies_has_nonce().then_some(nonce);
        let timestamp = self.version.ecies_has_timestamp().then_some(timestamp_ms);
        let shared_info2 = exchange.shared_info2(nonce.as_ref(), timestamp, Some(ephemeral_bytes));
        let (encrypted_data, mac) = exchange.seal(plaintext, nonce.as_ref(), &shared_info2);
        let request = EncryptedRequest {
            temporary_key_id: temporary_key_id.map(str::to_owned),
            ephemeral_public_key: ephemeral.public.clone(),
            encrypted_data,
            mac,
            nonce,
            timestamp,
        };
        let decryptor = ResponseDecryptor {
            exchange,
            request_nonce: nonce,
        };
        Ok((request, decryptor))
    }
}

/// The client's half of one exchange, waiting for the response to its request.
pub struct ResponseDecryptor {
    exchange: Exchange,
    request_nonce: Option<[u8; 16]>,
}

impl ResponseDecryptor {
    /// Verifies and decrypts the response. Its `nonce` and `timestamp` must be present from
    /// 3.2 and absent before; 3.1 reuses the request nonce for the IV, 3.0 a zero IV.
    pub fn decrypt_response(self, response: &EncryptedResponse) -> Result<Vec<u8>, EciesError> {
        let version = self.exchange.version();
        let own_nonce = version.ecies_has_timestamp();
        check_presence("nonce", response.nonce.is_some(), own_nonce, version)?;
        check_presence(
            "timestamp",
            response.timestamp.is_some(),
            own_nonce,
            version,
        )?;
        let iv_nonce = if own_nonce {
            response.nonce
        } else {
            self.request_nonce
        };
        let shared_info2 =
            self.exchange
                .shared_info2(response.nonce.as_ref(), response.timestamp, None);
        self.exchange.open(
            &response.encrypted_data,
            &response.mac,
            iv_nonce.as_ref(),
            &shared_info2,
        )
    }
}

impl std::fmt::Debug for ResponseDecryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseDecryptor(<redacted>)")
    }
}
