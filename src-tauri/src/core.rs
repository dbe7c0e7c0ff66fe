//! [`Core`]: what the window's commands and the terminal flow share. Each method converts
//! types and makes one call into `tokensim-api` (or, for the sandbox panel, the server's
//! Cloud API, which is the bank's side, not the token's). The server lives in
//! [`crate::server`]; the device's actions in [`actions`], activation in [`activation`], the
//! Sandbox panel in [`bank`], the offline QR in [`crate::offline`]; errors in
//! [`crate::error`].

use crate::devices::DeviceBook;
use crate::error::api_error;
use crate::inspector::{DeviceEvents, Timeline};
use crate::server::{Server, ServerSlot};
use crate::types::{AppError, AppInfo, DeviceSummary, ExchangeView};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokensim_api::{Leased, Ran, Runner};
use tokensim_device::{Client, ClientConfig, Fault, Recorder};

pub(crate) mod actions;
mod activation;
mod bank;
#[cfg(test)]
mod tests;

/// Shared state of the app.
pub struct Core {
    /// The device store.
    pub book: DeviceBook,
    /// Every HTTP exchange of every device (the inspector).
    pub recorder: Arc<Recorder>,
    /// Who made each exchange and when (the inspector's device and time columns).
    pub timeline: Arc<Timeline>,
    /// The server the devices talk to.
    pub slot: ServerSlot,
    client: Client,
    faults: Mutex<HashMap<String, &'static str>>,
    pending: Mutex<crate::pending::Pending>,
}

impl Core {
    /// A core over `book`, with no server yet.
    pub fn new(book: DeviceBook) -> Result<Self, AppError> {
        let recorder = Arc::new(Recorder::default());
        let timeline = Arc::new(Timeline::new(recorder.clone()));
        let client = Client::new(ClientConfig::default(), timeline.clone())
            .map_err(|e| AppError::new("CLIENT", e))?;
        Ok(Self {
            book,
            recorder,
            timeline,
            slot: ServerSlot::default(),
            client,
            faults: Mutex::default(),
            pending: Mutex::default(),
        })
    }

    /// The engine client, without any armed fault (the doctor, snapshots, imports).
    pub fn engine_client(&self) -> &Client {
        &self.client
    }

    /// The current server, if any.
    pub fn server(&self) -> Option<Server> {
        self.slot.get()
    }

    /// Why there is no server.
    pub fn server_error(&self) -> Option<String> {
        self.slot.error()
    }

    /// What the app runs with: its server, store, frame sources and poll interval.
    pub fn info(&self, poll_seconds: u32) -> AppInfo {
        AppInfo {
            server: self.server().map(|s| s.info),
            server_error: self.server_error(),
            store: self.book.kind().to_owned(),
            store_warning: self.book.warning().map(str::to_owned),
            sources: crate::frames::sources(),
            poll_seconds,
        }
    }

    /// Stops the embedded sandbox.
    pub async fn shutdown(&self) {
        self.slot.shutdown().await;
    }

