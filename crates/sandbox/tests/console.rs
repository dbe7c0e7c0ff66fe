//! The web console in headless Chromium (`make test-console`): the console creates a
//! registration and shows its QR code; the test reads a screenshot of that code with the
//! project's decoder, activates a simulated device (`tokensim-device`) with what it read,
//! and watches the console show the state change, then commit the registration. Before
//! that the console registers a callback receiver (an axum server in this test) from its
//! Callbacks section; at the end its delivery log shows each state change delivered, and the
//! receiver confirms it got them.
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
    // TOKENSIM_CONSOLE_SCREENSHOTS keeps the delivery log's screenshot for a person to look at.
    let callbacks_shot = std::env::var_os("TOKENSIM_CONSOLE_SCREENSHOTS")
        .map_or_else(|| scratch.path().to_owned(), PathBuf::from)
        .join("console-callbacks.png");
    let (receiver_url, received) = callback_receiver().await;

    let mut driver = Command::new("node")
        .arg(folder.join("console.mjs"))
        .env("TOKENSIM_CONSOLE_URL", sandbox.url())
        .env("TOKENSIM_CONSOLE_USER", &sandbox.integration().username)
        .env("TOKENSIM_CONSOLE_PASSWORD", &sandbox.integration().password)
        .env("TOKENSIM_CONSOLE_SHOT", &shot)
        .env(
            "TOKENSIM_CONSOLE_CALLBACK_URL",
            format!("{receiver_url}/console-hook?key=k3y"),
        )
        .env("TOKENSIM_CONSOLE_CALLBACKS_SHOT", &callbacks_shot)
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
    // The callback was added from the console.
    let callback = tokio::task::block_in_place(|| next_event(&events));
    assert_eq!(callback["event"], "callback");
    assert!(
        callback["info"]
            .as_str()
            .unwrap()
            .starts_with("Added backend"),
        "{callback}"
    );
    assert_eq!(
        callback["listed"].as_str().unwrap(),
        format!("{receiver_url}/console-hook?key=***"),
        "the console masks the URL's query values"
    );

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
    let activation_id = qr["registrationId"].as_str().unwrap();
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

    // The delivery log: CREATED, PENDING_COMMIT and ACTIVE each delivered at the first
    // attempt, the URL's query value masked; the receiver got exactly those.
    let log = tokio::task::block_in_place(|| next_event(&events));
    assert_eq!(log["event"], "callbacks");
    let rows = log["rows"].as_array().unwrap();
    for status in ["CREATED", "PENDING_COMMIT", "ACTIVE"] {
        let row = rows
            .iter()
            .find(|r| r["status"] == status)
            .unwrap_or_else(|| panic!("no {status} row: {log}"));
        assert_eq!(row["attempt"], "1", "{row}");
        assert_eq!(row["result"], "HTTP 200", "{row}");
        assert_eq!(row["eventStatus"], "COMPLETED", "{row}");
        assert_eq!(
            row["url"].as_str().unwrap(),
            format!("{receiver_url}/console-hook?key=***")
        );
    }
    let mut statuses: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|body| {
            assert_eq!(body["activationId"], activation_id, "{body}");
            assert_eq!(body["userId"], "console-user", "{body}");
            body["activationStatus"].as_str().unwrap().to_owned()
        })
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["ACTIVE", "CREATED", "PENDING_COMMIT"]);
    assert!(
        callbacks_shot.is_file(),
        "the delivery log was screenshotted"
    );

    let status = tokio::task::block_in_place(|| driver.wait()).unwrap();
    assert!(status.success(), "the browser driver failed: {status}");
    sandbox.shutdown().await;
}

/// A backend's callback receiver on 127.0.0.1:0: its URL and the JSON bodies it got.
async fn callback_receiver() -> (String, Arc<std::sync::Mutex<Vec<Value>>>) {
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = received.clone();
    let app = axum::Router::new().route(
        "/console-hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}
