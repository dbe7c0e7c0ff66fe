//! The wallet against the real sandbox: a device activated over HTTP is added, found, signed
//! with through the wallet's `Persist`, reloaded from a reopened store, renamed, exported and
//! imported, removed.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use sandbox::{Config, Sandbox};
use std::sync::Arc;
use tokensim_backend::{InitActivation, Rest};
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, DeviceState, Factors, PendingActivation, Profile, Recorder,
    Session,
};
use tokensim_wallet::{BackendKind, Error, MemorySecrets, Passphrase, Secrets, Wallet};

const PIN: &str = "1234";

struct Server {
    sandbox: Sandbox,
    http: reqwest::Client,
    application: ApplicationConfig,
    client: Client,
}

impl Server {
    async fn start() -> Self {
        let sandbox = Sandbox::start(Config::in_memory()).await.unwrap();
        let config = sandbox.default_mobile_sdk_config().await.unwrap().unwrap();
        let application = ApplicationConfig::from_mobile_sdk_config(&config).unwrap();
        let client = Client::new(ClientConfig::default(), Arc::new(Recorder::default())).unwrap();
        Self {
            sandbox,
            http: reqwest::Client::new(),
            application,
            client,
        }
    }

    fn rest(&self) -> Rest {
        Rest::new(self.http.clone(), self.sandbox.url())
    }

    async fn device(&self, name: &str, version: ProtocolVersion) -> ActiveDevice {
        let init = self
            .rest()
            .init_activation(&InitActivation {
                user_id: "alice".to_owned(),
                application_id: "tokensim".to_owned(),
                ..InitActivation::default()
            })
            .await
            .unwrap();
        let pending = PendingActivation::new(Profile::new(
            name,
            self.sandbox.url(),
            self.application.clone(),
            version,
        ));
        let device = activate(&self.client, pending, &ActivationInput::new(init.qr(), PIN))
            .await
            .unwrap();
        self.rest()
            .commit_activation(&device.activation_id)
            .await
            .unwrap();
        device
    }
}

#[tokio::test]
async fn a_device_lives_in_an_encrypted_file_wallet_across_reopens() {
    let server = Server::start().await;
    let folder = tempfile::tempdir().unwrap();
    let passphrase = || Some(Passphrase::from("correct horse"));
    let wallet = Wallet::open(folder.path(), None, passphrase()).unwrap();
    assert_eq!(wallet.backend(), BackendKind::EncryptedFile);

    let device = server.device("Alice's phone", ProtocolVersion::V3_3).await;
    let id = wallet.add(&DeviceState::Active(device.clone())).unwrap();
    assert_eq!(id.as_str(), "alice-s-phone");
    let second = wallet.add(&DeviceState::Active(device)).unwrap();
    assert_eq!(second.as_str(), "alice-s-phone-2");
    wallet.remove(&second).unwrap();

    // Sign through the wallet's Persist: the advanced counter is saved before sending.
    let mut active = wallet.load_active(&id).unwrap();
    let before = active.ctr_data.clone();
    let mut persist = wallet.persister(&id);
    let mut session = Session::new(&server.client, &mut active, &mut persist);
    session.status().await.unwrap();
    session
        .validate_signature(&Factors::pin(PIN), "wallet test")
        .await
        .unwrap();
    wallet.save(&id, &DeviceState::Active(active)).unwrap();
    drop(wallet);

    // Reopened without naming the backend: the store says it is an encrypted file.
    let reopened = Wallet::open(folder.path(), None, passphrase()).unwrap();
    let mut active = reopened.load_active(&id).unwrap();
    assert_ne!(active.ctr_data.expose_bytes(), before.expose_bytes());
    let listed = reopened.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Alice's phone");
    assert_eq!(listed[0].version, "3.3");
    assert_eq!(listed[0].state, "ACTIVE");
    assert_eq!(
        listed[0].activation_id.as_deref(),
        Some(active.activation_id.as_str())
    );
    let mut persist = reopened.persister(&id);
    Session::new(&server.client, &mut active, &mut persist)
        .validate_signature(&Factors::possession(), "after reopen")
        .await
        .expect("the reloaded device still signs in step with the server");

    let missing = Wallet::open(folder.path(), None, None).unwrap_err();
    assert!(
        matches!(missing, Error::PassphraseNeeded { .. }),
        "{missing:?}"
    );
    let wrong = Wallet::open(folder.path(), None, Some(Passphrase::from("wrong"))).unwrap_err();
    assert!(
        matches!(
            wrong,
            Error::Store(tokensim_store::Error::WrongPassphrase { .. })
        ),
        "{wrong:?}"
    );
    server.sandbox.shutdown().await;
}

