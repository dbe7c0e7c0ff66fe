//! What every handler gets: the store, the clock, randomness and the configuration.

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::{Store, StoreError};
use powerauth::{RandomSource, SystemRandom};
use std::sync::Arc;

/// Shared state of one sandbox instance. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// "Now", for expiry and timestamps.
    pub clock: Arc<dyn Clock>,
    /// Keys, ids, codes, nonces and passwords come from here.
    pub rng: Arc<dyn RandomSource>,
    /// The instance's settings.
    pub config: Arc<Config>,
    /// The push outbox's live listeners, across every instance on the database.
    pub push: crate::fanout::Fanout,
    /// Keys derived from each activation's ECDH secret.
    pub key_cache: Arc<crate::key_cache::KeyCache>,
    /// Cloud API logins already checked against their Argon2 hash.
    pub logins: Arc<crate::cloud::auth::LoginCache>,
    /// Application callbacks: report state changes here.
    pub callbacks: crate::callbacks::Callbacks,
    /// Wakes the facemap profile's worker (expiry and callbacks).
    pub facemap: crate::profiles::facemap::worker::Handle,
    /// One writer at a time per activation ([`crate::activations::Locks`]).
    pub activation_locks: Arc<crate::activations::Locks>,
    /// What the device profiles keep in memory (rate limiters).
    pub profiles: Arc<crate::profiles::State>,
    /// ECDSA signing takes `ring`'s random source; see the crate docs.
    signing_rng: Arc<SystemRandom>,
}

impl AppState {
    /// Opens the configured database (running migrations) with the system clock and the
    /// operating system's random generator.
    pub async fn open(config: Config) -> Result<Self, StoreError> {
        Self::open_with(config, Arc::new(SystemClock), Arc::new(SystemRandom::new())).await
    }

    /// Like [`AppState::open`] with an explicit clock and random source (tests).
    pub async fn open_with(
        config: Config,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn RandomSource>,
    ) -> Result<Self, StoreError> {
        let store = Store::open(&config.database_url).await?;
        let logins = Arc::new(crate::cloud::auth::LoginCache::new(&*rng));
        // From the OS, not `rng`: two instances given the same seeded source in a test
        // must still tell each other apart.
        let instance: [u8; 16] = SystemRandom::new().array();
        let instance = uuid::Builder::from_random_bytes(instance)
            .into_uuid()
            .to_string();
        let push = crate::fanout::Fanout::start(&store, &config.database_url, instance).await?;
        let callbacks = crate::callbacks::Callbacks::start(
            store.clone(),
            clock.clone(),
            rng.clone(),
            config.callbacks.clone(),
        );
        let facemap = crate::profiles::facemap::worker::start(
            store.clone(),
            clock.clone(),
            config.callbacks.clone(),
            callbacks.stop_signal(),
        );
        Ok(Self {
            facemap,
            logins,
            callbacks,
            activation_locks: Arc::default(),
            profiles: Arc::default(),
            key_cache: Arc::default(),
            store,
            clock,
            rng,
            config: Arc::new(config),
            push,
            signing_rng: Arc::new(SystemRandom::new()),
        })
    }

    /// The current time, Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// `N` random bytes.
    pub fn random<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng.fill(&mut out);
        out
    }

    /// A random RFC 4122 version 4 UUID, as PowerAuth uses for ids.
    pub fn make_uuid(&self) -> String {
        uuid::Builder::from_random_bytes(self.random())
            .into_uuid()
            .to_string()
    }

    /// The keys derived from `activation`'s ECDH secret (cached); `None` before its key
    /// exchange.
    pub fn activation_keys(
        &self,
        activation: &crate::store::Activation,
    ) -> Option<powerauth::ActivationKeys> {
        self.key_cache.keys(activation)
    }

    /// The random source ECDSA signing needs.
    pub fn signing_rng(&self) -> &dyn ring::rand::SecureRandom {
        self.signing_rng.ring()
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
