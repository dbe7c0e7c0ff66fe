//! Requests to the sandbox as any client may send them, through the whole router in process
//! (no socket): the guard, routing, the Basic-auth and PowerAuth header extractors, the JSON
//! body extractors of `/pa/v3`, `/rest/v3`, the mobile-token `/api` and the Cloud API, and
//! the handlers behind them on an in-memory SQLite database.
//!
//! The input is a small text request: a request line `METHOD /path`, header lines
//! `Name: value`, an empty line, then the body's bytes. `{admin}` in a header value stands
//! for the built-in admin's Basic credentials and `{facemap}` for API credentials of the
//! facemap profile, so seeds reach past the logins (the facemap profile's `multipart/form-data`
//! initiate included).
//! Whatever comes in, the answer is never a 5xx, and an error body is JSON.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use powerauth::encoding::b64;
use sandbox::{AppState, Config, TestClock};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// The built-in admin's password in the fuzzed sandbox.
pub const ADMIN_PASSWORD: &str = "fuzz-admin-password";
/// Requests served by one database before a fresh one is opened, so memory stays flat over
/// millions of inputs.
const REQUESTS_PER_DATABASE: u32 = 5_000;
/// 2026-06-01T00:00:00Z.
const START_MS: i64 = 1_780_272_000_000;

struct Harness {
    runtime: tokio::runtime::Runtime,
    router: Router,
    served: u32,
    /// `Basic …` of the facemap profile's API token and secret.
    facemap: String,
}

fn admin() -> String {
    format!(
        "Basic {}",
        b64(format!("admin:{ADMIN_PASSWORD}").as_bytes())
    )
}

fn harness() -> &'static Mutex<Option<Harness>> {
    static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);
    &HARNESS
}

fn open(runtime: tokio::runtime::Runtime) -> Harness {
    let (router, facemap) = runtime.block_on(async {
        let config = Config {
            admin_password: Some(ADMIN_PASSWORD.to_owned()),
            ..Config::in_memory()
        };
        let state = AppState::open_with(
            config,
            Arc::new(TestClock::at(START_MS)),
            Arc::new(powerauth::SystemRandom::new()),
        )
        .await
        .expect("an in-memory sandbox opens");
        sandbox::bootstrap::prepare(&state)
            .await
            .expect("the built-in users and application are made");
        let router = sandbox::app(state);
        let made = Request::post("/profiles/facemap/credentials")
            .header("host", "127.0.0.1:8080")
            .header("content-type", "application/json")
            .header("authorization", admin())
            .body(Body::from(r#"{"applicationId":"tokensim"}"#))
            .expect("a request");
        let response = router.clone().oneshot(made).await.expect("infallible");
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a body");
        let made: serde_json::Value = serde_json::from_slice(&body).expect("JSON credentials");
        let text = |key: &str| made[key].as_str().expect("a credential").to_owned();
        let facemap = format!(
            "Basic {}",
            b64(format!("{}:{}", text("apiToken"), text("apiSecret")).as_bytes())
        );
        (router, facemap)
    });
    Harness {
        runtime,
        router,
        served: 0,
        facemap,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// One input (see the module documentation for its layout).
pub fn run(data: &[u8]) {
    let mut slot = harness()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut current = match slot.take() {
        Some(h) if h.served < REQUESTS_PER_DATABASE => h,
        // The old database goes with its runtime: the sandbox's background tasks (the expiry
        // sweep, the callback workers) hold it until their runtime ends, so reusing the
        // runtime kept every database ever opened (2 GB after 3.8 M inputs, libFuzzer's
        // out-of-memory limit).
        Some(old) => {
            drop(old);
            // glibc's malloc keeps what the old database and its requests freed: over
            // millions of mixed inputs its main arena grew to 464 MB holding 30 MB in use
            // (678 MB from malloc, 76 MB in use, libFuzzer's corpus included), and
            // libFuzzer's 2 GB limit counts it. Free pages go back to the system here.
            tokensim_memory::release();
            open(runtime())
        }
        None => {
            // Before the first runtime's threads: at most a few arenas, each keeping the
            // 19 MiB of an Argon2 check (a Basic-auth password) freed by a blocking thread.
            tokensim_memory::bound_arenas();
            open(runtime())
        }
    };
    let Some(request) = request(data, &current.facemap) else {
        *slot = Some(current);
        return;
    };
    current.served += 1;
    let router = current.router.clone();
    let (status, body) = current.runtime.block_on(async move {
        let response = router
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24).await;
        (status, body)
    });
    *slot = Some(current);
    assert!(
        !status.is_server_error(),
        "{status}: {}",
        String::from_utf8_lossy(body.as_deref().unwrap_or_default())
    );
    if status.is_client_error() {
        let body = body.expect("an error body is read");
        // A WebSocket upgrade refused by axum itself has no body to shape.
        if !body.is_empty() {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
                "{status} not JSON: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}

/// The request an input describes, or `None` when HTTP itself cannot carry it (a method,
/// path or header no client library would send).
fn request(data: &[u8], facemap: &str) -> Option<Request<Body>> {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    if !path.starts_with('/') {
        return None;
    }
    let mut builder = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(path)
        .header("host", "127.0.0.1:8080");
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value
            .trim()
            .replace("{admin}", &admin())
            .replace("{facemap}", facemap);
        builder = builder.header(
            HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            HeaderValue::from_str(&value).ok()?,
        );
    }
    builder.body(Body::from(body.to_vec())).ok()
}
