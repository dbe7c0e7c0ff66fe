//! The inspector's timeline: every HTTP exchange of every device, with the device that made
//! it and the wall-clock time it ended, newest available at once to the window
//! (`inspector-changed`). The engine's [`Recorder`] keeps the exchanges; this keeps, under the
//! same lock and in the same order, who and when.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokensim_device::{Events, Exchange, Recorder, Warning};

type Listener = Box<dyn Fn() + Send + Sync>;

/// Exchanges with their device and time.
#[derive(Default)]
pub struct Timeline {
    recorder: Arc<Recorder>,
    tags: Mutex<Vec<Tag>>,
    listener: Mutex<Option<Listener>>,
}

/// Who made an exchange and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    /// The device's name, when the exchange was made for one.
    pub device: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub at_ms: f64,
}

impl Timeline {
    /// A timeline over `recorder` (which keeps the exchanges themselves).
    pub fn new(recorder: Arc<Recorder>) -> Self {
        Self {
            recorder,
            ..Self::default()
        }
    }

    /// Calls `listener` after each new exchange (the window's live update).
    pub fn on_change(&self, listener: impl Fn() + Send + Sync + 'static) {
        *crate::core::lock(&self.listener) = Some(Box::new(listener));
    }

    /// The tags, in the order of the recorder's exchanges.
    pub fn tags(&self) -> Vec<Tag> {
        crate::core::lock(&self.tags).clone()
    }

    /// Forgets every exchange.
    pub fn clear(&self) {
        let mut tags = crate::core::lock(&self.tags);
        self.recorder.clear();
        tags.clear();
    }

    fn record(&self, exchange: &Exchange, device: Option<&str>) {
        {
            let mut tags = crate::core::lock(&self.tags);
            self.recorder.exchange(exchange);
            let at_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
            tags.push(Tag {
                device: device.map(str::to_owned),
                at_ms,
            });
        }
        if let Some(listener) = crate::core::lock(&self.listener).as_ref() {
            listener();
        }
    }
}

impl Events for Timeline {
    fn exchange(&self, exchange: &Exchange) {
        self.record(exchange, None);
    }
    fn warning(&self, warning: &Warning) {
        self.recorder.warning(warning);
    }
}

/// The timeline's events for one device.
pub struct DeviceEvents {
    /// Where they go.
    pub timeline: Arc<Timeline>,
    /// The device's name.
    pub device: String,
}

impl Events for DeviceEvents {
    fn exchange(&self, exchange: &Exchange) {
        self.timeline.record(exchange, Some(&self.device));
    }
    fn warning(&self, warning: &Warning) {
        self.timeline.warning(warning);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(label: &'static str) -> Exchange {
        Exchange {
            label,
            method: "POST".to_owned(),
            url: "http://127.0.0.1/x".to_owned(),
            request_headers: Vec::new(),
            request_body: String::new(),
            request_plaintext: None,
            status: Some(200),
            response_headers: Vec::new(),
            response_body: String::new(),
            response_plaintext: None,
            elapsed: std::time::Duration::ZERO,
            error: None,
            fault: None,
        }
    }

    #[test]
    fn each_exchange_keeps_its_device_and_time_in_order_and_the_listener_hears_it() {
        let recorder = Arc::new(Recorder::default());
        let timeline = Arc::new(Timeline::new(recorder.clone()));
        let heard = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = heard.clone();
        timeline.on_change(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        timeline.exchange(&exchange("activation/create"));
        let phone = DeviceEvents {
            timeline: timeline.clone(),
            device: "QA phone 1".to_owned(),
        };
        phone.exchange(&exchange("operation/list"));
        let tags = timeline.tags();
        assert_eq!(recorder.exchanges().len(), 2);
        assert_eq!(tags[0].device, None);
        assert_eq!(tags[1].device.as_deref(), Some("QA phone 1"));
        assert!(tags[1].at_ms >= tags[0].at_ms && tags[0].at_ms > 1.6e12);
        assert_eq!(heard.load(std::sync::atomic::Ordering::Relaxed), 2);
        timeline.clear();
        assert!(timeline.tags().is_empty() && recorder.exchanges().is_empty());
    }
}
