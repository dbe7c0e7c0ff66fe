//! Fleets against the real sandbox: embedded (started by the fleet), outside (started
//! here, driven through the Cloud API), a file store, and a server that is down.

use powerauth::ProtocolVersion;
use serde_json::{Value, json};
use tokensim_fleet::{Credentials, Error, FleetPlan, FleetReport, StoreKind};

fn fault_mix() -> tokensim_fleet::FaultMix {
    "wrong-pin=0.1,replay=0.05,clock-skew=0.05,stale-counter=0.05"
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_fleet_on_the_embedded_sandbox_counts_every_operation_and_fault() {
    let folder = tempfile::tempdir().unwrap();
    let html = folder.path().join("fleet.html");
    let args = FleetPlan {
        devices: 20,
        concurrency: 8,
        versions: vec![ProtocolVersion::V3_0, ProtocolVersion::V3_3],
        operations: 2,
        signatures: 1,
        reject_ratio: 0.25,
        faults: fault_mix(),
        json: true,
        html: Some(html.clone()),
        ..FleetPlan::default()
    };
    let mut output = Vec::new();
    let report = tokensim_fleet::run(&args, &mut output).await.unwrap();

    assert_eq!(report.errors, vec![], "{}", report.to_table());
    assert_eq!(report.activated, 20);
    let ops = &report.operations;
    assert_eq!(
        (ops.created, ops.approved, ops.rejected, ops.failed),
        (40, 30, 10, 0)
    );
    // The sandbox, asked through its API after the run, counts the same.
    assert_eq!(report.server_view.as_ref(), Some(ops));
    let injected: Vec<(&str, u64, u64)> = report
        .faults
        .iter()
        .map(|f| (f.fault.as_str(), f.injected, f.matched))
        .collect();
    assert_eq!(
        injected,
        vec![
            ("wrong-pin", 4, 4),
            ("replay", 2, 2),
            ("clock-skew", 2, 2),
            ("stale-counter", 2, 2)
        ]
    );
    let step = |name: &str| report.steps.iter().find(|s| s.step == name).unwrap();
    assert_eq!(step("activation").count, 20);
    assert_eq!(step("status").count, 20);
    assert_eq!(step("sign").count, 20);
    // Replayed and stale-counter actions are judged, not timed as plain steps.
    assert_eq!(step("approve").count + step("reject").count, 40 - 4);
    let activation = step("activation");
    assert!(activation.p50_ms > 0.0 && activation.p50_ms <= activation.p99_ms);
    assert!(report.is_clean());
    assert_eq!(report.target, "embedded sandbox");

    // The JSON output parses back to the same report.
    let parsed: FleetReport = serde_json::from_slice(&output).unwrap();
    assert_eq!(parsed, report);
    // The HTML page is self-contained and has its charts.
    let page = std::fs::read_to_string(&html).unwrap();
    for chart in [
        "<svg class=\"chart latency\"",
        "<svg class=\"chart timeline\"",
        "<svg class=\"chart faults\"",
    ] {
        assert!(page.contains(chart), "{chart} missing");
    }
    assert!(page.contains("<polyline"));
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("<link"));
}

