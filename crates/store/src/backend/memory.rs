//! Secrets kept in the process's memory: for fleets of simulated devices and for tests.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{SecretBackend, Slot};
use crate::{Error, Secret};

/// A shared in-memory secret map. Clones share the same map, so a store reopened with a clone
/// finds its secrets again; they vanish with the process.
#[derive(Clone, Default)]
pub struct MemorySecrets {
    entries: Arc<Mutex<BTreeMap<(String, String), Secret>>>,
}

impl MemorySecrets {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many secrets the map holds, over every store using it.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the map holds no secret.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bind(self, store_id: &str) -> BoundMemory {
        BoundMemory {
            memory: self,
            store_id: store_id.to_owned(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<(String, String), Secret>> {
        // A panic while holding the lock cannot leave the map half-updated: every operation
        // is a single insert, remove or read.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for MemorySecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemorySecrets(<{} secrets>)", self.len())
    }
}

/// A [`MemorySecrets`] seen by one store.
pub(crate) struct BoundMemory {
    memory: MemorySecrets,
    store_id: String,
}

impl BoundMemory {
    fn key(&self, slot: &Slot) -> (String, String) {
        (self.store_id.clone(), slot.name())
    }
}

impl SecretBackend for BoundMemory {
    fn put(&self, slot: &Slot, secret: &Secret) -> Result<(), Error> {
        self.memory.lock().insert(self.key(slot), secret.clone());
        Ok(())
    }

    fn get(&self, slot: &Slot) -> Result<Option<Secret>, Error> {
        Ok(self.memory.lock().get(&self.key(slot)).cloned())
    }

    fn delete(&self, slot: &Slot) -> Result<(), Error> {
        self.memory.lock().remove(&self.key(slot));
        Ok(())
    }

    fn slots(&self) -> Result<Vec<Slot>, Error> {
        Ok(self
            .memory
            .lock()
            .keys()
            .filter(|(store, _)| *store == self.store_id)
            .filter_map(|(_, name)| Slot::parse(name))
            .collect())
    }
}
