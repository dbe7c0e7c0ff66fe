//! `tokensim profile oauth`: the binary against a sandbox on a test clock — client
//! credentials from storage first, refresh, clearing, revocation, the device flow approved
//! through the sandbox, faults, and kill -9 during token refreshes losing nothing.

use crate::profile_jwt::world_on_test_clock;
use std::process::Stdio;

const MINUTES_20: i64 = 20 * 60 * 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_storage_first_refresh_clear_and_revoke() {
    let (world, clock) = world_on_test_clock().await;
    let registered = world
        .json(&["profile", "oauth", "register", "--server", world.url()])
        .await;
    assert_eq!(registered["id"], "oauth-cc");
    assert!(registered.get("clientSecret").is_none(), "{registered}");

    let first = world.json(&["profile", "oauth", "token"]).await;
    assert_eq!(first["source"], "client-credentials");
    assert!(
        first.get("accessToken").is_none(),
        "no token without --reveal-secrets"
    );
    let again = world.json(&["profile", "oauth", "token"]).await;
    assert_eq!(again["source"], "storage", "a stored token is reused");

    // The server's clock moves 20 minutes: the stored token is refused (401), one refresh.
    clock.advance(MINUTES_20);
    let call = world.json(&["profile", "oauth", "call"]).await;
    assert_eq!(call["refreshedAfter401"], true, "{call}");
    assert_eq!(call["api"]["client_id"], registered["clientId"]);

    // Clearing storage: the next run authenticates again.
    world.json(&["profile", "oauth", "clear"]).await;
    let anew = world.json(&["profile", "oauth", "token"]).await;
    assert_eq!(anew["source"], "client-credentials");

    // wrong-secret (nothing stored, so the client must authenticate): a clear refusal,
    // exit 3; then a plain run authenticates again.
    world.json(&["profile", "oauth", "clear"]).await;
    let run = world
        .run(&[
            "--json",
            "--fault",
            "wrong-secret",
            "profile",
            "oauth",
            "token",
        ])
        .await;
    let error = run.failed(3, "rejected");
    assert!(
        error["error"].as_str().unwrap().contains("invalid_client"),
        "{error}"
    );
    let again = world.json(&["profile", "oauth", "token"]).await;
    assert_eq!(again["source"], "client-credentials");

    // server-down: a network error; the stored tokens are still there afterwards.
    let run = world
        .run(&[
            "--json",
            "--fault",
            "server-down",
            "profile",
            "oauth",
            "call",
        ])
        .await;
    assert_ne!(run.code, 0);
    let shown = world.json(&["profile", "oauth", "show"]).await;
    assert_eq!(shown["hasTokens"], true);

    world.json(&["profile", "oauth", "revoke"]).await;
    let shown = world.json(&["profile", "oauth", "show"]).await;
    assert_eq!(shown["hasTokens"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_is_approved_through_the_sandbox() {
    let (world, _clock) = world_on_test_clock().await;
    world
        .json(&[
            "profile",
            "oauth",
            "register",
            "--server",
            world.url(),
            "--device-flow",
            "--device-id",
            "/vendor/acme/serial/1234",
        ])
        .await;
    let run = world
        .run(&["--json", "profile", "oauth", "device", "--approve"])
        .await;
    let done = run.json();
    assert_eq!(done["source"], "device-authorization", "{run:?}");
    assert_eq!(done["deviceId"], "/vendor/acme/serial/1234");
    assert!(run.stderr.contains("/oauth2/device"), "{run:?}");
    let call = world.json(&["profile", "oauth", "call"]).await;
    assert_eq!(call["api"]["device_id"], "/vendor/acme/serial/1234");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_token_refreshes_loses_nothing() {
    let (world, clock) = world_on_test_clock().await;
    world
        .json(&["profile", "oauth", "register", "--server", world.url()])
        .await;
    world.json(&["profile", "oauth", "token"]).await;
    // How long one refreshing run takes here and now; kills are spread over that time.
    clock.advance(MINUTES_20);
    let started = std::time::Instant::now();
    let call = world.json(&["profile", "oauth", "call"]).await;
    assert_eq!(call["refreshedAfter401"], true);
    let whole = started.elapsed();
    let rounds = 16u32;
    let mut killed = 0;
    for round in 0..rounds {
        // Each run finds its stored token refused and refreshes.
        clock.advance(MINUTES_20);
        let mut child = world
            .command(&["profile", "oauth", "call"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(whole * (2 * round + 1) / (2 * rounds)).await;
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if std::os::unix::process::ExitStatusExt::signal(&status) == Some(9) {
            killed += 1;
        } else {
            assert!(status.success(), "a run after {killed} kills failed");
        }
    }
    assert!(
        killed >= rounds / 4,
        "only {killed} of {rounds} runs were killed (a run takes {whole:?})"
    );
    // The stored tokens survived: the next run works without a new client credentials grant.
    clock.advance(MINUTES_20);
    let after = world.json(&["profile", "oauth", "call"]).await;
    assert_eq!(after["source"], "refresh", "{after}");
    let token = world.json(&["profile", "oauth", "token"]).await;
    assert_eq!(token["source"], "storage");
}
