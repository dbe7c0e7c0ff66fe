//! Throughput of the sandbox under concurrent devices, from a separate process: the bench
//! starts the `tokensim-sandbox` binary on an SQLite file (as it runs by default) and drives
//! it with real `tokensim-device` clients over HTTP, protocol versions 3.0–3.3 mixed.
//!
//! Three figures: activations per second (`/rest/v3/activation/init`, the device's key
//! exchange, `/rest/v3/activation/commit`), signature verifications per second
//! (`/pa/v3/signature/validate`), and the fleet step per second (a payment created with
//! `/rest/v3/operation/create`, which the device lists with a fresh MAC token and approves
//! with a 2FA signature).
//!
//! Each line also shows the server process's CPU time per item (Linux): the devices run in
//! the bench process on the same cores, so wall time measures both, CPU time the sandbox.
//!
//! `make bench` runs it. Sizes: `TOKENSIM_BENCH_ACTIVATIONS` (default 1000),
//! `TOKENSIM_BENCH_CONCURRENCY` (default 32), `TOKENSIM_BENCH_SIGNATURES` (per device,
//! default 10, over 100 devices). `TOKENSIM_BENCH_IN_MEMORY=1` runs the server on an
//! in-memory database instead of a file; `TOKENSIM_BENCH_SERVER` names another
//! `tokensim-sandbox` binary to measure (an older build, say).

use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use powerauth::signature::SignatureType;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokensim_backend::{InitActivation, NewRestOperation, Rest};
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

/// The `tokensim-sandbox` child process; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts the binary on a free port and waits for the line announcing its URL.
    fn start(database: &[&str]) -> Server {
        let binary = std::env::var_os("TOKENSIM_BENCH_SERVER")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_tokensim-sandbox").into());
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1:0"])
            .args(database)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("tokensim-sandbox starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.strip_prefix("PowerAuth sandbox listening on ")
                    .map(str::to_owned)
            })
            .expect("tokensim-sandbox announces its URL");
        // Keep reading so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, url }
    }
}

impl Server {
    /// CPU time the server process has used so far (user + system), from `/proc` on
    /// Linux; `None` elsewhere.
    fn cpu_time(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        let per_second: u64 = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100);
        Some(Duration::from_millis(ticks * 1000 / per_second))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Bench {
    url: String,
    backend: Rest,
    application: ApplicationConfig,
    client: Client,
}

impl Bench {
    /// init (server), activation/create (device), commit (server): one activation.
    async fn activate_one(&self, i: usize) -> ActiveDevice {
        let version = ProtocolVersion::ALL[i % ProtocolVersion::ALL.len()];
        let init = self
            .backend
            .init_activation(&InitActivation {
                user_id: format!("user-{i}"),
                application_id: "tokensim".to_owned(),
                ..InitActivation::default()
            })
            .await
            .unwrap_or_else(|e| panic!("activation/init {i}: {e}"));
        let qr = init.qr();
        let pending = PendingActivation::new(Profile::new(
            format!("bench {i}"),
            &self.url,
            self.application.clone(),
            version,
        ));
        let device = activate(&self.client, pending, &ActivationInput::new(qr, PIN))
            .await
            .unwrap_or_else(|e| panic!("activation {i} in {version}: {e}"));
        self.backend
            .commit_activation(&device.activation_id)
            .await
            .unwrap_or_else(|e| panic!("activation/commit {i}: {e}"));
        device
    }

