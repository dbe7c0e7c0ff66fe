//! The background watch: pending operations of every activated device. A push stream per
//! device (the server's push messages) wakes the poll at once; polling every few seconds is
//! the fallback when there is no stream. New operations raise a desktop notification; the
//! counts go to the tray and the window (`operations-changed`).

use crate::commands::PollInterval;
use crate::core::Core;
use crate::types::PendingCounts;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::Notify;

/// Listens to device `id`'s push stream and wakes the poll on each message; reconnects
/// after a pause when the stream fails or closes (the poll keeps working meanwhile).
async fn listen(core: Arc<Core>, id: String, wake: Arc<Notify>) {
    loop {
        match core.push_stream(&id).await {
            Ok(mut stream) => {
                while let Some(Ok(_)) = stream.next().await {
                    wake.notify_one();
                }
            }
            Err(e) if e.code == "STORE" || e.code == "NOT_ACTIVE" => return,
            Err(e) => tracing::debug!(device = %id, "no push stream, polling: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
}

/// Watches forever.
pub async fn run(app: AppHandle, core: Arc<Core>) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut listening: HashSet<String> = HashSet::new();
    let wake = Arc::new(Notify::new());
    let mut first = true;
    loop {
        for id in core.active_ids().unwrap_or_default() {
            if listening.insert(id.clone()) {
                tauri::async_runtime::spawn(listen(core.clone(), id, wake.clone()));
            }
        }
        let mut counts = HashMap::new();
        let mut fresh = Vec::new();
        for id in core.active_ids().unwrap_or_default() {
            let Ok(operations) = core.operations_quiet(&id).await else {
                continue;
            };
            counts.insert(
                id.clone(),
                u32::try_from(operations.len()).unwrap_or(u32::MAX),
            );
            for operation in operations {
                if seen.insert(operation.id.clone()) && !first {
                    fresh.push(operation);
                }
            }
        }
        first = false;
        let total = core.set_pending(counts.clone());
        if let Some(tray) = app.tray_by_id("main") {
            let tip = match total {
                0 => "TokenSim: no pending operations".to_owned(),
                1 => "TokenSim: 1 pending operation".to_owned(),
                n => format!("TokenSim: {n} pending operations"),
            };
            let _ = tray.set_tooltip(Some(&tip));
            let _ = tray.set_title(Some(if total == 0 {
                String::new()
            } else {
                total.to_string()
            }));
        }
        for operation in &fresh {
            let title = operation
                .form_data
                .as_ref()
                .and_then(|f| f.get("title"))
                .and_then(|t| t.as_str())
                .unwrap_or(&operation.name)
                .to_owned();
            // No notification daemon (a test display) is not an error worth showing.
            let _ = app
                .notification()
                .builder()
                .title("New operation to approve")
                .body(title)
                .show();
        }
        let _ = app.emit(
            "operations-changed",
            PendingCounts {
                devices: counts.into_iter().collect(),
                total,
            },
        );
        let seconds = app.state::<PollInterval>().0.load(Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(seconds.max(1).into())) => {}
            () = wake.notified() => {}
        }
    }
}
