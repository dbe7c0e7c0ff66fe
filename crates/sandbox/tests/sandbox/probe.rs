//! The security and reliability probe (`make probe`; a short form runs with every
//! `make test`). Bounded loops on loopback against real sandboxes, in process and as the
//! `tokensim-sandbox` binary; each probe adds a row probe → tried → result → figure to the
//! table printed at the end (docs/reliability.md keeps the full run's table), and the test
//! fails when a figure misses its bar.
//!
//! `TOKENSIM_PROBE=full` runs the full sizes (100 kill -9 cycles, 50 MB bodies on every
//! endpoint, longer load); the default is the short form. With `TOKENSIM_TEST_POSTGRES_URL`
//! set (as `make test-postgres` does), every probe runs on PostgreSQL.
//! `TOKENSIM_PROBE_ONLY=kill_nine,load` runs only the probes it names (the functions below).

use crate::common::{TestServer, test_database_url};
use crate::device::{Device, activate, post_with_authorization};
use crate::robustness::{ENDPOINTS, HEADERS, bodies};
use futures_util::future::join_all;
use powerauth::ProtocolVersion;
use powerauth::signature::SignatureType;
use reqwest::{Method, StatusCode};
use sandbox::Config;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokensim_device::{ActiveDevice, DeviceRecord, DeviceState, Factors, Persist};
use tokensim_fleet::{Cancel, Event, FleetPlan, Observer, StoreKind};
use tokensim_store::{DeviceId, Passphrase, Secret, Secrets, Store};

struct Row {
    probe: String,
    tried: u64,
    result: String,
    figure: String,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(
        &mut self,
        probe: &str,
        tried: u64,
        result: impl Into<String> + AsRef<str>,
        figure: impl Into<String> + AsRef<str>,
    ) {
        // Each row as it is measured, so a run stopped halfway still shows what it found.
        println!(
            "| {probe} | {tried} | {} | {} |",
            result.as_ref(),
            figure.as_ref()
        );
        self.rows.push(Row {
            probe: probe.to_owned(),
            tried,
            result: result.into(),
            figure: figure.into(),
        });
    }

    fn markdown(&self) -> String {
        let mut out = String::from("| probe | tried | result | figure |\n|---|---:|---|---|\n");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                row.probe, row.tried, row.result, row.figure
            );
        }
        out
    }
}

fn full() -> bool {
    std::env::var("TOKENSIM_PROBE").is_ok_and(|v| v == "full")
}

/// Whether the probe `name` runs: all of them, or those `TOKENSIM_PROBE_ONLY` names
/// (comma-separated, e.g. `kill_nine`).
fn chosen(name: &str) -> bool {
    std::env::var("TOKENSIM_PROBE_ONLY")
        .map_or(true, |only| only.split(',').any(|one| one.trim() == name))
}

