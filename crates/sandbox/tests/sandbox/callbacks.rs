//! Application callbacks end to end: a receiver (an axum server on 127.0.0.1:0 in this
//! test) is registered with `/rest/v3/application/callback/create`, the sandbox's state
//! changes happen over HTTP, and the receiver and the console's delivery log
//! (`/console/callbacks`) show what was POSTed, how often, and with what outcome.

use crate::common::{TestServer, error_parts};
use crate::device::activate;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use powerauth::ProtocolVersion;
use sandbox::Config;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// How long a test waits for a callback before failing.
const WAIT: Duration = Duration::from_secs(20);

/// What the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    idempotency_key: Option<String>,
    body: Value,
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// `/flaky` answers 500 this many more times, then 200.
    failures_left: AtomicUsize,
    /// Requests `/hang` holds right now, and the most it ever held at once.
    hanging: AtomicUsize,
    most_hanging: AtomicUsize,
    release: Notify,
    /// Once set, `/hang` answers at once.
    released: std::sync::atomic::AtomicBool,
}

/// A backend's callback receiver.
struct Receiver {
    url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{*path}", post(receive))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, inner }
    }

    fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Waits until `n` callbacks arrived; returns them.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} callbacks expected, got {}: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    inner.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        authorization: header("authorization"),
        idempotency_key: header("idempotency-key"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    match uri.path() {
        "/flaky" => {
            let left = inner.failures_left.load(Ordering::SeqCst);
            if left > 0 {
                inner.failures_left.store(left - 1, Ordering::SeqCst);
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            StatusCode::OK
        }
        "/hang" if inner.released.load(Ordering::SeqCst) => StatusCode::OK,
        "/hang" => {
            let now = inner.hanging.fetch_add(1, Ordering::SeqCst) + 1;
            inner.most_hanging.fetch_max(now, Ordering::SeqCst);
            inner.release.notified().await;
            inner.hanging.fetch_sub(1, Ordering::SeqCst);
            StatusCode::OK
        }
        _ => StatusCode::OK,
    }
}

async fn create_callback(server: &TestServer, request: Value) -> Value {
    server
        .rest_ok("/rest/v3/application/callback/create", request)
        .await
}

/// The delivery log, as the console reads it.
async fn log(server: &TestServer) -> Value {
    let response = server
        .client
        .get(server.url("/console/callbacks?applicationId=tokensim"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Waits until the log has `n` events, none of them still in progress; returns them
/// oldest first.
async fn settled_log(server: &TestServer, n: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let log = log(server).await;
        let events = log["events"].as_array().unwrap().clone();
        let settled = events
            .iter()
            .all(|e| e["status"] == "COMPLETED" || e["status"] == "FAILED");
        if events.len() >= n && settled {
            return events.into_iter().rev().collect();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} settled events expected: {log:#}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const ACTIVATION_ATTRIBUTES: [&str; 9] = [
    "userId",
    "activationName",
    "deviceInfo",
    "platform",
    "protocol",
    "activationFlags",
    "activationStatus",
    "blockedReason",
    "applicationId",
];

#[tokio::test]
async fn activation_status_changes_reach_the_callback_url() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let created = create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "backend", "type": "ACTIVATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/activations?token=t0ps3cret", receiver.url),
               "attributes": ACTIVATION_ATTRIBUTES,
               "authentication": {"httpBasic": {"enabled": true, "username": "hook", "password": "pa55word"}}}),
    )
    .await;
    // PowerAuth Server's CreateCallbackUrlResponse, defaults filled in, no secret shown.
    let id = created["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {created}");
    assert_eq!(created["applicationId"], "tokensim");
    assert_eq!(created["name"], "backend");
    assert_eq!(created["type"], "ACTIVATION_STATUS_CHANGE");
    assert_eq!(created["attributes"], json!(ACTIVATION_ATTRIBUTES));
    assert_eq!(created["retentionPeriod"], "PT720H");
    assert_eq!(created["initialBackoff"], "PT2S");
    assert_eq!(created["maxAttempts"], 1);
    assert_eq!(
        created["authentication"]["httpBasic"],
        json!({"enabled": true, "username": "hook", "passwordSet": true})
    );
    assert_eq!(
        created["authentication"]["oauth2"]["clientSecretSet"],
        false
    );
    assert_eq!(created["authentication"]["certificate"]["enabled"], false);
    assert!(!created.to_string().contains("pa55word"), "{created}");

    // CREATED -> PENDING_COMMIT -> ACTIVE (init, key exchange, commit).
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let activation_id = device.activation_id.clone();
    receiver.wait_for(3).await;
    server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": activation_id, "reason": "LOST"}),
        )
        .await;
    receiver.wait_for(4).await;
    server
        .rest_ok(
            "/rest/v3/activation/unblock",
            json!({"activationId": activation_id}),
        )
        .await;
    receiver.wait_for(5).await;
    server
        .rest_ok(
            "/rest/v3/activation/remove",
            json!({"activationId": activation_id}),
        )
        .await;
    let received = receiver.wait_for(6).await;

    let expected = [
        ("CREATED", Value::Null),
        ("PENDING_COMMIT", Value::Null),
        ("ACTIVE", Value::Null),
        ("BLOCKED", json!("LOST")),
        ("ACTIVE", Value::Null),
        ("REMOVED", Value::Null),
    ];
    let mut statuses: Vec<&str> = received
        .iter()
        .map(|r| r.body["activationStatus"].as_str().unwrap())
        .collect();
    // Each of the first three was awaited together: their order may differ on arrival.
    statuses[..3].sort_unstable();
    assert_eq!(
        statuses,
        [
            "ACTIVE",
            "CREATED",
            "PENDING_COMMIT",
            "BLOCKED",
            "ACTIVE",
            "REMOVED"
        ]
    );
    let basic = format!("Basic {}", powerauth::encoding::b64(b"hook:pa55word"));
    for r in &received {
        assert_eq!(r.path, "/activations");
        assert_eq!(r.query.as_deref(), Some("token=t0ps3cret"));
        assert_eq!(r.authorization.as_deref(), Some(basic.as_str()));
        assert_eq!(r.idempotency_key.as_deref().map(str::len), Some(36));
        let body = r.body.as_object().unwrap();
        assert_eq!(
            body.len(),
            11,
            "type, activationId and 9 attributes: {body:?}"
        );
        assert_eq!(r.body["type"], "ACTIVATION");
        assert_eq!(r.body["activationId"], activation_id.as_str());
        assert_eq!(r.body["userId"], "alice");
        assert_eq!(r.body["applicationId"], "tokensim");
        assert_eq!(r.body["protocol"], "powerauth");
        assert!(r.body["activationFlags"].is_array(), "{}", r.body);
        assert!(body.contains_key("activationName") && body.contains_key("deviceInfo"));
    }
    let removed = received
        .iter()
        .find(|r| r.body["activationStatus"] == "REMOVED")
        .unwrap();
    assert_eq!(removed.body["platform"], received[5].body["platform"]);

    // The delivery log: one event per change, in the order they happened, each delivered
    // at the first attempt; the URL's query value is masked.
    let events = settled_log(&server, 6).await;
    assert_eq!(events.len(), 6);
    for (event, (status, blocked_reason)) in events.iter().zip(&expected) {
        assert_eq!(event["subjectStatus"], *status, "{event:#}");
        assert_eq!(event["callbackData"]["activationStatus"], *status);
        assert_eq!(event["callbackData"]["blockedReason"], *blocked_reason);
        assert_eq!(event["eventType"], "ACTIVATION");
        assert_eq!(event["callbackName"], "backend");
        assert_eq!(event["callbackId"], id);
        assert_eq!(event["status"], "COMPLETED");
        assert_eq!(event["attempts"], 1);
        let attempts = event["attemptLog"].as_array().unwrap();
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0]["attempt"], 1);
        assert_eq!(attempts[0]["httpStatus"], 200);
        assert_eq!(attempts[0]["error"], Value::Null);
        assert!(attempts[0]["timestampStarted"].is_i64());
        assert_eq!(
            attempts[0]["url"],
            format!("{}/activations?token=***", receiver.url)
        );
    }
    let whole_log = log(&server).await.to_string();
    assert!(!whole_log.contains("t0ps3cret") && !whole_log.contains("pa55word"));
}

