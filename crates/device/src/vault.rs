//! The vault (digest §9.1–§9.3): unlock with PIN or biometry, enroll biometry through the
//! vault, and PIN change with an online proof of the old PIN.

use crate::session::{Factors, Session};
use crate::state::Biometry;
use crate::{Error, Result};
use powerauth::SymmetricKey;
use powerauth::ecies::SharedInfo1;
use powerauth::vault::{decrypt_vault_key, derive_biometry_key_from_vault};
use serde_json::{Value, json};

/// The vault endpoint.
pub const UNLOCK_PATH: &str = "/pa/v3/vault/unlock";

impl Session<'_> {
    /// `POST /pa/v3/vault/unlock` with `reason` (e.g. `ADD_BIOMETRY`): returns
    /// `KEY_ENCRYPTION_VAULT`. A wrong PIN counts as a failed attempt.
    pub async fn unlock_vault(&mut self, factors: &Factors, reason: &str) -> Result<SymmetricKey> {
        const WHAT: &str = "vault/unlock";
        let plaintext = json!({ "reason": reason }).to_string();
        let (body, decryptor) = self
            .encrypt_for_activation(SharedInfo1::VaultUnlock, plaintext.as_bytes())
            .await?;
        let mut request = self.signed_post(WHAT, UNLOCK_PATH, "/pa/vault/unlock", factors, body)?;
        request.plaintext = Some(plaintext);
        request.decryptor = Some(decryptor);
        let reply = self.execute(request).await?;
        let plain: Value = serde_json::from_slice(reply.decrypted(WHAT)?)
            .map_err(|e| Error::invalid(WHAT, format!("not JSON: {e}")))?;
        let encrypted =
            crate::client::envelope::string_field(&plain, "encryptedVaultEncryptionKey", WHAT)?;
        let encrypted = powerauth::encoding::b64_decode(&encrypted)
            .map_err(|_| Error::invalid(WHAT, "encryptedVaultEncryptionKey is not Base64"))?;
        Ok(decrypt_vault_key(&self.device.transport_key, &encrypted)?)
    }

    /// Enrolls the simulated biometry: unlocks the vault with the PIN (`ADD_BIOMETRY`),
    /// recomputes the master secret from the device private key, stores
    /// `KEY_SIGNATURE_BIOMETRY` under the current enrollment.
    pub async fn enroll_biometry(&mut self, pin: &str) -> Result<()> {
        let vault_key = self
            .unlock_vault(&Factors::pin(pin), "ADD_BIOMETRY")
            .await?;
        let device = &*self.device;
        let key = derive_biometry_key_from_vault(
            &vault_key,
            &device.encrypted_device_private_key,
            &device.server_public_key,
        )?;
        let enrollment_id = device.biometric_enrollment.clone();
        self.device.biometry = Some(Biometry { key, enrollment_id });
        self.persist.persist(self.device).map_err(Error::Persist)
    }

    /// Changes the PIN: proves `old_pin` online (a `possession_knowledge`
    /// `/pa/v3/signature/validate`, reason `VALIDATE_PASSWORD`), then re-wraps the
    /// knowledge key under `new_pin`. A wrong old PIN changes nothing locally.
    pub async fn change_pin(&mut self, old_pin: &str, new_pin: &str) -> Result<()> {
        self.validate_signature(&Factors::pin(old_pin), "VALIDATE_PASSWORD")
            .await?;
        self.device.knowledge_key =
            self.device
                .knowledge_key
                .change_pin(old_pin, new_pin, self.client.rng());
        self.persist.persist(self.device).map_err(Error::Persist)
    }
}
