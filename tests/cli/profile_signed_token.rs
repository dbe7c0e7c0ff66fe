//! `tokensim profile signed-token` against the sandbox over HTTP: attach and identify with
//! tokens from the app server, the project setting, a refusal, the per-user rate limit of
//! the sign endpoint, and the access history.

use crate::profile_jwt::world_on_test_clock;

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
