//! `tokensim profile signed-token` against the sandbox over HTTP: attach and identify with
//! tokens from the app server, the project setting, a refusal, the per-user rate limit of
//! the sign endpoint, the access history, and a kill -9 during a token refresh.

use crate::profile_jwt::{relay, world_on_test_clock};

#[tokio::test]
async fn attach_identify_setting_rate_limit_and_history() {
    let (world, clock) = world_on_test_clock().await;
    let url = world.url().to_owned();
    let enrolled = world
        .run(&[
            "--json",
            "profile",
            "signed-token",
            "enroll",
            "--server",
            &url,
            "--user",
            "erin",
            "--rate",
            "2",
            "--lifetime",
            "120",
        ])
        .await;
    assert_eq!(enrolled.json()["user"], "erin", "{enrolled:#?}");
    let attach = world
        .run(&["--json", "profile", "signed-token", "attach"])
        .await;
    let accepted = attach.json();
    assert_eq!(accepted["signed"], true, "{attach:#?}");
    assert_eq!(accepted["refreshed"], true);
    assert!(
        !attach.stdout.contains("eyJ") && !attach.stderr.contains("eyJ"),
        "{attach:#?}"
    );
    // Within the token's lifetime: no new token.
    let again = world
        .run(&["--json", "profile", "signed-token", "attach"])
        .await;
    assert_eq!(again.json()["refreshed"], false, "{again:#?}");
    let identify = world
        .run(&[
            "--json",
            "profile",
            "signed-token",
            "identify",
            "--event",
            "order-7",
        ])
        .await;
    assert_eq!(identify.json()["subject"], "order-7", "{identify:#?}");
    // Two signs for erin this minute (the first attach, a refresh; identify's token is the
    // event's): the third is throttled, for erin only.
    let refreshed = world
        .run(&["--json", "profile", "signed-token", "refresh"])
        .await;
    assert_eq!(refreshed.code, 0, "{refreshed:#?}");
    let throttled = world
        .run(&["--json", "profile", "signed-token", "refresh"])
        .await;
    assert_ne!(throttled.code, 0, "{throttled:#?}");
    assert!(
        throttled.stdout.contains("rate_limited") || throttled.stdout.contains("429"),
        "{throttled:#?}"
    );
    clock.advance(60_000);
    let run = world
        .run(&[
            "--json",
            "--fault",
            "wrong-secret",
            "profile",
            "signed-token",
            "attach",
        ])
        .await;
    assert_eq!(run.json()["faultReport"]["matched"], true, "{run:#?}");
    // The project setting: unsigned attach is refused, then accepted once optional.
    let unsigned = world
        .run(&["--json", "profile", "signed-token", "attach", "--unsigned"])
        .await;
    assert_ne!(unsigned.code, 0, "{unsigned:#?}");
    let project = world
        .run(&[
            "--json",
            "profile",
            "signed-token",
            "project",
            "--require-signed",
            "false",
        ])
        .await;
    assert_eq!(project.json()["requireSignedTokens"], false, "{project:#?}");
    let unsigned = world
        .run(&["--json", "profile", "signed-token", "attach", "--unsigned"])
        .await;
    assert_eq!(unsigned.json()["signed"], false, "{unsigned:#?}");
    let history = world
        .run(&["--json", "profile", "signed-token", "history"])
        .await;
    let accesses = history.json()["accesses"].as_array().unwrap().clone();
    assert!(
        accesses
            .iter()
            .any(|a| a["signed"] == false && a["accepted"] == true),
        "{history:#?}"
    );
    assert!(
        accesses.iter().any(|a| a["reason"] == "token_required"),
        "{history:#?}"
    );
    assert!(
        accesses
            .iter()
            .any(|a| a["signed"] == true && a["accepted"] == true),
        "{history:#?}"
    );
}

/// kill -9 of the CLI while the app server's answer to a token refresh is on its way (the
/// relay holds it): the kept token is the one from before, it still attaches, and the lease
/// the killed process held is gone, so the next refresh runs to the end.
#[tokio::test]
async fn kill_9_during_a_token_refresh_loses_nothing() {
    use std::sync::atomic::Ordering;
    let (world, clock) = world_on_test_clock().await;
    let relay = relay(world.sandbox.address()).await;
    let enrolled = world
        .run(&[
            "--json",
            "profile",
            "signed-token",
            "enroll",
            "--server",
            &relay.url,
            "--user",
            "frank",
            "--rate",
            "10",
        ])
        .await;
    assert_eq!(enrolled.code, 0, "{enrolled:#?}");
    let first = world
        .run(&["--json", "profile", "signed-token", "refresh"])
        .await;
    let before = first.json()["tokenExpiresAt"].as_i64().expect("an expiry");

    clock.advance(10_000);
    relay.hold.store(true, Ordering::SeqCst);
    let mut child = world
        .command(&["--json", "profile", "signed-token", "refresh"])
        .spawn()
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), relay.held.notified())
        .await
        .expect("the refresh reached the app server");
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed: {status:?}");
    relay.hold.store(false, Ordering::SeqCst);

    let show = world
        .run(&["--json", "profile", "signed-token", "show"])
        .await;
    assert_eq!(show.json()["hasToken"], true, "{show:#?}");
    assert_eq!(
        show.json()["tokenExpiresAt"].as_i64(),
        Some(before),
        "{show:#?}"
    );
    let attach = world
        .run(&["--json", "profile", "signed-token", "attach"])
        .await;
    assert_eq!(attach.json()["signed"], true, "{attach:#?}");
    assert_eq!(attach.json()["refreshed"], false, "{attach:#?}");
    let refreshed = world
        .run(&["--json", "profile", "signed-token", "refresh"])
        .await;
    let after = refreshed.json()["tokenExpiresAt"].as_i64();
    assert!(after.is_some_and(|after| after > before), "{refreshed:#?}");
}