    /// A payment for the device's user, listed (token) and approved (2FA) by the device.
    async fn approve_payment(&self, i: usize, device: &mut ActiveDevice) {
        let parameters =
            json!({"amount": "100.00", "currency": "EUR", "iban": "DE02100100109307118603"});
        self.backend
            .create_operation(&NewRestOperation {
                user_id: Some(format!("user-{i}")),
                applications: vec!["tokensim".to_owned()],
                template_name: "payment".to_owned(),
                parameters: parameters.as_object().cloned().unwrap_or_default(),
            })
            .await
            .unwrap_or_else(|e| panic!("operation/create {i}: {e}"));
        let mut persist = |_: &ActiveDevice| Ok::<(), String>(());
        let mut session = Session::new(&self.client, device, &mut persist);
        let operations = session.list_operations().await.expect("operation list");
        let operation = operations.first().expect("the new payment is listed");
        let factors = Factors::new(SignatureType::PossessionKnowledge, Some(PIN));
        session
            .approve_operation(operation, &factors, None)
            .await
            .expect("the payment is approved");
    }
}

/// One line: wall time and rate, and the server's CPU time per item when known (what the
/// sandbox costs, apart from the simulated devices sharing the machine).
fn report(what: &str, count: usize, elapsed: Duration, server_cpu: Option<Duration>) {
    let cpu = server_cpu
        .map(|cpu| {
            format!(
                ", server CPU {:.2} ms each",
                cpu.as_secs_f64() * 1000.0 / count as f64
            )
        })
        .unwrap_or_default();
    println!(
        "{what:<52} {count:>6} in {:>7.2} s = {:>8.1} /s{cpu}",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
}

/// CPU used between two readings.
fn spent(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

/// Runs `job(i, item)` for every item with at most `concurrency` at once; the results in
/// input order.
async fn run_all<T, R, F, Fut>(items: Vec<T>, concurrency: usize, job: F) -> Vec<R>
where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(usize, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
{
    let job = Arc::new(job);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, item) in items.into_iter().enumerate() {
        let (job, semaphore) = (job.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("semaphore open");
            (i, job(i, item).await)
        });
    }
    let mut results: Vec<(usize, R)> = tasks.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo test --benches` runs bench targets without `--bench`: skip the load then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let activations = setting("TOKENSIM_BENCH_ACTIVATIONS", 1000).max(1);
    let concurrency = setting("TOKENSIM_BENCH_CONCURRENCY", 32).max(1);
    let signatures = setting("TOKENSIM_BENCH_SIGNATURES", 10);
    let in_memory = setting("TOKENSIM_BENCH_IN_MEMORY", 0) == 1;
    let devices_for_signing = 100.min(activations);

    let folder = tempfile::tempdir().expect("a temp folder");
    let db_file = folder.path().join("sandbox.db");
    let db_file = db_file.to_str().expect("a UTF-8 temp path");
    let database: &[&str] = if in_memory {
        &["--in-memory"]
    } else {
        &["--db-file", db_file]
    };
    let server = Server::start(database);
    let backend = Rest::new(reqwest::Client::new(), &server.url);
    let detail = backend
        .application_detail("tokensim")
        .await
        .expect("the default application");
    let application = ApplicationConfig::from_mobile_sdk_config(
        detail.mobile_sdk_config().expect("a supported version"),
    )
    .expect("the sandbox's mobileSdkConfig parses");
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).expect("an HTTP client");
    let bench = Arc::new(Bench {
        url: server.url.clone(),
        backend,
        application,
        client,
    });

    println!(
        "\nSandbox throughput: tokensim-sandbox in its own process on {}, {concurrency} concurrent \
         devices, versions 3.0-3.3 mixed",
        if in_memory {
            "an in-memory database"
        } else {
            "an SQLite file"
        }
    );
    let (started, cpu) = (Instant::now(), server.cpu_time());
    let job_bench = bench.clone();
    let devices = run_all(vec![(); activations], concurrency, move |i, ()| {
        let bench = job_bench.clone();
        async move { bench.activate_one(i).await }
    })
    .await;
    let activation_time = started.elapsed();
    let activation_cpu = spent(cpu, server.cpu_time());
    report(
        "activations (init + create + commit)",
        activations,
        activation_time,
        activation_cpu,
    );

    let (started, cpu) = (Instant::now(), server.cpu_time());
    let job_bench = bench.clone();
    let devices = run_all(devices, concurrency, move |i, mut device| {
        let bench = job_bench.clone();
        async move {
            bench.approve_payment(i, &mut device).await;
            device
        }
    })
    .await;
    let approval_time = started.elapsed();
    let approval_cpu = spent(cpu, server.cpu_time());
    report(
        "payments (create + token + list + approve)",
        activations,
        approval_time,
        approval_cpu,
    );
    report(
        "devices activated and approving one payment",
        activations,
        activation_time + approval_time,
        activation_cpu.zip(approval_cpu).map(|(a, b)| a + b),
    );

    let signers: Vec<ActiveDevice> = devices.into_iter().take(devices_for_signing).collect();
    let (started, cpu) = (Instant::now(), server.cpu_time());
    let job_bench = bench.clone();
    run_all(signers, concurrency, move |_, mut device| {
        let bench = job_bench.clone();
        async move {
            let factors = Factors::new(SignatureType::PossessionKnowledge, Some(PIN));
            let mut persist = |_: &ActiveDevice| Ok::<(), String>(());
            let mut session = Session::new(&bench.client, &mut device, &mut persist);
            for _ in 0..signatures {
                session
                    .validate_signature(&factors, "BENCH")
                    .await
                    .expect("a valid signature");
            }
        }
    })
    .await;
    report(
        "signature verifications (/pa/v3/signature/validate)",
        devices_for_signing * signatures,
        started.elapsed(),
        spent(cpu, server.cpu_time()),
    );
    drop(server);
}
