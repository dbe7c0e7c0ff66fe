//! The CLI's rows of the security and reliability probe (`make probe` runs them at full
//! size beside the sandbox's, crates/sandbox/tests/sandbox/probe.rs; the short form runs in
//! every `make test`):
//!
//! - kill -9 of `tokensim` in the middle of a signature (which writes the counter to the
//!   store): after every kill the store opens, the device is listed and still signs a
//!   signature the server verifies;
//! - secret canaries: the store passphrase, the bundle passphrase, the device's keys, and a live
//!   activation code are searched for in what the CLI prints (with
//!   `--trace`), in its error messages, in the `diagnose` bundle and `last-exchanges.json`,
//!   in the exported bundle and in every file of the store folder.
//!
//! `TOKENSIM_PROBE=full` runs 100 kill cycles (5 otherwise). The table is printed, and
//! written to `TOKENSIM_PROBE_CLI_OUT` when set.

use crate::common::{PASSPHRASE, World, output};
use powerauth::ProtocolVersion;
use powerauth::encoding::b64_decode;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

fn full() -> bool {
    std::env::var("TOKENSIM_PROBE").is_ok_and(|v| v == "full")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_cli() {
    let world = World::start().await;
    let mut table = String::from("| probe | tried | result | figure |\n|---|---:|---|---|\n");
    kill_nine(&world, &mut table).await;
    canaries(&world, &mut table).await;
    println!("{table}");
    if let Ok(path) = std::env::var("TOKENSIM_PROBE_CLI_OUT") {
        std::fs::write(path, &table).unwrap();
    }
}

fn sign(world: &World, id: &str, body: &str, verify: bool) -> std::process::Command {
    let mut args = vec![
        "--json",
        "--device",
        id,
        "sign",
        "--uri-id",
        "/probe/kill",
        "--body",
        body,
    ];
    if verify {
        args.push("--verify");
    }
    world.command(&args)
}

/// kill -9 of `tokensim sign` at a moment spread over its run; after each, the device is
/// listed and signs a verified signature.
async fn kill_nine(world: &World, table: &mut String) {
    let cycles = if full() { 100 } else { 5 };
    let (id, _) = world
        .device("probe-kill", "kill phone", ProtocolVersion::V3_3)
        .await;
    // How long one signature takes here, to spread the kills over it.
    let started = Instant::now();
    output(sign(world, &id, "warm-up", false)).await.ok();
    let span = started.elapsed();
    let (mut lost, mut corrupt, mut killed_running) = (0, 0, 0);
    for cycle in 0..cycles {
        let mut child = sign(world, &id, &format!("cycle {cycle}"), false)
            .spawn()
            .unwrap();
        // 0-100 % of a signature's time, in 37 % steps around the cycle.
        let delay = span.mul_f64(f64::from((cycle * 37) % 101) / 100.0);
        tokio::time::sleep(delay).await;
        if child.try_wait().unwrap().is_none() {
            killed_running += 1;
        }
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let list = world.run(&["--json", "devices", "list"]).await;
        if list.code != 0 {
            corrupt += 1;
            eprintln!("cycle {cycle}: the store does not open: {list:#?}");
            continue;
        }
        if !list.stdout.contains(&id) {
            lost += 1;
            eprintln!("cycle {cycle}: {id} is gone: {list:#?}");
            continue;
        }
        let verified = output(sign(world, &id, &format!("after {cycle}"), true)).await;
        if verified.code != 0 || verified.json()["verified"] != true {
            lost += 1;
            eprintln!("cycle {cycle}: {id} no longer signs: {verified:#?}");
        }
    }
    let _ = writeln!(
        table,
        "| kill -9 of `tokensim sign` mid-run (encrypted file store) | {cycles} | {lost} devices lost or unable to sign, {corrupt} stores that did not open | {killed_running}/{cycles} kills hit a running process; a signature takes {:.1} s here; each kill followed by a verified signature |",
        span.as_secs_f64()
    );
    assert_eq!((lost, corrupt), (0, 0), "{table}");
}

/// Every file under `folder`, as bytes.
fn files(folder: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

/// Secrets planted and searched for wherever the CLI writes.
async fn canaries(world: &World, table: &mut String) {
    let bundle_passphrase = "CANARY-bundle-passphrase-5c1e";
    let (id, _) = world
        .device("probe-canary", "canary phone", ProtocolVersion::V3_3)
        .await;
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |place: &str, run: &crate::common::Run| {
        places.push((format!("{place} stdout"), run.stdout.clone().into_bytes()));
        places.push((format!("{place} stderr"), run.stderr.clone().into_bytes()));
    };

    // A live activation code, through a traced activation that fails after the code is
    // read (no such server key) and one that succeeds.
    let (_, code, signature) = world.init("probe-canary-live").await;
    let qr = format!("{code}#{signature}");
    let run = world
        .run(&world.activate(&["--trace", "--qr", &qr, "--name", "traced phone"]))
        .await;
    keep("activate --trace", &run);
    let traced = world.run(&["--json", "devices", "list"]).await;
    keep("devices list", &traced);
    // Traced calls that carry keys, a token secret, signatures.
    for args in [
        &["--device", &id, "--trace", "tokens", "create"][..],
        &["--device", &id, "--trace", "status"],
        &["--device", &id, "--trace", "vault", "unlock"],
        &[
            "--device", &id, "--trace", "sign", "--uri-id", "/c", "--body", "x", "--verify",
        ],
    ] {
        let run = world.run(args).await;
        keep(&args.join(" "), &run);
    }
    // Errors: a wrong PIN, a wrong store passphrase.
    let mut wrong_pin = world.command(&["--device", &id, "vault", "unlock"]);
    wrong_pin.env("TOKENSIM_PIN", "9999");
    keep("wrong PIN", &output(wrong_pin).await);
    let mut wrong_passphrase = world.command(&["devices", "list"]);
    wrong_passphrase.env("TOKENSIM_PASSPHRASE", "CANARY-wrong-store-passphrase");
    let wrong = output(wrong_passphrase).await;
    keep("wrong store passphrase", &wrong);
    // The diagnose bundle and the export bundle.
    let diagnose = world.dir.path().join("probe-diagnose.json");
    let run = world
        .run(&[
            "--device",
            &id,
            "diagnose",
            "--out",
            diagnose.to_str().unwrap(),
        ])
        .await;
    keep("diagnose", &run);
    let bundle = world.dir.path().join("probe-export.bundle");
    let mut export = world.command(&[
        "--device",
        &id,
        "devices",
        "export",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    export.env("TOKENSIM_BUNDLE_PASSPHRASE", bundle_passphrase);
    keep("export", &output(export).await);

    // The device's keys, read through the one command that writes them in the clear on
    // purpose (into a folder outside the store).
    let outside = tempfile::tempdir().unwrap();
    let status_file = outside.path().join("status.json");
    world
        .run(&[
            "devices",
            "export-cmdtool",
            &id,
            status_file.to_str().unwrap(),
        ])
        .await
        .ok();
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&status_file).unwrap()).unwrap();
    let mut secrets: Vec<(String, Vec<u8>)> = vec![
        ("store passphrase".into(), PASSPHRASE.as_bytes().to_vec()),
        (
            "wrong store passphrase".into(),
            b"CANARY-wrong-store-passphrase".to_vec(),
        ),
        (
            "bundle passphrase".into(),
            bundle_passphrase.as_bytes().to_vec(),
        ),
        ("activation code".into(), code.as_bytes().to_vec()),
    ];
    for key in [
        "signaturePossessionKey",
        "transportMasterKey",
        "signatureKnowledgeKeyEncrypted",
        "encryptedDevicePrivateKey",
    ] {
        let text = keys[key].as_str().unwrap().to_owned();
        secrets.push((format!("{key} (raw)"), b64_decode(&text).unwrap()));
        secrets.push((format!("{key} (Base64)"), text.into_bytes()));
    }
    // Every file the CLI wrote: the store (index, encrypted secrets, leases), the diagnose
    // bundle, last-exchanges.json, the export bundle.
    files(world.dir.path(), &mut places);
    let mut leaks = Vec::new();
    for (place, bytes) in &places {
        for (name, secret) in &secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_slice()) {
                leaks.push(format!("{name} in {place}"));
            }
        }
    }
    let _ = writeln!(
        table,
        "| secret canaries through the CLI (--trace output, errors, diagnose, last-exchanges.json, export bundle, store files) | {} | {} leaked | {} places searched for {} secrets (store and bundle passphrases, 4 device keys raw and Base64, a live activation code) |",
        places.len(),
        leaks.len(),
        places.len(),
        secrets.len()
    );
    assert!(leaks.is_empty(), "{leaks:#?}");
    assert!(
        wrong.code != 0,
        "a wrong store passphrase is refused: {wrong:#?}"
    );
}
