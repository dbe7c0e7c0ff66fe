//! `tokensim profile jwt|api-key` against the sandbox over HTTP: enroll, call, refresh,
//! show, the faults of the catalogue, expiry on the sandbox's test clock, and nothing
//! secret on stdout or stderr.

use crate::common::{Run, World};
use sandbox::{Config, Sandbox, TestClock};
use std::sync::Arc;

const PASSWORD: &str = "app server password";

/// A world whose sandbox runs on a test clock that starts at the real time (the CLI's
/// device reads the system clock).
pub(crate) async fn world_on_test_clock() -> (World, TestClock) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let clock = TestClock::at(now);
    let sandbox = Sandbox::start_with(
        Config::in_memory(),
        Arc::new(clock.clone()),
        Arc::new(powerauth::SystemRandom::new()),
    )
    .await
    .unwrap();
    let config = sandbox.default_mobile_sdk_config().await.unwrap().unwrap();
    let world = World {
        sandbox,
        dir: tempfile::tempdir().unwrap(),
        config,
        http: reqwest::Client::new(),
    };
    (world, clock)
}

pub(crate) async fn run_with_password(world: &World, args: &[&str]) -> Run {
    let mut command = world.command(args);
    command.env("TOKENSIM_PROFILE_PASSWORD", PASSWORD);
    crate::common::output(command).await
}

#[track_caller]
fn no_secrets(run: &Run) {
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(PASSWORD), "{run:#?}");
        assert!(!text.contains("eyJ"), "a JWT leaked: {run:#?}");
    }
}

#[tokio::test]
async fn jwt_enroll_call_faults_and_expiry() {
    let (world, clock) = world_on_test_clock().await;
    let url = world.url().to_owned();
    let enrolled = run_with_password(
        &world,
        &[
            "--json",
            "profile",
            "jwt",
            "enroll",
            "--server",
            &url,
            "--user",
            "alice",
            "--lifetime",
            "600",
        ],
    )
    .await;
    no_secrets(&enrolled);
    let account = enrolled.json();
    assert_eq!(account["id"], "jwt-alice", "{enrolled:#?}");
    assert_eq!(account["hasJwt"], true);

    let call = world.run(&["--json", "profile", "jwt", "call"]).await;
    no_secrets(&call);
    let seen = call.json();
    assert_eq!(seen["credential"], "jwt", "{call:#?}");
    assert_eq!(seen["refreshed"], false);
    assert_eq!(seen["instanceId"], account["deviceId"]);

    // The sandbox's clock passes the JWT's expiry; the device's has not: the vendor says
    // it expired, the device logs in again (its stored password) and the call goes through.
    clock.advance(601_000);
    let call = world.run(&["--json", "profile", "jwt", "call"]).await;
    assert_eq!(call.json()["refreshed"], true, "{call:#?}");

    for fault in ["wrong-secret", "expired-token", "server-down", "replay"] {
        let run = world
            .run(&["--json", "--fault", fault, "profile", "jwt", "call"])
            .await;
        no_secrets(&run);
        let report = &run.json()["faultReport"];
        assert_eq!(report["matched"], true, "{fault}: {run:#?}");
        assert_eq!(run.code, 0);
    }
    // A PowerAuth fault is a usage error here, and says which faults apply.
    let run = world
        .run(&["--json", "--fault", "wrong-pin", "profile", "jwt", "call"])
        .await;
    let error = run.failed(2, "usage");
    assert!(
        error["hint"].as_str().unwrap().contains("expired-token"),
        "{run:#?}"
    );

    let show = world.run(&["--json", "profile", "jwt", "show"]).await;
    no_secrets(&show);
    assert_eq!(show.json()["username"], "alice");
    let list = world.run(&["--json", "profile", "list"]).await;
    assert_eq!(list.json()["accounts"][0]["profile"], "jwt", "{list:#?}");
}

