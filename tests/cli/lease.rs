//! The device lease across processes: a `tokensim` loop (one process per signature) and the
//! engine the app runs (wallet lease, session, save) in this process sign with one device at
//! the same time, and the server accepts every signature. Without the lease, a holder that
//! saves after the other one signed rolls the counter back and the next signature reuses a
//! counter value, which the server refuses.

use std::sync::Arc;
use std::time::Duration;

use crate::common::{PASSPHRASE, World, output};
use powerauth::ProtocolVersion;
use powerauth::signature::{AuthorizationHeader, RequestData};
use tokensim_api::Leased;
use tokensim_device::signing::DataSignature;
use tokensim_device::{Client, ClientConfig, Factors, NoEvents};
use tokensim_wallet::{BackendKind, DeviceId, Passphrase, Wallet};

/// Signatures each side makes.
const EACH: usize = 200;
/// What the engine's server round trip costs besides the local one (a server on a network):
/// the time a device is out of the store between load and save.
const LATENCY: Duration = Duration::from_millis(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_app_engine_signing_with_one_device_never_reuse_a_counter() {
    let world = World::start().await;
    let (id, _) = world
        .device("lease", "shared phone", ProtocolVersion::V3_3)
        .await;
    let before = world.json(&["--device", &id, "status"]).await;
    assert_eq!(before["inSync"], true, "{before}");

    let cli = async {
        let mut values = Vec::with_capacity(EACH);
        for n in 0..EACH {
            let body = format!("cli {n}");
            let run = output(world.command(&[
                "--json",
                "--device",
                &id,
                "sign",
                "--uri-id",
                "/lease/test",
                "--body",
                &body,
                "--verify",
            ]))
            .await;
            assert_eq!(run.code, 0, "cli signature {n}: {run:#?}");
            let signed = run.json();
            assert_eq!(signed["verified"], true, "cli signature {n}: {signed}");
            values.push(signed["value"].as_str().unwrap().to_owned());
        }
        values
    };

    // The app's engine: its own wallet over the same folder, a lease per call.
    let wallet = Wallet::open(
        world.dir.path(),
        Some(BackendKind::EncryptedFile),
        Some(Passphrase::new(PASSPHRASE.to_owned())),
    )
    .unwrap();
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).unwrap();
    let device_id = DeviceId::parse(&id).unwrap();
    let engine = async {
        let mut values = Vec::with_capacity(EACH);
        for n in 0..EACH {
            let body = format!("engine {n}");
            let (wallet, device_id) = (wallet.clone(), device_id.clone());
            // Waiting for the lease blocks: off the async threads, as the app does it.
            let mut dev = tokio::task::spawn_blocking(move || Leased::open(&wallet, &device_id))
                .await
                .unwrap()
                .unwrap();
            let mut session = dev.session(&client);
            let header = session
                .sign(
                    &Factors::possession(),
                    "POST",
                    "/lease/test",
                    body.as_bytes(),
                )
                .unwrap();
            tokio::time::sleep(LATENCY).await;
            let parsed = AuthorizationHeader::parse(&header).unwrap();
            let request_data =
                RequestData::new("POST", "/lease/test", &parsed.nonce, body.as_bytes())
                    .as_str()
                    .to_owned();
            let valid = session
                .verify_data_signature(&DataSignature {
                    header: parsed,
                    request_data,
                })
                .await
                .unwrap();
            assert!(valid, "engine signature {n} refused");
            dev.save().unwrap();
            values.push(header);
        }
        values
    };
    let (first, second) = tokio::join!(cli, engine);

    // 400 headers, all different, every one accepted by the server: had the two signed with
    // the same counter value, the second one's verification would have failed.
    let mut all: Vec<&String> = first.iter().chain(&second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2 * EACH);

    // The server moved its counter exactly as far as the device: in sync, no failed attempt.
    let after = world.json(&["--device", &id, "status"]).await;
    assert_eq!(after["inSync"], true, "{after}");
    assert_eq!(after["failedAttempts"], 0, "{after}");
    assert_eq!(after["state"], "ACTIVE", "{after}");
}
