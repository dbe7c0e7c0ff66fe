//! `tokensim profile facemap`: credentials, initiate (as the bank's server), capture (as the
//! device), show, with `--json`; a refusal's kind; a kill -9 mid-capture that loses nothing.

use crate::common::World;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tokio::sync::Notify;

fn with_secrets(
    world: &World,
    secret: &str,
    mut command: std::process::Command,
) -> std::process::Command {
    command
        .env("TOKENSIM_ADMIN_PASSWORD", &world.sandbox.admin().password)
        .env("TOKENSIM_FACEMAP_SECRET", secret);
    command
}

async fn credentials(world: &World) -> (String, String) {
    let mut command = world.command(&[
        "--json",
        "profile",
        "facemap",
        "credentials",
        "--url",
        world.url(),
    ]);
    command.env("TOKENSIM_ADMIN_PASSWORD", &world.sandbox.admin().password);
    let run = crate::common::output(command).await;
    run.ok();
    let made = run.json();
    (
        made["apiToken"].as_str().unwrap().to_owned(),
        made["apiSecret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn initiate_capture_show_with_json() {
    let world = World::start().await;
    let (token, secret) = credentials(&world).await;
    let url = world.url().to_owned();
    let base = ["--json", "profile", "facemap"];
    let run = |args: Vec<&str>| {
        let mut all = base.to_vec();
        all.extend(args);
        crate::common::output(with_secrets(&world, &secret, world.command(&all)))
    };
    let out = run(vec![
        "initiate",
        "--url",
        &url,
        "--api-token",
        &token,
        "--enrollment",
        "cli-1",
        "--user-reference",
        "u-1",
    ])
    .await;
    out.ok();
    let reference = out.json()["authenticationTransactionReference"]
        .as_str()
        .unwrap()
        .to_owned();
    for (face, result) in [("live", "PASSED")] {
        let out = run(vec![
            "capture",
            "--url",
            &url,
            "--api-token",
            &token,
            &reference,
            "--face",
            face,
        ])
        .await;
        out.ok();
        assert_eq!(out.json()["transactionResult"], result);
        assert_eq!(out.json()["face"], face);
    }
    let out = run(vec![
        "show",
        "--url",
        &url,
        "--api-token",
        &token,
        &reference,
    ])
    .await;
    out.ok();
    let shown = out.json();
    assert_eq!(shown["transactionResult"], "PASSED");
    assert_eq!(shown["enrollmentTransactionReference"], "cli-1");
    assert_eq!(shown["userReference"], "u-1");
    // A capture of an ended transaction: rejected (exit 3), with a hint; the secret
    // appears nowhere.
    let out = run(vec![
        "capture",
        "--url",
        &url,
        "--api-token",
        &token,
        &reference,
        "--face",
        "spoof",
    ])
    .await;
    out.failed(3, "rejected");
    assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
    // The catalogue's faults through the global --fault: the report says what was sent,
    // what the sandbox answered and that it is what it must answer.
    let fault = |fault: &'static str, action: &'static str| {
        let mut all = vec!["--json", "--fault", fault, "profile", "facemap", action];
        all.extend(["--url", url.as_str(), "--api-token", token.as_str()]);
        all.push(reference.as_str());
        crate::common::output(with_secrets(&world, &secret, world.command(&all)))
    };
    let out = fault("wrong-secret", "show").await;
    let report = &out.json()["faultReport"];
    assert_eq!(report["matched"], true, "{out:#?}");
    assert!(
        report["answered"]
            .as_str()
            .unwrap()
            .contains("wrong API token or secret")
    );
    assert!(!out.stdout.contains(&secret) && !out.stderr.contains(&secret));
    // The transaction ended PASSED: capturing it as expired gets 409 with that state, which
    // is not EXPIRED: the report says so and the exit code is 3.
    let out = fault("expired-token", "capture").await;
    assert_eq!(out.json()["faultReport"]["matched"], false, "{out:#?}");
    assert_eq!(out.code, 3);
    let out = fault("server-down", "capture").await;
    assert_eq!(out.json()["faultReport"]["matched"], true, "{out:#?}");
    // A capture-only fault on show, and a PowerAuth fault: usage errors naming the faults.
    let out = fault("replay", "show").await;
    out.failed(2, "usage");
    let out = fault("wrong-pin", "capture").await;
    let error = out.failed(2, "usage");
    assert!(
        error["hint"].as_str().unwrap().contains("expired-token"),
        "{error}"
    );
}

/// Forwards to the sandbox, except that a capture never gets an answer: the CLI waits.
#[derive(Clone)]
struct Proxy {
    target: String,
    http: reqwest::Client,
    capture_seen: Arc<Notify>,
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path.ends_with("/capture") {
        proxy.capture_seen.notify_one();
        std::future::pending::<()>().await;
    }
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body: Bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let mut outgoing = proxy
        .http
        .request(method, format!("{}{path}", proxy.target))
        .body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            outgoing = outgoing.header(name, value);
        }
    }
    match outgoing.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let bytes = answer.bytes().await.unwrap_or_default();
            (status, [("content-type", "application/json")], bytes).into_response()
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}

#[tokio::test]
async fn a_kill_mid_capture_loses_nothing() {
    let world = World::start().await;
    let (token, secret) = credentials(&world).await;
    let url = world.url().to_owned();
    let capture_seen = Arc::new(Notify::new());
    let proxy = Proxy {
        target: url.clone(),
        http: reqwest::Client::new(),
        capture_seen: capture_seen.clone(),
    };
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let initiate = crate::common::output(with_secrets(
        &world,
        &secret,
        world.command(&[
            "--json",
            "profile",
            "facemap",
            "initiate",
            "--url",
            &url,
            "--api-token",
            &token,
            "--enrollment",
            "kill-1",
        ]),
    ))
    .await;
    initiate.ok();
    let reference = initiate.json()["authenticationTransactionReference"]
        .as_str()
        .unwrap()
        .to_owned();
    // The capture through the proxy: the transaction is STARTED, the capture sent, and the
    // CLI killed before any answer.
    let mut child = with_secrets(
        &world,
        &secret,
        world.command(&[
            "--json",
            "profile",
            "facemap",
            "capture",
            "--url",
            &proxy_url,
            "--api-token",
            &token,
            &reference,
            "--face",
            "live",
        ]),
    )
    .spawn()
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), capture_seen.notified())
        .await
        .expect("the CLI sends the capture");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());
    // Nothing lost: the transaction is still open and the same capture finishes it.
    let show = |args: &[&str]| {
        let mut all = vec!["--json", "profile", "facemap"];
        all.extend_from_slice(args);
        crate::common::output(with_secrets(&world, &secret, world.command(&all)))
    };
    let out = show(&["show", "--url", &url, "--api-token", &token, &reference]).await;
    out.ok();
    assert_eq!(out.json()["transactionResult"], "STARTED");
    let out = show(&[
        "capture",
        "--url",
        &url,
        "--api-token",
        &token,
        &reference,
        "--face",
        "live",
    ])
    .await;
    out.ok();
    assert_eq!(out.json()["transactionResult"], "PASSED");
}
