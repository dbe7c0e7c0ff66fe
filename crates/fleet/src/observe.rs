//! Watching and stopping a running fleet, for a front end that shows it live (the desktop
//! app's fleet panel): an [`Observer`] hears of every completed step and device, a
//! [`Cancel`] stops the run. The terminal's progress bar does not need either.
//!
//! Events carry timings and step names only: never a PIN, key, token or user credential.

use crate::metrics::Step;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Something that happened in a running fleet.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The set-up is done (server reached, application read); the clock starts now.
    Started {
        /// Devices the fleet will run.
        devices: u64,
    },
    /// A step of a device's scenario finished.
    Step {
        /// Which step.
        step: Step,
        /// How long it took.
        elapsed: Duration,
        /// Whether it succeeded (a failure is also counted under the report's errors).
        ok: bool,
    },
    /// A device finished its scenario, successfully or not.
    DeviceDone {
        /// Whether the device got through its activation.
        activated: bool,
    },
}

/// Hears of a running fleet's events. Called from the device tasks, so it must be quick:
/// count, or hand the event on to a channel, and return.
pub trait Observer: Send + Sync {
    /// One event.
    fn event(&self, event: &Event);
}

/// An observer that ignores everything (what [`crate::execute`] runs with).
#[derive(Debug, Default, Clone, Copy)]
pub struct Unobserved;

impl Observer for Unobserved {
    fn event(&self, _: &Event) {}
}

/// Stops a fleet: devices not started yet never start, devices at work stop at their next
/// await (an HTTP request in flight is dropped) and the report says `cancelled`. Clones
/// share one flag.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<watch::Sender<bool>>);

impl Cancel {
    /// A flag not yet raised.
    pub fn new() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }

    /// Raises the flag. Idempotent.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    /// Whether the flag is up.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the flag is up (at once if it already is).
    pub async fn cancelled(&self) {
        let mut receiver = self.0.subscribe();
        // The sender lives in `self`, so the channel cannot close while this waits.
        let _ = receiver.wait_for(|raised| *raised).await;
    }
}

impl Default for Cancel {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_raised_flag_wakes_a_waiter_and_stays_raised() {
        let cancel = Cancel::new();
        assert!(!cancel.is_cancelled());
        let waiter = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.cancelled().await }
        });
        tokio::task::yield_now().await;
        cancel.clone().cancel();
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter wakes")
            .expect("the waiter does not panic");
        assert!(cancel.is_cancelled());
        // A late waiter returns at once.
        tokio::time::timeout(Duration::from_secs(5), cancel.cancelled())
            .await
            .expect("already cancelled");
    }
}
