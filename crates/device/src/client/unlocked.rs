//! Opt-in: knowledge keys kept unlocked in memory ([`Client::keep_knowledge_keys_unlocked`]),
//! for fleets of simulated devices where the PIN's PBKDF2 (10,000 iterations per PIN
//! signature, as the mobile SDK does it) is most of a device's CPU time.
//!
//! The key is kept from the moment the device holds it in the clear (activation) and used
//! only when the same PIN is given for the same protected key: a wrong PIN (or a PIN
//! change, which re-wraps the key with a fresh salt) still takes the PBKDF2 path and yields
//! what the SDK would. The bytes on the wire are identical either way.

use powerauth::SymmetricKey;
use powerauth::vault::ProtectedKnowledgeKey;
use std::collections::HashMap;
use std::sync::Mutex;
use zeroize::Zeroizing;

struct Unlocked {
    protected: ProtectedKnowledgeKey,
    pin: Zeroizing<String>,
    key: SymmetricKey,
}

/// Unlocked knowledge keys by activation id. `Debug` shows the count only.
#[derive(Default)]
pub struct UnlockedKnowledgeKeys {
    keys: Mutex<HashMap<String, Unlocked>>,
}

impl std::fmt::Debug for UnlockedKnowledgeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockedKnowledgeKeys")
            .field("kept", &self.lock().len())
            .finish()
    }
}

impl UnlockedKnowledgeKeys {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Unlocked>> {
        // A map of whole entries: a panic elsewhere cannot leave one half-written.
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `key`, the clear form of `protected` under `pin`.
    pub(crate) fn keep(
        &self,
        activation_id: &str,
        protected: &ProtectedKnowledgeKey,
        pin: &str,
        key: &SymmetricKey,
    ) {
        self.lock().insert(
            activation_id.to_owned(),
            Unlocked {
                protected: protected.clone(),
                pin: Zeroizing::new(pin.to_owned()),
                key: key.clone(),
            },
        );
    }

    /// The kept key when `pin` and `protected` are what it was kept for; else `None`.
    pub(crate) fn get(
        &self,
        activation_id: &str,
        protected: &ProtectedKnowledgeKey,
        pin: &str,
    ) -> Option<SymmetricKey> {
        let keys = self.lock();
        let kept = keys.get(activation_id)?;
        (kept.protected == *protected && kept.pin.as_str() == pin).then(|| kept.key.clone())
    }

    /// How many keys are kept.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_key_answers_only_its_pin_and_its_protected_form() {
        let key = SymmetricKey::from_slice(&[7; 16]).unwrap();
        let protected =
            ProtectedKnowledgeKey::protect(&key, "1234", &powerauth::SeededRandom::new(b"1"));
        let kept = UnlockedKnowledgeKeys::default();
        kept.keep("A", &protected, "1234", &key);
        assert_eq!(kept.get("A", &protected, "1234"), Some(key.clone()));
        assert_eq!(kept.get("A", &protected, "12340"), None);
        assert_eq!(kept.get("B", &protected, "1234"), None);
        let rewrapped = protected.change_pin("1234", "1234", &powerauth::SeededRandom::new(b"2"));
        assert_eq!(kept.get("A", &rewrapped, "1234"), None);
        assert_eq!(format!("{kept:?}"), "UnlockedKnowledgeKeys { kept: 1 }");
    }
}
