//! `tokensim doctor --server`: every check against the real sandbox, and each failing on a
//! sandbox configured to fail it (3.1 only, a shifted clock, no mobile-token API, a wrong
//! master key, nothing listening).

use crate::common::{World, output};
use powerauth::config::ApplicationConfig;
use powerauth::{KeyPair, SystemRandom};
use sandbox::{Config, Sandbox, TestClock};
use serde_json::Value;
use std::sync::Arc;

async fn doctor(world: &World, server: &str, config: Option<&str>) -> (i32, Value) {
    let mut args = vec!["--json", "doctor", "--server", server];
    if let Some(config) = config {
        args.extend(["--config", config]);
    }
    let run = output(world.command(&args)).await;
    assert!(run.code == 0 || run.code == 3, "{run:?}");
    (run.code, run.json())
}

fn verdict<'a>(report: &'a Value, id: &str) -> &'a str {
    report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report}"))["verdict"]
        .as_str()
        .unwrap()
}

async fn sandbox_with(config: Config) -> (Sandbox, String) {
    let sandbox = Sandbox::start(config).await.unwrap();
    let sdk = sandbox.default_mobile_sdk_config().await.unwrap().unwrap();
    (sandbox, sdk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_passes_every_check() {
    let world = World::start().await;
    let (code, report) = doctor(&world, world.url(), Some(&world.config)).await;
    assert_eq!(code, 0, "{report}");
    for id in [
        "reach",
        "restful-api",
        "protocol-versions",
        "clock",
        "mobile-token-api",
        "push-inbox",
        "application",
    ] {
        assert_eq!(verdict(&report, id), "ok", "{id}: {report}");
    }
    // Plain HTTP is a warning, not a failure.
    assert_eq!(verdict(&report, "tls"), "warn");
    assert_eq!(
        report["report"]["acceptedVersions"],
        serde_json::json!(["3.0", "3.1", "3.2", "3.3"])
    );
    assert!(report["report"]["clockOffsetMs"].as_i64().unwrap().abs() < 5_000);
    assert!(report["report"]["serverVersion"].is_string());
    // Without --config the application is not checked, and says so.
    let (_, report) = doctor(&world, world.url(), None).await;
    assert_eq!(verdict(&report, "application"), "skipped");
    // The text form: a line per check, what to do for each that is not ok.
    let run = world
        .run(&["doctor", "--server", world.url(), "--config", &world.config])
        .await;
    assert!(
        run.ok().contains("what to do: fine for a local sandbox"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_check_fails_on_a_sandbox_made_to_fail_it() {
    let world = World::start().await;

    // 3.1 only: an older server without temporary keys.
    let mut config = Config::in_memory();
    config.protocol_versions = vec![powerauth::ProtocolVersion::V3_1];
    let (old, sdk) = sandbox_with(config).await;
    let (code, report) = doctor(&world, old.url(), Some(&sdk)).await;
    assert_eq!(code, 0, "warnings only: {report}");
    assert_eq!(verdict(&report, "protocol-versions"), "warn");
    assert_eq!(
        report["report"]["acceptedVersions"],
        serde_json::json!(["3.1"])
    );
    assert_eq!(verdict(&report, "clock"), "skipped");
    assert_eq!(verdict(&report, "application"), "skipped");

    // A server clock 10 minutes behind: this machine's 3.2+ requests land in its future.
    let clock = TestClock::at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
            - 600_000,
    );
    let shifted = Sandbox::start_with(
        Config::in_memory(),
        Arc::new(clock),
        Arc::new(SystemRandom::new()),
    )
    .await
    .unwrap();
    let sdk = shifted.default_mobile_sdk_config().await.unwrap().unwrap();
    let (code, report) = doctor(&world, shifted.url(), Some(&sdk)).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "clock"), "fail");
    let offset = report["report"]["clockOffsetMs"].as_i64().unwrap();
    assert!((-610_000..=-590_000).contains(&offset), "{offset}");

    // No mobile-token API: a plain PowerAuth server.
    let mut config = Config::in_memory();
    config.mobile_token_api = false;
    let (plain, sdk) = sandbox_with(config).await;
    let (code, report) = doctor(&world, plain.url(), Some(&sdk)).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "mobile-token-api"), "fail");
    assert_eq!(verdict(&report, "push-inbox"), "warn");
    assert_eq!(verdict(&report, "restful-api"), "ok");

    // A configuration whose master key is another server's.
    let rng = SystemRandom::new();
    let mut wrong = ApplicationConfig::from_mobile_sdk_config(&world.config).unwrap();
    wrong.master_server_public_key = KeyPair::make(&rng).public;
    let (code, report) = doctor(&world, world.url(), Some(&wrong.to_mobile_sdk_config())).await;
    assert_eq!(code, 3, "{report}");
    assert_eq!(verdict(&report, "application"), "fail");
    let check = report["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "application")
        .unwrap();
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("master public key"),
        "{check}"
    );
    // An application the server does not know.
    let unknown = ApplicationConfig::make(KeyPair::make(&rng).public, &rng).to_mobile_sdk_config();
    let (_, report) = doctor(&world, world.url(), Some(&unknown)).await;
    assert_eq!(verdict(&report, "application"), "fail");

    // Nothing listening, and a URL that is not a PowerAuth server.
    let (code, report) = doctor(&world, "http://127.0.0.1:9", None).await;
    assert_eq!(code, 3);
    assert_eq!(verdict(&report, "reach"), "fail");
    assert_eq!(verdict(&report, "clock"), "skipped");
    let (_, report) = doctor(&world, &format!("{}/nothing-here", world.url()), None).await;
    assert_eq!(verdict(&report, "restful-api"), "fail");
}