#[tokio::test]
async fn api_key_mode_keeps_the_key_in_the_store_only() {
    let (world, _clock) = world_on_test_clock().await;
    let url = world.url().to_owned();
    let enrolled = world
        .run(&[
            "--json", "profile", "api-key", "enroll", "--server", &url, "--name", "kiosk",
        ])
        .await;
    assert_eq!(enrolled.json()["profile"], "api-key", "{enrolled:#?}");
    let call = world
        .run(&[
            "--json", "--trace", "profile", "api-key", "call", "--device", "kiosk",
        ])
        .await;
    assert_eq!(call.json()["credential"], "api-key", "{call:#?}");
    assert!(
        call.stderr.contains("X-Api-Key"),
        "the trace shows the header: {call:#?}"
    );
    assert!(call.stderr.contains("<redacted>"), "{call:#?}");
    let run = world
        .run(&[
            "--json",
            "--fault",
            "wrong-secret",
            "profile",
            "api-key",
            "call",
        ])
        .await;
    assert_eq!(run.json()["faultReport"]["matched"], true, "{run:#?}");
    // No account of a profile: a clear error saying what to do.
    let run = world.run(&["--json", "profile", "jwt", "call"]).await;
    let error = run.failed(4, "device-not-found");
    assert!(
        error["hint"].as_str().unwrap().contains("enroll"),
        "{run:#?}"
    );
}

/// A TCP relay between the CLI and the sandbox that can hold the sandbox's answers: the
/// request reaches the server, the answer never reaches the CLI.
pub(crate) struct Relay {
    pub(crate) url: String,
    pub(crate) hold: Arc<std::sync::atomic::AtomicBool>,
    pub(crate) held: Arc<tokio::sync::Notify>,
}

pub(crate) async fn relay(target: std::net::SocketAddr) -> Relay {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let held = Arc::new(tokio::sync::Notify::new());
    let (hold_loop, held_loop) = (hold.clone(), held.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(upstream) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            let (mut client_read, mut client_write) = client.into_split();
            let (mut upstream_read, mut upstream_write) = upstream.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
            });
            let (hold, held) = (hold_loop.clone(), held_loop.clone());
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 16 * 1024];
                loop {
                    let Ok(read) = upstream_read.read(&mut buffer).await else {
                        return;
                    };
                    if read == 0 {
                        return;
                    }
                    if hold.load(Ordering::SeqCst) {
                        held.notify_one();
                        std::future::pending::<()>().await;
                    }
                    if client_write.write_all(&buffer[..read]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Relay { url, hold, held }
}

#[tokio::test]
async fn kill_9_during_a_token_refresh_loses_nothing() {
    use std::sync::atomic::Ordering;
    let (world, clock) = world_on_test_clock().await;
    let relay = relay(world.sandbox.address()).await;
    let enrolled = run_with_password(
        &world,
        &[
            "--json", "profile", "jwt", "enroll", "--server", &relay.url, "--user", "dave",
        ],
    )
    .await;
    let before = enrolled.json()["jwtExpiresAt"].as_i64().unwrap();

    // The refresh's login reaches the app server, which issues a new JWT; the answer is held
    // and the CLI killed (SIGKILL) while it waits for it.
    clock.advance(10_000);
    relay.hold.store(true, Ordering::SeqCst);
    let mut child = world
        .command(&["--json", "profile", "jwt", "refresh"])
        .spawn()
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), relay.held.notified())
        .await
        .expect("the refresh reached the server");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed: {status:?}");
    relay.hold.store(false, Ordering::SeqCst);

    // The stored account is the one before the refresh, and it works.
    let show = world.run(&["--json", "profile", "jwt", "show"]).await;
    let shown = show.json();
    assert_eq!(shown["hasJwt"], true, "{show:#?}");
    assert_eq!(shown["jwtExpiresAt"].as_i64(), Some(before), "{show:#?}");
    let call = world.run(&["--json", "profile", "jwt", "call"]).await;
    assert_eq!(call.json()["credential"], "jwt", "{call:#?}");
    // The lease the killed process held was released by the OS: a refresh runs to the end.
    let refreshed = world.run(&["--json", "profile", "jwt", "refresh"]).await;
    assert_eq!(
        refreshed.json()["jwtExpiresAt"].as_i64(),
        Some(before + 10),
        "{refreshed:#?}"
    );
}
