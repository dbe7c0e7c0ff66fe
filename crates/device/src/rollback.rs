//! What the server makes of a device put back to an older state on purpose (a snapshot
//! restore): [`Session::check_restored`] fetches the status and says, in the words of the
//! fault reports (sent, answered, required), whether the restored counter is behind the
//! server's and beyond repair, was resynchronised, or the activation is blocked.

use crate::Result;
use crate::session::Session;
use crate::status::STATUS_PATH;
use powerauth::status::CounterSync;
use serde::Serialize;

/// The server's reaction to a restored device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reaction {
    /// Nothing moved on the server since the snapshot: the counters agree.
    InSync,
    /// The server's counter was ahead within its look-ahead window: the status blob let
    /// the device adopt it.
    Resync,
    /// The server's counter is ahead beyond the window: every signature is refused.
    CounterBehind,
    /// The server blocked the activation (failed attempts since the snapshot).
    Blocked,
    /// The activation is removed, or not active for another reason.
    NotActive,
    /// A 3.0 status carries no counter: only the next signature tells.
    Unchecked,
}

/// What the first call after a restore showed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestoreReport {
    /// The reaction.
    pub reaction: Reaction,
    /// What was sent: `METHOD URL`.
    pub sent: Vec<String>,
    /// What the server answered, in words.
    pub answered: String,
    /// What the protocol makes of a device in this state.
    pub required: String,
    /// What to do next.
    pub hint: String,
}

impl Session<'_> {
    /// The first call after a restore: a status, whose blob says where the server's
    /// counter and state are. An adoptable counter is adopted (saved), as any status does.
    pub async fn check_restored(&mut self) -> Result<RestoreReport> {
        let sent = vec![format!(
            "POST {}{STATUS_PATH}",
            self.device.profile.server_url
        )];
        let report = self.status().await?;
        let s = &report.snapshot;
        let answered = format!(
            "status {} with {} of {} failed attempts ({report})",
            s.state, s.failed_attempts, s.max_failed_attempts
        );
        let (reaction, required, hint) = match (s.state.as_str(), &report.sync) {
            ("BLOCKED", _) => (
                Reaction::Blocked,
                "the server keeps the activation BLOCKED: a restored device cannot undo the failed attempts the server counted".to_owned(),
                "unblock the activation on the server (POST /rest/v3/activation/unblock), then the restored device signs again".to_owned(),
            ),
            (state, _) if state != "ACTIVE" => (
                Reaction::NotActive,
                format!("the activation is {state} on the server, whatever the restored device remembers"),
                "activate the device again".to_owned(),
            ),
            (_, CounterSync::Updated { server_ahead, .. }) if *server_ahead > 0 => (
                Reaction::Resync,
                format!(
                    "the server's counter was {server_ahead} step{} ahead of the restored device's, within its look-ahead window of {}: the status lets the device adopt it (resync); a signature sent before it would have been refused with HTTP 401",
                    if *server_ahead == 1 { "" } else { "s" },
                    s.ctr_look_ahead
                ),
                "nothing: the device signs again".to_owned(),
            ),
            (_, CounterSync::Invalid(deadlock)) => (
                Reaction::CounterBehind,
                format!("counter behind the server: {deadlock}; every signature is refused with HTTP 401 and counted as a failed attempt"),
                "restore a newer snapshot, or remove the activation and activate again".to_owned(),
            ),
            (_, CounterSync::Unchecked(_)) => (
                Reaction::Unchecked,
                "this status carries no counter: the next signature shows whether the server's counter is ahead (HTTP 401)".to_owned(),
                "sign once (e.g. pin verify) to see the server's answer".to_owned(),
            ),
            _ => (
                Reaction::InSync,
                "the counters agree: nothing was signed on the server since the snapshot".to_owned(),
                "nothing: the device signs as before".to_owned(),
            ),
        };
        Ok(RestoreReport {
            reaction,
            sent,
            answered,
            required,
            hint,
        })
    }
}
