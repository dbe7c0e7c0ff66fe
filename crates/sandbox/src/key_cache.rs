//! Derived activation keys kept in memory: every signature check, status blob and
//! activation-scope ECIES request needs the five keys derived from the activation's ECDH
//! shared secret, and the P-256 multiplication behind it is the costliest step of a
//! request. The cache saves it for an activation already seen.
//!
//! An entry is used only while the activation still has the very key pair it was derived
//! from (a new key exchange misses), and holds nothing the database does not already hold
//! (the server's private key is there). Bounded: it starts over when full.

use crate::store::Activation;
use powerauth::{ActivationKeys, PublicKey};
use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept before the cache starts over.
const CAPACITY: usize = 16_384;

struct Entry {
    device: PublicKey,
    server: PublicKey,
    keys: ActivationKeys,
}

/// Activation id → the keys derived for its current key pair.
#[derive(Default)]
pub struct KeyCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeyCache {
    /// The activation's derived keys; `None` before its key exchange.
    pub fn keys(&self, activation: &Activation) -> Option<ActivationKeys> {
        let (device, server) = (
            activation.device_public_key.as_ref()?,
            activation.server_key_pair.as_ref()?,
        );
        if let Some(entry) = self.lock().get(&activation.activation_id)
            && entry.device == *device
            && entry.server == server.public
        {
            return Some(entry.keys.clone());
        }
        let keys = ActivationKeys::derive_from_ecdh(&server.private, device);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            activation.activation_id.clone(),
            Entry {
                device: device.clone(),
                server: server.public.clone(),
                keys: keys.clone(),
            },
        );
        Some(keys)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("entries", &self.lock().len())
            .finish()
    }
}
