//! The background watch: pending operations of every activated device. A push stream per
//! device (the server's push messages) wakes the poll at once; polling every few seconds is
//! the fallback when there is no stream. New operations raise a desktop notification; the
//! counts go to the tray and the window (`operations-changed`).

use crate::commands::PollInterval;
use crate::core::Core;
use crate::types::{OperationArrived, OperationView, PendingCounts};
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

/// How often the watch gives freed memory back to the system (`tokensim_memory::release`).
const RELEASE_EVERY: Duration = Duration::from_secs(30);

/// Watches forever.
pub async fn run(app: AppHandle, core: Arc<Core>) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut listening: HashSet<String> = HashSet::new();
    let wake = Arc::new(Notify::new());
    let mut first = true;
    let mut released = std::time::Instant::now();
    loop {
        for id in core.active_ids().unwrap_or_default() {
            if listening.insert(id.clone()) {
                tauri::async_runtime::spawn(listen(core.clone(), id, wake.clone()));
            }
        }
        let mut listed = Vec::new();
        let mut fresh = Vec::new();
        let names: HashMap<String, String> = core
            .devices()
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        for id in core.active_ids().unwrap_or_default() {
            let mark = core.pending_mark(&id);
            let Ok(operations) = core.operations_quiet(&id).await else {
                continue;
            };
            listed.push((
                id.clone(),
                u32::try_from(operations.len()).unwrap_or(u32::MAX),
                mark,
            ));
            for operation in operations {
                if seen.insert(operation.id.clone()) && !first {
                    fresh.push(OperationArrived {
                        device_name: names.get(&id).cloned().unwrap_or_else(|| id.clone()),
                        device_id: id.clone(),
                        operation_id: operation.id.clone(),
                        title: headline(&operation),
                    });
                }
            }
        }
        first = false;
        // An approval or a rejection that finished during the poll wins over its listing.
        let counts = core.set_pending(&listed);
        let total: u32 = counts.values().sum();
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
        for arrived in &fresh {
            // No notification daemon (a test display) is not an error worth showing. A click
            // on it opens this operation on this device (`open-operation`, see `lib.rs`).
            let _ = app
                .notification()
                .builder()
                .title(format!(
                    "New operation to approve on {}",
                    arrived.device_name
                ))
                .body(format!("{}, {}", arrived.title, arrived.device_name))
                .extra("deviceId", &arrived.device_id)
                .extra("operationId", &arrived.operation_id)
                .show();
            let _ = app.emit("operation-arrived", arrived);
        }
        let _ = app.emit(
            "operations-changed",
            PendingCounts {
                devices: counts.into_iter().collect(),
                total,
            },
        );
        // Polls, pushes and the window's commands leave freed buffers in malloc's arenas:
        // hand their pages back now and then, so an idle app stays small.
        if released.elapsed() >= RELEASE_EVERY {
            tokensim_memory::release();
            released = std::time::Instant::now();
        }
        let seconds = app.state::<PollInterval>().0.load(Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(seconds.max(1).into())) => {}
            () = wake.notified() => {}
        }
    }
}

/// What a notification says of an operation: its title and main amount ("Payment 1,250.00
/// EUR"), or its name.
pub fn headline(operation: &OperationView) -> String {
    let form = operation.form_data.as_ref();
    let title = form
        .and_then(|f| f.get("title"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(&operation.name);
    let amount = form
        .and_then(|f| f.get("attributes"))
        .and_then(|a| a.as_array())
        .and_then(|list| {
            list.iter()
                .find(|a| a.get("type").and_then(|t| t.as_str()) == Some("AMOUNT"))
        })
        .and_then(|a| {
            let text = |k: &str| a.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let amount = match text("amountFormatted") {
                Some(f) if f.parse::<f64>().is_err() => f,
                Some(f) => group(&f)?,
                None => group(&a.get("amount")?.as_f64().map(|n| format!("{n:.2}"))?)?,
            };
            let currency = text("currencyFormatted").or_else(|| text("currency"))?;
            Some(format!("{amount} {currency}"))
        });
    match amount {
        Some(amount) => format!("{title} {amount}"),
        None => title.to_owned(),
    }
}

/// A plain decimal ("1250.5") with two decimals and thousands grouped ("1,250.50").
fn group(plain: &str) -> Option<String> {
    let number: f64 = plain.trim().parse().ok()?;
    let fixed = format!("{:.2}", number.abs());
    let (whole, cents) = fixed.split_once('.')?;
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    Some(format!(
        "{}{out}.{cents}",
        if number < 0.0 { "-" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn operation(attributes: serde_json::Value) -> OperationView {
        OperationView {
            id: "op".to_owned(),
            name: "authorize_payment".to_owned(),
            data: String::new(),
            status: None,
            signature_kind: "2FA".to_owned(),
            variants: Vec::new(),
            form_data: Some(json!({"title": "Payment", "attributes": attributes})),
            created: None,
            expires: None,
            status_reason: None,
            ui: None,
        }
    }

    #[test]
    fn a_headline_names_the_operation_and_its_amount_grouped() {
        let payment = operation(json!([{"type": "AMOUNT", "id": "a", "label": "Amount",
            "amount": 1250.0, "amountFormatted": "1250.00", "currency": "EUR"}]));
        assert_eq!(headline(&payment), "Payment 1,250.00 EUR");
        let formatted = operation(json!([{"type": "AMOUNT", "amountFormatted": "1 234 567,89",
            "currencyFormatted": "Kč"}]));
        assert_eq!(headline(&formatted), "Payment 1 234 567,89 Kč");
        let login = operation(json!([]));
        assert_eq!(headline(&login), "Payment");
        assert_eq!(group("1234567.891").as_deref(), Some("1,234,567.89"));
        assert_eq!(group("-5").as_deref(), Some("-5.00"));
    }
}
