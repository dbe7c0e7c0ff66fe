//! Status and sync: the activation status from the server, and with `sync` the counter
//! resynchronised and the status fetched again.

use serde::Serialize;
use tokensim_device::StatusReport;
use tokensim_device::state::StatusSnapshot;

use crate::{Leased, Ran, Result, Runner};

/// The status as `tokensim status --json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `ACTIVE`, `BLOCKED`, …
    pub state: String,
    /// Failed PIN attempts.
    pub failed_attempts: u32,
    /// Attempts allowed before the activation is blocked.
    pub max_failed_attempts: u32,
    /// Attempts left.
    pub remaining_attempts: u32,
    /// The counter reconciliation in words.
    pub counter: String,
    /// Whether the counters agree or will repair themselves.
    pub in_sync: bool,
    /// Whether the counter was resynchronised.
    pub resynchronized: bool,
    /// The decrypted status blob.
    pub snapshot: StatusSnapshot,
    /// Before the resynchronisation, in words (with `sync`).
    #[serde(skip)]
    pub before: Option<String>,
}

impl Status {
    fn new(shown: &StatusReport, before: Option<&StatusReport>) -> Self {
        let s = &shown.snapshot;
        Self {
            state: s.state.clone(),
            failed_attempts: s.failed_attempts.into(),
            max_failed_attempts: s.max_failed_attempts.into(),
            remaining_attempts: s.remaining_attempts().into(),
            counter: shown.to_string(),
            in_sync: shown.in_sync(),
            resynchronized: shown.resynchronized || before.is_some(),
            snapshot: s.clone(),
            before: before.map(ToString::to_string),
        }
    }
}

/// The device's status; with `sync`, the counter resynchronised and the status after it.
pub async fn status(runner: &Runner<'_>, dev: &mut Leased, sync: bool) -> Result<Ran<Status>> {
    let ran = runner
        .call(dev, async |s| {
            let report = s.status().await?;
            if sync {
                s.synchronize_counter().await?;
                return s.status().await.map(|after| (report, Some(after)));
            }
            Ok((report, None))
        })
        .await?;
    Ok(match ran {
        Ran::Done((report, None)) => Ran::Done(Status::new(&report, None)),
        Ran::Done((before, Some(after))) => Ran::Done(Status::new(&after, Some(&before))),
        Ran::Fault(report) => Ran::Fault(report),
    })
}
