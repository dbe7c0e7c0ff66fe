//! The delivery engine: a bounded queue of changes, one intake task that turns each into
//! stored events, and at most `max_in_flight` delivery tasks with timeouts and retries.

use super::auth::PrivateAuth;
use super::{Change, masked_url, url_origin};
use crate::clock::Clock;
use crate::config::CallbackConfig;
use crate::store::{CallbackAttempt, CallbackEvent, CallbackUrlRecord, Store};
use powerauth::RandomSource;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc, watch};

/// How long the intake trusts "this application has no callback URLs" written by another
/// sandbox on the same database; this sandbox's own changes apply at once.
const NO_URLS_TTL: Duration = Duration::from_secs(1);
/// How often finished events past their retention are deleted.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The handle every request holds: cheap to clone, never blocks.
#[derive(Clone)]
pub struct Callbacks {
    queue: mpsc::Sender<Change>,
    shared: Arc<Shared>,
}

struct Shared {
    dropped: AtomicU64,
    /// Bumped when this sandbox changes a callback URL: the intake's cache is stale.
    generation: AtomicU64,
    stop: watch::Sender<bool>,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
}

impl std::fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callbacks")
            .field("dropped", &self.dropped())
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

struct Engine {
    store: Store,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    config: CallbackConfig,
    http: reqwest::Client,
    shared: Arc<Shared>,
    /// Failed attempts in a row per callback URL, and when the last one failed.
    failures: std::sync::Mutex<HashMap<String, (u32, Instant)>>,
}

impl Callbacks {
    /// Starts the intake task on the current Tokio runtime.
    pub fn start(
        store: Store,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn RandomSource>,
        config: CallbackConfig,
    ) -> Self {
        let max_in_flight = config.max_in_flight.max(1);
        let (queue, changes) = mpsc::channel(config.queue_capacity.max(1));
        let shared = Arc::new(Shared {
            dropped: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            stop: watch::channel(false).0,
            slots: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
        });
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            // Once connected, the receiver must send something within the response
            // timeout (Reactor Netty's response timeout in PowerAuth Server).
            .read_timeout(config.response_timeout)
            .timeout(config.connect_timeout + config.response_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("tokensim-sandbox/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "callback HTTP client with defaults");
                reqwest::Client::new()
            });
        let engine = Arc::new(Engine {
            store,
            clock,
            rng,
            config,
            http,
            shared: shared.clone(),
            failures: std::sync::Mutex::default(),
        });
        tokio::spawn(engine.intake(changes));
        Self { queue, shared }
    }

    /// Reports a change. Never waits: when the queue is full the change is dropped and
    /// counted.
    pub fn notify(&self, change: Change) {
        match self.queue.try_send(change) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(change)) => {
                self.shared.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    application = change.application_id(),
                    "callback queue full: a state change is not reported"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Changes dropped because the queue was full, since start.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Deliveries in progress now (waiting for a retry included).
    pub fn in_flight(&self) -> usize {
        self.shared.max_in_flight - self.shared.slots.available_permits()
    }

    /// A callback URL was created, changed or removed here.
    pub fn urls_changed(&self) {
        self.shared.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes to `true` when the sandbox stops (for its other background tasks).
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.shared.stop.subscribe()
    }

    /// Stops taking changes and ends deliveries at their next wait.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }
}

impl Engine {
    async fn intake(self: Arc<Self>, mut changes: mpsc::Receiver<Change>) {
        let mut stop = self.shared.stop.subscribe();
        let mut no_urls: HashMap<(String, &'static str), Instant> = HashMap::new();
        let mut generation = self.shared.generation.load(Ordering::Relaxed);
        let mut last_sweep = Instant::now();
        if !self.resume(&mut stop).await {
            return;
        }
        loop {
            let change = tokio::select! {
                change = changes.recv() => match change {
                    Some(change) => change,
                    None => break,
                },
                () = stopped(&mut stop) => break,
            };
            let now_generation = self.shared.generation.load(Ordering::Relaxed);
            if now_generation != generation {
                no_urls.clear();
                generation = now_generation;
            }
            let key = (change.application_id().to_owned(), change.callback_type());
            if no_urls
                .get(&key)
                .is_some_and(|at| at.elapsed() < NO_URLS_TTL)
            {
                continue;
            }
            match self
                .store
                .callback_urls(change.application_id(), Some(change.callback_type()))
                .await
            {
                Ok(urls) if urls.is_empty() => {
                    no_urls.insert(key, Instant::now());
                }
                Ok(urls) => {
                    no_urls.remove(&key);
                    for url in urls {
                        if !self.dispatch(&change, url, &mut stop).await {
                            return;
                        }
                    }
                }
                Err(error) => tracing::error!(%error, "cannot read callback URLs"),
            }
            if last_sweep.elapsed() > SWEEP_EVERY {
                last_sweep = Instant::now();
                if let Err(error) = self
                    .store
                    .delete_expired_callback_events(self.clock.now_ms())
                    .await
                {
                    tracing::warn!(%error, "cannot delete old callback events");
                }
            }
        }
    }

    /// Events a stop interrupted (still `PROCESSING` or `PENDING` in the database) are
    /// delivered again, as PowerAuth Server's scheduler reruns them; with the same
    /// `Idempotency-Key`, so a receiver can tell a repeat. An event whose URL was removed
    /// meanwhile fails. `false` when the sandbox stopped meanwhile.
    async fn resume(self: &Arc<Self>, stop: &mut watch::Receiver<bool>) -> bool {
        let events = match self.store.unfinished_callback_events().await {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "cannot read unfinished callback events");
                return true;
            }
        };
        for event in events {
            match self.store.callback_url(&event.callback_id).await {
                Ok(Some(url)) => {
                    if !self.start_delivery(event, url, stop).await {
                        return false;
                    }
                }
                Ok(None) => {
                    let retention = millis(self.config.default_retention_period);
                    let delete_after = self.clock.now_ms().saturating_add(retention);
                    if let Err(error) = self
                        .store
                        .fail_callback_event(&event.event_id, delete_after)
                        .await
                    {
                        tracing::error!(%error, "cannot fail a callback event");
                    }
                }
                Err(error) => tracing::error!(%error, "cannot read a callback URL"),
            }
        }
        true
    }

