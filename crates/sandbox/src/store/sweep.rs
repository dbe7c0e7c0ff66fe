//! When to delete expired rows: at most once per [`SWEEP_INTERVAL_MS`] per table, by
//! whichever request comes first after the interval. A sweep is housekeeping only: the
//! queries never trust that one has run (they compare the expiry themselves).

use std::sync::atomic::{AtomicI64, Ordering};

/// The least time between two sweeps of one table.
pub const SWEEP_INTERVAL_MS: i64 = 10_000;

/// The tables with expiring rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Table {
    UsedNonces,
    UsedTokenNonces,
    TemporaryKeys,
    OAuth,
}

/// The last sweep of each table (Unix ms; 0 = never).
#[derive(Debug, Default)]
pub(crate) struct Sweeps {
    last: [AtomicI64; 4],
}

impl Sweeps {
    /// Whether the caller should sweep `table` now; if so, the time is recorded, so of
    /// concurrent callers exactly one gets `true`.
    pub(crate) fn due(&self, table: Table, now_ms: i64) -> bool {
        let last = &self.last[table as usize];
        let seen = last.load(Ordering::Relaxed);
        now_ms.saturating_sub(seen) >= SWEEP_INTERVAL_MS
            && last
                .compare_exchange(seen, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sweep_per_interval_and_table() {
        let sweeps = Sweeps::default();
        let t0 = 1_700_000_000_000;
        assert!(sweeps.due(Table::UsedNonces, t0));
        assert!(!sweeps.due(Table::UsedNonces, t0 + 1));
        assert!(sweeps.due(Table::TemporaryKeys, t0 + 1));
        assert!(!sweeps.due(Table::UsedNonces, t0 + SWEEP_INTERVAL_MS - 1));
        assert!(sweeps.due(Table::UsedNonces, t0 + SWEEP_INTERVAL_MS));
        // A clock that went back does not sweep again.
        assert!(!sweeps.due(Table::UsedNonces, t0));
    }
}
