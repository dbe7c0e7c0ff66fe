//! The web console in headless Chromium (`make test-console`): the console creates a
//! registration and shows its QR code; the test reads a screenshot of that code with the
//! project's decoder, activates a simulated device (`tokensim-device`) with what it read,
//! and watches the console show the state change, then commit the registration.
//!
//! Chromium is driven by `tests/console/console.mjs` (Node, `playwright-core`). Ignored in a
//! plain `cargo test`: it needs Chromium and the Node package. `make test-console` installs
//! both and runs it with `--ignored`; then a missing piece fails the test, never skips it.

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::status::ActivationState;
use sandbox::{Config, Sandbox};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::{Client, ClientConfig, NoEvents, PendingActivation, Profile};

/// How long one browser step may take (Chromium's cold start included).
const STEP: Duration = Duration::from_secs(60);

fn console_folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/console")
}

/// The next JSON event the driver printed.
fn next_event(events: &Receiver<Value>) -> Value {
    match events.recv_timeout(STEP) {
        Ok(event) => {
            assert_ne!(
                event["event"], "error",
                "the browser step failed: {}\nthe console showed: {}",
                event["message"], event["console"]
            );
            event
        }
        Err(RecvTimeoutError::Timeout) => panic!("no word from the browser in {STEP:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("the browser driver ended early"),
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Chromium and tests/console's Node package: make test-console"]
async fn the_console_shows_a_qr_code_a_device_reads_and_follows_the_activation() {
    let folder = console_folder();
    assert!(
        folder.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in tests/console first (make test-console does)"
    );
    let sandbox = Sandbox::start(Config::in_memory())
        .await
        .expect("the sandbox starts");
    let scratch = tempfile::tempdir().unwrap();
    let shot = scratch.path().join("qr.png");

    let mut driver = Command::new("node")
        .arg(folder.join("console.mjs"))
        .env("TOKENSIM_CONSOLE_URL", sandbox.url())
        .env("TOKENSIM_CONSOLE_USER", &sandbox.integration().username)
        .env("TOKENSIM_CONSOLE_PASSWORD", &sandbox.integration().password)
        .env("TOKENSIM_CONSOLE_SHOT", &shot)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs (Debian package nodejs)");
    let stdout = driver.stdout.take().unwrap();
    let (sender, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            match serde_json::from_str::<Value>(&line) {
                Ok(event) => {
                    if sender.send(event).is_err() {
                        break;
                    }
                }
                Err(_) => eprintln!("driver: {line}"),
            }
        }
    });
    // The console shows the new registration's QR code, its payload and a countdown.
    let qr = tokio::task::block_in_place(|| next_event(&events));
    assert_eq!(qr["event"], "qr");
    assert_eq!(qr["state"], "CREATED");
    let countdown = qr["countdown"].as_str().unwrap();
    assert!(
        countdown == "2:00" || countdown.starts_with("1:"),
        "two minutes to scan: {countdown}"
    );
    assert!(qr["svgLink"].as_str().unwrap().starts_with("blob:"), "{qr}");
    let activation_id = qr["activationId"].as_str().unwrap();
    let record = sandbox
        .state()
        .store
        .activation(activation_id)
        .await
        .unwrap()
        .expect("the console's registration is stored");
    assert_eq!(record.user_id, "console-user");
    let expected = format!("{}#{}", record.activation_code, record.activation_signature);
    assert_eq!(qr["qrData"], expected.as_str());

    // What the browser drew reads back as the activation QR payload.
    let decoded = tokensim_qr::decode_file(&shot).expect("the screenshot's QR code decodes");
    assert_eq!(decoded.text, expected);

    // A device activates with what it read off the screen.
    let config = sandbox
        .default_mobile_sdk_config()
        .await
        .unwrap()
        .expect("the default application");
    let application = ApplicationConfig::from_mobile_sdk_config(&config).unwrap();
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).unwrap();
    let pending = PendingActivation::new(Profile::new(
        "console test",
        sandbox.url(),
        application,
        ProtocolVersion::V3_3,
    ));
    let device = activate(
        &client,
        pending,
        &ActivationInput::new(decoded.text, "1234"),
    )
    .await
    .expect("the device activates from the console's QR code");
    assert_eq!(device.activation_id, activation_id);

    // The console sees the key exchange: the code is spent, the countdown runs to commit.
    let pending = tokio::task::block_in_place(|| next_event(&events));
    assert_eq!(pending["state"], "PENDING_COMMIT");
    assert_eq!(pending["qrClass"], "spent");
    // Committed from the console's table: ACTIVE, no countdown any more.
    let active = tokio::task::block_in_place(|| next_event(&events));
    assert_eq!(active["state"], "ACTIVE");
    assert_eq!(active["qrClass"], "spent");
    let record = sandbox
        .state()
        .store
        .activation(activation_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.state, ActivationState::Active);

    let status = tokio::task::block_in_place(|| driver.wait()).unwrap();
    assert!(status.success(), "the browser driver failed: {status}");
    sandbox.shutdown().await;
}