/// What `deploy/k8s` runs: a sandbox with `--allow-remote` (its `/rest/v3` asks for a Cloud
/// API user's Basic login) and fleet shards given only the server and the integration login
/// (`TOKENSIM_FLEET_ADMIN`), no `--config`: the mobileSdkConfig is read through `/rest/v3`
/// with that login. Without it the fleet stops before any device and names the option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_with_a_login_runs_against_a_sandbox_that_secures_its_rest_api() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config {
        allow_remote: true,
        integration_password: Some("from-the-k8s-secret".to_owned()),
        ..sandbox::Config::in_memory()
    })
    .await
    .unwrap();
    let args = FleetPlan {
        devices: 4,
        concurrency: 2,
        server: Some(sandbox.url().to_owned()),
        operations: 1,
        user_prefix: Some("k8s".to_owned()),
        ..FleetPlan::default()
    };
    let refused = tokensim_fleet::execute(&args).await.unwrap_err();
    assert!(refused.to_string().contains("--admin"), "{refused}");

    let args = FleetPlan {
        admin: Some(Credentials::new("integration", "from-the-k8s-secret")),
        ..args
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert!(report.is_clean(), "{}", report.to_table());
    assert_eq!(
        (report.backend.as_str(), report.activated),
        ("Cloud API", 4)
    );
    assert_eq!(report.server_view.as_ref(), Some(&report.operations));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_on_an_outside_server_uses_the_cloud_api_and_the_server_agrees() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config::in_memory())
        .await
        .unwrap();
    let integration = sandbox.integration();
    let args = FleetPlan {
        devices: 6,
        concurrency: 3,
        server: Some(sandbox.url().to_owned()),
        mobile_sdk_config: sandbox.default_mobile_sdk_config().await.unwrap(),
        admin: Some(Credentials::new(
            &integration.username,
            &integration.password,
        )),
        versions: vec![ProtocolVersion::V3_1, ProtocolVersion::V3_2],
        operations: 1,
        signatures: 0,
        reject_ratio: 0.5,
        user_prefix: Some("qa".to_owned()),
        ..FleetPlan::default()
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert_eq!(report.backend, "Cloud API");
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    assert_eq!(
        (report.operations.approved, report.operations.rejected),
        (3, 3)
    );
    assert_eq!(report.server_view.as_ref(), Some(&report.operations));

    // Checked here too, through the server's own /rest/v3, user by user.
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..6 {
        let list: Value = http
            .post(format!("{}/rest/v3/operation/list", sandbox.url()))
            .json(&json!({"requestObject": {"userId": format!("qa-{i}")}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let operations = list["responseObject"].as_array().unwrap();
        assert_eq!(operations.len(), 1, "qa-{i}: {list}");
        statuses.push(operations[0]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        [
            "APPROVED", "APPROVED", "APPROVED", "REJECTED", "REJECTED", "REJECTED"
        ]
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_cloud_credentials_are_named() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config::in_memory())
        .await
        .unwrap();
    let args = FleetPlan {
        devices: 1,
        server: Some(sandbox.url().to_owned()),
        admin: Some(Credentials::new("integration", "not-the-password")),
        ..FleetPlan::default()
    };
    // Checked before any device starts.
    let error = tokensim_fleet::execute(&args).await.unwrap_err();
    assert!(
        matches!(error, Error::Backend { status: 401, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("check the --admin credentials"),
        "{error}"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_can_live_in_an_encrypted_file_store() {
    let folder = tempfile::tempdir().unwrap();
    let args = FleetPlan {
        devices: 3,
        store: StoreKind::File,
        store_dir: Some(folder.path().to_owned()),
        passphrase: Some("fleet passphrase".to_owned()),
        ..FleetPlan::default()
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert!(report.is_clean(), "{}", report.to_table());
    let store: tokensim_store::Store<tokensim_device::DeviceRecord> = tokensim_store::Store::open(
        folder.path(),
        tokensim_store::Secrets::encrypted_file(tokensim_store::Passphrase::new(
            "fleet passphrase".to_owned(),
        )),
    )
    .unwrap();
    let ids: Vec<String> = store
        .ids()
        .unwrap()
        .iter()
        .map(|id| id.as_str().to_owned())
        .collect();
    assert_eq!(ids, ["fleet-0", "fleet-1", "fleet-2"]);
}

#[tokio::test]
async fn a_server_that_is_down_is_a_clear_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let args = FleetPlan {
        server: Some(format!("http://127.0.0.1:{port}")),
        ..FleetPlan::default()
    };
    let error = tokensim_fleet::execute(&args).await.unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "cannot reach the server at http://127.0.0.1:{port}"
        )) && text.contains("Check that it is running"),
        "{text}"
    );
}

/// Keeps every event; raises `cancel` once `cancel_after` devices are done.
struct Recording {
    events: std::sync::Mutex<Vec<tokensim_fleet::Event>>,
    cancel: tokensim_fleet::Cancel,
    cancel_after: usize,
}

impl Recording {
    fn new(cancel: tokensim_fleet::Cancel, cancel_after: usize) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            events: std::sync::Mutex::default(),
            cancel,
            cancel_after,
        })
    }

    fn events(&self) -> Vec<tokensim_fleet::Event> {
        self.events.lock().unwrap().clone()
    }
}

impl tokensim_fleet::Observer for Recording {
    fn event(&self, event: &tokensim_fleet::Event) {
        let mut events = self.events.lock().unwrap();
        events.push(event.clone());
        let done = events
            .iter()
            .filter(|e| matches!(e, tokensim_fleet::Event::DeviceDone { .. }))
            .count();
        if done >= self.cancel_after {
            self.cancel.cancel();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observer_hears_every_step_and_device_the_report_counts() {
    use tokensim_fleet::{Event, Step};
    let args = FleetPlan {
        devices: 6,
        concurrency: 3,
        operations: 2,
        reject_ratio: 0.25,
        faults: "wrong-pin=0.25".parse().unwrap(),
        ..FleetPlan::default()
    };
    let cancel = tokensim_fleet::Cancel::new();
    let observer = Recording::new(cancel.clone(), usize::MAX);
    let report = tokensim_fleet::execute_with(&args, observer.clone(), cancel)
        .await
        .unwrap();
    assert!(report.is_clean(), "{}", report.to_table());
    assert!(!report.cancelled);
    let events = observer.events();
    assert_eq!(events.first(), Some(&Event::Started { devices: 6 }));
    let done: Vec<bool> = events
        .iter()
        .filter_map(|e| match e {
            Event::DeviceDone { activated } => Some(*activated),
            _ => None,
        })
        .collect();
    assert_eq!(done, vec![true; 6]);
    // Every timed step of the report was heard once, and nothing else succeeded.
    for latency in &report.steps {
        let heard = events
            .iter()
            .filter(|e| matches!(e, Event::Step { step, ok: true, .. } if step.as_str() == latency.step))
            .count() as u64;
        assert_eq!(heard, latency.count, "{}", latency.step);
    }
    let heard = |wanted: Step| {
        events
            .iter()
            .filter(|e| matches!(e, Event::Step { step, .. } if *step == wanted))
            .count()
    };
    assert_eq!(heard(Step::Activation), 6);
    assert_eq!(heard(Step::Approve) + heard(Step::Reject), 12);
    // The last device is done after its last step.
    assert!(matches!(events.last(), Some(Event::DeviceDone { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_fleet_stops_early_and_says_so() {
    let args = FleetPlan {
        devices: 200,
        concurrency: 2,
        ..FleetPlan::default()
    };
    let cancel = tokensim_fleet::Cancel::new();
    let observer = Recording::new(cancel.clone(), 3);
    let report = tokensim_fleet::execute_with(&args, observer.clone(), cancel.clone())
        .await
        .unwrap();
    assert!(cancel.is_cancelled());
    assert!(report.cancelled);
    assert!(
        (3..200).contains(&report.completed),
        "completed {}",
        report.completed
    );
    // No device left a half-counted operation behind as "failed".
    assert_eq!(report.operations.failed, 0, "{}", report.to_table());
    assert_eq!(report.server_view, None);
    assert!(!report.is_clean());
    assert!(report.to_table().contains("CANCELLED"));
    assert!(report.to_json().contains("\"cancelled\": true"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_cancelled_before_it_starts_runs_no_device() {
    let cancel = tokensim_fleet::Cancel::new();
    cancel.cancel();
    let observer = Recording::new(cancel.clone(), usize::MAX);
    let report = tokensim_fleet::execute_with(&FleetPlan::default(), observer.clone(), cancel)
        .await
        .unwrap();
    assert!(report.cancelled);
    assert_eq!((report.activated, report.completed), (0, 0));
    let events = observer.events();
    assert_eq!(events.len(), 1, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_of_a_run_that_was_not_cancelled_has_no_cancelled_field() {
    let args = FleetPlan {
        devices: 2,
        ..FleetPlan::default()
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert!(!report.cancelled);
    assert!(!report.to_json().contains("cancelled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_knowledge_keys_sign_alike_and_a_wrong_pin_is_still_refused() {
    let args = FleetPlan {
        devices: 8,
        concurrency: 4,
        versions: vec![ProtocolVersion::V3_1, ProtocolVersion::V3_3],
        operations: 2,
        signatures: 2,
        faults: "wrong-pin=0.25,stale-counter=0.125".parse().unwrap(),
        keep_knowledge_keys: true,
        ..FleetPlan::default()
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert!(report.is_clean(), "{}", report.to_table());
    assert_eq!(report.knowledge_keys, tokensim_fleet::report::KEPT_UNLOCKED);
    assert!(
        report
            .to_table()
            .contains("Knowledge keys: kept unlocked in memory")
    );
    let wrong_pin = report
        .faults
        .iter()
        .find(|f| f.fault == "wrong-pin")
        .unwrap();
    assert_eq!((wrong_pin.injected, wrong_pin.matched), (4, 4));
    assert_eq!(report.operations.approved, 16);
    // Kept is the default; the SDK's way (`--pbkdf2-per-signature`) signs alike and refuses
    // the wrong PIN too.
    assert!(FleetPlan::default().keep_knowledge_keys);
    let sdk = tokensim_fleet::execute(&FleetPlan {
        keep_knowledge_keys: false,
        ..args
    })
    .await
    .unwrap();
    assert!(sdk.is_clean(), "{}", sdk.to_table());
    assert_eq!(
        sdk.knowledge_keys,
        tokensim_fleet::report::PBKDF2_PER_SIGNATURE
    );
    let wrong_pin = sdk.faults.iter().find(|f| f.fault == "wrong-pin").unwrap();
    assert_eq!((wrong_pin.injected, wrong_pin.matched), (4, 4));
    assert_eq!(sdk.operations.approved, 16);
}

fn facemap_fleet(devices: u32) -> FleetPlan {
    FleetPlan {
        devices,
        concurrency: 4,
        profiles: vec![tokensim_fleet::profiles::FleetProfile::Facemap],
        no_verify: true,
        ..FleetPlan::default()
    }
}

/// `--profile facemap` on the embedded sandbox: each device's transaction initiated by the
/// bank (multipart, Basic auth), captured with its face, retrieved; the `timeout` devices'
/// transactions end EXPIRED once the fleet moves the sandbox's clock past 15 minutes; every
/// final state reaches the fleet's callback receiver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facemap_fleet_ends_each_face_in_its_state_and_counts_the_callbacks() {
    let report = tokensim_fleet::execute(&facemap_fleet(12)).await.unwrap();
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    let t = report.transactions.clone().unwrap();
    assert_eq!(
        (t.passed, t.failed, t.invalid, t.expired, t.wrong),
        (3, 3, 3, 3, 0),
        "{t:?}"
    );
    assert_eq!((t.callbacks_expected, t.callbacks_received), (12, 12));
    let step = |name: &str| report.steps.iter().find(|s| s.step == name).unwrap();
    assert_eq!(step("facemap initiate (server)").count, 12);
    assert_eq!(step("face capture").count, 12);
    // The timeout devices' final state is read after the run, not timed.
    assert_eq!(step("facemap retrieve (server)").count, 9);
    assert_eq!(report.activated, 12);
    assert!(report.is_clean());
    assert!(
        report.to_table().contains(
            "3 PASSED, 3 FAILED, 3 INVALID, 3 EXPIRED, 0 in a wrong state; callbacks 12 of 12"
        ),
        "{}",
        report.to_table()
    );

    // `mix` spreads the devices over every device profile, facemap included.
    let mix = FleetPlan {
        devices: 10,
        profiles: vec![tokensim_fleet::profiles::FleetProfile::Mix],
        ..facemap_fleet(10)
    };
    let report = tokensim_fleet::execute(&mix).await.unwrap();
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    assert!(report.versions.contains(&"facemap".to_owned()));
    let t = report.transactions.clone().unwrap();
    assert_eq!(t.passed + t.failed + t.invalid + t.expired, 2, "{t:?}");
    assert!(report.is_clean(), "{}", report.to_table());
}

/// On an outside sandbox the fleet makes its API credentials with `--admin`; the sandbox's
/// own rows agree with the fleet's counts, callbacks delivered included. `timeout` needs the
/// embedded sandbox's clock, and without `--admin` the fleet names the option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_facemap_fleet_on_an_outside_sandbox_agrees_with_its_rows() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config::in_memory())
        .await
        .unwrap();
    let admin = sandbox.admin();
    let args = FleetPlan {
        server: Some(sandbox.url().to_owned()),
        admin: Some(Credentials::new(&admin.username, &admin.password)),
        ..facemap_fleet(6)
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    let t = report.transactions.clone().unwrap();
    assert_eq!((t.passed, t.failed, t.invalid, t.expired), (2, 2, 2, 0));
    assert_eq!((t.callbacks_expected, t.callbacks_received), (6, 6));
    // The sandbox records a delivery once the receiver has answered.
    let mut rows: Vec<(String, String)> = Vec::new();
    for _ in 0..100 {
        let store = &sandbox.state().store;
        rows = sandbox::profiles::facemap::store::list(store, "tokensim", 100)
            .await
            .unwrap()
            .into_iter()
            .map(|t| {
                (
                    t.result.as_str().to_owned(),
                    t.callback_status.unwrap_or_default(),
                )
            })
            .collect();
        rows.sort();
        if rows.iter().all(|(_, c)| c == "COMPLETED") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let rows: Vec<(&str, &str)> = rows.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
    assert_eq!(
        rows,
        [
            ("FAILED", "COMPLETED"),
            ("FAILED", "COMPLETED"),
            ("INVALID", "COMPLETED"),
            ("INVALID", "COMPLETED"),
            ("PASSED", "COMPLETED"),
            ("PASSED", "COMPLETED")
        ]
    );

    let timeout = FleetPlan {
        facemap_faces: Some(vec![
            tokensim_device::profiles::facemap::Face::Live,
            tokensim_device::profiles::facemap::Face::Timeout,
        ]),
        ..args.clone()
    };
    let error = tokensim_fleet::execute(&timeout).await.unwrap_err();
    assert!(error.to_string().contains("embedded sandbox"), "{error}");
    let no_admin = FleetPlan {
        admin: None,
        ..args
    };
    let error = tokensim_fleet::execute(&no_admin).await.unwrap_err();
    assert!(error.to_string().contains("--admin"), "{error}");
    sandbox.shutdown().await;
}

/// `--profile oauth-cc,oauth-device` on the embedded sandbox: client-credentials devices
/// register, take a token, reuse it, refresh it; point-of-sale devices are approved on the
/// sandbox's verification page (over HTTP, between two polls at the server's interval).
/// Every call reusing the stored token and the approval between polls are checked per
/// device (a device that fails either is an error in the report).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_fleets_take_reuse_and_refresh_tokens_and_approve_devices_on_the_page() {
    use tokensim_fleet::profiles::FleetProfile;
    let args = FleetPlan {
        devices: 4,
        concurrency: 4,
        profiles: vec![FleetProfile::OAuthCc, FleetProfile::OAuthDevice],
        profile_calls: 3,
        ..FleetPlan::default()
    };
    let started = std::time::Instant::now();
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    assert!(report.is_clean(), "{}", report.to_table());
    assert_eq!((report.activated, report.completed), (4, 4));
    assert_eq!(report.versions, ["oauth-cc", "oauth-device"]);
    let step = |name: &str| report.steps.iter().find(|s| s.step == name).unwrap();
    assert_eq!(step("profile enroll").count, 4);
    assert_eq!(step("profile call").count, 12);
    assert_eq!(step("profile refresh").count, 4);
    // A device polled, waited the sandbox's interval (5 s) while the user approved, polled
    // again: its enrollment cannot be faster than the interval.
    assert!(
        step("profile enroll").p99_ms >= 5_000.0,
        "{}",
        report.to_table()
    );
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
    // Per oauth-cc device: register, token, 3 calls, refresh = 6 requests; per oauth-device
    // device: device authorization, 2 polls, page, pending list, verify, 3 calls, refresh =
    // 10 requests; plus the shared public client's registration.
    assert_eq!(report.requests, 2 * 6 + 2 * 10 + 1, "{}", report.to_table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_mix_runs_every_device_profile_oauth_included() {
    use tokensim_fleet::profiles::FleetProfile;
    let args = FleetPlan {
        devices: 6,
        concurrency: 6,
        profiles: vec![FleetProfile::Mix],
        profile_calls: 1,
        ..facemap_fleet(6)
    };
    let report = tokensim_fleet::execute(&args).await.unwrap();
    assert_eq!(report.errors, vec![], "{}", report.to_table());
    assert_eq!(report.completed, 6);
    assert_eq!(
        report.versions,
        [
            "jwt",
            "api-key",
            "signed-token",
            "facemap",
            "oauth-cc",
            "oauth-device"
        ]
    );
}
