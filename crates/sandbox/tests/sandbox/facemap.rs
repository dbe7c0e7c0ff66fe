//! Profile `facemap` over real HTTP: Jumio's initiate (multipart) and retrieval, the
//! device's capture, expiry and supersession by the test clock, the callback to a real
//! receiver, and every refusal.

use crate::common::{START_MS, TestServer};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PREFIX: &str = "/profiles/facemap";
const AGENT: &str = "Example Corp SampleApp/1.0.1";
const MINUTE: i64 = 60_000;

struct Facemap {
    server: TestServer,
    token: String,
    secret: String,
}

impl Facemap {
    async fn start() -> Self {
        let server = TestServer::start().await;
        let (status, body) = crate::common::read(
            server
                .client
                .post(server.url(&format!("{PREFIX}/credentials")))
                .basic_auth(server.admin().0, Some(server.admin().1))
                .json(&json!({"applicationId": "tokensim"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["applicationId"], "tokensim");
        let token = body["apiToken"].as_str().unwrap().to_owned();
        let secret = body["apiSecret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 24);
        Self {
            server,
            token,
            secret,
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(&format!("{PREFIX}{path}"))
    }

    fn form(facemap: &[u8], metadata: &Value) -> Form {
        Form::new()
            .part(
                "facemap",
                Part::bytes(facemap.to_vec())
                    .file_name("facemap.bin")
                    .mime_str("application/octet-stream")
                    .unwrap(),
            )
            .part(
                "enrollmentMetadata",
                Part::text(metadata.to_string())
                    .mime_str("application/json")
                    .unwrap(),
            )
    }

    async fn initiate_with(&self, form: Form) -> (StatusCode, Value) {
        crate::common::read(
            self.server
                .client
                .post(self.url("/api/authentication/v1/facemap/initiate"))
                .basic_auth(&self.token, Some(&self.secret))
                .header("User-Agent", AGENT)
                .header("Accept", "application/json")
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn initiate(&self, metadata: Value) -> String {
        let (status, body) = self
            .initiate_with(Self::form(b"FACEMAP-BYTES", &metadata))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["authenticationTransactionReference"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn detail(&self, reference: &str) -> (StatusCode, Value) {
        crate::common::read(
            self.server
                .client
                .get(self.url(&format!("/api/netverify/v2/authentications/{reference}")))
                .basic_auth(&self.token, Some(&self.secret))
                .header("User-Agent", AGENT)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn result(&self, reference: &str) -> String {
        let (status, body) = self.detail(reference).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["transactionResult"].as_str().unwrap().to_owned()
    }

    async fn device(
        &self,
        reference: &str,
        step: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .server
            .client
            .post(self.url(&format!("/sdk/v1/authentications/{reference}/{step}")))
            .basic_auth(&self.token, Some(&self.secret))
            .header("User-Agent", AGENT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        crate::common::read(request.send().await.unwrap()).await
    }

    async fn capture(&self, reference: &str, face: &str) -> (StatusCode, Value) {
        let (status, body) = self.device(reference, "start", None).await;
        if status != StatusCode::OK {
            return (status, body);
        }
        assert_eq!(body["transactionResult"], "STARTED");
        let now = self.server.clock_ms();
        self.device(
            reference,
            "capture",
            Some(json!({"face": face, "timestamp": now})),
        )
        .await
    }
}

fn metadata(enrollment: &str) -> Value {
    json!({"enrollmentMetadata": {
        "enrollmentTransactionReference": enrollment,
        "userReference": "user_1234"
    }})
}

#[tokio::test]
async fn each_face_ends_in_its_state_and_retrieval_shows_it() {
    let f = Facemap::start().await;
    for (i, (face, result)) in [
        ("LIVE_MATCH", "PASSED"),
        ("SPOOF", "INVALID"),
        ("DIFFERENT_PERSON", "FAILED"),
    ]
    .into_iter()
    .enumerate()
    {
        let enrollment = format!("enrollment-{i}");
        let reference = f.initiate(metadata(&enrollment)).await;
        assert_eq!(f.result(&reference).await, "CREATED");
        let (status, body) = f.capture(&reference, face).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["transactionResult"], result);
        let (status, detail) = f.detail(&reference).await;
        assert_eq!(status, StatusCode::OK);
        let keys: Vec<&str> = detail
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 6, "Jumio's retrieval fields: {detail}");
        assert_eq!(detail["transactionReference"], reference.as_str());
        assert_eq!(
            detail["enrollmentTransactionReference"],
            enrollment.as_str()
        );
        assert_eq!(detail["transactionResult"], result);
        assert_eq!(detail["transactionDate"], "2026-06-01T00:00:00.000Z");
        assert_eq!(detail["scanSource"], "SDK");
        assert_eq!(detail["userReference"], "user_1234");
        // Only the last capture counts: the same capture again is refused with the state.
        let (status, again) = f.capture(&reference, "LIVE_MATCH").await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["transactionResult"], result);
    }
}

#[tokio::test]
async fn web_initiate_answers_a_redirect_url_whose_page_shows_the_state() {
    let f = Facemap::start().await;
    let (status, body) = f
        .initiate_with(Facemap::form(
            b"FM",
            &json!({"enrollmentMetadata": {
                "enrollmentTransactionReference": "web-1",
                "successUrl": "https://www.yourcompany.com/success",
                "errorUrl": "https://www.yourcompany.com/error",
                "tokenLifetimeInMinutes": 5,
                "locale": "de"
            }}),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reference = body["authenticationTransactionReference"].as_str().unwrap();
    let redirect = body["redirectUrl"].as_str().unwrap();
    assert!(redirect.contains("authorizationToken=") && redirect.ends_with("locale=de"));
    let (_, detail) = f.detail(reference).await;
    assert_eq!(detail["scanSource"], "WEB");
    let page = f.server.client.get(redirect).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(reference) && html.contains("CREATED"),
        "{html}"
    );
    // tokenLifetimeInMinutes 5: expired after 5 minutes, not 15.
    f.server.clock.advance(5 * MINUTE);
    assert_eq!(f.result(reference).await, "EXPIRED");
    let html = f
        .server
        .client
        .get(redirect)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("EXPIRED"), "{html}");
    let bad = f
        .server
        .client
        .get(f.url("/web/v4/app?authorizationToken=00"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_transaction_expires_after_fifteen_minutes_by_the_clock() {
    let f = Facemap::start().await;
    let reference = f.initiate(metadata("e-expiry")).await;
    // A lifetime above 15 minutes is capped.
    let capped = f
        .initiate(
            json!({"enrollmentTransactionReference": "e-capped", "tokenLifetimeInMinutes": 600}),
        )
        .await;
    let (status, _) = f.device(&reference, "start", None).await;
    assert_eq!(status, StatusCode::OK);
    f.server.clock.advance(15 * MINUTE - 1);
    assert_eq!(f.result(&reference).await, "STARTED");
    assert_eq!(f.result(&capped).await, "CREATED");
    f.server.clock.advance(1);
    assert_eq!(f.result(&reference).await, "EXPIRED");
    assert_eq!(f.result(&capped).await, "EXPIRED");
    let now = f.server.clock_ms();
    let (status, body) = f
        .device(
            &reference,
            "capture",
            Some(json!({"face": "LIVE_MATCH", "timestamp": now})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["transactionResult"], "EXPIRED");
    assert_eq!(body["httpStatus"], 409);
}

#[tokio::test]
async fn a_newer_transaction_for_the_same_enrollment_supersedes_older_ones() {
    let f = Facemap::start().await;
    let first = f.initiate(metadata("same")).await;
    let second = f.initiate(metadata("same")).await;
    let other = f.initiate(metadata("other")).await;
    f.server.clock.advance(14 * MINUTE);
    let third = f.initiate(metadata("same")).await;
    assert_eq!(f.result(&first).await, "EXPIRED");
    assert_eq!(f.result(&second).await, "EXPIRED");
    assert_eq!(f.result(&other).await, "CREATED");
    let (status, body) = f.capture(&first, "LIVE_MATCH").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = f.capture(&third, "LIVE_MATCH").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["transactionResult"], "PASSED");
    // Older than 15 minutes: a new one does not touch it (it expired on its own anyway).
    let late = f.initiate(metadata("late")).await;
    f.server.clock.advance(15 * MINUTE + 1);
    let newer = f.initiate(metadata("late")).await;
    assert_eq!(f.result(&late).await, "EXPIRED");
    assert_eq!(f.result(&newer).await, "CREATED");
}

type Received = Arc<Mutex<Vec<HashMap<String, String>>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/callback",
            post(
                |State(r): State<Received>, body: axum::body::Bytes| async move {
                    let fields: HashMap<String, String> = reqwest::Url::parse(&format!(
                        "http://x/?{}",
                        String::from_utf8_lossy(&body)
                    ))
                    .unwrap()
                    .query_pairs()
                    .into_owned()
                    .collect();
                    r.lock().unwrap().push(fields);
                    StatusCode::OK
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn wait_for(received: &Received, n: usize) -> Vec<HashMap<String, String>> {
    for _ in 0..500 {
        let got = received.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{n} callbacks expected, got {:?}", received.lock().unwrap());
}

#[tokio::test]
async fn the_final_state_is_posted_to_the_callback_url_as_jumio_sends_it() {
    let f = Facemap::start().await;
    let (url, received) = receiver().await;
    let passed = f
        .initiate(json!({"enrollmentMetadata": {
            "enrollmentTransactionReference": "cb-1", "userReference": "u-7", "callbackUrl": url
        }}))
        .await;
    let expired = f
        .initiate(json!({"enrollmentMetadata": {
            "enrollmentTransactionReference": "cb-2", "callbackUrl": url
        }}))
        .await;
    let (status, _) = f.capture(&passed, "LIVE_MATCH").await;
    assert_eq!(status, StatusCode::OK);
    let got = wait_for(&received, 1).await;
    let callback = &got[0];
    assert_eq!(callback["transactionReference"], passed);
    assert_eq!(callback["enrollmentTransactionReference"], "cb-1");
    assert_eq!(callback["transactionResult"], "PASSED");
    assert_eq!(callback["scanSource"], "SDK");
    assert_eq!(callback["callBackType"], "NETVERIFY_AUTHENTICATION");
    assert_eq!(callback["userReference"], "u-7");
    assert_eq!(callback["transactionDate"], "2026-06-01T00:00:00.000Z");
    assert_eq!(callback["callbackDate"], "2026-06-01T00:00:00.000Z");
    // Expiry reported by the worker, without any read.
    f.server.clock.advance(15 * MINUTE);
    let got = wait_for(&received, 2).await;
    assert_eq!(got[1]["transactionReference"], expired);
    assert_eq!(got[1]["transactionResult"], "EXPIRED");
    assert!(!got[1].contains_key("userReference"));
    assert_eq!(f.server.clock_ms(), START_MS + 15 * MINUTE);
}

#[tokio::test]
async fn a_failed_callback_is_retried_by_the_clock() {
    let f = Facemap::start().await;
    // Nobody listens on the first URL's port while the first attempt runs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let reference = f
        .initiate(json!({"enrollmentTransactionReference": "retry",
            "callbackUrl": format!("http://{address}/callback")}))
        .await;
    let (status, _) = f.capture(&reference, "SPOOF").await;
    assert_eq!(status, StatusCode::OK);
    // The first attempt fails; then a receiver comes up on that port and the retry,
    // due after the backoff (2 s by the clock), reaches it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received: Received = Arc::default();
    let app = Router::new()
        .route(
            "/callback",
            post(
                |State(r): State<Received>, body: axum::body::Bytes| async move {
                    r.lock().unwrap().push(HashMap::from([(
                        "body".to_owned(),
                        String::from_utf8_lossy(&body).into_owned(),
                    )]));
                    StatusCode::OK
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    assert!(received.lock().unwrap().is_empty());
    f.server.clock.advance(2_000);
    let got = wait_for(&received, 1).await;
    assert!(
        got[0]["body"].contains("transactionResult=INVALID"),
        "{got:?}"
    );
}

#[tokio::test]
async fn refusals_are_jumios_statuses_with_a_reason() {
    let f = Facemap::start().await;
    let path = f.url("/api/authentication/v1/facemap/initiate");
    let client = &f.server.client;
    let meta = metadata("refusals");
    // No User-Agent (reqwest sends none unless told).
    let (status, body) = crate::common::read(
        client
            .post(&path)
            .basic_auth(&f.token, Some(&f.secret))
            .multipart(Facemap::form(b"FM", &meta))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("User-Agent"));
    assert_eq!(body["httpStatus"], 403);
    // Wrong content type.
    let (status, body) = crate::common::read(
        client
            .post(&path)
            .basic_auth(&f.token, Some(&f.secret))
            .header("User-Agent", AGENT)
            .json(&meta)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data")
    );
    // Missing facemap part.
    let (status, body) = f
        .initiate_with(
            Form::new().part(
                "enrollmentMetadata",
                Part::text(meta.to_string())
                    .mime_str("application/json")
                    .unwrap(),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing facemap part")
    );
    // Missing metadata, bad metadata.
    let (status, body) = f
        .initiate_with(Form::new().part("facemap", Part::bytes(b"FM".to_vec())))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("enrollmentMetadata")
    );
    let (status, body) = f
        .initiate_with(Facemap::form(b"FM", &json!({"userReference": "x"})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("enrollmentTransactionReference")
    );
    // Too large a facemap: 413 with a clear reason, never a 500.
    let (status, body) = f
        .initiate_with(Facemap::form(&vec![7u8; 2 * 1024 * 1024 + 1], &meta))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("facemap"));
    // Bad credentials: wrong secret, unknown token, none, not Basic.
    for request in [
        client.post(&path).basic_auth(&f.token, Some("wrong")),
        client.post(&path).basic_auth("nobody", Some(&f.secret)),
        client.post(&path),
        client.post(&path).bearer_auth("x"),
        client.post(&path).header("Authorization", "Basic %%%"),
    ] {
        let (status, body) = crate::common::read(
            request
                .header("User-Agent", AGENT)
                .multipart(Facemap::form(b"FM", &meta))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(!message.contains(&f.secret), "{message}");
    }
    // A truncated multipart body: 400, never a 500.
    let (status, body) = crate::common::read(
        client
            .post(&path)
            .basic_auth(&f.token, Some(&f.secret))
            .header("User-Agent", AGENT)
            .header("Content-Type", "multipart/form-data; boundary=XYZ")
            .body("--XYZ\r\nContent-Disposition: form-data; name=\"facemap\"\r\n\r\nabc")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Unknown and foreign references: 404.
    let (status, _) = f.detail("no-such-reference").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The device's clock too far off.
    let reference = f.initiate(metadata("skew")).await;
    let (status, body) = f
        .device(
            &reference,
            "capture",
            Some(json!({"face": "LIVE_MATCH", "timestamp": f.server.clock_ms() + 10 * MINUTE})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("clock"));
    let (status, body) = f
        .device(
            &reference,
            "capture",
            Some(json!({"face": "SMILE", "timestamp": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Credentials are made by an admin only.
    let (status, _) = crate::common::read(
        client
            .post(f.url("/credentials"))
            .basic_auth(f.server.integration().0, Some(f.server.integration().1))
            .json(&json!({"applicationId": "tokensim"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
