//! [`Core`]: what the window's commands and the terminal flow share. Each method converts
//! types and makes one call into `tokensim-device` (or, for the sandbox panel, the
//! server's Cloud API, which is the bank's side, not the token's).

use crate::devices::DeviceBook;
use crate::inspector::{DeviceEvents, Timeline};
use crate::types::{
    ActivateRequest, ActivationReport, AppError, Approval, DeviceDetail, DeviceSummary,
    ExchangeView, OfflinePreview, OfflineSigned, OperationView, ProximityInput, Registration,
    ServerInfo, SignedData, Step,
};
use base64::Engine as _;
use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::signature::SignatureType;
use sandbox::{Config, Sandbox};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokensim_api::{ErrorKind, Leased, Ran, Runner};
use tokensim_backend::{Cloud, NewOperation, NewRegistration};
use tokensim_device::operations::{Operation, ProximityCheck};
use tokensim_device::{ActiveDevice, Client, ClientConfig, Factors, Fault, Recorder};

/// The server the devices talk to.
#[derive(Clone)]
pub struct Server {
    /// What the window shows.
    pub info: ServerInfo,
    /// The application the sandbox (or outside server) issued.
    pub application: ApplicationConfig,
}

/// Shared state of the app.
pub struct Core {
    /// The device store.
    pub book: DeviceBook,
    /// Every HTTP exchange of every device (the inspector).
    pub recorder: Arc<Recorder>,
    /// Who made each exchange and when (the inspector's device and time columns).
    pub timeline: Arc<Timeline>,
    client: Client,
    http: reqwest::Client,
    server: Mutex<Option<Server>>,
    server_error: Mutex<Option<String>>,
    sandbox: tokio::sync::Mutex<Option<Sandbox>>,
    faults: Mutex<HashMap<String, &'static str>>,
    pending: Mutex<HashMap<String, u32>>,
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
            client,
            http: reqwest::Client::new(),
            server: Mutex::default(),
            server_error: Mutex::default(),
            sandbox: tokio::sync::Mutex::default(),
            faults: Mutex::default(),
            pending: Mutex::default(),
        })
    }

    /// Starts the embedded sandbox: in memory on a random port when `database` is `None`,
    /// else on a SQLite file and `port`.
    pub async fn start_sandbox(
        &self,
        database: Option<&std::path::Path>,
        port: u16,
    ) -> Result<ServerInfo, AppError> {
        let mut config = Config::in_memory();
        if let Some(path) = database {
            config.database_url = Config::sqlite_url(path);
        }
        config.bind.set_port(port);
        // The PowerAuth Server release to answer as, as `tokensim sandbox --server-version`.
        if let Ok(version) = std::env::var("TOKENSIM_SERVER_VERSION") {
            config.server_version = version.parse().map_err(|e: sandbox::ServerVersionError| {
                AppError::new("SANDBOX", format!("TOKENSIM_SERVER_VERSION: {e}"))
            })?;
        }
        let started = async {
            let sandbox = Sandbox::start(config)
                .await
                .map_err(|e| AppError::new("SANDBOX", format!("the sandbox did not start: {e}")))?;
            let sdk = sandbox
                .default_mobile_sdk_config()
                .await
                .map_err(|e| AppError::new("SANDBOX", e))?
                .ok_or_else(|| AppError::new("SANDBOX", "the sandbox has no application"))?;
            let application = ApplicationConfig::from_mobile_sdk_config(&sdk)
                .map_err(|e| AppError::new("SANDBOX", e))?;
            let integration = sandbox.integration();
            let info = ServerInfo {
                url: sandbox.url().to_owned(),
                embedded: true,
                console_url: format!("{}/", sandbox.url()),
                cloud_user: integration.username.clone(),
                cloud_password: integration.password.clone(),
            };
            Ok::<_, AppError>((sandbox, Server { info, application }))
        }
        .await;
        match started {
            Ok((sandbox, server)) => {
                let info = server.info.clone();
                if let Some(old) = self.sandbox.lock().await.replace(sandbox) {
                    old.shutdown().await;
                }
                *lock(&self.server) = Some(server);
                *lock(&self.server_error) = None;
                Ok(info)
            }
            Err(e) => {
                *lock(&self.server_error) = Some(e.message.clone());
                Err(e)
            }
        }
    }

    /// Uses an outside server instead of the embedded sandbox.
    pub async fn use_outside_server(
        &self,
        url: &str,
        mobile_sdk_config: &str,
        cloud_user: &str,
        cloud_password: &str,
    ) -> Result<ServerInfo, AppError> {
        let application = ApplicationConfig::from_mobile_sdk_config(mobile_sdk_config.trim())
            .map_err(|e| AppError::new("CONFIG", e))?;
        let url = url.trim().trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::new(
                "CONFIG",
                "the server URL must start with http:// or https://",
            ));
        }
        let info = ServerInfo {
            console_url: format!("{url}/"),
            url,
            embedded: false,
            cloud_user: cloud_user.to_owned(),
            cloud_password: cloud_password.to_owned(),
        };
        if let Some(old) = self.sandbox.lock().await.take() {
            old.shutdown().await;
        }
        *lock(&self.server) = Some(Server {
            info: info.clone(),
            application,
        });
        *lock(&self.server_error) = None;
        Ok(info)
    }

    /// The engine client, without any armed fault (the doctor, snapshots, imports).
    pub fn engine_client(&self) -> &Client {
        &self.client
    }

    /// The current server, if any.
    pub fn server(&self) -> Option<Server> {
        lock(&self.server).clone()
    }

    /// Why there is no server.
    pub fn server_error(&self) -> Option<String> {
        lock(&self.server_error).clone()
    }

    fn require_server(&self) -> Result<Server, AppError> {
        self.server().ok_or_else(|| {
            AppError::new(
                "NO_SERVER",
                self.server_error()
                    .unwrap_or_else(|| "no server is configured yet".to_owned()),
            )
        })
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

    /// The embedded sandbox's URL and built-in admin login (`None` with an outside server):
    /// what makes the facemap profile's API credentials.
    pub async fn sandbox_admin(&self) -> Option<(String, String, String)> {
        self.sandbox.lock().await.as_ref().map(|sandbox| {
            (
                sandbox.url().to_owned(),
                sandbox.admin().username.clone(),
                sandbox.admin().password.clone(),
            )
        })
    }

    /// Stops the embedded sandbox.
    pub async fn shutdown(&self) {
        if let Some(sandbox) = self.sandbox.lock().await.take() {
            sandbox.shutdown().await;
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

    /// Remembers the pending counts of the last poll; returns the new total.
    pub fn set_pending(&self, counts: HashMap<String, u32>) -> u32 {
        let total = counts.values().sum();
        *lock(&self.pending) = counts;
        total
    }

    fn summary(&self, device: &tokensim_wallet::DeviceSummary) -> DeviceSummary {
        DeviceSummary {
            id: device.id.clone(),
            name: device.name.clone(),
            server_url: device.server_url.clone(),
            version: device.version.clone(),
            state: device.state.clone(),
            pending: lock(&self.pending).get(&device.id).copied().unwrap_or(0),
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

    /// Activates a device with `request` on the current server and stores it.
    pub async fn activate(&self, request: ActivateRequest) -> ActivationReport {
        let steps = Vec::new();
        let failed = |steps: Vec<Step>, error: AppError| ActivationReport {
            steps,
            device: None,
            fingerprint: None,
            error: Some(error),
        };
        let server = match self.require_server() {
            Ok(server) => server,
            Err(e) => return failed(steps, e),
        };
        let version: ProtocolVersion = match request.version.parse() {
            Ok(v) => v,
            Err(_) => {
                return failed(
                    steps,
                    AppError::new("INPUT", "choose a protocol version: 3.0, 3.1, 3.2 or 3.3"),
                );
            }
        };
        if request.pin.len() < 4 || !request.pin.chars().all(|c| c.is_ascii_digit()) {
            return failed(
                steps,
                AppError::new("INPUT", "the PIN must be at least 4 digits"),
            );
        }
        let name = if request.name.trim().is_empty() {
            "My phone".to_owned()
        } else {
            request.name.trim().to_owned()
        };
        let request = tokensim_api::ActivateRequest {
            name,
            server_url: server.info.url.clone(),
            application: server.application.clone(),
            version,
            code: request.code,
            pin: &request.pin,
            otp: request.otp.filter(|otp| !otp.trim().is_empty()),
            biometry_enrollment: request.biometry.then(|| "enrollment-1".to_owned()),
        };
        // The inspector lists the activation's exchanges under the new device's name.
        let tagged = self.client.with_events(Arc::new(DeviceEvents {
            timeline: self.timeline.clone(),
            device: request.name.clone(),
        }));
        let activation =
            tokensim_api::activate(&tagged, &self.recorder, self.book.wallet(), request, None)
                .await;
        let steps = activation.steps;
        match activation.result {
            Ok(tokensim_api::Ran::Done(device)) => {
                let summary = self.book.summary(&device.id).map(|d| self.summary(&d)).ok();
                ActivationReport {
                    steps,
                    device: summary,
                    fingerprint: Some(device.fingerprint),
                    error: None,
                }
            }
            // Not armed here: the app arms faults on a device's next call.
            Ok(tokensim_api::Ran::Fault(report)) => failed(
                steps,
                AppError::new("ACTIVATION", format!("fault {} ran", report.fault)),
            ),
            Err(error) => failed(steps, AppError::from_api("ACTIVATION", error)),
        }
    }

    /// Status and public facts of a device (fetches the status from the server).
    pub async fn detail(&self, id: &str) -> Result<DeviceDetail, AppError> {
        // Not `client_for`: showing the device must not spend a fault armed for its next action.
        let status = self
            .on_device(id, self.client_tagged(id), async |r, d| {
                tokensim_api::status(r, d, false).await
            })
            .await
            .map(|status| status.counter);
        let device = self.book.load_active(id)?;
        let summary = self.book.summary(id)?;
        let snapshot = device.last_status.clone();
        let (counter, status_error) = match status {
            Ok(words) => (words, None),
            Err(e) => (String::new(), Some(e.message)),
        };
        Ok(DeviceDetail {
            summary: self.summary(&summary),
            activation_id: device.activation_id.clone(),
            fingerprint: device.fingerprint.clone(),
            failed_attempts: snapshot.as_ref().map_or(0, |s| s.failed_attempts.into()),
            max_failed_attempts: snapshot
                .as_ref()
                .map_or(0, |s| s.max_failed_attempts.into()),
            counter,
            tokens: device.tokens.keys().cloned().collect(),
            biometry: device.biometry.is_some(),
            recovery: device.recovery.is_some(),
            status_error,
        })
    }

    /// Pending operations of a device.
    pub async fn operations(&self, id: &str) -> Result<Vec<OperationView>, AppError> {
        let list = self
            .on_device(id, self.client_for(id), tokensim_api::list_operations)
            .await?;
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Pending operations, without inspector events (the background poll).
    pub async fn operations_quiet(&self, id: &str) -> Result<Vec<OperationView>, AppError> {
        let quiet = self.client.with_events(Arc::new(tokensim_device::NoEvents));
        let list = self
            .on_device(id, quiet, tokensim_api::list_operations)
            .await?;
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Registers device `id` for push messages and opens the server's push stream for it
    /// (the sandbox's outbox, Server-Sent Events).
    pub async fn push_stream(
        &self,
        id: &str,
    ) -> Result<tokensim_device::push::PushStream, AppError> {
        let server = self.require_server()?;
        let quiet = self.client.with_events(Arc::new(tokensim_device::NoEvents));
        let token = format!("tokensim-app-{id}");
        self.on_device(id, quiet.clone(), async |r, d| {
            tokensim_api::register_push(r, d, "fcm", Some(&token)).await
        })
        .await?;
        let activation_id = self
            .book
            .summary(id)?
            .activation_id
            .ok_or_else(|| AppError::new("NOT_ACTIVE", "this device is not activated"))?;
        let credentials = tokensim_device::push::CloudCredentials {
            username: server.info.cloud_user.clone(),
            password: zeroize::Zeroizing::new(server.info.cloud_password.clone()),
        };
        tokensim_device::push::PushStream::open(
            &quiet,
            &server.info.url,
            &activation_id,
            &credentials,
        )
        .await
        .map_err(|e| AppError::from_device(&e))
    }

    /// Operation history (signed with the PIN).
    pub async fn history(&self, id: &str, pin: &str) -> Result<Vec<OperationView>, AppError> {
        require_pin(pin)?;
        let factors = Factors::pin(pin);
        let list = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::operation_history(r, d, &factors).await
            })
            .await?;
        Ok(list.operations.iter().map(operation_view).collect())
    }

    /// Approves an operation.
    pub async fn approve(
        &self,
        id: &str,
        operation_id: &str,
        approval: Approval,
        proximity: Option<ProximityInput>,
    ) -> Result<(), AppError> {
        let factors = approval_factors(&approval)?;
        let client = self.client_for(id);
        let proximity = proximity.map(|p| ProximityCheck {
            otp: p.otp.trim().to_owned(),
            kind: p.kind,
            timestamp_received: p.timestamp_received,
            timestamp_sent: crate::proximity::iso8601(client.now_ms()),
        });
        self.on_device(id, client, async |r, d| {
            tokensim_api::approve_operation(r, d, operation_id, &factors, proximity.as_ref()).await
        })
        .await
        .map(drop)
    }

    /// Rejects an operation with `reason` (`UNEXPECTED_OPERATION`, `INCORRECT_DATA`, …).
    pub async fn reject(&self, id: &str, operation_id: &str, reason: &str) -> Result<(), AppError> {
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::reject_operation(r, d, operation_id, reason).await
        })
        .await
        .map(drop)
    }

    /// Signs `data` for `uri_id` and returns the header (no request is sent).
    pub async fn sign_data(
        &self,
        id: &str,
        data: &[u8],
        uri_id: &str,
        approval: Approval,
        possession_only: bool,
    ) -> Result<SignedData, AppError> {
        let factors = match (&approval, possession_only) {
            (_, true) => Factors::possession(),
            (Approval::Pin { pin }, false) => Factors::pin(pin),
            (Approval::Biometry, false) => Factors::new(SignatureType::PossessionBiometry, None),
            (Approval::Possession, false) => Factors::possession(),
        };
        if let Approval::Pin { pin } = &approval
            && !possession_only
        {
            require_pin(pin)?;
        }
        let request = tokensim_api::SignRequest {
            method: "POST",
            uri_id,
            body: data,
            factors: &factors,
            verify: false,
        };
        let signed = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::sign(r, d, request).await.map(Ran::Done)
            })
            .await?;
        Ok(SignedData {
            header_name: signed.header.to_owned(),
            header_value: signed.value,
        })
    }

    /// Reads an offline operation's QR `text` for device `id`: its layout, and its ECDSA
    /// signature (the application's master key or this activation's server key); the
    /// operation rendered like an online one. Nothing is signed and the counter stays.
    pub fn offline_preview(&self, id: &str, text: &str) -> Result<OfflinePreview, AppError> {
        let device = self.book.load_active(id)?;
        let offline_error = |e: powerauth::offline::OfflineQrError| {
            let error = tokensim_device::Error::from(e);
            AppError::from_device(&error)
                .with_hint("scan the QR code this device's server issued for this device")
        };
        let qr = powerauth::offline::OfflineQr::parse(text.trim_end_matches(['\r', '\n']))
            .map_err(offline_error)?;
        qr.verify(
            &device.profile.application.master_server_public_key,
            &device.server_public_key,
        )
        .map_err(offline_error)?;
        let data = qr.operation_data();
        Ok(OfflinePreview {
            operation: OperationView {
                id: qr.operation_id().to_owned(),
                name: crate::offline::template_name(data).to_owned(),
                data: data.to_owned(),
                status: Some("OFFLINE".to_owned()),
                signature_kind: "2FA".to_owned(),
                variants: if qr.flags().biometry_allowed {
                    vec![
                        "possession_knowledge".to_owned(),
                        "possession_biometry".to_owned(),
                    ]
                } else {
                    vec!["possession_knowledge".to_owned()]
                },
                form_data: Some(crate::offline::form_data(qr.title(), qr.message(), data)),
                created: None,
                expires: None,
                status_reason: None,
                ui: None,
            },
            biometry_allowed: qr.flags().biometry_allowed,
            kind: match qr.signing_key() {
                powerauth::offline::SigningKeyKind::Personalized => "personalized",
                powerauth::offline::SigningKeyKind::Master => "non-personalized",
            }
            .to_owned(),
        })
    }

    /// Signs an offline operation's QR `text` with device `id` (PIN or biometry): the
    /// offline signature the user types into the web page. No request is sent; the
    /// counter advances and is saved.
    pub async fn sign_offline(
        &self,
        id: &str,
        text: &str,
        approval: Approval,
    ) -> Result<OfflineSigned, AppError> {
        let factors = approval_factors(&approval)?;
        let code = self
            .on_device(id, self.client_for(id), async |r, d| {
                tokensim_api::sign_offline(r, d, text, &factors).await
            })
            .await?;
        Ok(OfflineSigned {
            operation_id: code.operation_id,
            signature: code.signature,
            display: code.display,
        })
    }

    /// Checks the PIN against the server by unlocking the vault (the vault key stays here).
    pub async fn unlock_vault(&self, id: &str, pin: &str) -> Result<(), AppError> {
        require_pin(pin)?;
        let factors = Factors::pin(pin);
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::unlock_vault(r, d, &factors, "TokenSim vault check", false).await
        })
        .await
        .map(drop)
    }

    /// Changes the PIN.
    pub async fn change_pin(&self, id: &str, old_pin: &str, new_pin: &str) -> Result<(), AppError> {
        require_pin(old_pin)?;
        if new_pin.len() < 4 || !new_pin.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::new(
                "INPUT",
                "the new PIN must be at least 4 digits",
            ));
        }
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::change_pin(r, d, old_pin, new_pin).await
        })
        .await
        .map(drop)
    }

    /// Enrols simulated biometry (the vault is unlocked with the PIN).
    pub async fn enroll_biometry(&self, id: &str, pin: &str) -> Result<(), AppError> {
        require_pin(pin)?;
        self.on_device(id, self.client_for(id), async |r, d| {
            tokensim_api::enroll_biometry(r, d, pin).await
        })
        .await
        .map(drop)
    }

    /// Simulates the OS biometric enrollment changing: the biometry key stops working.
    pub async fn change_enrollment(&self, id: &str) -> Result<(), AppError> {
        let enrollment = format!("enrollment-{}", self.client.now_ms());
        self.on_device(id, self.client.clone(), async |r, d| {
            tokensim_api::change_enrollment(r, d, &enrollment).map(Ran::Done)
        })
        .await
        .map(drop)
    }

    /// Removes the biometry key.
    pub async fn remove_biometry(&self, id: &str) -> Result<(), AppError> {
        self.on_device(id, self.client.clone(), async |r, d| {
            tokensim_api::remove_biometry(r, d).map(Ran::Done)
        })
        .await
        .map(drop)
    }

    /// Removes the activation on the server (with the PIN), then forgets the device; with
    /// `local_only`, only forgets it.
    pub async fn remove(
        &self,
        id: &str,
        pin: Option<&str>,
        local_only: bool,
    ) -> Result<(), AppError> {
        if !local_only {
            // The server removes an activation only with possession and knowledge: without
            // a PIN nothing is sent.
            let pin = pin.unwrap_or_default();
            require_pin(pin)?;
            let factors = Factors::pin(pin);
            // Forgets the device here too, under the same lease.
            return self
                .on_device(id, self.client_for(id), async |r, d| {
                    tokensim_api::remove(r, d, &factors).await
                })
                .await
                .map(drop);
        }
        self.book.delete(id)
    }

    /// Renames a device.
    pub fn rename(&self, id: &str, name: &str) -> Result<(), AppError> {
        if name.trim().is_empty() {
            return Err(AppError::new("INPUT", "a device needs a name"));
        }
        self.book.rename(id, name.trim())
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

    /// The server's Cloud API as its integration user (the typed client of
    /// `tokensim-backend`).
    fn cloud(&self) -> Result<Cloud, AppError> {
        let server = self.require_server()?;
        Ok(Cloud::new(
            self.http.clone(),
            &server.info.url,
            &server.info.cloud_user,
            &server.info.cloud_password,
        ))
    }

    /// Sandbox panel: a new registration for `user` (committed on key exchange), with its QR.
    pub async fn new_registration(&self, user: &str) -> Result<Registration, AppError> {
        let user = if user.trim().is_empty() {
            "tester"
        } else {
            user.trim()
        };
        let created = self
            .cloud()?
            .create_registration(&NewRegistration {
                user_id: user.to_owned(),
                app_id: sandbox::apps::DEFAULT_APPLICATION.to_owned(),
                commit_phase: Some("ON_KEY_EXCHANGE".to_owned()),
                ..NewRegistration::default()
            })
            .await
            .map_err(|e| cloud_error("creating a registration", &e))?;
        Ok(Registration {
            activation_id: created.registration_id,
            user_id: user.to_owned(),
            qr_png: qr_png(&created.activation_qr_code_data)?,
            qr_text: created.activation_qr_code_data,
        })
    }

    /// Sandbox panel: a `login` or `payment` operation for the user of device `id`.
    pub async fn new_operation(&self, id: &str, template: &str) -> Result<String, AppError> {
        let activation_id = self
            .book
            .summary(id)?
            .activation_id
            .ok_or_else(|| AppError::new("NOT_ACTIVE", "this device is not activated"))?;
        let cloud = self.cloud()?;
        let registration = cloud
            .registration(&activation_id)
            .await
            .map_err(|e| cloud_error("reading the registration", &e))?;
        let mut parameters = serde_json::Map::new();
        if template == "payment" {
            for (name, value) in [
                ("amount", "1250.00"),
                ("currency", "EUR"),
                ("iban", "CZ6508000000192000145399"),
            ] {
                parameters.insert(name.to_owned(), json!(value));
            }
        }
        let operation = cloud
            .create_operation(&NewOperation {
                user_id: Some(registration.user_id),
                template: template.to_owned(),
                parameters,
                ..NewOperation::default()
            })
            .await
            .map_err(|e| cloud_error("creating an operation", &e))?;
        Ok(operation.operation_id)
    }

    /// Sandbox panel: an operation's status as the bank sees it.
    pub async fn operation_status(&self, operation_id: &str) -> Result<String, AppError> {
        let operation = self
            .cloud()?
            .operation(operation_id)
            .await
            .map_err(|e| cloud_error("reading the operation", &e))?;
        Ok(operation.status)
    }
}