#[tokio::test]
async fn operation_status_changes_reach_the_callback_url() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let attributes = [
        "userId",
        "applications",
        "operationType",
        "parameters",
        "additionalData",
        "activationFlag",
        "status",
        "data",
        "failureCount",
        "maxFailureCount",
        "signatureType",
        "externalId",
        "timestampCreated",
        "timestampExpires",
        "timestampFinalized",
    ];
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "ops", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/operations", receiver.url), "attributes": attributes}),
    )
    .await;
    // An activation callback of the same application gets no operation events.
    let activations = Receiver::start().await;
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "acts", "type": "ACTIVATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/activations", activations.url)}),
    )
    .await;

    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "payment", "userId": "alice",
                   "externalId": "ext-1",
                   "parameters": {"amount": "100.50", "currency": "CZK", "iban": "CZ6508000000192000145399"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let data = created["data"].as_str().unwrap();
    receiver.wait_for(1).await;
    let approve = |data: &str| {
        json!({"operationId": id, "userId": "alice", "applicationId": "tokensim", "data": data,
               "signatureType": "POSSESSION_KNOWLEDGE"})
    };
    // A failed approval: still PENDING, one failure more (PowerAuth Server reports it).
    server
        .rest_ok("/rest/v3/operation/approve", approve("A2"))
        .await;
    receiver.wait_for(2).await;
    server
        .rest_ok("/rest/v3/operation/approve", approve(data))
        .await;
    let received = receiver.wait_for(3).await;

    let first = &received[0].body;
    assert_eq!(first["type"], "OPERATION");
    assert_eq!(first["operationId"], id);
    assert_eq!(first["userId"], "alice");
    assert_eq!(first["applications"], json!(["tokensim"]));
    assert_eq!(first["operationType"], created["operationType"]);
    assert_eq!(first["parameters"], created["parameters"]);
    assert_eq!(first["additionalData"], json!({}));
    assert_eq!(first["activationFlag"], Value::Null);
    assert_eq!(first["status"], "PENDING");
    assert_eq!(first["data"], data);
    assert_eq!(first["failureCount"], 0);
    assert_eq!(first["maxFailureCount"], created["maxFailureCount"]);
    assert_eq!(first["signatureType"], created["signatureType"]);
    assert_eq!(first["externalId"], "ext-1");
    // java.util.Date as Jackson writes it: epoch milliseconds.
    assert_eq!(first["timestampCreated"], server.clock_ms());
    assert!(first["timestampExpires"].as_i64().unwrap() > server.clock_ms());
    assert_eq!(first["timestampFinalized"], Value::Null);
    assert_eq!(first.as_object().unwrap().len(), 17, "{first}");

    let second = &received[1].body;
    assert_eq!(
        (second["status"].as_str(), second["failureCount"].as_i64()),
        (Some("PENDING"), Some(1))
    );
    let third = &received[2].body;
    assert_eq!(third["status"], "APPROVED");
    assert_eq!(third["timestampFinalized"], server.clock_ms());

    // Rejected and canceled operations are reported too: created, then ended.
    for (n, (path, status)) in [
        ("/rest/v3/operation/reject", "REJECTED"),
        ("/rest/v3/operation/cancel", "CANCELED"),
    ]
    .into_iter()
    .enumerate()
    {
        let other = server
            .rest_ok(
                "/rest/v3/operation/create",
                json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
            )
            .await;
        let other = other["id"].as_str().unwrap();
        server
            .rest_ok(
                path,
                json!({"operationId": other, "userId": "alice", "applicationId": "tokensim"}),
            )
            .await;
        let all = receiver.wait_for(5 + 2 * n).await;
        let mut statuses: Vec<&str> = all
            .iter()
            .filter(|r| r.body["operationId"] == other)
            .map(|r| r.body["status"].as_str().unwrap())
            .collect();
        statuses.sort_unstable();
        let mut expected = ["PENDING", status];
        expected.sort_unstable();
        assert_eq!(statuses, expected);
    }

    // Operations expire on the test clock; the read that finds one expired reports it.
    let expiring = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;
    let expiring = expiring["id"].as_str().unwrap();
    receiver.wait_for(8).await;
    server.clock.advance(3_600_000);
    let detail = server
        .rest_ok(
            "/rest/v3/operation/detail",
            json!({"operationId": expiring}),
        )
        .await;
    assert_eq!(detail["status"], "EXPIRED");
    let all = receiver.wait_for(9).await;
    assert!(
        all.iter()
            .any(|r| r.body["operationId"] == expiring && r.body["status"] == "EXPIRED"),
        "{all:#?}"
    );
    assert!(
        activations.received().is_empty(),
        "{:#?}",
        activations.received()
    );
}

