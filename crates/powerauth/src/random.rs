//! Randomness comes in from the caller, so every operation replays byte for byte in tests.

use crate::hazmat::sha256;
use std::sync::Mutex;

/// A source of random bytes. Production code passes [`SystemRandom`]; tests pass
/// [`SeededRandom`] or fixed values through the `*_with` variants of each operation.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);

    /// Returns `N` random bytes.
    fn array<const N: usize>(&self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }
}

/// The operating system's CSPRNG, through `ring`.
pub struct SystemRandom(ring::rand::SystemRandom);

impl SystemRandom {
    /// Creates a handle to the OS random source.
    pub fn new() -> Self {
        Self(ring::rand::SystemRandom::new())
    }

    /// The `ring` handle, for operations (ECDSA signing) that take ring's own trait.
    pub fn ring(&self) -> &ring::rand::SystemRandom {
        &self.0
    }
}

impl Default for SystemRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SystemRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SystemRandom")
    }
}

impl RandomSource for SystemRandom {
    fn fill(&self, dest: &mut [u8]) {
        use ring::rand::SecureRandom;
        // The OS generator failing is not a condition the protocol can recover from.
        self.0
            .fill(dest)
            .expect("the operating system random generator failed");
    }
}

/// A deterministic generator for tests and reproducible simulations: SHA-256 over a seed
/// and a block counter. Never use it for real keys.
#[derive(Debug)]
pub struct SeededRandom {
    seed: [u8; 32],
    counter: Mutex<u64>,
}

impl SeededRandom {
    /// A generator whose whole output follows from `seed`.
    pub fn new(seed: &[u8]) -> Self {
        Self {
            seed: sha256(seed),
            counter: Mutex::new(0),
        }
    }
}

impl RandomSource for SeededRandom {
    fn fill(&self, dest: &mut [u8]) {
        let mut counter = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in dest.chunks_mut(32) {
            let mut input = [0u8; 40];
            input[..32].copy_from_slice(&self.seed);
            input[32..].copy_from_slice(&counter.to_be_bytes());
            *counter += 1;
            chunk.copy_from_slice(&sha256(&input)[..chunk.len()]);
        }
    }
}