    /// Stores the event and starts its delivery once a slot is free. `false` when the
    /// sandbox stopped meanwhile.
    async fn dispatch(
        self: &Arc<Self>,
        change: &Change,
        url: CallbackUrlRecord,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let mut event = CallbackEvent {
            event_id: self.uuid(),
            event_number: 0,
            callback_id: url.callback_id.clone(),
            application_id: url.application_id.clone(),
            event_type: change.event_type().to_owned(),
            subject_id: change.subject_id().to_owned(),
            subject_status: change.subject_status(),
            callback_data: change.payload(&url.attributes),
            status: "PROCESSING".to_owned(),
            attempts: 0,
            idempotency_key: self.uuid(),
            timestamp_created: self.clock.now_ms(),
            timestamp_next_call: None,
            timestamp_delete_after: None,
        };
        let suspended = self.failure_threshold_reached(&url.callback_id);
        if suspended {
            // PowerAuth Server's createAndSaveFailedEvent: logged, never sent.
            let retention = url
                .retention_period_ms
                .unwrap_or_else(|| millis(self.config.default_retention_period));
            event.status = "FAILED".to_owned();
            event.timestamp_delete_after = Some(event.timestamp_created.saturating_add(retention));
            tracing::warn!(
                callback = %url.callback_id,
                "callback URL failed too often in a row: event not sent"
            );
        }
        if let Err(error) = self.store.insert_callback_event(&mut event).await {
            tracing::error!(%error, "cannot store a callback event");
            return true;
        }
        if suspended {
            return true;
        }
        self.start_delivery(event, url, stop).await
    }