#[tokio::test]
async fn a_receiver_that_fails_twice_gets_the_event_on_the_third_attempt() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    receiver.inner.failures_left.store(2, Ordering::SeqCst);
    let created = create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "flaky", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/flaky", receiver.url), "attributes": ["status"],
               "maxAttempts": 3, "initialBackoff": "PT0.05S", "retentionPeriod": "P1D"}),
    )
    .await;
    assert_eq!(created["maxAttempts"], 3);
    assert_eq!(created["initialBackoff"], "PT0.05S");
    assert_eq!(created["retentionPeriod"], "PT24H");
    let operation = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;

    let received = receiver.wait_for(3).await;
    let key = received[0].idempotency_key.clone();
    assert!(key.is_some());
    assert!(
        received
            .iter()
            .all(|r| r.idempotency_key == key && r.body == received[0].body),
        "every retry is the same event: {received:#?}"
    );
    assert_eq!(
        received[0].body,
        json!({"type": "OPERATION", "operationId": operation["id"], "status": "PENDING"})
    );
    let events = settled_log(&server, 1).await;
    let event = &events[0];
    assert_eq!(event["status"], "COMPLETED", "{event:#}");
    assert_eq!(event["attempts"], 3);
    let attempts: Vec<(i64, Option<i64>)> = event["attemptLog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].as_i64().unwrap(), a["httpStatus"].as_i64()))
        .collect();
    assert_eq!(attempts, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    // Kept for the URL's retention period after the success.
    assert_eq!(
        event["timestampDeleteAfter"],
        server.clock_ms() + 86_400_000
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 3, "nothing after the success");
}

fn short_timeouts() -> Config {
    let mut config = Config::in_memory();
    config.callbacks.connect_timeout = Duration::from_secs(2);
    config.callbacks.response_timeout = Duration::from_millis(300);
    config.callbacks.max_in_flight = 2;
    config.callbacks.queue_capacity = 3;
    config
}

#[tokio::test]
async fn the_request_that_changes_the_state_never_waits_for_the_receiver() {
    // A receiver that holds every callback until released, and a timeout far longer than
    // this test: were delivery part of the request, the create below would never answer.
    let mut config = Config::in_memory();
    config.callbacks.response_timeout = Duration::from_secs(3600);
    let server = TestServer::start_with(config).await;
    let receiver = Receiver::start().await;
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "slow", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/hang", receiver.url)}),
    )
    .await;
    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;
    receiver.wait_for(1).await;
    assert_eq!(receiver.inner.hanging.load(Ordering::SeqCst), 1);
    // The sandbox still answers while its callback hangs.
    server
        .rest_ok(
            "/rest/v3/operation/detail",
            json!({"operationId": created["id"]}),
        )
        .await;
    let log = log(&server).await;
    assert_eq!(log["inFlight"], 1, "{log:#}");
    assert_eq!(log["events"][0]["status"], "PROCESSING");
    receiver.inner.release.notify_waiters();
    let events = settled_log(&server, 1).await;
    assert_eq!(events[0]["status"], "COMPLETED");
}

