//! Generic ECIES exchanges (digest §7): any bytes, encrypted in application scope
//! (`/pa/generic/application`) or in the device's activation scope
//! (`/pa/generic/activation`), sent to any endpoint of the device's server, and the
//! decrypted answer back. This is how a developer tests their own server's encrypted
//! endpoints, or the sandbox's `/exchange/v3/*`.
//!
//! - Without a signature, `X-PowerAuth-Encryption` names the scope, the application key,
//!   the activation (activation scope) and the version.
//! - With a signature ([`Session::signed_encrypted_exchange`]), only
//!   `X-PowerAuth-Authorization` goes along (its version drives the encryption, digest
//!   §7.5). Sign-then-encrypt, as Wultra's SDK and cmd-tool do it: the signature covers
//!   the plaintext and the given resource id, then the plaintext is encrypted.
//!
//! Protocol 3.3 encrypts to a temporary key of the scope, cached on the device. The
//! inspector sees the plaintext of both directions (JSON secrets redacted).

use crate::client::{AUTHORIZATION, Request};
use crate::session::{Factors, Session};
use crate::{Error, Result};
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptionHeader, Encryptor, Recipient, Scope, SharedInfo1,
};

/// Which key set a generic exchange is encrypted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EciesScope {
    /// The application's: anyone with the app's configuration can send it.
    Application,
    /// The device's activation: the server must know the activation.
    Activation,
}

impl EciesScope {
    /// `application` or `activation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Application => "application",
            Self::Activation => "activation",
        }
    }
}

impl std::fmt::Display for EciesScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EciesScope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "application" => Ok(Self::Application),
            "activation" => Ok(Self::Activation),
            other => Err(Error::Protocol(format!(
                "unknown ECIES scope {other:?}: use application or activation"
            ))),
        }
    }
}

/// What an exchange is called in errors and the inspector.
const WHAT: &str = "encrypted exchange";

impl Session<'_> {
    /// Encrypts `plaintext` in `scope`, POSTs it to `path` (under the device's server URL)
    /// with `X-PowerAuth-Encryption`, and returns the decrypted answer. A non-200 answer
    /// is [`Error::Server`] with the server's code.
    pub async fn encrypted_exchange(
        &mut self,
        scope: EciesScope,
        path: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let (body, decryptor) = match scope {
            EciesScope::Application => self.encrypt_for_application(plaintext).await?,
            EciesScope::Activation => {
                self.encrypt_for_activation(SharedInfo1::ActivationScopeGeneric, plaintext)
                    .await?
            }
        };
        let device = &*self.device;
        let application_key = device.application_key();
        let version = device.profile.version;
        let header = match scope {
            EciesScope::Application => EncryptionHeader::application(&application_key, version),
            EciesScope::Activation => {
                EncryptionHeader::activation(&application_key, &device.activation_id, version)
            }
        };
        let mut request =
            Request::post(WHAT, path, body).header(ENCRYPTION_HEADER_NAME, header.to_string());
        request.plaintext = Some(String::from_utf8_lossy(plaintext).into_owned());
        request.decryptor = Some(decryptor);
        let reply = self.execute(request).await?;
        reply.decrypted(WHAT).map(<[u8]>::to_vec)
    }

    /// Signs `plaintext` with `factors` for resource id `uri_id`, encrypts it in
    /// activation scope, POSTs it to `path`, and returns the decrypted answer.
    pub async fn signed_encrypted_exchange(
        &mut self,
        path: &str,
        uri_id: &str,
        factors: &Factors,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let (body, decryptor) = self
            .encrypt_for_activation(SharedInfo1::ActivationScopeGeneric, plaintext)
            .await?;
        // The signature is computed after the temporary key fetch: signing moves the
        // counter, and a failed fetch must not spend it.
        let authorization = self.sign(factors, "POST", uri_id, plaintext)?;
        let mut request = Request::post(WHAT, path, body).header(AUTHORIZATION, authorization);
        request.plaintext = Some(String::from_utf8_lossy(plaintext).into_owned());
        request.decryptor = Some(decryptor);
        let reply = self.execute(request).await?;
        reply.decrypted(WHAT).map(<[u8]>::to_vec)
    }

    /// Encrypts `plaintext` in application scope for `/pa/generic/application` (3.3: to
    /// the cached or a fresh application-scope temporary key).
    async fn encrypt_for_application(
        &mut self,
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, powerauth::ecies::ResponseDecryptor)> {
        let version = self.device.profile.version;
        let temporary = if version.uses_temporary_keys() {
            let device = &mut *self.device;
            Some(
                crate::keystore::cached_or_fetch(
                    self.client,
                    &mut device.temporary_keys.application,
                    &device.profile.server_url,
                    &device.profile.application,
                    Scope::Application,
                    &device.profile.application.master_server_public_key,
                )
                .await?,
            )
        } else {
            None
        };
        let device = &*self.device;
        let application_key = device.application_key();
        let secret = device.profile.application.application_secret.expose_b64();
        let encryptor = Encryptor::new(
            version,
            SharedInfo1::ApplicationScopeGeneric,
            &application_key,
            &secret,
            Scope::Application,
        )
        .map_err(|e| Error::Protocol(e.to_string()))?;
        let recipient = match &temporary {
            Some(key) => key.recipient(),
            None => Recipient::Static(&device.profile.application.master_server_public_key),
        };
        crate::client::encrypt(self.client, &encryptor, recipient, plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        for scope in [EciesScope::Application, EciesScope::Activation] {
            assert_eq!(scope.to_string().parse::<EciesScope>().unwrap(), scope);
        }
        assert!("global".parse::<EciesScope>().is_err());
    }
}
