//! PowerAuth Server's scheduled expiry (`scheduled.job.operationCleanup` and
//! `activationsCleanup`, every 5 s, 100 at a time): pending operations past their expiry
//! become `EXPIRED` and unfinished activations past theirs `REMOVED` without anyone reading
//! them, so their callbacks go out on time. Each goes through the same read that expires
//! on access ([`crate::operations::load`], [`crate::activations::load`]), which saves and
//! reports it.

use crate::state::AppState;

/// Records expired per kind and run, as PowerAuth Server's `expireOperationsLimit`.
const PER_RUN: i64 = 100;

/// Runs the sweep every `Config::expiry_sweep_interval` until the sandbox stops.
pub(crate) fn start(state: AppState) {
    let every = state.config.expiry_sweep_interval;
    let mut stop = state.callbacks.stop_signal();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => return,
            }
            if let Err(error) = sweep(&state).await {
                tracing::warn!(%error, "expiry sweep failed");
            }
        }
    });
}

async fn sweep(state: &AppState) -> Result<(), crate::Error> {
    let now = state.now_ms();
    for id in state.store.expired_pending_operations(now, PER_RUN).await? {
        crate::operations::load(state, &id).await?;
    }
    for id in state
        .store
        .expired_unfinished_activations(now, PER_RUN)
        .await?
    {
        crate::activations::load(state, &id).await?;
    }
    Ok(())
}