#[tokio::test]
async fn a_hanging_receiver_is_given_up_after_the_timeout_and_never_piles_up_tasks() {
    let server = TestServer::start_with(short_timeouts()).await;
    let receiver = Receiver::start().await;
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "hangs", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/hang", receiver.url), "maxAttempts": 2,
               "initialBackoff": "PT0.01S"}),
    )
    .await;
    let changes = 12;
    for _ in 0..changes {
        server
            .rest_ok(
                "/rest/v3/operation/create",
                json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
            )
            .await;
    }
    // Every change is either an event that ends FAILED after its two timed-out attempts,
    // or was dropped at the full queue; never more than max_in_flight deliveries at once.
    let deadline = tokio::time::Instant::now() + WAIT;
    let log = loop {
        let log = log(&server).await;
        let in_flight = log["inFlight"].as_u64().unwrap();
        assert!(in_flight <= 2, "{log:#}");
        let events = log["events"].as_array().unwrap();
        let dropped = log["dropped"].as_u64().unwrap();
        let settled = events.iter().all(|e| e["status"] == "FAILED");
        if settled && events.len() as u64 + dropped == changes && in_flight == 0 {
            break log;
        }
        assert!(tokio::time::Instant::now() < deadline, "{log:#}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let attempts: usize = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["attemptLog"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        receiver.received().len(),
        attempts,
        "each attempt reached the receiver once"
    );
    assert!(
        log["dropped"].as_u64().unwrap() > 0,
        "a queue of 3 overflows: {log:#}"
    );
    for event in log["events"].as_array().unwrap() {
        assert_eq!(event["attempts"], 2, "{event:#}");
        for (n, attempt) in event["attemptLog"].as_array().unwrap().iter().enumerate() {
            assert_eq!(attempt["attempt"], n + 1);
            assert_eq!(attempt["httpStatus"], Value::Null);
            let error = attempt["error"].as_str().unwrap();
            assert!(error.contains("no answer within"), "{error}");
        }
    }
    receiver.inner.release.notify_waiters();
}

