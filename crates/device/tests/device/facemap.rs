//! Profile `facemap`: the bank's server and the device against the real sandbox over
//! HTTP, with the sandbox's test clock: each face's final state, the faults, and no secret
//! or facemap byte in the inspector stream.

use sandbox::{Clock, Config, Sandbox, TestClock};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokensim_device::Recorder;
use tokensim_device::profiles::facemap::{
    ApiCredentials, EnrollmentMetadata, Face, FacemapClient, FacemapError,
};
use tokensim_device::{Fault, FaultReport};

const MINUTE: i64 = 60_000;

async fn start() -> (Sandbox, TestClock, FacemapClient, Arc<Recorder>, String) {
    let clock = TestClock::at(1_780_272_000_000);
    let sandbox = Sandbox::start_with(
        Config::in_memory(),
        Arc::new(clock.clone()),
        Arc::new(powerauth::SystemRandom::new()),
    )
    .await
    .unwrap();
    let admin = sandbox.admin();
    let made: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/profiles/facemap/credentials", sandbox.url()))
        .basic_auth(&admin.username, Some(&admin.password))
        .json(&json!({"applicationId": "tokensim"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credentials = ApiCredentials {
        api_token: made["apiToken"].as_str().unwrap().to_owned(),
        api_secret: made["apiSecret"].as_str().unwrap().to_owned(),
    };
    let secret = credentials.api_secret.clone();
    let recorder = Arc::new(Recorder::default());
    let client = FacemapClient::new(
        &format!("{}/profiles/facemap", sandbox.url()),
        credentials,
        recorder.clone(),
        Duration::from_secs(10),
    )
    .unwrap();
    (sandbox, clock, client, recorder, secret)
}

fn metadata(enrollment: &str) -> EnrollmentMetadata {
    EnrollmentMetadata {
        enrollment_transaction_reference: enrollment.to_owned(),
        user_reference: Some("user-1".to_owned()),
        ..EnrollmentMetadata::default()
    }
}

#[tokio::test]
async fn each_face_leads_to_its_documented_state() {
    let (_sandbox, clock, client, recorder, secret) = start().await;
    for (i, face) in Face::ALL.into_iter().enumerate() {
        let initiated = client
            .initiate(
                b"FACEMAP-SECRET-BYTES".to_vec(),
                &metadata(&format!("e-{i}")),
            )
            .await
            .unwrap();
        let reference = initiated.authentication_transaction_reference;
        assert!(initiated.redirect_url.is_none());
        let outcome = client
            .capture(&reference, face, clock.now_ms())
            .await
            .unwrap();
        if face == Face::Timeout {
            assert_eq!(outcome.transaction_result, "STARTED");
            clock.advance(15 * MINUTE);
        } else {
            assert_eq!(outcome.transaction_result, face.expected_result());
        }
        let detail = client.detail(&reference).await.unwrap();
        assert_eq!(
            detail.transaction_result,
            face.expected_result(),
            "{face:?}"
        );
        assert_eq!(detail.user_reference.as_deref(), Some("user-1"));
    }
    assert!(!format!("{client:?}").contains(&secret));
    for exchange in recorder.exchanges() {
        let shown = serde_json::to_string(&exchange).unwrap();
        assert!(!shown.contains(&secret), "the API secret leaked: {shown}");
        assert!(
            !shown.contains("FACEMAP-SECRET-BYTES"),
            "facemap bytes leaked: {shown}"
        );
    }
    let initiate = &recorder.exchanges()[0];
    assert_eq!(initiate.label, "facemap/initiate");
    assert!(initiate.request_body.contains("20 bytes <redacted>"));
    assert!(
        initiate
            .request_body
            .contains("enrollmentTransactionReference")
    );
}

/// A faulted call through a recording client: its result and the catalogue's verdict.
async fn faulted<T>(
    client: &FacemapClient,
    fault: Fault,
    call: impl AsyncFnOnce(FacemapClient) -> Result<T, FacemapError>,
) -> (Result<T, FacemapError>, FaultReport) {
    let recorder = Arc::new(Recorder::default());
    let armed = client
        .with_fault(Some(fault))
        .unwrap()
        .recorded(recorder.clone());
    let result = call(armed.clone()).await;
    let report = armed.fault_report(&result, recorder.exchanges()).unwrap();
    (result, report)
}

#[tokio::test]
async fn catalogue_faults_end_in_clear_refusals() {
    let (_sandbox, clock, client, _recorder, secret) = start().await;
    let reference = client
        .initiate(vec![1; 64], &metadata("faults"))
        .await
        .unwrap()
        .authentication_transaction_reference;
    // Wrong secret: 403 with the reason; the secret tried is not shown either.
    let (error, report) = faulted(&client, Fault::WrongSecret, async |c| {
        c.detail(&reference).await
    })
    .await;
    let error = error.unwrap_err();
    assert!(
        matches!(error, FacemapError::Refused { status: 403, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("wrong API token or secret"));
    assert!(report.matched, "{}", report.required);
    assert!(!serde_json::to_string(&report).unwrap().contains(&secret));
    // Server down: a network error that says what to do.
    let (error, report) = faulted(&client, Fault::ServerDown, async |c| {
        c.detail(&reference).await
    })
    .await;
    assert!(matches!(error, Err(FacemapError::Network { .. })));
    assert!(report.matched);
    // Clock skew beyond 5 minutes: refused; the transaction stays open.
    let (error, report) = faulted(&client, Fault::ClockSkew(10 * MINUTE), async |c| {
        c.capture(&reference, Face::Live, clock.now_ms()).await
    })
    .await;
    assert!(error.unwrap_err().to_string().contains("clock"));
    assert!(report.matched, "{}", report.required);
    assert_eq!(
        client.detail(&reference).await.unwrap().transaction_result,
        "STARTED"
    );
    // Within 5 minutes it is accepted, and the verdict says so.
    let near = client
        .initiate(vec![1; 64], &metadata("near"))
        .await
        .unwrap()
        .authentication_transaction_reference;
    let (outcome, report) = faulted(&client, Fault::ClockSkew(-MINUTE), async |c| {
        c.capture(&near, Face::Spoof, clock.now_ms()).await
    })
    .await;
    assert_eq!(outcome.unwrap().transaction_result, "INVALID");
    assert!(report.matched, "{}", report.required);
    // Replay: the capture of the now finished transaction again is refused 409; the first
    // counts.
    let (outcome, report) = faulted(&client, Fault::ReplaySignature, async |c| {
        c.capture(&reference, Face::Live, clock.now_ms()).await
    })
    .await;
    assert_eq!(outcome.unwrap().transaction_result, "PASSED");
    assert!(report.matched, "{}", report.required);
    let replay = report
        .exchanges
        .iter()
        .find(|e| e.label == "replay")
        .unwrap();
    assert_eq!(replay.status, Some(409));
    assert!(
        replay.response_body.contains("PASSED"),
        "{}",
        replay.response_body
    );
    // Expired token, by the sandbox's clock: a capture after the 15 minutes is refused with
    // the state.
    let stale = client
        .initiate(vec![1; 64], &metadata("stale"))
        .await
        .unwrap()
        .authentication_transaction_reference;
    clock.advance(15 * MINUTE);
    let (error, report) = faulted(&client, Fault::ExpiredToken, async |c| {
        c.capture(&stale, Face::Live, clock.now_ms()).await
    })
    .await;
    match error.unwrap_err() {
        FacemapError::Refused {
            status,
            transaction_result,
            ..
        } => {
            assert_eq!(status, 409);
            assert_eq!(transaction_result.as_deref(), Some("EXPIRED"));
        }
        other => panic!("{other}"),
    }
    assert!(report.matched, "{}", report.required);
    // Expired token on a transaction still open: the bank supersedes it first.
    let open = client
        .initiate(vec![1; 64], &metadata("open"))
        .await
        .unwrap()
        .authentication_transaction_reference;
    let (error, report) = faulted(&client, Fault::ExpiredToken, async |c| {
        c.capture(&open, Face::Live, clock.now_ms()).await
    })
    .await;
    assert!(error.is_err());
    assert!(report.matched, "{}", report.required);
    assert_eq!(
        client.detail(&open).await.unwrap().transaction_result,
        "EXPIRED"
    );
    // A fault the catalogue does not list for facemap is refused before any call.
    let refused = client.with_fault(Some(Fault::WrongPin)).unwrap_err();
    assert!(refused.to_string().contains("wrong-pin"), "{refused}");
    // No User-Agent: 403 naming it.
    let error = client
        .with_user_agent(None)
        .detail(&reference)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("User-Agent"), "{error}");
}

/// `make bench-facemap`: 1,000 simulated devices, 64 at a time, each initiated by the bank
/// and captured with the four faces in turn; every final state is checked on the sandbox.
/// Prints the figures docs/benchmarks.md quotes. Not in `make test`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: make bench-facemap"]
async fn facemap_fleet_of_1000_devices() {
    let devices: usize = std::env::var("TOKENSIM_FACEMAP_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let (_sandbox, clock, client, _recorder, _secret) = start().await;
    let slots = Arc::new(tokio::sync::Semaphore::new(64));
    let started = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..devices {
        let client = client.clone();
        let clock = clock.clone();
        let slots = slots.clone();
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            let face = Face::ALL[i % Face::ALL.len()];
            let t0 = std::time::Instant::now();
            let reference = client
                .initiate(vec![7; 4096], &metadata(&format!("fleet-{i}")))
                .await
                .unwrap()
                .authentication_transaction_reference;
            let initiate = t0.elapsed();
            let t1 = std::time::Instant::now();
            client
                .capture(&reference, face, clock.now_ms())
                .await
                .unwrap();
            (reference, face, initiate, t1.elapsed())
        });
    }
    let mut done = Vec::new();
    while let Some(result) = tasks.join_next().await {
        done.push(result.unwrap());
    }
    let wall = started.elapsed();
    clock.advance(15 * MINUTE);
    let mut wrong = 0;
    for (reference, face, _, _) in &done {
        if client.detail(reference).await.unwrap().transaction_result != face.expected_result() {
            wrong += 1;
        }
    }
    let percentile = |mut v: Vec<Duration>, p: f64| {
        v.sort();
        v[((v.len() as f64 - 1.0) * p).round() as usize]
    };
    let initiates: Vec<Duration> = done.iter().map(|d| d.2).collect();
    let captures: Vec<Duration> = done.iter().map(|d| d.3).collect();
    println!(
        "facemap fleet: {devices} devices in {:.2} s ({:.0} devices/s); initiate p50 {:?} p95 {:?}; capture p50 {:?} p95 {:?}; {wrong} final states wrong",
        wall.as_secs_f64(),
        devices as f64 / wall.as_secs_f64(),
        percentile(initiates.clone(), 0.5),
        percentile(initiates, 0.95),
        percentile(captures.clone(), 0.5),
        percentile(captures, 0.95),
    );
    assert_eq!(wrong, 0);
}
