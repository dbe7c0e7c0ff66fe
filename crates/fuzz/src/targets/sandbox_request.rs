//! Requests to the sandbox as any client may send them, through the whole router in process
//! (no socket): the guard, routing, the Basic-auth and PowerAuth header extractors, the JSON
//! body extractors of `/pa/v3`, `/rest/v3`, the mobile-token `/api` and the Cloud API, and
//! the handlers behind them on an in-memory SQLite database.
//!
//! The input is a small text request: a request line `METHOD /path`, header lines
//! `Name: value`, an empty line, then the body's bytes. `{admin}` in a header value stands
//! for the built-in admin's Basic credentials, so seeds reach past the Cloud API's login.
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
}

fn harness() -> &'static Mutex<Option<Harness>> {
    static HARNESS: Mutex<Option<Harness>> = Mutex::new(None);
    &HARNESS
}

fn open(runtime: tokio::runtime::Runtime) -> Harness {
    let router = runtime.block_on(async {
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
        sandbox::app(state)
    });
    Harness {
        runtime,
        router,
        served: 0,
    }
}

/// One input (see the module documentation for its layout).
pub fn run(data: &[u8]) {
    let Some(request) = request(data) else {
        return;
    };
    let mut slot = harness()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut current = match slot.take() {
        Some(h) if h.served < REQUESTS_PER_DATABASE => h,
        Some(h) => open(h.runtime),
        None => open(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime"),
        ),
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
fn request(data: &[u8]) -> Option<Request<Body>> {
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
        let value = value.trim().replace(
            "{admin}",
            &format!(
                "Basic {}",
                b64(format!("admin:{ADMIN_PASSWORD}").as_bytes())
            ),
        );
        builder = builder.header(
            HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            HeaderValue::from_str(&value).ok()?,
        );
    }
    builder.body(Body::from(body.to_vec())).ok()
}
