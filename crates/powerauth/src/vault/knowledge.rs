//! `KEY_SIGNATURE_KNOWLEDGE` at rest, protected by the user's PIN (digest §2.7, §16.15).
//!
//! `key = PBKDF2-HMAC-SHA1(utf8(PIN), salt[16], iterations, 16 bytes)`, then
//! `encrypted = AES-128-CBC-NoPadding(key, 0^16, KEY_SIGNATURE_KNOWLEDGE)`.
//!
//! There is deliberately no padding and no MAC: any PIN decrypts to *some* 16-byte key.
//! Whoever copies the device storage therefore has no way to test PIN guesses offline; a
//! guess can only be checked by a signature the server verifies and counts against
//! `maxFailedAttempts`. Adding a check value would turn a 4-digit PIN into an offline
//! brute-force of 10 000 tries. This is local storage, invisible on the wire.

use crate::encoding::{b64, b64_decode};
use crate::hazmat::{aes_cbc_nopad_decrypt, aes_encrypt_block, pbkdf2_hmac_sha1};
use crate::keys::SymmetricKey;
use crate::random::RandomSource;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Why stored knowledge-key data was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KnowledgeKeyError {
    /// Fewer than 10 000 PBKDF2 iterations: storage written by a weaker client, or tampered.
    #[error("PBKDF2 iterations {0} are below the minimum of 10000")]
    TooFewIterations(u32),
    /// The salt is not 16 bytes: corrupted storage.
    #[error("the PIN salt must be 16 bytes, got {0}")]
    InvalidSaltLength(usize),
    /// The encrypted key is not 16 bytes: corrupted storage.
    #[error("the encrypted knowledge key must be 16 bytes, got {0}")]
    InvalidEncryptedKeyLength(usize),
    /// A stored field is not Base64: corrupted or hand-edited storage.
    #[error("stored field `{0}` is not valid Base64")]
    InvalidBase64(&'static str),
}

/// The knowledge key as a device stores it: salt, iteration count and the encrypted key.
/// Serialises as `{"salt", "iterations", "encrypted_key"}` (Base64 bytes). `Debug` shows
/// the iteration count only: salt and ciphertext together allow an offline PIN search.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "StoredForm", into = "StoredForm")]
pub struct ProtectedKnowledgeKey {
    salt: [u8; 16],
    iterations: u32,
    encrypted_key: [u8; 16],
}

impl ProtectedKnowledgeKey {
    /// The iteration count every SDK writes, and sets again on a PIN change.
    pub const DEFAULT_ITERATIONS: u32 = 10_000;
    /// The fewest iterations accepted.
    pub const MIN_ITERATIONS: u32 = 10_000;

    /// Protects `knowledge_key` with `pin`, a fresh 16-byte salt and 10 000 iterations.
    pub fn protect(knowledge_key: &SymmetricKey, pin: &str, rng: &dyn RandomSource) -> Self {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        Self::wrap(knowledge_key, pin, salt, Self::DEFAULT_ITERATIONS)
    }

    /// Protects `knowledge_key` with an explicit salt and iteration count.
    pub fn protect_with(
        knowledge_key: &SymmetricKey,
        pin: &str,
        salt: [u8; 16],
        iterations: u32,
    ) -> Result<Self, KnowledgeKeyError> {
        check_iterations(iterations)?;
        Ok(Self::wrap(knowledge_key, pin, salt, iterations))
    }

    /// Rebuilds stored data, e.g. an import of Wultra's command-line client status file
    /// (`signatureKnowledgeKeySalt`, `signatureKnowledgeKeyEncrypted`, 10 000 iterations).
    pub fn from_parts(
        salt: &[u8],
        iterations: u32,
        encrypted_key: &[u8],
    ) -> Result<Self, KnowledgeKeyError> {
        check_iterations(iterations)?;
        Ok(Self {
            salt: salt
                .try_into()
                .map_err(|_| KnowledgeKeyError::InvalidSaltLength(salt.len()))?,
            iterations,
            encrypted_key: encrypted_key
                .try_into()
                .map_err(|_| KnowledgeKeyError::InvalidEncryptedKeyLength(encrypted_key.len()))?,
        })
    }

    /// The knowledge key for `pin`. A wrong PIN yields a wrong key without any error (see
    /// the module docs): the server's signature check is the only judge.
    pub fn unlock(&self, pin: &str) -> SymmetricKey {
        let key = self.pin_key(pin);
        let plain = Zeroizing::new(
            aes_cbc_nopad_decrypt(&key, &[0; 16], &self.encrypted_key)
                .expect("16 bytes are one whole AES block"),
        );
        SymmetricKey::from_slice(&plain).expect("one AES block is 16 bytes")
    }

    /// PIN change: re-wraps the key unlocked with `old_pin` under `new_pin`, a fresh salt and
    /// 10 000 iterations. Prove `old_pin` to the server first (a `possession_knowledge`
    /// `/pa/v3/signature/validate`): a wrong old PIN re-wraps a wrong key.
    pub fn change_pin(&self, old_pin: &str, new_pin: &str, rng: &dyn RandomSource) -> Self {
        Self::protect(&self.unlock(old_pin), new_pin, rng)
    }

    /// [`Self::change_pin`] with an explicit new salt.
    pub fn change_pin_with(&self, old_pin: &str, new_pin: &str, salt: [u8; 16]) -> Self {
        Self::wrap(
            &self.unlock(old_pin),
            new_pin,
            salt,
            Self::DEFAULT_ITERATIONS,
        )
    }

    /// The PBKDF2 salt.
    pub fn salt(&self) -> &[u8; 16] {
        &self.salt
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The encrypted knowledge key.
    pub fn encrypted_key(&self) -> &[u8; 16] {
        &self.encrypted_key
    }

    fn wrap(knowledge_key: &SymmetricKey, pin: &str, salt: [u8; 16], iterations: u32) -> Self {
        let mut protected = Self {
            salt,
            iterations,
            encrypted_key: [0; 16],
        };
        let key = protected.pin_key(pin);
        // CBC with a zero IV over exactly one block is one raw AES block encryption.
        protected.encrypted_key = aes_encrypt_block(&key, knowledge_key.expose_bytes());
        protected
    }

    fn pin_key(&self, pin: &str) -> Zeroizing<[u8; 16]> {
        Zeroizing::new(pbkdf2_hmac_sha1(
            pin.as_bytes(),
            &self.salt,
            self.iterations,
        ))
    }
}

fn check_iterations(iterations: u32) -> Result<(), KnowledgeKeyError> {
    if iterations < ProtectedKnowledgeKey::MIN_ITERATIONS {
        return Err(KnowledgeKeyError::TooFewIterations(iterations));
    }
    Ok(())
}

impl std::fmt::Debug for ProtectedKnowledgeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtectedKnowledgeKey")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// The serialised form: Base64 strings, checked on the way in.
#[derive(Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
struct StoredForm {
    salt: String,
    iterations: u32,
    encrypted_key: String,
}

impl TryFrom<StoredForm> for ProtectedKnowledgeKey {
    type Error = KnowledgeKeyError;

    fn try_from(stored: StoredForm) -> Result<Self, Self::Error> {
        let salt = Zeroizing::new(
            b64_decode(&stored.salt).map_err(|_| KnowledgeKeyError::InvalidBase64("salt"))?,
        );
        let encrypted_key = Zeroizing::new(
            b64_decode(&stored.encrypted_key)
                .map_err(|_| KnowledgeKeyError::InvalidBase64("encrypted_key"))?,
        );
        Self::from_parts(&salt, stored.iterations, &encrypted_key)
    }
}

impl From<ProtectedKnowledgeKey> for StoredForm {
    fn from(key: ProtectedKnowledgeKey) -> Self {
        Self {
            salt: b64(key.salt),
            iterations: key.iterations,
            encrypted_key: b64(key.encrypted_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazmat::aes_cbc_nopad_encrypt;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn wrap_unwrap_round_trip(key in any::<[u8; 16]>(), pin in "[0-9]{4,8}", salt in any::<[u8; 16]>()) {
            let key = SymmetricKey::from_bytes(key);
            let protected = ProtectedKnowledgeKey::protect_with(&key, &pin, salt, 10_000).unwrap();
            prop_assert_eq!(protected.unlock(&pin), key.clone());
            prop_assert_ne!(protected.unlock(&format!("{pin}0")), key.clone());
            let json = serde_json::to_string(&protected).unwrap();
            let restored: ProtectedKnowledgeKey = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(restored.unlock(&pin), key);
        }
    }

    #[test]
    fn layout_is_pbkdf2_then_zero_iv_cbc() {
        let key = SymmetricKey::from_bytes([0x42; 16]);
        let protected = ProtectedKnowledgeKey::protect_with(&key, "1234", [7; 16], 10_001).unwrap();
        let pin_key = pbkdf2_hmac_sha1(b"1234", &[7; 16], 10_001);
        let expected = aes_cbc_nopad_encrypt(&pin_key, &[0; 16], &[0x42; 16]).unwrap();
        assert_eq!(protected.encrypted_key().as_slice(), expected);
        assert_eq!(protected.iterations(), 10_001);
    }

    #[test]
    fn pin_change_uses_a_new_salt_and_default_iterations() {
        let rng = SeededRandom::new(b"pin");
        let key = SymmetricKey::make(&rng);
        let old = ProtectedKnowledgeKey::protect_with(&key, "1111", [1; 16], 20_000).unwrap();
        let new = old.change_pin("1111", "2222", &rng);
        assert_ne!(new.salt(), old.salt());
        assert_eq!(new.iterations(), ProtectedKnowledgeKey::DEFAULT_ITERATIONS);
        assert_eq!(new.unlock("2222"), key);
        let explicit = old.change_pin_with("1111", "3333", [9; 16]);
        assert_eq!(explicit.unlock("3333"), key);
    }

    #[test]
    fn refuses_bad_storage_and_hides_secrets() {
        assert_eq!(
            ProtectedKnowledgeKey::from_parts(&[0; 16], 9_999, &[0; 16]),
            Err(KnowledgeKeyError::TooFewIterations(9_999))
        );
        assert_eq!(
            ProtectedKnowledgeKey::from_parts(&[0; 15], 10_000, &[0; 16]),
            Err(KnowledgeKeyError::InvalidSaltLength(15))
        );
        assert_eq!(
            ProtectedKnowledgeKey::from_parts(&[0; 16], 10_000, &[0; 32]),
            Err(KnowledgeKeyError::InvalidEncryptedKeyLength(32))
        );
        let bad =
            r#"{"salt":"AAAA","iterations":10000,"encrypted_key":"AAAAAAAAAAAAAAAAAAAAAA=="}"#;
        assert!(serde_json::from_str::<ProtectedKnowledgeKey>(bad).is_err());
        let weak = r#"{"salt":"AAAAAAAAAAAAAAAAAAAAAA==","iterations":1,"encrypted_key":"AAAAAAAAAAAAAAAAAAAAAA=="}"#;
        assert!(serde_json::from_str::<ProtectedKnowledgeKey>(weak).is_err());
        let protected =
            ProtectedKnowledgeKey::from_parts(&[0xAB; 16], 10_000, &[0xCD; 16]).unwrap();
        let debug = format!("{protected:?}");
        assert!(!debug.contains("171") && !debug.contains("205"), "{debug}");
    }
}
