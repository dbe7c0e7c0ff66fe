//! Throughput of the sandbox under concurrent devices: activations per second and
//! signature verifications per second, driven by real `tokensim-device` clients over HTTP
//! against an embedded sandbox on an SQLite file (as `tokensim-sandbox` runs by default).
//!
//! `make bench` runs it. Sizes: `TOKENSIM_BENCH_ACTIVATIONS` (default 200),
//! `TOKENSIM_BENCH_CONCURRENCY` (default 16), `TOKENSIM_BENCH_SIGNATURES` (per device,
//! default 20, over 50 devices).

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::signature::SignatureType;
use sandbox::{Config, Sandbox};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokensim_device::activation::{ActivationInput, activate};
use tokensim_device::session::Factors;
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, NoEvents, PendingActivation, Profile, Session,
};

const PIN: &str = "1234";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Bench {
    sandbox: Sandbox,
    http: reqwest::Client,
    application: ApplicationConfig,
    client: Client,
}

impl Bench {
    async fn rest(&self, path: &str, request: Value) -> Value {
        rest(&self.http, self.sandbox.url(), path, request).await
    }

    /// init (server), activation/create (device), commit (server): one activation.
    async fn activate_one(&self, i: usize) -> ActiveDevice {
        let version = ProtocolVersion::ALL[i % ProtocolVersion::ALL.len()];
        let init = self
            .rest(
                "/rest/v3/activation/init",
                json!({"userId": format!("user-{i}"), "applicationId": "tokensim"}),
            )
            .await;
        let qr = format!(
            "{}#{}",
            init["activationCode"].as_str().unwrap_or_default(),
            init["activationSignature"].as_str().unwrap_or_default()
        );
        let pending = PendingActivation::new(Profile::new(
            format!("bench {i}"),
            self.sandbox.url(),
            self.application.clone(),
            version,
        ));
        let device = activate(&self.client, pending, &ActivationInput::new(qr, PIN))
            .await
            .unwrap_or_else(|e| panic!("activation {i} in {version}: {e}"));
        self.rest(
            "/rest/v3/activation/commit",
            json!({"activationId": device.activation_id}),
        )
        .await;
        device
    }
}

fn report(what: &str, count: usize, elapsed: Duration) {
    println!(
        "{what:<40} {count:>6} in {:>7.2} s = {:>8.1} /s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: skip the load then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let activations = setting("TOKENSIM_BENCH_ACTIVATIONS", 200);
    let concurrency = setting("TOKENSIM_BENCH_CONCURRENCY", 16).max(1);
    let signatures = setting("TOKENSIM_BENCH_SIGNATURES", 20);
    let devices_for_signing = 50.min(activations);

    let folder = std::env::temp_dir().join(format!("tokensim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("a temp folder");
    let mut config = Config::in_memory();
    config.database_url = Config::sqlite_url(&folder.join("sandbox.db"));
    let sandbox = Sandbox::start(config).await.expect("the sandbox starts");
    let http = reqwest::Client::new();
    let detail = rest(
        &http,
        sandbox.url(),
        "/rest/v3/application/detail",
        json!({"applicationId": "tokensim"}),
    )
    .await;
    let application = ApplicationConfig::from_mobile_sdk_config(
        detail["versions"][0]["mobileSdkConfig"]
            .as_str()
            .unwrap_or_default(),
    )
    .expect("the sandbox's mobileSdkConfig parses");
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).expect("an HTTP client");
    let bench = Bench {
        sandbox,
        http,
        application,
        client,
    };
    let bench = Arc::new(bench);

    println!(
        "\nSandbox throughput (SQLite file, {concurrency} concurrent devices, versions 3.0-3.3 mixed)"
    );
    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..activations {
        let (bench, semaphore) = (bench.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            bench.activate_one(i).await
        });
    }
    let mut devices: Vec<ActiveDevice> = tasks.join_all().await;
    report(
        "activations (init + create + commit)",
        activations,
        started.elapsed(),
    );

    devices.truncate(devices_for_signing);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for mut device in devices {
        let bench = bench.clone();
        tasks.spawn(async move {
            let factors = Factors::new(SignatureType::PossessionKnowledge, Some(PIN));
            let mut persist = |_: &ActiveDevice| Ok::<(), String>(());
            let mut session = Session::new(&bench.client, &mut device, &mut persist);
            for _ in 0..signatures {
                session
                    .validate_signature(&factors, "BENCH")
                    .await
                    .expect("a valid signature");
            }
        });
    }
    tasks.join_all().await;
    report(
        "signature verifications (/pa/v3/signature/validate)",
        devices_for_signing * signatures,
        started.elapsed(),
    );
    let _ = std::fs::remove_dir_all(&folder);
}

/// A `/rest/v3` call that must succeed; its `responseObject`.
async fn rest(http: &reqwest::Client, url: &str, path: &str, request: Value) -> Value {
    let response = http
        .post(format!("{url}{path}"))
        .json(&json!({ "requestObject": request }))
        .send()
        .await
        .expect("the sandbox answers");
    let body: Value = response.json().await.expect("a JSON answer");
    assert_eq!(body["status"], "OK", "{path}: {body}");
    body["responseObject"].clone()
}