    /// Runs use case `f` of `tokensim-api` on device `id` with `client`, holding the
    /// device's lock in this app and its lease across processes from load to save. A refused
    /// signature also says how many PIN attempts are left.
    pub(crate) async fn on_device<T>(
        &self,
        id: &str,
        client: Client,
        f: impl AsyncFnOnce(&Runner<'_>, &mut Leased) -> tokensim_api::Result<Ran<T>>,
    ) -> Result<T, AppError> {
        let lock = self.book.lock(id);
        let _guard = lock.lock().await;
        let lease = self.book.lease(id).await?;
        let mut dev = self.book.leased(id, lease)?;
        // Faults are armed on the client (`client_for`), so the runner carries none.
        let runner = Runner::new(&client, None);
        match f(&runner, &mut dev).await {
            Ok(Ran::Done(value)) => Ok(value),
            Ok(Ran::Fault(report)) => Err(AppError::new(
                "DEVICE",
                format!("fault {} ran", report.fault),
            )),
            Err(error) => Err(api_error(error, &dev.device)),
        }
    }

    /// The client for `id`'s next call: with its armed fault, which is then disarmed.
    pub(crate) fn client_for(&self, id: &str) -> Client {
        let client = self.client_tagged(id);
        match lock(&self.faults).remove(id).and_then(Fault::named) {
            Some(fault) => client.with_fault(fault),
            None => client,
        }
    }

    /// The client whose exchanges the inspector lists under device `id`'s name.
    pub(crate) fn client_tagged(&self, id: &str) -> Client {
        let device = self
            .book
            .summary(id)
            .map_or_else(|_| id.to_owned(), |d| d.name);
        self.client.with_events(Arc::new(DeviceEvents {
            timeline: self.timeline.clone(),
            device,
        }))
    }

    /// Arms (or with `None` disarms) the catalogue's fault `name` (its default parameter)
    /// for `id`'s next call.
    pub fn set_fault(&self, id: &str, name: Option<&str>) -> Result<(), AppError> {
        let mut faults = lock(&self.faults);
        match name {
            Some(name) => {
                let spec = tokensim_device::catalogue::find(name)
                    .filter(|spec| spec.profiles.contains(&"powerauth"))
                    .ok_or_else(|| {
                        AppError::new(
                            "INPUT",
                            format!("{name:?} is not a fault of PowerAuth calls this app knows"),
                        )
                    })?;
                faults.insert(id.to_owned(), spec.name);
            }
            None => {
                faults.remove(id);
            }
        }
        Ok(())
    }

    /// The background poll's listings (device, count, the mark taken before listing it);
    /// returns the counts held now (see [`crate::pending`]).
    pub fn set_pending(
        &self,
        listed: &[(String, u32, crate::pending::Mark)],
    ) -> HashMap<String, u32> {
        lock(&self.pending).polled(listed)
    }

    /// Taken before listing device `id`'s operations (see [`crate::pending`]).
    pub fn pending_mark(&self, id: &str) -> crate::pending::Mark {
        lock(&self.pending).mark(id)
    }

    fn summary(&self, device: &tokensim_wallet::DeviceSummary) -> DeviceSummary {
        DeviceSummary {
            id: device.id.clone(),
            name: device.name.clone(),
            server_url: device.server_url.clone(),
            version: device.version.clone(),
            state: device.state.clone(),
            pending: lock(&self.pending).count(&device.id),
            fault: lock(&self.faults).get(&device.id).map(|f| (*f).to_owned()),
        }
    }

    /// The device list.
    pub fn devices(&self) -> Result<Vec<DeviceSummary>, AppError> {
        Ok(self.book.list()?.iter().map(|d| self.summary(d)).collect())
    }

    /// Ids of the activated devices.
    pub fn active_ids(&self) -> Result<Vec<String>, AppError> {
        Ok(self
            .book
            .list()?
            .into_iter()
            .filter(|d| d.activation_id.is_some())
            .map(|d| d.id)
            .collect())
    }

    /// The inspector's exchanges, newest last.
    pub fn exchanges(&self) -> Vec<ExchangeView> {
        let tags = self.timeline.tags();
        self.recorder
            .exchanges()
            .iter()
            .enumerate()
            .map(|(seq, e)| ExchangeView {
                device: tags.get(seq).and_then(|t| t.device.clone()),
                at_ms: tags.get(seq).map(|t| t.at_ms),
                seq: u32::try_from(seq).unwrap_or(u32::MAX),
                label: e.label.to_owned(),
                method: e.method.clone(),
                url: e.url.clone(),
                status: e.status,
                elapsed_ms: u32::try_from(e.elapsed.as_millis()).unwrap_or(u32::MAX),
                request_headers: e
                    .request_headers
                    .iter()
                    .map(|(k, v)| [k.clone(), v.clone()])
                    .collect(),
                request_body: e.request_body.clone(),
                request_plaintext: e.request_plaintext.clone(),
                response_body: e.response_body.clone(),
                response_plaintext: e.response_plaintext.clone(),
                error: e.error.clone(),
                fault: e.fault.clone(),
            })
            .collect()
    }

    /// The diagnostics bundle ([`tokensim_api::diagnose`], the one `tokensim diagnose`
    /// writes) over the inspector's exchanges, as pretty JSON. Secrets were redacted by the
    /// engine.
    pub fn diagnostics(&self) -> Result<String, AppError> {
        let server = self.server().map(|s| tokensim_api::ServerFacts {
            url: s.info.url.clone(),
            embedded: s.info.embedded,
        });
        let request = tokensim_api::DiagnoseRequest {
            made_by: "tokensim-app",
            device: None,
            server,
            exchanges: tokensim_api::exchange_values(&self.recorder.exchanges()),
            warnings: self.recorder.warnings(),
        };
        tokensim_api::diagnose(self.book.wallet(), request)
            .and_then(|bundle| bundle.to_pretty_json())
            .map_err(|e| AppError::from_api("DIAGNOSE", e))
    }
}

/// Locks a std mutex, recovering from poisoning (the data is plain values).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
