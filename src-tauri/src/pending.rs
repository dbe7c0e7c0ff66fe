//! The pending-operation counts behind the window's badge and the tray: the background poll's
//! listings, the window's own listings, and the approvals and rejections in between.
//!
//! A listing that started before an approval or a rejection of the same device finished
//! carries a count the server no longer has. It is dropped, so the badge never goes back to
//! an operation already acted on until the next listing (the "badge lags one poll").
//!
//! ## What it refuses to do
//!
//! It never asks the server: counts come from listings, and an accepted approval or
//! rejection takes one off at once.

use std::collections::HashMap;

/// When a listing of one device started: the approvals and rejections it had seen by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(u64);

/// Pending operations per device.
#[derive(Debug, Default)]
pub struct Pending {
    counts: HashMap<String, u32>,
    acted: HashMap<String, u64>,
}

impl Pending {
    /// Taken before listing device `id`'s operations.
    pub fn mark(&self, id: &str) -> Mark {
        Mark(self.acted.get(id).copied().unwrap_or(0))
    }

    /// A listing of device `id` that started at `mark` found `count` operations. It is kept
    /// unless an approval or a rejection of that device finished since. Returns the count
    /// held now.
    pub fn listed(&mut self, id: &str, count: u32, mark: Mark) -> u32 {
        if self.mark(id) == mark {
            self.counts.insert(id.to_owned(), count);
        }
        self.count(id)
    }

    /// The server accepted an approval or a rejection on device `id`: one fewer pending.
    pub fn acted(&mut self, id: &str) {
        *self.acted.entry(id.to_owned()).or_default() += 1;
        if let Some(count) = self.counts.get_mut(id) {
            *count = count.saturating_sub(1);
        }
    }

    /// A poll of every active device: `listed` holds each device listed with the mark taken
    /// before its listing. A device not listed (not active, or its listing failed) counts 0.
    /// Returns the counts held now.
    pub fn polled(&mut self, listed: &[(String, u32, Mark)]) -> HashMap<String, u32> {
        let mut now = HashMap::new();
        for (id, count, mark) in listed {
            now.insert(id.clone(), self.listed(id, *count, *mark));
        }
        self.counts.retain(|id, _| now.contains_key(id));
        now
    }

    /// Pending operations of device `id`.
    pub fn count(&self, id: &str) -> u32 {
        self.counts.get(id).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_started_before_an_approval_does_not_bring_the_operation_back() {
        let mut pending = Pending::default();
        let before = pending.mark("phone");
        pending.listed("phone", 1, before);
        // A poll starts, the approval finishes, the poll's (stale) answer arrives.
        let poll = pending.mark("phone");
        pending.acted("phone");
        assert_eq!(pending.count("phone"), 0);
        assert_eq!(pending.listed("phone", 1, poll), 0);
        assert_eq!(pending.polled(&[("phone".into(), 1, poll)])["phone"], 0);
        // The next listing is believed.
        let next = pending.mark("phone");
        assert_eq!(pending.listed("phone", 2, next), 2);
    }

    #[test]
    fn an_approval_on_one_device_leaves_the_others_alone() {
        let mut pending = Pending::default();
        let (a, b) = (pending.mark("a"), pending.mark("b"));
        pending.polled(&[("a".into(), 2, a), ("b".into(), 1, b)]);
        let (a, b) = (pending.mark("a"), pending.mark("b"));
        pending.acted("a");
        let now = pending.polled(&[("a".into(), 2, a), ("b".into(), 3, b)]);
        assert_eq!((now["a"], now["b"]), (1, 3));
    }

    #[test]
    fn a_device_the_poll_did_not_list_counts_zero() {
        let mut pending = Pending::default();
        let a = pending.mark("a");
        pending.listed("a", 4, a);
        let now = pending.polled(&[]);
        assert!(now.is_empty());
        assert_eq!(pending.count("a"), 0);
    }
}
