//! The harness: a running sandbox, its default application, and devices activated on it.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use sandbox::{Config, Sandbox};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokensim_backend::{Cloud, InitedActivation, Rest};
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, DeviceRecord, DeviceState, PendingActivation, Profile,
    Recorder,
};
use zeroize::Zeroizing;

pub const PIN: &str = "1234";

pub struct Server {
    pub sandbox: Sandbox,
    pub http: reqwest::Client,
    pub application: ApplicationConfig,
    pub recorder: Arc<Recorder>,
    pub client: Client,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(Config::in_memory()).await
    }

    pub async fn start_with(config: Config) -> Self {
        let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
        let http = reqwest::Client::new();
        let detail = Rest::new(http.clone(), sandbox.url())
            .application_detail("tokensim")
            .await
            .expect("the default application");
        let config = detail.mobile_sdk_config().expect("a supported version");
        let application = ApplicationConfig::from_mobile_sdk_config(config)
            .expect("the sandbox's mobileSdkConfig parses");
        let recorder = Arc::new(Recorder::default());
        let client = Client::new(ClientConfig::default(), recorder.clone()).unwrap();
        Self {
            sandbox,
            http,
            application,
            recorder,
            client,
        }
    }

    /// The server's `/rest/v3`.
    pub fn backend(&self) -> Rest {
        Rest::new(self.http.clone(), self.sandbox.url())
    }

    /// A `/rest/v3` call that must succeed; returns its `responseObject`.
    pub async fn rest(&self, path: &str, request: Value) -> Value {
        self.backend()
            .call(path, request)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The Cloud API as the built-in integration user.
    pub fn cloud(&self) -> Cloud {
        let integration = self.sandbox.integration();
        Cloud::new(
            self.http.clone(),
            self.sandbox.url(),
            &integration.username,
            &integration.password,
        )
    }

    pub fn pending(&self, version: ProtocolVersion) -> PendingActivation {
        PendingActivation::new(Profile::new(
            format!("phone {version}"),
            self.sandbox.url(),
            self.application.clone(),
            version,
        ))
    }

    /// `/rest/v3/activation/init` → (activationId, `CODE#SIGNATURE`).
    pub async fn init(&self, user: &str, extra: Value) -> (String, String) {
        let mut request = json!({"userId": user, "applicationId": "tokensim"});
        if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
            request.extend(extra.clone());
        }
        let init: InitedActivation = self
            .backend()
            .call("/rest/v3/activation/init", request)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let qr = init.qr();
        (init.activation_id, qr)
    }

    /// A device activated and committed for `user` in `version`.
    pub async fn device(&self, user: &str, version: ProtocolVersion) -> ActiveDevice {
        let (id, qr) = self.init(user, json!({})).await;
        let device = activate(
            &self.client,
            self.pending(version),
            &ActivationInput::new(qr, PIN),
        )
        .await
        .unwrap_or_else(|e| panic!("activation in {version}: {e}"));
        assert_eq!(device.activation_id, id);
        self.backend()
            .commit_activation(&id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        device
    }
}

/// A store stand-in: the last saved parts.
#[derive(Clone, Default)]
pub struct Saved(Arc<Mutex<Option<Parts>>>);

type Parts = (DeviceRecord, Zeroizing<Vec<u8>>);

impl Saved {
    pub fn persist(&self) -> impl FnMut(&ActiveDevice) -> Result<(), String> + Send + use<> {
        let saved = self.clone();
        move |device: &ActiveDevice| {
            let parts = DeviceState::Active(device.clone()).to_parts();
            *saved.0.lock().unwrap() = Some(parts);
            Ok(())
        }
    }

    pub fn load(&self) -> ActiveDevice {
        let guard = self.0.lock().unwrap();
        let (record, blob) = guard.as_ref().expect("something was saved");
        match DeviceState::from_parts(record, blob).unwrap() {
            DeviceState::Active(device) => device,
            DeviceState::Pending(_) => panic!("saved a pending device"),
        }
    }
}
