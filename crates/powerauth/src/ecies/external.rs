//! ECIES for an intermediate server that holds no private key (digest §12
//! `/rest/v3/ecies/decryptor`): PowerAuth Server derives the envelope key `K_ENC || K_MAC
//! || K_IV` for the request's ephemeral key and hands it out with `SH2_BASE`; the
//! intermediate server then decrypts that one request and encrypts its response.
//!
//! ```text
//! server:       Encryptor::external_secrets(private key, ephemeral key) -> ExternalSecrets
//! intermediate: ExternalDecryptor::decrypt_request(secrets, request) -> (plaintext, ResponseEncryptor)
//! ```

use super::cipher::Exchange;
use super::{EciesError, EncryptedRequest, Encryptor, ResponseEncryptor, associated_data};
use crate::ProtocolVersion;
use crate::keys::{PrivateKey, PublicKey};
use zeroize::Zeroizing;

/// The envelope key of one exchange and `SH2_BASE`. `Debug` shows neither.
#[derive(Clone)]
pub struct ExternalSecrets {
    envelope_key: Zeroizing<[u8; 48]>,
    shared_info2_base: Zeroizing<[u8; 32]>,
}

impl ExternalSecrets {
    /// The secrets from their bytes (`secretKey` and `sharedInfo2` of the decryptor
    /// response, Base64-decoded). Fails unless they are 48 and 32 bytes.
    pub fn from_bytes(envelope_key: &[u8], shared_info2_base: &[u8]) -> Result<Self, EciesError> {
        let key: [u8; 48] = envelope_key
            .try_into()
            .map_err(|_| EciesError::InvalidSecrets)?;
        let base: [u8; 32] = shared_info2_base
            .try_into()
            .map_err(|_| EciesError::InvalidSecrets)?;
        Ok(Self {
            envelope_key: Zeroizing::new(key),
            shared_info2_base: Zeroizing::new(base),
        })
    }

    /// `K_ENC || K_MAC || K_IV`, the `secretKey` of the decryptor response.
    pub fn expose_envelope_key(&self) -> &[u8; 48] {
        &self.envelope_key
    }

    /// `SH2_BASE`, the `sharedInfo2` of the decryptor response.
    pub fn shared_info2_base(&self) -> &[u8; 32] {
        &self.shared_info2_base
    }
}

impl std::fmt::Debug for ExternalSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExternalSecrets(<redacted>)")
    }
}

impl Encryptor<'_> {
    /// The server side of the decryptor: the secrets that open the request whose
    /// ephemeral key is `ephemeral_public_key` (as transmitted), encrypted to `recipient`.
    pub fn external_secrets(
        &self,
        recipient: &PrivateKey,
        ephemeral_public_key: &PublicKey,
    ) -> ExternalSecrets {
        let exchange = Exchange::new(
            self.version,
            &recipient.ecdh(ephemeral_public_key),
            &self.shared_info1.derive_bytes(self.version),
            ephemeral_public_key.encoded(),
            self.shared_info2_base(),
            None,
        );
        ExternalSecrets {
            envelope_key: exchange.envelope_key(),
            shared_info2_base: Zeroizing::new(self.shared_info2_base()),
        }
    }
}

/// What the intermediate server knows of an exchange besides the secrets: the version
/// and the associated data's parts.
#[derive(Clone, Copy, Debug)]
pub struct ExternalDecryptor<'a> {
    /// The declared protocol version.
    pub version: ProtocolVersion,
    /// The Base64 `APP_KEY`.
    pub application_key: &'a str,
    /// The activation id in activation scope, `None` in application scope.
    pub activation_id: Option<&'a str>,
}

impl ExternalDecryptor<'_> {
    /// Verifies and decrypts `request` with `secrets`, with the same field-presence rules
    /// as [`Encryptor::decrypt_request`]; the responder answers it.
    pub fn decrypt_request(
        &self,
        secrets: &ExternalSecrets,
        request: &EncryptedRequest,
    ) -> Result<(Vec<u8>, ResponseEncryptor), EciesError> {
        let exchange = Exchange::from_envelope_key(
            self.version,
            &secrets.envelope_key,
            *secrets.shared_info2_base,
            associated_data(
                self.version,
                self.application_key,
                self.activation_id,
                request.temporary_key_id.as_deref(),
            ),
        );
        let plaintext = exchange.open_request(request)?;
        Ok((plaintext, ResponseEncryptor::new(exchange, request.nonce)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecies::{Recipient, Scope, SharedInfo1};
    use crate::keys::{KeyPair, SymmetricKey};
    use crate::random::SystemRandom;

    const APP_KEY: &str = "w4Jdh2OGDRqVe1qVgW1t5g==";
    const APP_SECRET: &str = "ZSs9CfNQu0iVB9HLs+pXcg==";

    /// Every version and both scopes: what a device encrypts, the external secrets open,
    /// and the device reads the answer; a wrong activation id breaks the MAC.
    #[test]
    fn external_secrets_open_a_request_and_answer_it() {
        let rng = SystemRandom::new();
        let server = KeyPair::make(&rng);
        let transport = SymmetricKey::from_slice(&[7; 16]).unwrap();
        for version in ProtocolVersion::ALL {
            for activation_id in [None, Some("c564e700-7e86-4a87-b6c8-a5a0cc89683f")] {
                let (scope, shared_info1) = match activation_id {
                    None => (Scope::Application, SharedInfo1::ApplicationScopeGeneric),
                    Some(id) => (
                        Scope::Activation {
                            activation_id: id,
                            transport_key: &transport,
                        },
                        SharedInfo1::ActivationScopeGeneric,
                    ),
                };
                let encryptor =
                    Encryptor::new(version, shared_info1, APP_KEY, APP_SECRET, scope).unwrap();
                let recipient = if version.uses_temporary_keys() {
                    Recipient::Temporary {
                        id: "tk-1",
                        public_key: &server.public,
                    }
                } else {
                    Recipient::Static(&server.public)
                };
                let (request, decryptor) = encryptor
                    .encrypt_request(recipient, b"{\"data\":\"hi\"}", &rng, 1_700_000_000_000)
                    .unwrap();
                let secrets =
                    encryptor.external_secrets(&server.private, &request.ephemeral_public_key);
                let external = ExternalDecryptor {
                    version,
                    application_key: APP_KEY,
                    activation_id,
                };
                let (plain, responder) = external.decrypt_request(&secrets, &request).unwrap();
                assert_eq!(plain, b"{\"data\":\"hi\"}", "{version}");
                let response = responder.encrypt_response(b"ok", &rng, 1_700_000_000_001);
                assert_eq!(decryptor.decrypt_response(&response).unwrap(), b"ok");

                let wrong = ExternalDecryptor {
                    activation_id: Some("another"),
                    ..external
                };
                if version.ecies_has_timestamp() {
                    assert_eq!(
                        wrong.decrypt_request(&secrets, &request).err(),
                        Some(EciesError::MacMismatch)
                    );
                }
            }
        }
        assert_eq!(
            ExternalSecrets::from_bytes(&[0; 32], &[0; 32]).err(),
            Some(EciesError::InvalidSecrets)
        );
        assert!(
            !format!(
                "{:?}",
                ExternalSecrets::from_bytes(&[1; 48], &[2; 32]).unwrap()
            )
            .contains('1')
        );
    }
}
