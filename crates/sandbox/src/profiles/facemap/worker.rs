//! The facemap profile's background work: ending transactions past their expiry, and
//! POSTing each final state to its `callbackUrl`.
//!
//! The callback is Jumio's "Callback for Authentication": an
//! `application/x-www-form-urlencoded` POST of `callbackDate`, `transactionReference`,
//! `enrollmentTransactionReference`, `transactionResult`, `transactionDate`, `scanSource`,
//! `callBackType` (`NETVERIFY_AUTHENTICATION`) and `userReference`. It is due from the
//! moment the transaction ends (the row says so, so a stop or a kill loses none); a
//! delivery takes the row (`SENDING`) and records the answer. It reuses the application
//! callbacks' timeouts, backoff (`initialBackoff` × 1.5ⁿ) and error wording; it cannot
//! reuse their event log, which is bound to registered application callback URLs and JSON
//! bodies, while Jumio's callback goes to a URL given per transaction, as a form. Any answer
//! below 400 is a delivery; at most [`MAX_ATTEMPTS`] attempts.

use super::store::{self, Transaction};
use crate::callbacks::{backoff, describe, masked_url, url_origin};
use crate::clock::{Clock, iso8601};
use crate::config::CallbackConfig;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};

/// Attempts per callback.
pub(crate) const MAX_ATTEMPTS: i64 = 3;
/// How often the worker looks for expired transactions and due callbacks when nothing
/// wakes it.
const TICK: Duration = Duration::from_millis(500);
/// Deliveries at once.
const IN_FLIGHT: usize = 16;

/// Wakes the worker (a transaction ended). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Handle(Arc<Notify>);

impl Handle {
    /// Something ended: look for callbacks now.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// Starts the worker on the current runtime; it ends when `stop` turns `true`.
pub(crate) fn start(
    store: Store,
    clock: Arc<dyn Clock>,
    config: CallbackConfig,
    stop: watch::Receiver<bool>,
) -> Handle {
    let handle = Handle::default();
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.response_timeout)
        .timeout(config.connect_timeout + config.response_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("tokensim-sandbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "facemap callback HTTP client with defaults");
            reqwest::Client::new()
        });
    let worker = Arc::new(Worker {
        store,
        clock,
        config,
        http,
        slots: Arc::new(Semaphore::new(IN_FLIGHT)),
    });
    tokio::spawn(worker.run(handle.0.clone(), stop));
    handle
}

struct Worker {
    store: Store,
    clock: Arc<dyn Clock>,
    config: CallbackConfig,
    http: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl Worker {
    async fn run(self: Arc<Self>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        if let Err(error) = store::resume_callbacks(&self.store).await {
            tracing::warn!(%error, "facemap: cannot resume interrupted callbacks");
        }
        loop {
            self.clone().once().await;
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(TICK) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    async fn once(self: Arc<Self>) {
        let now = self.clock.now_ms();
        match store::any_due(&self.store, now).await {
            Ok(true) => {
                if let Err(error) = store::expire_due(&self.store, now).await {
                    tracing::warn!(%error, "facemap: cannot expire transactions");
                }
            }
            Ok(false) => {}
            Err(error) => {
                // The database is gone (a stopped in-memory sandbox): nothing to do.
                tracing::debug!(%error, "facemap: cannot read transactions");
                return;
            }
        }
        let due = match store::due_callbacks(&self.store, now, 64).await {
            Ok(due) => due,
            Err(error) => {
                tracing::debug!(%error, "facemap: cannot read due callbacks");
                return;
            }
        };
        for transaction in due {
            match store::take_callback(&self.store, &transaction.reference).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%error, "facemap: cannot take a callback");
                    continue;
                }
            }
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                return;
            };
            let worker = self.clone();
            tokio::spawn(async move {
                worker.deliver(transaction).await;
                drop(slot);
            });
        }
    }

    async fn deliver(&self, transaction: Transaction) {
        let Some(url) = transaction.callback_url.clone() else {
            return;
        };
        let attempt = transaction.callback_attempts + 1;
        let form = form(&transaction, self.clock.now_ms());
        let limit = self.config.connect_timeout + self.config.response_timeout;
        let sent = tokio::time::timeout(limit * 2, self.http.post(&url).form(&form).send()).await;
        let (http_status, error) = match sent {
            Ok(Ok(response)) => (Some(i64::from(response.status().as_u16())), None),
            Ok(Err(error)) => (None, Some(describe(&error, self.config.response_timeout))),
            Err(_) => (
                None,
                Some(format!("no answer within {} ms", limit.as_millis())),
            ),
        };
        // An error text never carries the URL's secrets.
        let error = error.map(|e| e.replace(&url, &masked_url(&url)));
        let delivered = error.is_none() && http_status.is_some_and(|s| s < 400);
        let now = self.clock.now_ms();
        let (status, next) = if delivered {
            ("COMPLETED", None)
        } else if attempt < MAX_ATTEMPTS {
            let wait = backoff(attempt, self.config.default_initial_backoff, &self.config);
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            ("PENDING", Some(now.saturating_add(wait_ms)))
        } else {
            ("FAILED", None)
        };
        tracing::info!(
            origin = %url_origin(&url),
            result = transaction.result.as_str(),
            attempt,
            http_status = ?http_status,
            error = ?error,
            "facemap callback attempt"
        );
        if let Err(error) = store::record_callback(
            &self.store,
            &transaction.reference,
            status,
            attempt,
            http_status,
            error.as_deref(),
            next,
        )
        .await
        {
            tracing::warn!(%error, "facemap: cannot record a callback attempt");
        }
    }
}

/// The callback's fields, in Jumio's names (`callbackDate` is now, `transactionDate` when
/// the transaction was made).
pub(crate) fn form(transaction: &Transaction, now_ms: i64) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("callbackDate", jumio_time(now_ms)),
        ("transactionReference", transaction.reference.clone()),
        (
            "enrollmentTransactionReference",
            transaction.enrollment_reference.clone(),
        ),
        ("transactionResult", transaction.result.as_str().to_owned()),
        ("transactionDate", jumio_time(transaction.created_ms)),
        ("scanSource", transaction.scan_source.clone()),
        ("callBackType", "NETVERIFY_AUTHENTICATION".to_owned()),
    ];
    if let Some(user) = &transaction.user_reference {
        form.push(("userReference", user.clone()));
    }
    form
}

/// Jumio's timestamp format, `YYYY-MM-DDThh:mm:ss.SSSZ`.
pub(crate) fn jumio_time(ms: i64) -> String {
    let full = iso8601(ms);
    // "YYYY-MM-DDTHH:MM:SS.mmm+00:00" -> "YYYY-MM-DDTHH:MM:SS.mmmZ"
    format!("{}Z", full.get(..23).unwrap_or(&full))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumio_timestamps() {
        assert_eq!(jumio_time(1_559_205_455_822), "2019-05-30T08:37:35.822Z");
    }
}
