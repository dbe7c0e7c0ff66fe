//! The secure vault (digest §9.1, §4.1 step 9) and the local protection of the knowledge
//! factor key ([`ProtectedKnowledgeKey`], §2.7).
//!
//! At activation the device encrypts its private key with `KEY_ENCRYPTION_VAULT`
//! ([`encrypt_device_private_key`]) and forgets the vault key. To use the private key later
//! (adding biometry, signing with it), it asks the server for a vault unlock: the server
//! answers `encryptedVaultEncryptionKey` ([`encrypt_vault_key`]), which the device unwraps
//! with `KEY_TRANSPORT` ([`decrypt_vault_key`]). Every wrap here is AES-128-CBC with PKCS#7
//! padding and a zero IV.

mod knowledge;

pub use knowledge::{KnowledgeKeyError, ProtectedKnowledgeKey};

use crate::hazmat::{aes_cbc_pkcs7_decrypt, aes_cbc_pkcs7_encrypt, constant_time_eq};
use crate::keys::{ActivationKeys, PrivateKey, PublicKey, SymmetricKey};
use zeroize::Zeroizing;

const ZERO_IV: [u8; 16] = [0; 16];

/// Why a vault item could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// `encryptedVaultEncryptionKey` is not 32 bytes: a truncated or foreign response.
    #[error("the encrypted vault key must be 32 bytes, got {0}")]
    InvalidEncryptedVaultKeyLength(usize),
    /// The vault key did not decrypt to 16 bytes: the transport key is not this
    /// activation's, or the server wrapped another activation's vault key.
    #[error("the vault key did not decrypt: wrong transport key")]
    VaultKeyDecryptionFailed,
    /// `C_KEY_DEVICE_PRIVATE` did not decrypt: the vault key is not the one it was stored
    /// with, or the stored ciphertext is corrupted.
    #[error("the device private key did not decrypt: wrong vault key or corrupted storage")]
    DevicePrivateKeyDecryptionFailed,
    /// The decrypted device private key is not a valid P-256 scalar: corrupted storage.
    #[error("the decrypted device private key is not a valid P-256 key")]
    InvalidDevicePrivateKey,
    /// The unwrapped vault key differs from `KDF(KEY_MASTER_SECRET, 2000)`: the server's
    /// public key or the stored private key belongs to another activation.
    #[error("the vault key does not match the activation's key exchange")]
    VaultKeyMismatch,
}

/// Server: `encryptedVaultEncryptionKey = AES-CBC-PKCS7(KEY_TRANSPORT, 0^16,
/// KEY_ENCRYPTION_VAULT)`, 32 bytes.
pub fn encrypt_vault_key(transport_key: &SymmetricKey, vault_key: &SymmetricKey) -> [u8; 32] {
    let encrypted = aes_cbc_pkcs7_encrypt(
        transport_key.expose_bytes(),
        &ZERO_IV,
        vault_key.expose_bytes(),
    );
    let mut out = [0u8; 32];
    out.copy_from_slice(&encrypted);
    out
}

/// Client: unwraps `encryptedVaultEncryptionKey` with `KEY_TRANSPORT` (digest §14 #10: the
/// client *decrypts*).
pub fn decrypt_vault_key(
    transport_key: &SymmetricKey,
    encrypted_vault_key: &[u8],
) -> Result<SymmetricKey, VaultError> {
    if encrypted_vault_key.len() != 32 {
        return Err(VaultError::InvalidEncryptedVaultKeyLength(
            encrypted_vault_key.len(),
        ));
    }
    let plain = Zeroizing::new(
        aes_cbc_pkcs7_decrypt(transport_key.expose_bytes(), &ZERO_IV, encrypted_vault_key)
            .map_err(|_| VaultError::VaultKeyDecryptionFailed)?,
    );
    SymmetricKey::from_slice(&plain).map_err(|_| VaultError::VaultKeyDecryptionFailed)
}

/// `C_KEY_DEVICE_PRIVATE = AES-CBC-PKCS7(KEY_ENCRYPTION_VAULT, 0^16, d)`, where `d` is Java's
/// `BigInteger.toByteArray()` of the scalar (31–33 bytes, digest §14 #28), so 32 or 48
/// bytes.
pub fn encrypt_device_private_key(
    vault_key: &SymmetricKey,
    device_private: &PrivateKey,
) -> Vec<u8> {
    aes_cbc_pkcs7_encrypt(
        vault_key.expose_bytes(),
        &ZERO_IV,
        &device_private.expose_java_bytes(),
    )
}

