//! `tokensim snapshot`: a device's whole state saved and put back on purpose, and the
//! server's reaction to each kind of restored device: resynchronised, counter behind the
//! server beyond its window, blocked.

use crate::common::World;
use powerauth::ProtocolVersion;
use serde_json::Value;

/// `--device ID` then `args`, expecting success.
async fn on(world: &World, id: &str, args: &[&str]) -> Value {
    let mut all = vec!["--device", id];
    all.extend_from_slice(args);
    world.json(&all).await
}

async fn sign(world: &World, id: &str) {
    let signed = on(
        world,
        id,
        &[
            "sign",
            "--uri-id",
            "/pa/test",
            "--body",
            "{}",
            "--factors",
            "possession",
            "--verify",
        ],
    )
    .await;
    assert_eq!(signed["verified"], true, "{signed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_list_diff_and_restore_with_a_resync() {
    let world = World::start().await;
    let (id, _) = world.device("snap", "phone", ProtocolVersion::V3_3).await;
    on(&world, &id, &["status"]).await;
    let saved = world.json(&["snapshot", "save", &id, "fresh"]).await;
    assert_eq!(saved["snapshot"]["name"], "fresh");
    let taken = saved["snapshot"]["counter"].as_u64().unwrap();
    // A name in use is refused unless replaced; a bad name is refused.
    world
        .run(&["--json", "snapshot", "save", &id, "fresh"])
        .await
        .failed(4, "snapshot-exists");
    world
        .run(&["--json", "snapshot", "save", &id, "no/slash"])
        .await
        .failed(4, "snapshot-name");

    sign(&world, &id).await;
    sign(&world, &id).await;
    on(&world, &id, &["tokens", "create", "--name", "mine"]).await;
    world.json(&["snapshot", "save", &id, "later"]).await;
    let listed = world.json(&["snapshot", "list", &id]).await;
    let names: Vec<&str> = listed["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fresh", "later"]);

    // Diff: plain fields with values, secrets redacted, the counter's steps told.
    let diff = world
        .json(&["snapshot", "diff", &id, "fresh", "later"])
        .await;
    let changes = diff["changes"].as_array().unwrap();
    let change = |field: &str| {
        changes
            .iter()
            .find(|c| c["field"] == field)
            .unwrap_or_else(|| panic!("{field}: {diff}"))
    };
    assert_eq!(change("activation.counter")["before"], taken.to_string());
    assert_eq!(
        change("activation.counter")["after"],
        (taken + 3).to_string()
    );
    let ctr = change("secrets.activation.ctrData");
    assert_eq!(ctr["secret"], true);
    assert!(ctr["before"].is_null() && ctr["after"].is_null(), "{ctr}");
    assert_eq!(ctr["note"], "moved 3 steps forward");
    assert_eq!(change("activation.tokens.mine.tokenId")["note"], "added");
    assert!(change("secrets.activation.tokens")["after"].is_null());
    let text = world
        .run(&["snapshot", "diff", &id, "later", "fresh"])
        .await;
    assert!(
        text.ok().contains("<redacted> moved 3 steps back"),
        "{text:?}"
    );

    // Restore the fresh phone: the server is 3 steps ahead, the status resynchronises.
    let restored = world.json(&["snapshot", "restore", &id, "fresh"]).await;
    let report = &restored["restoreReport"];
    assert_eq!(report["reaction"], "resync", "{restored}");
    assert!(
        report["answered"]
            .as_str()
            .unwrap()
            .contains("adopted the server's (3 steps)"),
        "{report}"
    );
    assert_eq!(
        on(&world, &id, &["tokens", "list"]).await["tokens"],
        serde_json::json!([])
    );
    sign(&world, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_far_behind_the_server_and_a_blocked_activation() {
    let world = World::start().await;
    let (id, activation_id) = world
        .device("snap-far", "phone", ProtocolVersion::V3_3)
        .await;
    on(&world, &id, &["status"]).await;
    world.json(&["snapshot", "save", &id, "old"]).await;
    // More signatures than the server's look-ahead window (20).
    for _ in 0..22 {
        sign(&world, &id).await;
    }
    world.json(&["snapshot", "save", &id, "recent"]).await;

    // Restored without calling the server: the next signature meets the server's refusal.
    let restored = world
        .json(&["snapshot", "restore", &id, "old", "--no-check"])
        .await;
    assert!(restored["restoreReport"].is_null());
    let refused = world
        .run(&["--json", "--device", &id, "pin", "verify"])
        .await;
    assert_eq!(refused.code, 3, "{refused:?}");
    // The status says why: the counter is behind the server's, beyond its window.
    let restored = world.json(&["snapshot", "restore", &id, "old"]).await;
    let report = &restored["restoreReport"];
    assert_eq!(report["reaction"], "counter-behind", "{restored}");
    assert!(
        report["required"]
            .as_str()
            .unwrap()
            .contains("counter behind the server"),
        "{report}"
    );

    // Back to the recent state, then blocked on the server by wrong PINs.
    let restored = world.json(&["snapshot", "restore", &id, "recent"]).await;
    assert_ne!(
        restored["restoreReport"]["reaction"], "counter-behind",
        "{restored}"
    );
    world
        .json(&["snapshot", "save", &id, "before-block", "--replace"])
        .await;
    for _ in 0..5 {
        let mut wrong = world.command(&["--json", "--device", &id, "pin", "verify"]);
        wrong.env("TOKENSIM_PIN", "0000");
        crate::common::output(wrong).await;
    }
    let status = on(&world, &id, &["status"]).await;
    assert_eq!(status["state"], "BLOCKED", "{status}");
    let restored = world
        .json(&["snapshot", "restore", &id, "before-block"])
        .await;
    assert_eq!(
        restored["restoreReport"]["reaction"], "blocked",
        "{restored}"
    );
    assert!(
        restored["restoreReport"]["hint"]
            .as_str()
            .unwrap()
            .contains("unblock")
    );
    // Unblocked on the server, the restored device signs again.
    world
        .rest(
            "/rest/v3/activation/unblock",
            serde_json::json!({"activationId": activation_id}),
        )
        .await;
    let restored = world
        .json(&["snapshot", "restore", &id, "before-block"])
        .await;
    assert_ne!(
        restored["restoreReport"]["reaction"], "blocked",
        "{restored}"
    );
    sign(&world, &id).await;
}

/// A restore waits for the device's lease like every other writer: while another holder
/// (here the app's engine, in this process) has the device out of the store, the restore
/// neither writes nor finishes; it goes through once the lease is let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_waits_for_the_devices_lease() {
    use crate::common::{PASSPHRASE, output};
    use tokensim_wallet::{BackendKind, DeviceId, Passphrase, Wallet};

    let world = World::start().await;
    let (id, _) = world.device("snap", "phone", ProtocolVersion::V3_3).await;
    world.json(&["snapshot", "save", &id, "fresh"]).await;
    sign(&world, &id).await;
    let signed = on(&world, &id, &["status"]).await;

    let wallet = Wallet::open(
        world.dir.path(),
        Some(BackendKind::EncryptedFile),
        Some(Passphrase::new(PASSPHRASE.to_owned())),
    )
    .unwrap();
    let device = DeviceId::parse(&id).unwrap();
    let lease = wallet.lease(&device).unwrap();
    let restore = tokio::spawn(output(world.command(&[
        "--json",
        "snapshot",
        "restore",
        &id,
        "fresh",
        "--no-check",
    ])));
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    assert!(
        !restore.is_finished(),
        "the restore finished while another holder had the lease"
    );
    let counter = |state: &tokensim_device::DeviceState| match state {
        tokensim_device::DeviceState::Active(device) => device.counter,
        _ => panic!("not active"),
    };
    let during = wallet.load(&device).unwrap();
    drop(lease);
    let run = restore.await.unwrap();
    let restored = run.json();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(restored["snapshot"]["name"], "fresh", "{restored}");
    let after = wallet.load(&device).unwrap();
    assert!(
        counter(&after) < counter(&during),
        "the restore wrote once the lease was free: {signed}"
    );
}