    /// Runs the delivery of a stored event once a slot is free. `false` when the sandbox
    /// stopped meanwhile.
    async fn start_delivery(
        self: &Arc<Self>,
        event: CallbackEvent,
        url: CallbackUrlRecord,
        stop: &mut watch::Receiver<bool>,
    ) -> bool {
        let slot = tokio::select! {
            slot = self.shared.slots.clone().acquire_owned() => slot,
            () = stopped(stop) => return false,
        };
        let Ok(slot) = slot else { return false };
        let engine = self.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            engine.deliver(event, url, stop).await;
            drop(slot);
        });
        true
    }

    async fn deliver(
        &self,
        mut event: CallbackEvent,
        url: CallbackUrlRecord,
        mut stop: watch::Receiver<bool>,
    ) {
        let config = &self.config;
        let max_attempts = url
            .max_attempts
            .unwrap_or(i64::from(config.default_max_attempts))
            .max(1);
        let initial_backoff = url
            .initial_backoff_ms
            .map_or(config.default_initial_backoff, |ms| {
                Duration::from_millis(u64::try_from(ms).unwrap_or_default())
            });
        let retention_ms = url
            .retention_period_ms
            .unwrap_or_else(|| millis(config.default_retention_period));
        let auth: PrivateAuth =
            serde_json::from_value(url.authentication.clone()).unwrap_or_default();
        let logged_url = masked_url(&url.callback_url);
        // A resumed event goes on from the attempts it has; a stop ends an attempt at once
        // (it is not logged, and the next start makes it again).
        for attempt in (event.attempts + 1)..=max_attempts {
            let started_ms = self.clock.now_ms();
            let started = Instant::now();
            let outcome = tokio::select! {
                outcome = self.attempt(&url, &auth, &event) => outcome,
                () = stopped(&mut stop) => return,
            };
            let now = self.clock.now_ms();
            event.attempts = attempt;
            self.count_outcome(&url.callback_id, outcome.delivered());
            let backoff = backoff(attempt, initial_backoff, config);
            if outcome.delivered() {
                event.status = "COMPLETED".to_owned();
                event.timestamp_next_call = None;
                event.timestamp_delete_after = Some(now.saturating_add(retention_ms));
            } else if attempt < max_attempts {
                event.status = "PENDING".to_owned();
                event.timestamp_next_call = Some(now.saturating_add(millis(backoff)));
            } else {
                event.status = "FAILED".to_owned();
                event.timestamp_next_call = None;
                event.timestamp_delete_after = Some(now.saturating_add(retention_ms));
            }
            let record = CallbackAttempt {
                event_id: event.event_id.clone(),
                attempt,
                timestamp_started: started_ms,
                duration_ms: millis(started.elapsed()),
                url: logged_url.clone(),
                http_status: outcome.http_status.map(i64::from),
                error: outcome.error.clone(),
            };
            tracing::info!(
                callback = %url.callback_id,
                origin = %url_origin(&url.callback_url),
                event = %event.event_type,
                status = %event.subject_status,
                attempt,
                http_status = ?outcome.http_status,
                error = ?outcome.error,
                "callback attempt"
            );
            if let Err(error) = self.store.record_callback_attempt(&event, &record).await {
                tracing::error!(%error, "cannot log a callback attempt");
            }
            if event.status != "PENDING" {
                return;
            }
            // Stopped while waiting: the event stays PENDING for the next start.
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stopped(&mut stop) => return,
            }
        }
        // Only reached when a resumed event already had every attempt its URL now allows.
        let delete_after = self.clock.now_ms().saturating_add(retention_ms);
        if let Err(error) = self
            .store
            .fail_callback_event(&event.event_id, delete_after)
            .await
        {
            tracing::error!(%error, "cannot fail a callback event");
        }
    }

    /// PowerAuth Server's failure threshold: after `failure_threshold` failed attempts in a
    /// row a URL's new events are not sent, until `failure_reset_timeout` after the last
    /// failure lets one through to probe the receiver.
    fn failure_threshold_reached(&self, callback_id: &str) -> bool {
        let Some(threshold) = self.config.failure_threshold else {
            return false;
        };
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.get(callback_id).is_some_and(|(count, last)| {
            *count >= threshold && last.elapsed() <= self.config.failure_reset_timeout
        })
    }

    fn count_outcome(&self, callback_id: &str, delivered: bool) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if delivered {
            failures.remove(callback_id);
        } else {
            let entry = failures
                .entry(callback_id.to_owned())
                .or_insert((0, Instant::now()));
            *entry = (entry.0.saturating_add(1), Instant::now());
        }
    }

    /// One POST of the event, within the connect and response timeouts.
    async fn attempt(
        &self,
        url: &CallbackUrlRecord,
        auth: &PrivateAuth,
        event: &CallbackEvent,
    ) -> Outcome {
        let limit = self.config.connect_timeout + self.config.response_timeout;
        let result = tokio::time::timeout(limit * 2, self.post(url, auth, event)).await;
        let mut outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => Outcome::error(format!("no answer within {} ms", limit.as_millis())),
        };
        // Belt and braces: an error text never carries the URL's secrets.
        if let Some(error) = &mut outcome.error
            && error.contains(&url.callback_url)
        {
            *error = error.replace(&url.callback_url, &masked_url(&url.callback_url));
        }
        outcome
    }

    async fn post(
        &self,
        url: &CallbackUrlRecord,
        auth: &PrivateAuth,
        event: &CallbackEvent,
    ) -> Outcome {
        if auth.certificate.enabled {
            return Outcome::error(
                "client certificate authentication (Java key stores) is not available in the \
                 sandbox; disable authentication.certificate"
                    .to_owned(),
            );
        }
        let mut request = self
            .http
            .post(&url.callback_url)
            .header("Idempotency-Key", &event.idempotency_key)
            .json(&event.callback_data);
        if auth.http_basic.enabled
            && let Some(username) = &auth.http_basic.username
        {
            request = request.basic_auth(username, auth.http_basic.password.as_ref());
        }
        if auth.oauth2.enabled {
            match self.oauth2_token(auth).await {
                Ok(token) => request = request.bearer_auth(token),
                Err(error) => return Outcome::error(error),
            }
        }
        match request.send().await {
            Ok(response) => Outcome {
                http_status: Some(response.status().as_u16()),
                error: None,
            },
            Err(error) => Outcome::error(describe(&error, self.config.response_timeout)),
        }
    }

    /// The OAuth 2.0 client-credentials grant (client id and secret as HTTP Basic, as
    /// Spring's client sends them by default).
    async fn oauth2_token(&self, auth: &PrivateAuth) -> Result<String, String> {
        let o = &auth.oauth2;
        let token_uri = o
            .token_uri
            .as_deref()
            .ok_or("OAuth2 is enabled without a tokenUri")?;
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = o.scope.as_deref() {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(token_uri)
            .basic_auth(
                o.client_id.as_deref().unwrap_or_default(),
                o.client_secret.as_ref(),
            )
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "OAuth2 token request: {}",
                    describe(&e, self.config.response_timeout)
                )
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!(
                "OAuth2 token request answered HTTP {}",
                status.as_u16()
            ));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|_| "OAuth2 token response is not JSON".to_owned())?;
        body["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "OAuth2 token response has no access_token".to_owned())
    }

    fn uuid(&self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill(&mut bytes);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }
}