/// A Cloud API failure as the app shows it: what it was doing, and the server's answer.
fn cloud_error(what: &str, error: &tokensim_backend::Error) -> AppError {
    AppError::new("CLOUD", format!("{what}: {error}"))
}

impl AppError {
    /// An error with an app code and a message; its kind follows from the code.
    pub fn new(code: &str, message: impl std::fmt::Display) -> Self {
        Self {
            kind: Some(kind_of(code)),
            code: code.to_owned(),
            message: message.to_string(),
            hint: None,
        }
    }

    /// A use case's error under the app's `code`: its kind, message and hint (the same the
    /// CLI prints).
    pub fn from_api(code: &str, error: tokensim_api::Error) -> Self {
        Self {
            code: code.to_owned(),
            kind: Some(error.kind),
            message: error.message,
            hint: error.hint,
        }
    }

    /// The same error with `hint`.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The engine's error in its own words, with the kind and hint `tokensim-api` gives it.
    pub fn from_device(error: &tokensim_device::Error) -> Self {
        let code = if error.is_authentication_failure() {
            "AUTHENTICATION"
        } else if error.is_profile_refusal() {
            "REFUSED"
        } else {
            "DEVICE"
        };
        Self::from_api(code, tokensim_api::Error::from(error))
    }
}

/// The kind of an app error made from its code alone.
fn kind_of(code: &str) -> ErrorKind {
    match code {
        "INPUT" | "REGION" => ErrorKind::Usage,
        "CONFIG" => ErrorKind::Config,
        "NO_SERVER" => ErrorKind::NoServer,
        "NOT_ACTIVE" => ErrorKind::NotActivated,
        "STORE" | "SAVE" => ErrorKind::Store,
        "SANDBOX" => ErrorKind::Sandbox,
        "CLOUD" => ErrorKind::Cloud,
        "FLEET" => ErrorKind::Fleet,
        "BUSY" => ErrorKind::Busy,
        "QR" | "IMAGE" => ErrorKind::QrImage,
        "SCAN" | "CAMERA" | "NO_CAMERA" | "NO_FRAME" | "NO_SOURCE" | "SCREEN" => ErrorKind::Scan,
        _ => ErrorKind::Error,
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

/// A use case's error; a refused signature also says how many PIN attempts are left.
pub(crate) fn api_error(error: tokensim_api::Error, device: &ActiveDevice) -> AppError {
    let authentication = error.http_status == Some(401);
    let mut app = AppError::from_api(
        if authentication {
            "AUTHENTICATION"
        } else {
            "DEVICE"
        },
        error,
    );
    if authentication && let Some(status) = &device.last_status {
        app.message = format!(
            "Wrong PIN or factor: the server refused the signature ({} of {} attempts left before the activation is blocked).",
            status.remaining_attempts(),
            status.max_failed_attempts,
        );
        app.hint = Some(
            "type the PIN again; after the last attempt the bank has to unblock the activation"
                .to_owned(),
        );
    }
    app
}

fn operation_view(operation: &Operation) -> OperationView {
    let text = |name: &str| {
        operation
            .extra
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    OperationView {
        id: operation.id.clone(),
        name: operation.name.clone(),
        data: operation.data.clone(),
        status: operation.status.clone(),
        signature_kind: operation.allowed_signature_type.kind.clone(),
        variants: operation.allowed_signature_type.variants.clone(),
        form_data: operation.form_data.clone(),
        created: text("operationCreated"),
        expires: text("operationExpires"),
        status_reason: text("statusReason"),
        ui: operation.ui.clone(),
    }
}

/// Nothing is signed with an empty or short PIN: it would cost a real attempt on the server.
pub(crate) fn require_pin(pin: &str) -> Result<(), AppError> {
    if pin.is_empty() {
        return Err(AppError::new(
            "INPUT",
            "Type the PIN first: nothing was sent.",
        ));
    }
    if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(AppError::new(
            "INPUT",
            "A PIN is at least 4 digits: nothing was sent.",
        ));
    }
    Ok(())
}

/// The factors of an approval (the PIN checked first).
fn approval_factors(approval: &Approval) -> Result<Factors, AppError> {
    Ok(match approval {
        Approval::Pin { pin } => {
            require_pin(pin)?;
            Factors::pin(pin)
        }
        Approval::Biometry => Factors::biometry(),
        Approval::Possession => Factors::possession(),
    })
}

/// `text` as a QR code in a PNG data URL.
pub fn qr_png(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::new("QR", e))?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(320, 320)
        .build();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| AppError::new("QR", e))?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// Locks a std mutex, recovering from poisoning (the data is plain values).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::StoreChoice;

    const PIN: &str = "918273";

    async fn core() -> (Core, tempfile::TempDir) {
        let folder = tempfile::tempdir().unwrap();
        let core =
            Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
        core.start_sandbox(None, 0).await.unwrap();
        (core, folder)
    }

    fn request(code: &str) -> ActivateRequest {
        ActivateRequest {
            name: "Alice's phone".to_owned(),
            code: code.to_owned(),
            pin: PIN.to_owned(),
            version: "3.3".to_owned(),
            biometry: true,
            otp: None,
        }
    }

    #[tokio::test]
    async fn activation_payment_approval_and_a_wrong_pin_against_the_embedded_sandbox() {
        let (core, _folder) = core().await;
        let registration = core.new_registration("alice").await.unwrap();
        assert!(registration.qr_png.starts_with("data:image/png;base64,"));
        let report = core.activate(request(&registration.qr_text)).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        assert!(
            report
                .steps
                .iter()
                .any(|s| s.title.contains("activation/create") && s.outcome == "done"),
            "{:?}",
            report.steps
        );
        let id = report.device.expect("a stored device").id;
        assert_eq!(id, "alice-s-phone");
        let detail = core.detail(&id).await.unwrap();
        assert_eq!(detail.summary.state, "ACTIVE");
        assert!(detail.biometry);

        let mut push = core.push_stream(&id).await.unwrap();
        let operation = core.new_operation(&id, "payment").await.unwrap();
        let message = tokio::time::timeout(std::time::Duration::from_secs(10), push.next())
            .await
            .expect("a push message for the new operation");
        assert!(matches!(message, Some(Ok(_))), "{message:?}");
        let pending = core.operations(&id).await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, operation);
        let error = core
            .approve(
                &id,
                &operation,
                Approval::Pin {
                    pin: "000000".to_owned(),
                },
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(error.code, "AUTHENTICATION", "{error:?}");
        assert!(error.message.contains("attempts left"), "{}", error.message);
        assert_eq!(core.operation_status(&operation).await.unwrap(), "PENDING");
        core.approve(
            &id,
            &operation,
            Approval::Pin {
                pin: PIN.to_owned(),
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!(core.operation_status(&operation).await.unwrap(), "APPROVED");

        let login = core.new_operation(&id, "login").await.unwrap();
        core.approve(&id, &login, Approval::Biometry, None)
            .await
            .unwrap();
        assert_eq!(core.operation_status(&login).await.unwrap(), "APPROVED");

        // The PIN went in; it never comes out, not even in the diagnostics bundle.
        let diagnostics = core.diagnostics().unwrap();
        assert!(diagnostics.contains("activation/create"));
        assert!(!diagnostics.contains(PIN));
        assert!(
            core.exchanges()
                .iter()
                .all(|x| !x.request_body.contains(PIN))
        );
        core.shutdown().await;
    }

    #[tokio::test]
    async fn a_damaged_code_fails_before_anything_is_sent_and_says_why() {
        let (core, _folder) = core().await;
        let registration = core.new_registration("bob").await.unwrap();
        let mut damaged = registration.qr_text.clone();
        damaged.replace_range(0..1, if damaged.starts_with('A') { "B" } else { "A" });
        let report = core.activate(request(&damaged)).await;
        let error = report.error.expect("an error");
        assert_eq!(error.code, "ACTIVATION");
        assert!(
            error.message.contains("checksum doesn't match"),
            "{error:?}"
        );
        assert!(
            error.hint.as_deref().unwrap_or("").contains("typos"),
            "{error:?}"
        );
        assert!(report.device.is_none());
        let last = report.steps.last().unwrap();
        assert_eq!(last.outcome, "failed");
        assert_eq!(last.title, "Read the activation code");
        assert!(
            core.exchanges().is_empty(),
            "nothing may be sent for a damaged code"
        );
        assert!(core.devices().unwrap().is_empty());
        core.shutdown().await;
    }

    #[tokio::test]
    async fn a_server_that_is_down_and_a_used_code_fail_at_their_steps_with_the_doctor_s_hint() {
        // A sandbox of our own, to know its application and then stop it.
        let outside = Sandbox::start(Config::in_memory()).await.unwrap();
        let sdk = outside.default_mobile_sdk_config().await.unwrap().unwrap();
        let folder = tempfile::tempdir().unwrap();
        let core =
            Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
        let (user, password) = (
            outside.integration().username.clone(),
            outside.integration().password.clone(),
        );
        core.use_outside_server(outside.url(), &sdk, &user, &password)
            .await
            .unwrap();
        let registration = core.new_registration("carol").await.unwrap();
        let report = core.activate(request(&registration.qr_text)).await;
        assert!(report.error.is_none(), "{:?}", report.error);

        // The same code again: the server refuses it at the key exchange.
        let again = core.activate(request(&registration.qr_text)).await;
        let error = again.error.expect("a used code is refused");
        assert_eq!(error.code, "ACTIVATION");
        assert_eq!(
            again.steps.last().unwrap().title,
            "Key exchange with the server"
        );
        assert!(error.message.contains("already used"), "{error:?}");
        assert!(
            error
                .hint
                .as_deref()
                .unwrap()
                .contains("new activation code"),
            "{error:?}"
        );

        // The server goes away: the first request cannot reach it.
        let second = core.new_registration("dave").await.unwrap();
        outside.shutdown().await;
        let down = core.activate(request(&second.qr_text)).await;
        let error = down.error.expect("no server, no activation");
        assert_eq!(down.steps.last().unwrap().title, "Reach the server");
        assert!(error.message.contains("cannot reach"), "{error:?}");
        assert!(
            error.hint.as_deref().unwrap().contains("server is running"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn an_offline_qr_is_previewed_then_signed_and_the_server_accepts_the_code() {
        let (core, _folder) = core().await;
        let registration = core.new_registration("erin").await.unwrap();
        let report = core.activate(request(&registration.qr_text)).await;
        let id = report.device.expect("activated").id;
        let server = core.server().unwrap().info.url;
        let http = reqwest::Client::new();
        let rest = |path: &str, body: Value| {
            let request = http
                .post(format!("{server}{path}"))
                .json(&json!({ "requestObject": body }));
            async move {
                let body: Value = request.send().await.unwrap().json().await.unwrap();
                body["responseObject"].clone()
            }
        };
        let data = powerauth::offline::operation_qr_data(
            "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6",
            "Payment",
            "Pay 100 CZK",
            "A1*A100CZK*Q238400856/0300**D20190629*NCake",
            powerauth::offline::QrFlags::parse("B"),
        );
        let created = rest(
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": registration.activation_id, "data": data}),
        )
        .await;
        let text = created["offlineData"].as_str().unwrap().to_owned();

        let preview = core.offline_preview(&id, &text).unwrap();
        assert_eq!(preview.kind, "personalized");
        assert_eq!(preview.operation.name, "payment");
        let form = preview.operation.form_data.as_ref().unwrap();
        assert_eq!(form["attributes"][0]["amount"], "100");
        // Reading it moved nothing: a preview is not a signature.
        let counter = || {
            core.book
                .load_active(&id)
                .unwrap()
                .ctr_data
                .expose_bytes()
                .to_vec()
        };
        let before = counter();
        core.offline_preview(&id, &text).unwrap();
        assert_eq!(before, counter());

        let signed = core
            .sign_offline(
                &id,
                &text,
                Approval::Pin {
                    pin: PIN.to_owned(),
                },
            )
            .await
            .unwrap();
        assert_ne!(before, counter());
        let qr = powerauth::offline::OfflineQr::parse(&text).unwrap();
        let verified = rest(
            "/rest/v3/signature/offline/verify",
            json!({
                "activationId": registration.activation_id,
                "data": qr.request_data().as_str(),
                "signature": signed.signature,
                "allowBiometry": true,
            }),
        )
        .await;
        assert_eq!(verified["signatureValid"], true, "{verified}");
        assert_eq!(signed.display.len(), 19, "{}", signed.display);

        // Altered after the server signed it: refused before anything is computed.
        let tampered = text.replace("100CZK", "900CZK");
        let error = core.offline_preview(&id, &tampered).unwrap_err();
        assert!(
            error.message.contains("offline QR code is not usable"),
            "{error:?}"
        );
        assert!(error.hint.is_some());
        core.shutdown().await;
    }

    /// The keys of a JSON object, sorted.
    fn keys(value: &serde_json::Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    /// The app's "Export diagnostics" writes the bundle `tokensim diagnose` writes: the same
    /// keys as the CLI's bundle pinned in the CLI's output snapshots, at every level, with
    /// the server the app knows.
    #[tokio::test]
    async fn the_diagnostics_bundle_has_the_shape_of_the_cli_s() {
        let pinned = include_str!("../../tests/cli/snapshots/e2e__outputs__store_commands.snap");
        let start = pinned.find("bundle.json:\n").expect("the CLI's bundle") + 13;
        let end = start + pinned[start..].find("\n\n").expect("the bundle's end");
        let cli: serde_json::Value = serde_json::from_str(&pinned[start..end]).unwrap();

        let (core, _folder) = core().await;
        let registration = core.new_registration("diana").await.unwrap();
        let report = core.activate(request(&registration.qr_text)).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        let app: serde_json::Value = serde_json::from_str(&core.diagnostics().unwrap()).unwrap();

        assert_eq!(app["format"], cli["format"]);
        assert_eq!(app["formatVersion"], cli["formatVersion"]);
        assert_eq!(app["madeBy"], "tokensim-app");
        assert_eq!(keys(&app), keys(&cli));
        assert_eq!(keys(&app["device"]), keys(&cli["device"]));
        for part in ["summary", "record"] {
            assert_eq!(
                keys(&app["device"][part]),
                keys(&cli["device"][part]),
                "{part}"
            );
        }
        assert_eq!(
            keys(&app["device"]["record"]["activation"]),
            keys(&cli["device"]["record"]["activation"])
        );
        assert_eq!(keys(&app["devices"][0]), keys(&cli["devices"][0]));
        assert!(!app["exchanges"].as_array().unwrap().is_empty());
        assert_eq!(keys(&app["server"]), ["embedded", "url"]);
        assert_eq!(cli["server"], serde_json::Value::Null);
        core.shutdown().await;
    }
}