#[tokio::test]
async fn resolve_rename_export_import() {
    let server = Server::start().await;
    let folder = tempfile::tempdir().unwrap();
    let wallet = Wallet::open_with(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap();
    assert!(matches!(wallet.resolve(None), Err(Error::NoDevices)));

    let phone = server.device("phone", ProtocolVersion::V3_0).await;
    let activation_id = phone.activation_id.clone();
    let phone = wallet.add(&DeviceState::Active(phone)).unwrap();
    assert_eq!(wallet.resolve(None).unwrap(), phone, "the only device");
    let tablet = server.device("Tablet", ProtocolVersion::V3_2).await;
    let tablet = wallet.add(&DeviceState::Active(tablet)).unwrap();

    let none = wallet.resolve(None).unwrap_err();
    assert!(
        matches!(&none, Error::Ambiguous { candidates, .. } if candidates.len() == 2),
        "{none:?}"
    );
    assert!(none.to_string().contains("phone, tablet"), "{none}");
    assert_eq!(wallet.resolve(Some("tablet")).unwrap(), tablet, "by id");
    assert_eq!(wallet.resolve(Some("TABLET")).unwrap(), tablet, "by name");
    assert_eq!(wallet.resolve(Some(&activation_id)).unwrap(), phone);
    let unknown = wallet.resolve(Some("laptop")).unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown:?}");
    assert!(unknown.to_string().contains("phone, tablet"), "{unknown}");

    wallet.rename(&phone, "Bob's phone").unwrap();
    assert_eq!(wallet.resolve(Some("Bob's phone")).unwrap(), phone);
    assert_eq!(wallet.summary(&phone).unwrap().name, "Bob's phone");

    let bundle = wallet
        .export(&phone, &Passphrase::from("bundle pass"))
        .unwrap();
    assert!(
        !bundle
            .windows(activation_id.len())
            .any(|w| w == activation_id.as_bytes()),
        "the bundle is encrypted"
    );
    let other = tempfile::tempdir().unwrap();
    let other = Wallet::open(other.path(), Some(BackendKind::Memory), None).unwrap();
    let imported = other
        .import(&bundle, &Passphrase::from("bundle pass"), None)
        .unwrap();
    assert_eq!(imported, phone);
    let copy = other
        .import(&bundle, &Passphrase::from("bundle pass"), Some("Copy"))
        .unwrap();
    assert_eq!(copy.as_str(), "copy");
    assert_eq!(other.summary(&copy).unwrap().name, "Copy");
    let again = other
        .import(&bundle, &Passphrase::from("bundle pass"), None)
        .unwrap_err();
    assert!(
        matches!(
            again,
            Error::Store(tokensim_store::Error::DeviceExists { .. })
        ),
        "{again:?}"
    );

    // The imported device signs.
    let mut device = other.load_active(&imported).unwrap();
    let mut persist = other.persister(&imported);
    Session::new(&server.client, &mut device, &mut persist)
        .validate_signature(&Factors::pin(PIN), "imported")
        .await
        .unwrap();

    wallet.remove(&tablet).unwrap();
    assert_eq!(wallet.resolve(None).unwrap(), phone);
    server.sandbox.shutdown().await;
}

#[test]
fn a_folder_last_opened_in_memory_is_chosen_afresh() {
    let folder = tempfile::tempdir().unwrap();
    let memory = Wallet::open(folder.path(), Some(BackendKind::Memory), None).unwrap();
    assert_eq!(memory.backend(), BackendKind::Memory);
    drop(memory);
    let file = Wallet::open(folder.path(), None, Some(Passphrase::from("p"))).unwrap();
    assert_eq!(
        file.backend(),
        BackendKind::EncryptedFile,
        "not memory again"
    );
}