#[tokio::test]
async fn a_receiver_that_is_not_there_is_logged_with_the_error() {
    let server = TestServer::start().await;
    // A port nobody listens on: bind one, then close it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "gone", "type": "ACTIVATION_STATUS_CHANGE",
               "callbackUrl": format!("http://user:s3cret@{closed}/cb")}),
    )
    .await;
    crate::device::init(&server, "alice", json!({})).await;
    let events = settled_log(&server, 1).await;
    let attempt = &events[0]["attemptLog"][0];
    assert_eq!(events[0]["status"], "FAILED");
    assert_eq!(attempt["url"], format!("http://***@{closed}/cb"));
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.starts_with("cannot connect: ") && error.contains("Connection refused"),
        "the innermost cause, without the layers above it: {error}"
    );
    assert!(!log(&server).await.to_string().contains("s3cret"));
}

#[tokio::test]
async fn callback_urls_are_listed_updated_and_removed_as_powerauth_server_does() {
    let server = TestServer::start().await;
    let receiver = Receiver::start().await;
    let url = format!("{}/a", receiver.url);
    let first = create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "zeta", "type": "ACTIVATION_STATUS_CHANGE",
               "callbackUrl": url, "attributes": ["userId"],
               "authentication": {"httpBasic": {"enabled": true, "username": "u", "password": "p"}},
               "unknownField": "ignored"}),
    )
    .await;
    let second = create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "alpha", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": url, "maxAttempts": 5, "initialBackoff": 1.5}),
    )
    .await;
    assert_eq!(second["initialBackoff"], "PT1.5S");
    let list = server
        .rest_ok(
            "/rest/v3/application/callback/list",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    let names: Vec<&str> = list["callbackUrlList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "zeta"], "by name: {list:#}");
    assert_eq!(list["callbackUrlList"][1], first);

    // An update without the password keeps the stored one.
    let updated = server
        .rest_ok(
            "/rest/v3/application/callback/update",
            json!({"id": first["id"], "applicationId": "tokensim", "name": "zeta2",
                   "type": "ACTIVATION_STATUS_CHANGE", "callbackUrl": url,
                   "attributes": ["userId", "activationStatus"],
                   "authentication": {"httpBasic": {"enabled": true, "username": "u2"}}}),
        )
        .await;
    assert_eq!(updated["id"], first["id"]);
    assert_eq!(updated["name"], "zeta2");
    assert_eq!(
        updated["authentication"]["httpBasic"],
        json!({"enabled": true, "username": "u2", "passwordSet": true})
    );
    crate::device::init(&server, "alice", json!({})).await;
    let received = receiver.wait_for(1).await;
    assert_eq!(
        received[0].authorization.as_deref(),
        Some(format!("Basic {}", powerauth::encoding::b64(b"u2:p")).as_str())
    );
    assert_eq!(received[0].body["activationStatus"], "CREATED");

    let removed = server
        .rest_ok(
            "/rest/v3/application/callback/remove",
            json!({"id": first["id"]}),
        )
        .await;
    assert_eq!(removed, json!({"id": first["id"], "removed": true}));
    let again = server
        .rest_ok(
            "/rest/v3/application/callback/remove",
            json!({"id": first["id"]}),
        )
        .await;
    assert_eq!(again, json!({"id": first["id"], "removed": false}));
    let list = server
        .rest_ok(
            "/rest/v3/application/callback/list",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(list["callbackUrlList"].as_array().unwrap().len(), 1);
    // A removed URL gets nothing more.
    crate::device::init(&server, "alice", json!({})).await;
    settled_log(&server, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1);
    let empty = server
        .rest_ok(
            "/rest/v3/application/callback/list",
            json!({"applicationId": "nope"}),
        )
        .await;
    assert_eq!(empty, json!({"callbackUrlList": []}));
}

#[tokio::test]
async fn bad_callback_requests_answer_powerauth_server_error_codes() {
    let server = TestServer::start().await;
    let good = json!({"applicationId": "tokensim", "name": "n", "type": "ACTIVATION_STATUS_CHANGE",
                      "callbackUrl": "http://127.0.0.1:9/cb"});
    let with = |field: &str, value: Value| {
        let mut request = good.clone();
        request[field] = value;
        request
    };
    let without = |field: &str| {
        let mut request = good.clone();
        request.as_object_mut().unwrap().remove(field);
        request
    };
    let existing = create_callback(&server, good.clone()).await;
    let id = existing["id"].as_str().unwrap();
    let update = |patch: Value| {
        let mut request = good.clone();
        request["id"] = json!(id);
        for (k, v) in patch.as_object().unwrap() {
            request[k] = v.clone();
        }
        request
    };
    let create = "/rest/v3/application/callback/create";
    let update_path = "/rest/v3/application/callback/update";
    let cases = [
        (create, without("name"), "ERR0024"),
        (create, with("name", json!("  ")), "ERR0024"),
        (create, without("applicationId"), "ERR0024"),
        (create, without("type"), "ERR0024"),
        (create, with("type", json!("SOMETHING_ELSE")), "ERR0024"),
        (create, without("callbackUrl"), "ERR0024"),
        (create, with("maxAttempts", json!(0)), "ERR0024"),
        (create, with("initialBackoff", json!("-PT1S")), "ERR0024"),
        (
            create,
            with("retentionPeriod", json!("thirty days")),
            "ERR0024",
        ),
        (create, with("attributes", json!("userId")), "ERR0024"),
        (create, with("callbackUrl", json!("not a url")), "ERR0014"),
        (
            create,
            with("callbackUrl", json!("ftp://127.0.0.1/cb")),
            "ERR0014",
        ),
        (create, with("applicationId", json!("nope")), "ERR0015"),
        (update_path, good.clone(), "ERR0024"),
        (
            update_path,
            update(json!({"id": "00000000-0000-4000-8000-000000000000"})),
            "ERR0024",
        ),
        (
            update_path,
            update(json!({"applicationId": "other"})),
            "ERR0024",
        ),
        (
            update_path,
            update(json!({"callbackUrl": "http//x"})),
            "ERR0014",
        ),
        ("/rest/v3/application/callback/remove", json!({}), "ERR0024"),
    ];
    for (path, request, code) in cases {
        let (status, body) = server.rest(path, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {request}: {body}");
        assert_eq!(error_parts(&body).0, code, "{path} {request}: {body}");
    }
    let (status, body) = server
        .post_raw(
            "/rest/v3/application/callback/create",
            "{\"requestObject\":",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        ("ERR0024".to_owned(), "Invalid request received.".to_owned())
    );
    let (_, body) = server
        .rest(create, with("callbackUrl", json!("nope")))
        .await;
    assert_eq!(error_parts(&body).1, "Invalid URL format.");
    // Nothing half-made: the one good URL is all there is.
    let list = server
        .rest_ok(
            "/rest/v3/application/callback/list",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(list["callbackUrlList"].as_array().unwrap().len(), 1);
    let (status, body) = server
        .client
        .get(server.url("/console/callbacks?limit=many"))
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{:?}", body.text().await);
}

#[tokio::test]
async fn expiry_is_reported_without_anyone_reading_the_record() {
    // PowerAuth Server expires pending operations and abandoned activations on a schedule
    // and notifies; here the sweep runs every 50 ms and nothing reads the records.
    let mut config = Config::in_memory();
    config.expiry_sweep_interval = Duration::from_millis(50);
    let server = TestServer::start_with(config).await;
    let receiver = Receiver::start().await;
    for (name, callback_type, attributes) in [
        ("ops", "OPERATION_STATUS_CHANGE", json!(["status"])),
        (
            "acts",
            "ACTIVATION_STATUS_CHANGE",
            json!(["activationStatus"]),
        ),
    ] {
        create_callback(
            &server,
            json!({"applicationId": "tokensim", "name": name, "type": callback_type,
                   "callbackUrl": format!("{}/{name}", receiver.url), "attributes": attributes}),
        )
        .await;
    }
    let operation = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;
    let (activation_id, _, _) = crate::device::init(&server, "alice", json!({})).await;
    receiver.wait_for(2).await;
    server.clock.advance(3_600_000);
    let received = receiver.wait_for(4).await;
    let expired: Vec<&Value> = received[2..].iter().map(|r| &r.body).collect();
    assert!(
        expired.contains(
            &&json!({"type": "OPERATION", "operationId": operation["id"], "status": "EXPIRED"})
        ),
        "{expired:#?}"
    );
    assert!(
        expired.contains(&&json!({"type": "ACTIVATION", "activationId": activation_id, "activationStatus": "REMOVED"})),
        "{expired:#?}"
    );
    // Reported once: a later read finds nothing more to change.
    server
        .rest_ok(
            "/rest/v3/operation/detail",
            json!({"operationId": operation["id"]}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 4, "{:#?}", receiver.received());
}

#[tokio::test]
async fn an_event_a_stop_interrupted_is_delivered_at_the_next_start() {
    // Two sandboxes one after the other on the same database (a SQLite file, or the
    // PostgreSQL schema of this test).
    let scratch = tempfile::tempdir().unwrap();
    let database_url = match crate::common::test_database_url().await {
        url if url.starts_with("postgres") => url,
        _ => Config::sqlite_url(&scratch.path().join("callbacks.db")),
    };
    let config = Config {
        database_url,
        admin_password: Some("fixed-admin-password".to_owned()),
        integration_password: Some("fixed-integration-password".to_owned()),
        ..Config::in_memory()
    };
    let receiver = Receiver::start().await;
    let first = TestServer::start_with(config.clone()).await;
    create_callback(
        &first,
        json!({"applicationId": "tokensim", "name": "slow", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/hang", receiver.url), "attributes": ["status"]}),
    )
    .await;
    let operation = first
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;
    receiver.wait_for(1).await;
    // Stopped while the receiver holds the callback: the attempt ends unfinished.
    first.sandbox.shutdown().await;
    receiver.inner.released.store(true, Ordering::SeqCst);
    receiver.inner.release.notify_waiters();

    let second = TestServer::start_with(config).await;
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].body, received[0].body);
    assert_eq!(
        received[1].body,
        json!({"type": "OPERATION", "operationId": operation["id"], "status": "PENDING"})
    );
    assert_eq!(
        received[1].idempotency_key, received[0].idempotency_key,
        "the same event, so the receiver can tell"
    );
    let events = settled_log(&second, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], "COMPLETED", "{:#}", events[0]);
    assert_eq!(events[0]["attempts"], 1);
    assert_eq!(events[0]["attemptLog"][0]["httpStatus"], 200);
    second.sandbox.shutdown().await;
}

#[tokio::test]
async fn a_device_blocked_by_wrong_pins_over_pa_v3_is_reported_with_its_reason() {
    const VALIDATE: &str = "/pa/v3/signature/validate";
    const BODY: &str = r#"{"requestObject":{"reason":"COUNTER_SYNCHRONIZATION"}}"#;
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let receiver = Receiver::start().await;
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "blocks", "type": "ACTIVATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/blocks", receiver.url),
               "attributes": ["activationStatus", "blockedReason"]}),
    )
    .await;
    // Four wrong PINs change no state: nothing is reported; the fifth blocks.
    for _ in 0..5 {
        let header = device.sign_wrong_pin("/pa/signature/validate", BODY.as_bytes());
        let (status, _) =
            crate::device::post_with_authorization(&server, VALIDATE, &header, BODY).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let received = receiver.wait_for(1).await;
    assert_eq!(
        received[0].body,
        json!({"type": "ACTIVATION", "activationId": device.activation_id,
               "activationStatus": "BLOCKED", "blockedReason": "MAX_FAILED_ATTEMPTS"})
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(receiver.received().len(), 1, "{:#?}", receiver.received());
}

#[tokio::test]
async fn an_operation_the_mobile_token_approves_over_api_is_reported() {
    let server = TestServer::start().await;
    let mut phone = crate::operations::Phone::new(&server).await;
    let receiver = Receiver::start().await;
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "ops", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/ops", receiver.url),
               "attributes": ["status", "userId", "timestampFinalized"]}),
    )
    .await;
    let created = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    receiver.wait_for(1).await;
    let (status, body) = phone
        .authorize(
            &server,
            id,
            created["data"].as_str().unwrap(),
            powerauth::signature::SignatureType::PossessionKnowledge,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let received = receiver.wait_for(2).await;
    assert_eq!(
        received[1].body,
        json!({"type": "OPERATION", "operationId": id, "status": "APPROVED", "userId": "alice",
               "timestampFinalized": server.clock_ms()})
    );
}

#[tokio::test]
async fn a_url_that_keeps_failing_gets_no_events_until_the_reset_timeout() {
    // PowerAuth Server's failureThreshold and failureResetTimeout, here 2 and 300 ms.
    let mut config = Config::in_memory();
    config.callbacks.failure_threshold = Some(2);
    config.callbacks.failure_reset_timeout = Duration::from_millis(300);
    let server = TestServer::start_with(config).await;
    let receiver = Receiver::start().await;
    receiver
        .inner
        .failures_left
        .store(usize::MAX, Ordering::SeqCst);
    create_callback(
        &server,
        json!({"applicationId": "tokensim", "name": "down", "type": "OPERATION_STATUS_CHANGE",
               "callbackUrl": format!("{}/flaky", receiver.url)}),
    )
    .await;
    let create = || {
        server.rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "login", "userId": "alice"}),
        )
    };
    create().await;
    settled_log(&server, 1).await;
    create().await;
    settled_log(&server, 2).await;
    // Two failures in a row: the third event is logged FAILED and not sent.
    create().await;
    let events = settled_log(&server, 3).await;
    assert_eq!(events[2]["status"], "FAILED");
    assert_eq!(events[2]["attempts"], 0);
    assert_eq!(events[2]["attemptLog"], json!([]));
    assert_eq!(receiver.received().len(), 2);
    // After the reset timeout one event goes through again to probe the receiver.
    tokio::time::sleep(Duration::from_millis(400)).await;
    create().await;
    let events = settled_log(&server, 4).await;
    assert_eq!(events[3]["attempts"], 1, "{:#}", events[3]);
    assert_eq!(receiver.received().len(), 3);
}