/// Resolves once the sandbox stops (or its handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it at once.
    let _ = stop.wait_for(|stopped| *stopped).await.is_ok();
}

/// What one attempt came to.
struct Outcome {
    http_status: Option<u16>,
    error: Option<String>,
}

impl Outcome {
    fn error(text: String) -> Self {
        Self {
            http_status: None,
            error: Some(text),
        }
    }

    /// WebClient's rule: an answer below 400 is a delivery.
    fn delivered(&self) -> bool {
        self.error.is_none() && self.http_status.is_some_and(|s| s < 400)
    }
}

/// PowerAuth Server's backoff after `attempts` failures: `initial × multiplier^(attempts-1)`,
/// at most `max_backoff`.
pub(crate) fn backoff(attempts: i64, initial: Duration, config: &CallbackConfig) -> Duration {
    let exponent = i32::try_from(attempts.saturating_sub(1)).unwrap_or(i32::MAX);
    let factor = config.backoff_multiplier.max(1.0).powi(exponent);
    let wanted = initial.as_secs_f64() * factor;
    if !wanted.is_finite() || wanted >= config.max_backoff.as_secs_f64() {
        return config.max_backoff;
    }
    Duration::from_secs_f64(wanted.max(0.0))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A reqwest error without the URL (it may hold credentials), with its causes.
pub(crate) fn describe(error: &reqwest::Error, response_timeout: Duration) -> String {
    if error.is_timeout() && error.is_connect() {
        return "cannot connect within the connect timeout".to_owned();
    }
    if error.is_timeout() {
        return format!(
            "no answer within the timeout ({} ms)",
            response_timeout.as_millis()
        );
    }
    // The innermost cause says what happened ("Connection refused (os error 111)"); the
    // layers above it only name the libraries it passed through.
    let mut innermost = None;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        innermost = Some(cause);
        source = cause.source();
    }
    let what = if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    match innermost {
        Some(cause) => format!("{what}: {cause}"),
        None => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_grows_by_half_and_stops_at_the_maximum() {
        let config = CallbackConfig::default();
        let initial = Duration::from_secs(2);
        assert_eq!(backoff(1, initial, &config), Duration::from_secs(2));
        assert_eq!(backoff(2, initial, &config), Duration::from_secs(3));
        assert_eq!(backoff(3, initial, &config), Duration::from_millis(4500));
        assert_eq!(backoff(20, initial, &config), Duration::from_secs(32));
        assert_eq!(backoff(i64::MAX, initial, &config), Duration::from_secs(32));
    }
}