/// Decrypts `C_KEY_DEVICE_PRIVATE`. Accepts any unsigned big-endian scalar form (the C++
/// SDK stores 32 bytes, Java 31–33).
pub fn decrypt_device_private_key(
    vault_key: &SymmetricKey,
    encrypted_device_private_key: &[u8],
) -> Result<PrivateKey, VaultError> {
    let plain = Zeroizing::new(
        aes_cbc_pkcs7_decrypt(
            vault_key.expose_bytes(),
            &ZERO_IV,
            encrypted_device_private_key,
        )
        .map_err(|_| VaultError::DevicePrivateKeyDecryptionFailed)?,
    );
    PrivateKey::from_bytes(&plain).map_err(|_| VaultError::InvalidDevicePrivateKey)
}

/// Adding biometry after activation (digest §9.3, §16.15): opens the device private key
/// with the unlocked vault key, redoes the ECDH with the server public key, checks that
/// `KDF(KEY_MASTER_SECRET, 2000)` is the vault key, and returns
/// `KEY_SIGNATURE_BIOMETRY = KDF(KEY_MASTER_SECRET, 3)`.
pub fn derive_biometry_key_from_vault(
    vault_key: &SymmetricKey,
    encrypted_device_private_key: &[u8],
    server_public: &PublicKey,
) -> Result<SymmetricKey, VaultError> {
    let device_private = decrypt_device_private_key(vault_key, encrypted_device_private_key)?;
    let keys = ActivationKeys::derive_from_ecdh(&device_private, server_public);
    if !constant_time_eq(keys.vault.expose_bytes(), vault_key.expose_bytes()) {
        return Err(VaultError::VaultKeyMismatch);
    }
    Ok(keys.biometry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn vault_key_and_private_key_round_trip(transport in any::<[u8; 16]>(), vault in any::<[u8; 16]>(), seed in any::<[u8; 8]>()) {
            let (transport, vault) = (SymmetricKey::from_bytes(transport), SymmetricKey::from_bytes(vault));
            let wrapped = encrypt_vault_key(&transport, &vault);
            prop_assert_eq!(decrypt_vault_key(&transport, &wrapped).unwrap(), vault.clone());
            let private = PrivateKey::make(&SeededRandom::new(&seed));
            let stored = encrypt_device_private_key(&vault, &private);
            let opened = decrypt_device_private_key(&vault, &stored).unwrap();
            prop_assert_eq!(opened.expose_bytes(), private.expose_bytes());
        }
    }

    #[test]
    fn biometry_add_checks_the_vault_key() {
        let rng = SeededRandom::new(b"vault");
        let (device, server) = (KeyPair::make(&rng), KeyPair::make(&rng));
        let keys = ActivationKeys::derive_from_ecdh(&device.private, &server.public);
        let stored = encrypt_device_private_key(&keys.vault, &device.private);
        let unlocked = decrypt_vault_key(
            &keys.transport,
            &encrypt_vault_key(&keys.transport, &keys.vault),
        )
        .unwrap();
        assert_eq!(
            derive_biometry_key_from_vault(&unlocked, &stored, &server.public).unwrap(),
            keys.biometry
        );
        let other = KeyPair::make(&rng);
        assert_eq!(
            derive_biometry_key_from_vault(&unlocked, &stored, &other.public),
            Err(VaultError::VaultKeyMismatch)
        );
    }

    #[test]
    fn wrong_keys_and_lengths_fail() {
        let transport = SymmetricKey::from_bytes([1; 16]);
        let vault = SymmetricKey::from_bytes([2; 16]);
        assert_eq!(
            decrypt_vault_key(&transport, &[0; 16]),
            Err(VaultError::InvalidEncryptedVaultKeyLength(16))
        );
        let wrapped = encrypt_vault_key(&transport, &vault);
        let wrong = SymmetricKey::from_bytes([3; 16]);
        assert_ne!(
            decrypt_vault_key(&wrong, &wrapped).ok(),
            Some(vault.clone())
        );
        assert_eq!(
            decrypt_device_private_key(&vault, &[0; 15]).err(),
            Some(VaultError::DevicePrivateKeyDecryptionFailed)
        );
        let zero_scalar = aes_cbc_pkcs7_encrypt(vault.expose_bytes(), &ZERO_IV, &[0; 32]);
        assert_eq!(
            decrypt_device_private_key(&vault, &zero_scalar).err(),
            Some(VaultError::InvalidDevicePrivateKey)
        );
    }
}