fn backend() -> &'static str {
    if std::env::var("TOKENSIM_TEST_POSTGRES_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe() {
    let started = Instant::now();
    let mut table = Table::default();
    let mut five_hundreds = 0;
    if chosen("auth_boundaries") {
        five_hundreds += auth_boundaries(&mut table).await;
    }
    if chosen("malformed_bodies") {
        five_hundreds += malformed_bodies(&mut table).await;
    }
    if chosen("replays") {
        five_hundreds += replays(&mut table).await;
    }
    if chosen("load") {
        five_hundreds += load(&mut table).await;
    }
    if chosen("wrong_password_crowd") {
        wrong_password_crowd(&mut table).await;
    }
    if chosen("kill_nine") {
        five_hundreds += kill_nine(&mut table).await;
    }
    if chosen("device_faults") {
        device_faults(&mut table).await;
    }
    if chosen("canaries") {
        canaries(&mut table).await;
    }
    table.add(
        "all probes",
        table.rows.iter().map(|r| r.tried).sum(),
        format!("{five_hundreds} answers 5xx"),
        format!(
            "{} mode on {}, {:.0} s",
            if full() { "full" } else { "short" },
            backend(),
            started.elapsed().as_secs_f64()
        ),
    );
    let text = table.markdown();
    println!("{text}");
    if let Ok(path) = std::env::var("TOKENSIM_PROBE_OUT") {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(five_hundreds, 0, "{text}");
}

// ---------------------------------------------------------------------------------------

/// Every admin surface with no, wrong, malformed and deleted credentials; the admin
/// surfaces also with an integration user's. Returns the 5xx count.
async fn auth_boundaries(table: &mut Table) -> u64 {
    let server = TestServer::start().await;
    // A user made and deleted by the admin.
    let response = server
        .cloud(Method::POST, "/admin/users", Some(server.admin()))
        .json(&json!({"username": "probe-deleted"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let made: Value = response.json().await.unwrap();
    let deleted_password = made["password"].as_str().unwrap_or_default().to_owned();
    let response = server
        .cloud(
            Method::DELETE,
            "/admin/users/probe-deleted",
            Some(server.admin()),
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());

    let admin_surfaces: &[(Method, &str)] = &[
        (Method::GET, "/admin/users"),
        (Method::POST, "/admin/users"),
        (Method::DELETE, "/admin/users/integration"),
        (Method::GET, "/admin/applications"),
        (Method::POST, "/admin/applications"),
        (Method::GET, "/admin/applications/tokensim"),
    ];
    let user_surfaces: &[(Method, &str)] = &[
        (Method::GET, "/v2/registrations"),
        (Method::POST, "/v2/registrations"),
        (
            Method::GET,
            "/v2/registrations/00000000-0000-4000-8000-000000000000",
        ),
        (
            Method::DELETE,
            "/v2/registrations/00000000-0000-4000-8000-000000000000",
        ),
        (
            Method::POST,
            "/v2/registrations/00000000-0000-4000-8000-000000000000/commit",
        ),
        (Method::GET, "/v2/operations"),
        (Method::POST, "/v2/operations"),
        (
            Method::GET,
            "/v2/operations/00000000-0000-4000-8000-000000000000",
        ),
        (Method::POST, "/v2/signature/verify"),
        (Method::GET, "/v2/push/messages"),
        (Method::POST, "/v2/push/messages"),
        (Method::GET, "/v2/push/stream"),
        (Method::GET, "/v2/inbox/messages"),
        (Method::POST, "/v2/inbox/messages"),
    ];
    let header = |value: &str| Some(value.to_owned());
    let b64 = |text: &str| powerauth::encoding::b64(text.as_bytes());
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        (
            "wrong password",
            header(&format!("Basic {}", b64("admin:wrong"))),
        ),
        (
            "unknown user",
            header(&format!("Basic {}", b64("nobody:wrong"))),
        ),
        ("not Base64", header("Basic !!!")),
        ("no colon", header(&format!("Basic {}", b64("admin")))),
        ("other scheme", header("Bearer abc")),
        ("empty", header("Basic ")),
        (
            "NUL in name",
            header(&format!("Basic {}", b64("ad\u{0}min:x"))),
        ),
        (
            "deleted user",
            header(&format!(
                "Basic {}",
                b64(&format!("probe-deleted:{deleted_password}"))
            )),
        ),
    ];
    let mut tried = 0;
    let mut let_in = 0;
    let mut five_hundreds = 0;
    for (method, path) in admin_surfaces.iter().chain(user_surfaces) {
        for (_, value) in &credentials {
            let mut request = server
                .cloud(method.clone(), path, None)
                .header("content-type", "application/json")
                .body("{}");
            if let Some(value) = value {
                request = request.header("authorization", value);
            }
            let status = request.send().await.unwrap().status();
            tried += 1;
            if status.is_success() {
                let_in += 1;
                eprintln!("let in: {method} {path}: {status}");
            }
            if status.is_server_error() {
                five_hundreds += 1;
            }
        }
    }
    // The integration role on admin surfaces.
    let mut forbidden = 0;
    for (method, path) in admin_surfaces {
        let status = server
            .cloud(method.clone(), path, Some(server.integration()))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        tried += 1;
        if !status.is_success() {
            forbidden += 1;
        }
        if status.is_server_error() {
            five_hundreds += 1;
        }
    }
    table.add(
        "auth boundaries (Cloud API: 20 surfaces × none, wrong, unknown, malformed ×4, NUL, deleted; admin surfaces as integration)",
        tried,
        format!("{let_in} let in, {five_hundreds} answers 5xx"),
        format!("{forbidden}/{} admin surfaces refused to the integration role", admin_surfaces.len()),
    );
    assert_eq!(let_in, 0);
    assert_eq!(forbidden, admin_surfaces.len());
    five_hundreds
}

/// Malformed bodies on every POST endpoint: the robustness suite's 13 bodies plus invalid
/// points, truncated ECIES and a 50 MB body, each with and without bogus headers.
async fn malformed_bodies(table: &mut Table) -> u64 {
    let server = TestServer::start().await;
    let mut kinds = bodies();
    // An ephemeral key that is no P-256 point, and an ECIES envelope cut short.
    kinds.push(
        r#"{"ephemeralPublicKey":"BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","encryptedData":"AAAA","mac":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","nonce":"AAAAAAAAAAAAAAAAAAAAAA==","timestamp":1}"#
            .into(),
    );
    kinds.push(
        r#"{"ephemeralPublicKey":"A","encryptedData":"AAAAAAAAAAAAAAAAAAAAAA","mac":"AA"#.into(),
    );
    let mut tried = 0;
    let mut five_hundreds = 0;
    let mut not_json = 0;
    for endpoint in ENDPOINTS {
        for body in &kinds {
            for header in std::iter::once(None).chain(HEADERS.iter().map(Some)) {
                let mut request = server
                    .client
                    .post(server.url(endpoint))
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some((name, value)) = header {
                    request = request.header(*name, *value);
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                let bytes = response.bytes().await.unwrap_or_default();
                tried += 1;
                if status.is_server_error() {
                    five_hundreds += 1;
                }
                if status.is_client_error() && serde_json::from_slice::<Value>(&bytes).is_err() {
                    not_json += 1;
                    if not_json <= 3 {
                        eprintln!(
                            "not JSON: {endpoint} {status} {:?}",
                            String::from_utf8_lossy(&bytes[..bytes.len().min(120)])
                        );
                    }
                }
            }
        }
    }
    // 50 MB bodies: on every endpoint in full mode, on a few otherwise.
    let big = vec![b'{'; 50 * 1024 * 1024];
    let big_on: Vec<&&str> = if full() {
        ENDPOINTS.iter().collect()
    } else {
        ENDPOINTS.iter().step_by(12).collect()
    };
    let mut too_large = 0;
    for endpoint in &big_on {
        let result = server
            .client
            .post(server.url(endpoint))
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await;
        tried += 1;
        match result {
            Ok(response) if response.status() == StatusCode::PAYLOAD_TOO_LARGE => too_large += 1,
            Ok(response) if response.status().is_server_error() => five_hundreds += 1,
            // The server may answer 413 and close before the whole body is sent.
            Ok(_) | Err(_) => too_large += 1,
        }
    }
    table.add(
        &format!(
            "malformed bodies ({} POST endpoints × {} bodies × {} header sets, 50 MB on {})",
            ENDPOINTS.len(),
            kinds.len(),
            HEADERS.len() + 1,
            big_on.len()
        ),
        tried,
        format!("{five_hundreds} answers 5xx, {not_json} errors not JSON"),
        format!("{too_large}/{} 50 MB bodies refused (413)", big_on.len()),
    );
    assert_eq!(not_json, 0);
    five_hundreds
}

/// A signature and a status-checked counter sent twice, in every version: the second is
/// refused. Returns the 5xx count.
async fn replays(table: &mut Table) -> u64 {
    let server = TestServer::start().await;
    const BODY: &str = r#"{"requestObject":{"reason":"REPLAY"}}"#;
    let mut tried = 0;
    let mut accepted_twice = 0;
    let mut five_hundreds = 0;
    for protocol in ProtocolVersion::ALL {
        let mut device: Device = activate(&server, protocol).await;
        let header = device.sign(
            "POST",
            "/pa/signature/validate",
            BODY.as_bytes(),
            SignatureType::PossessionKnowledge,
        );
        let (first, _) =
            post_with_authorization(&server, "/pa/v3/signature/validate", &header, BODY).await;
        let (second, _) =
            post_with_authorization(&server, "/pa/v3/signature/validate", &header, BODY).await;
        tried += 2;
        assert_eq!(first, StatusCode::OK, "{protocol}");
        if second == StatusCode::OK {
            accepted_twice += 1;
        }
        for status in [first, second] {
            if status.is_server_error() {
                five_hundreds += 1;
            }
        }
    }
    table.add(
        "replay of a signature, every version (3.0-3.3)",
        tried,
        format!("{accepted_twice} accepted twice, {five_hundreds} answers 5xx"),
        "the second use of a counter value is refused (401)",
    );
    assert_eq!(accepted_twice, 0);
    five_hundreds + token_and_ecies_replays(table, &server).await
}

/// A token header validated twice, and an ECIES request (application and activation scope)
/// sent twice, in every version. Returns the 5xx count.
async fn token_and_ecies_replays(table: &mut Table, server: &TestServer) -> u64 {
    use crate::device::AppConfig;
    use crate::exchange::{ACTIVATION, APPLICATION, exchange, now, post, seal};
    let app = AppConfig::default_of(server).await;
    let (mut tokens, mut tokens_twice) = (0, 0);
    let (mut ecies, mut ecies_twice) = (0, 0);
    let mut five_hundreds = 0;
    let mut accepted_versions = Vec::new();
    for protocol in ProtocolVersion::ALL {
        let mut device: Device = activate(server, protocol).await;
        let (id, secret) = device
            .create_token(server, SignatureType::Possession)
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        let used = crate::token::header(server, &id, &secret, protocol);
        let first = crate::token::validate(server, &used).await;
        let second = crate::token::validate(server, &used).await;
        assert_eq!(first["tokenValid"], true, "{protocol}");
        tokens += 2;
        if second["tokenValid"] == true {
            tokens_twice += 1;
        }
        for scope in [None, Some(&device)] {
            let sealed = seal(
                server,
                &app,
                scope,
                protocol,
                br#"{"data":"probe"}"#,
                now(server),
            )
            .await;
            let (header, json) = (sealed.header.clone(), sealed.request.to_json());
            let path = if scope.is_some() {
                ACTIVATION
            } else {
                APPLICATION
            };
            let answer = exchange(server, path, sealed).await;
            assert!(answer.is_ok(), "{protocol} {path}: {answer:?}");
            let (status, _) = post(server, path, &header, &json).await;
            ecies += 2;
            if status == StatusCode::OK {
                ecies_twice += 1;
                accepted_versions.push(format!("{protocol} {path}"));
            }
            if status.is_server_error() {
                five_hundreds += 1;
            }
        }
    }
    table.add(
        "replay of a token header, every version (3.0-3.3)",
        tokens,
        format!("{tokens_twice} accepted twice"),
        "the second validation of the same nonce answers tokenValid false",
    );
    table.add(
        "replay of an ECIES request (application and activation scope), every version (3.0-3.3)",
        ecies,
        format!("{ecies_twice} accepted twice, {five_hundreds} answers 5xx"),
        if accepted_versions.is_empty() {
            "the second sending of the same bytes answers 400 ERR_ENCRYPTION".to_owned()
        } else {
            format!("accepted twice: {}", accepted_versions.join(", "))
        },
    );
    assert_eq!(tokens_twice, 0);
    assert_eq!(ecies_twice, 0, "{accepted_versions:?}");
    five_hundreds
}

/// 64 clients, each with its own activation, signing and asking for status; then 32
/// clients sharing one activation. Returns the 5xx count.
async fn load(table: &mut Table) -> u64 {
    let config = Config {
        look_ahead: 64,
        max_failed_attempts: 64,
        ..Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    let rounds = if full() { 20 } else { 3 };
    let mut devices = Vec::new();
    for i in 0..64 {
        devices.push(activate(&server, ProtocolVersion::ALL[i % 4]).await);
    }
    const BODY: &str = r#"{"requestObject":{"reason":"LOAD"}}"#;
    let five_hundreds = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let runs = devices.iter_mut().map(|device| {
        let server = &server;
        let five_hundreds = five_hundreds.clone();
        let ok = ok.clone();
        async move {
            for _ in 0..rounds {
                let header = device.sign(
                    "POST",
                    "/pa/signature/validate",
                    BODY.as_bytes(),
                    SignatureType::Possession,
                );
                let (status, _) =
                    post_with_authorization(server, "/pa/v3/signature/validate", &header, BODY)
                        .await;
                if status.is_server_error() {
                    five_hundreds.fetch_add(1, Ordering::Relaxed);
                } else if status == StatusCode::OK {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    join_all(runs).await;
    let per_second = ok.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    // 32 clients on one activation.
    let mut shared = devices.pop().unwrap();
    let mut shared_ok = 0;
    let mut shared_tried = 0;
    for _ in 0..rounds {
        let headers: Vec<String> = (0..32)
            .map(|_| {
                shared.sign(
                    "POST",
                    "/pa/signature/validate",
                    BODY.as_bytes(),
                    SignatureType::Possession,
                )
            })
            .collect();
        let answers = join_all(headers.iter().map(|header| {
            post_with_authorization(&server, "/pa/v3/signature/validate", header, BODY)
        }))
        .await;
        for (status, _) in answers {
            shared_tried += 1;
            if status.is_server_error() {
                five_hundreds.fetch_add(1, Ordering::Relaxed);
            } else if status == StatusCode::OK {
                shared_ok += 1;
            }
        }
    }
    let five_hundreds = five_hundreds.load(Ordering::Relaxed);
    table.add(
        "load: 64 clients signing, then 32 clients sharing one activation",
        64 * rounds + shared_tried,
        format!("{five_hundreds} answers 5xx"),
        format!(
            "{per_second:.0} signatures/s (debug build); shared: {shared_ok}/{shared_tried} accepted (the rest 401: counter already past)"
        ),
    );
    five_hundreds
}

/// 96 clients sending wrong passwords to the binary; its peak resident memory.
async fn wrong_password_crowd(table: &mut Table) {
    // The users are looked up in the database: PostgreSQL when the probe runs on it.
    let database_url = test_database_url().await;
    let (mut child, url) = spawn_sandbox(
        &["--bind", "127.0.0.1:0", "--database-url", &database_url],
        &[],
    )
    .await;
    let client = reqwest::Client::new();
    let attempts = if full() { 4 } else { 1 };
    let unauthorized = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let runs = (0..96).map(|i| {
        let client = client.clone();
        let url = url.clone();
        let unauthorized = unauthorized.clone();
        async move {
            for _ in 0..attempts {
                let user = if i % 2 == 0 { "admin" } else { "nobody" };
                let status = client
                    .get(format!("{url}/powerauth-cloud/admin/users"))
                    .basic_auth(user, Some("wrong"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                if status == StatusCode::UNAUTHORIZED {
                    unauthorized.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    join_all(runs).await;
    let peak_mb = peak_rss_kb(child.id()) / 1024;
    stop(&mut child);
    let tried = 96 * attempts;
    table.add(
        "96 clients sending wrong Basic-auth passwords (half of them unknown users)",
        tried,
        format!(
            "{}/{tried} answered 401",
            unauthorized.load(Ordering::Relaxed)
        ),
        format!(
            "sandbox peak memory {peak_mb} MB (bar: 200 MB), {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    );
    assert!(peak_mb <= 200, "{peak_mb} MB");
}

/// kill -9 of the binary under a 200-device fleet (the fleet engine in this process, its
/// devices in an encrypted file store): each cycle starts the sandbox, runs the fleet against
/// it (registration over `/rest/v3`, activation, status, signatures, a payment operation;
/// protocol versions 3.0 to 3.3) and kills the sandbox with SIGKILL at a moment spread over
/// the fleet's run. After each restart every activation a device holds is still ACTIVE, and
/// every device the last fleet stored still signs (a possession signature the server
/// verifies): the server committed what it answered, and the device's counter is in its
/// window.
async fn kill_nine(table: &mut Table) -> u64 {
    let cycles = if full() { 100 } else { 2 };
    let devices = 200;
    let dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("TOKENSIM_TEST_POSTGRES_URL") {
        Ok(_) => test_database_url().await,
        Err(_) => Config::sqlite_url(&dir.path().join("kill.db")),
    };
    let client = reqwest::Client::new();
    let device_client = tokensim_device::Client::new(
        tokensim_device::ClientConfig::default(),
        Arc::new(tokensim_device::NoEvents),
    )
    .unwrap();
    // Activations the devices of every fleet so far hold (the server answered their
    // activation), each expected ACTIVE.
    let mut confirmed: Vec<(String, bool)> = Vec::new();
    let mut previous: Option<std::path::PathBuf> = None;
    let (mut lost_activations, mut lost_devices, mut five_hundreds) = (0, 0, 0);
    let (mut devices_checked, mut steps_before_kill, mut kills_under_load) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    for cycle in 0..cycles {
        let (mut child, url) = spawn_sandbox(
            &["--bind", "127.0.0.1:0", "--database-url", &database_url],
            &[],
        )
        .await;
        lost_activations += missing(&client, &url, &confirmed).await;
        if let Some(folder) = previous.take() {
            let (checked, lost) = devices_lost(&device_client, &folder, &url).await;
            devices_checked += checked;
            lost_devices += lost;
        }
        let folder = dir.path().join(format!("fleet-{cycle}"));
        let plan = FleetPlan {
            devices,
            concurrency: 32,
            server: Some(url.clone()),
            versions: ProtocolVersion::ALL.to_vec(),
            signatures: 2,
            operations: 1,
            keep_knowledge_keys: true,
            no_verify: true,
            user_prefix: Some(format!("kill-{cycle}")),
            store: StoreKind::File,
            store_dir: Some(folder.clone()),
            passphrase: Some(FLEET_PASSPHRASE.to_owned()),
            timeout_seconds: 10,
            ..FleetPlan::default()
        };
        let steps = Arc::new(StepCount::default());
        let observer: Arc<dyn Observer> = steps.clone();
        let fleet = tokio::spawn(async move {
            tokensim_fleet::execute_with(&plan, observer, Cancel::new()).await
        });
        // The kill lands after the fleet's set-up, somewhere in its run: a debug sandbox
        // takes about 8 s for the 200 devices here, so the kills spread over its first 4 s.
        tokio::time::timeout(Duration::from_secs(60), steps.started.notified())
            .await
            .expect("the fleet reached the sandbox and started");
        let delay = 50 + (cycle as u64 * 397) % 4000;
        tokio::time::sleep(Duration::from_millis(delay)).await;
        steps_before_kill += steps.steps.load(Ordering::Relaxed);
        kills_under_load += u64::from(!fleet.is_finished());
        let _ = Command::new("kill")
            .args(["-9", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let report = fleet.await.unwrap().expect("the fleet ran");
        five_hundreds += report
            .errors
            .iter()
            .filter(|e| e.kind.contains("HTTP 5"))
            .map(|e| e.count)
            .sum::<u64>();
        confirmed.extend(stored_activations(&folder).into_iter().map(|id| (id, true)));
        previous = Some(folder);
    }
    // A last start: every activation is there, the last fleet's devices sign.
    let (mut child, url) = spawn_sandbox(
        &["--bind", "127.0.0.1:0", "--database-url", &database_url],
        &[],
    )
    .await;
    lost_activations += missing(&client, &url, &confirmed).await;
    if let Some(folder) = previous.take() {
        let (checked, lost) = devices_lost(&device_client, &folder, &url).await;
        devices_checked += checked;
        lost_devices += lost;
    }
    stop(&mut child);
    table.add(
        &format!(
            "kill -9 of the sandbox under a {devices}-device fleet ({})",
            backend()
        ),
        cycles as u64,
        format!(
            "{lost_activations} activations lost, {lost_devices} devices lost, {five_hundreds} answers 5xx"
        ),
        format!(
            "{kills_under_load}/{cycles} kills hit a running fleet, {steps_before_kill} fleet steps done before them; {} activations found ACTIVE after every restart; {devices_checked} devices signed after the restart that followed their fleet's kill; {:.0} s",
            confirmed.len(),
            started.elapsed().as_secs_f64()
        ),
    );
    assert_eq!(lost_activations, 0);
    assert_eq!(lost_devices, 0);
    five_hundreds
}

const FLEET_PASSPHRASE: &str = "kill probe passphrase";

/// Counts a fleet's finished steps, and tells when its set-up is done.
#[derive(Default)]
struct StepCount {
    started: tokio::sync::Notify,
    steps: AtomicU64,
}

impl Observer for StepCount {
    fn event(&self, event: &Event) {
        match event {
            Event::Started { .. } => self.started.notify_one(),
            Event::Step { ok: true, .. } => {
                self.steps.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The fleet store at `folder`.
fn fleet_store(folder: &std::path::Path) -> Store<DeviceRecord> {
    Store::open(
        folder,
        Secrets::encrypted_file(Passphrase::new(FLEET_PASSPHRASE.to_owned())),
    )
    .unwrap()
}

/// The device of `id` in `store`, as the fleet left it.
fn stored_device(store: &Store<DeviceRecord>, id: &DeviceId) -> ActiveDevice {
    let device = store.load(id).unwrap();
    match DeviceState::from_parts(&device.record, device.secret.expose_secret()).unwrap() {
        DeviceState::Active(active) => active,
        DeviceState::Pending(_) => panic!("the fleet stores activated devices only"),
    }
}

/// The activation ids of the devices a fleet stored (each one once its activation was
/// answered).
fn stored_activations(folder: &std::path::Path) -> Vec<String> {
    let store = fleet_store(folder);
    store
        .ids()
        .unwrap()
        .iter()
        .map(|id| stored_device(&store, id).activation_id)
        .collect()
}

/// Each device of the fleet stored at `folder` makes a possession signature against the
/// restarted sandbox at `url`; returns (devices, devices that could not).
async fn devices_lost(
    client: &tokensim_device::Client,
    folder: &std::path::Path,
    url: &str,
) -> (u64, u64) {
    use futures_util::stream::{self, StreamExt};
    let store = Arc::new(fleet_store(folder));
    let ids = store.ids().unwrap();
    let lost = stream::iter(ids.clone())
        .map(|id| {
            let store = store.clone();
            async move {
                let mut device = stored_device(&store, &id);
                // The sandbox's port changed with the restart.
                device.profile.server_url = url.to_owned();
                let mut keep = SaveTo { store: &store, id };
                let result = tokensim_device::Session::new(client, &mut device, &mut keep)
                    .validate_signature(&Factors::possession(), "KILL_PROBE")
                    .await;
                if let Err(e) = &result {
                    eprintln!("device {} after the restart: {e}", device.activation_id);
                }
                u64::from(result.is_err())
            }
        })
        .buffer_unordered(16)
        .fold(0, |sum, one| async move { sum + one })
        .await;
    (ids.len() as u64, lost)
}

/// Saves a device back to its fleet store after each signed request.
struct SaveTo<'a> {
    store: &'a Store<DeviceRecord>,
    id: DeviceId,
}

impl Persist for SaveTo<'_> {
    fn persist(&mut self, device: &ActiveDevice) -> Result<(), String> {
        let (record, blob) = DeviceState::Active(device.clone()).to_parts();
        self.store
            .save(&self.id, &record, &Secret::new(blob.to_vec()))
            .map_err(|e| e.to_string())
    }
}

/// How many of the activations the sandbox confirmed (id, committed) are not there in the
/// state they were left in: committed ones ACTIVE; the others CREATED, or expired into
/// REMOVED.
async fn missing(client: &reqwest::Client, url: &str, confirmed: &[(String, bool)]) -> u64 {
    use futures_util::stream::{self, StreamExt};
    stream::iter(confirmed)
        .map(|(id, committed)| async move {
            let body: Value = client
                .post(format!("{url}/rest/v3/activation/status"))
                .json(&json!({"requestObject": {"activationId": id}}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let state = body["responseObject"]["activationStatus"]
                .as_str()
                .unwrap_or("");
            let expected: &[&str] = if *committed {
                &["ACTIVE"]
            } else {
                &["CREATED", "REMOVED"]
            };
            u64::from(!expected.contains(&state))
        })
        .buffer_unordered(16)
        .fold(0, |sum, one| async move { sum + one })
        .await
}

/// The device engine against servers that misbehave: down, hanging, 500, garbage,
/// truncated, dripping, endless. Each ends in an error within the timeout, none in a panic,
/// none holding more than the cap.
async fn device_faults(table: &mut Table) {
    use tokensim_device::client::{Client, ClientConfig, MAX_RESPONSE_BYTES, Request};
    let config = ClientConfig {
        timeout: Duration::from_millis(800),
        ..ClientConfig::default()
    };
    let client = Client::new(config, Arc::new(tokensim_device::NoEvents)).unwrap();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{address}")
    };
    let faults: Vec<(&str, String)> = vec![
        ("down", closed),
        ("hang", fake_server(Behaviour::Hang)),
        (
            "500",
            fake_server(Behaviour::Answer(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\noops!",
            )),
        ),
        (
            "garbage",
            fake_server(Behaviour::Answer("\u{0}\u{1}garbage\r\n\r\n")),
        ),
        (
            "truncated",
            fake_server(Behaviour::Answer(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\":",
            )),
        ),
        ("slow drip", fake_server(Behaviour::Drip)),
        ("endless body", fake_server(Behaviour::Endless)),
        ("8 GB announced", fake_server(Behaviour::Announce)),
    ];
    let mut tried = 0;
    let mut errors = 0;
    let mut slowest = Duration::ZERO;
    let mut outcomes = Vec::new();
    for (name, url) in &faults {
        let started = Instant::now();
        let result = client
            .execute(
                url,
                Request::post("probe", "/pa/v3/activation/status", b"{}".to_vec()),
            )
            .await;
        let elapsed = started.elapsed();
        slowest = slowest.max(elapsed);
        tried += 1;
        let outcome = match &result {
            Err(error) => {
                errors += 1;
                format!("{name}: {}", short_kind(error))
            }
            Ok(reply) => {
                if reply.status >= 400 {
                    errors += 1;
                }
                format!("{name}: HTTP {}", reply.status)
            }
        };
        outcomes.push(outcome);
        assert!(elapsed < Duration::from_secs(5), "{name}: {elapsed:?}");
    }
    table.add(
        "server faults seen by the device (down, hang, 500, garbage, truncated, slow drip, endless, 8 GB)",
        tried,
        format!("{errors}/{tried} ended in an error, 0 panics; {}", outcomes.join("; ")),
        format!(
            "slowest {:.1} s (timeout 0.8 s); body cap {} MiB",
            slowest.as_secs_f64(),
            MAX_RESPONSE_BYTES / (1024 * 1024)
        ),
    );
    assert_eq!(errors, tried);
}

fn short_kind(error: &tokensim_device::Error) -> &'static str {
    use tokensim_device::Error as E;
    match error {
        E::Network { .. } => "network",
        E::Timeout { .. } => "timeout",
        E::ResponseTooLarge { .. } => "too large",
        E::InvalidResponse { .. } => "invalid response",
        E::Server { .. } => "server error",
        _ => "other error",
    }
}

enum Behaviour {
    Hang,
    Answer(&'static str),
    Drip,
    Endless,
    Announce,
}

/// A misbehaving HTTP server on a loopback port; returns its URL.
fn fake_server(behaviour: Behaviour) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let behaviour = Arc::new(behaviour);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let behaviour = behaviour.clone();
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let chunk = vec![b' '; 1024 * 1024];
                match &*behaviour {
                    Behaviour::Hang => std::thread::sleep(Duration::from_secs(10)),
                    Behaviour::Answer(text) => {
                        let _ = stream.write_all(text.as_bytes());
                    }
                    Behaviour::Drip => {
                        let _ =
                            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                        for _ in 0..100 {
                            if stream.write_all(b" ").is_err() {
                                return;
                            }
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                    Behaviour::Endless | Behaviour::Announce => {
                        let head: &[u8] = if matches!(&*behaviour, Behaviour::Endless) {
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
                        } else {
                            b"HTTP/1.1 200 OK\r\nContent-Length: 8589934592\r\n\r\n"
                        };
                        if stream.write_all(head).is_err() {
                            return;
                        }
                        while stream.write_all(&chunk).is_ok() {}
                    }
                }
            });
        }
    });
    url
}

/// Secrets planted where the sandbox might log them: the admin password (given and sent
/// wrong), a user id, an activation code. The sandbox's log at debug level holds none of
/// the secrets.
async fn canaries(table: &mut Table) {
    let admin_canary = "CANARYadminPassw0rd";
    let wrong_canary = "CANARYwrongPassw0rd";
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args([
            "--in-memory",
            "--bind",
            "127.0.0.1:0",
            "--admin-password",
            admin_canary,
        ])
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("PowerAuth sandbox listening on ")
        .unwrap()
        .to_owned();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let client = reqwest::Client::new();
    let mut tried = 0;
    // Logins, right and wrong.
    for password in [admin_canary, wrong_canary] {
        let _ = client
            .get(format!("{url}/powerauth-cloud/admin/users"))
            .basic_auth("admin", Some(password))
            .send()
            .await
            .unwrap();
        tried += 1;
    }
    // An activation code and its signature: the sandbox hands them out, never logs them.
    let init: Value = client
        .post(format!("{url}/rest/v3/activation/init"))
        .json(&json!({"requestObject": {"userId": "canary-user", "applicationId": "tokensim"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tried += 1;
    let code = init["responseObject"]["activationCode"]
        .as_str()
        .unwrap_or("no-code")
        .to_owned();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let log = log.join().unwrap();
    let secrets = [admin_canary, wrong_canary, code.as_str()];
    let leaked: Vec<&str> = secrets
        .iter()
        .filter(|s| log.contains(*s))
        .copied()
        .collect();
    table.add(
        "secret canaries through the sandbox's debug log (admin password, a wrong password, an activation code)",
        tried,
        format!("{} leaked", leaked.len()),
        format!(
            "{} log lines read; the CLI's output, traces, bundles and store files: the CLI probe (tests/cli/probe.rs)",
            log.lines().count()
        ),
    );
    assert!(leaked.is_empty(), "leaked {leaked:?}");
}

// ---------------------------------------------------------------------------------------

/// Starts the binary; returns it and its URL once it listens.
async fn spawn_sandbox(args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let first = tokio::task::spawn_blocking(move || {
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        first
    })
    .await
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("PowerAuth sandbox listening on ")
        .unwrap_or_else(|| panic!("first line names the URL: {first:?}"))
        .to_owned();
    (child, url)
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The highest resident memory of a process so far, in KiB (`VmHWM`).
fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
