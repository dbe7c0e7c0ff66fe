//! # tokensim-clock
//!
//! The one [`Clock`] trait: where the simulated device (request timestamps, token and
//! temporary-key lifetimes, OAuth expiry) and the sandbox (activation, operation and token
//! expiry) read the time, in Unix milliseconds, the protocol's unit. [`SystemClock`] is the
//! operating system's; [`TestClock`] stands still until a test moves it, so a sandbox and a
//! device in one test can share the same time without sleeping.
//!
//! ## What it refuses to do
//!
//! It does not sleep, schedule or format dates, and `powerauth` never depends on it: the
//! protocol crate takes every timestamp as a parameter (its clippy configuration refuses a
//! clock read), and the crates that do I/O pass it `clock.now_ms()`.

#![warn(unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now", in Unix milliseconds.
pub trait Clock: Send + Sync {
    /// The current time in Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The operating system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        // Before 1970 or past year 292 million: neither happens on a tester's machine.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that stands still until a test moves it. Clones share the same time.
#[derive(Debug, Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    /// A clock frozen at `now_ms`.
    pub fn at(now_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(now_ms)))
    }

    /// Sets the time.
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }

    /// Moves the time forward (or back, with a negative `delta_ms`).
    pub fn advance(&self, delta_ms: i64) {
        self.0.fetch_add(delta_ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_moves_only_when_told() {
        let clock = TestClock::at(1_000);
        let shared = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        shared.advance(500);
        assert_eq!(clock.now_ms(), 1_500);
        clock.set(7);
        assert_eq!(shared.now_ms(), 7);
    }

    #[test]
    fn system_clock_is_past_2020() {
        // 2020-01-01T00:00:00Z: a clock before it is broken, not early.
        assert!(SystemClock.now_ms() > 1_577_836_800_000);
    }
}
