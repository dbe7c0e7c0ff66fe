//! Bad input and bad networks: a wrong PIN, a server that is down or hangs, several devices
//! and none named, a closed pipe, a kill in the middle of a save; `--json` and completions.

use crate::common::{BIN, World};
use powerauth::ProtocolVersion;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_is_refused_counted_and_the_device_stays_usable() {
    let world = World::start().await;
    let (id, _) = world.device("pin", "phone", ProtocolVersion::V3_3).await;
    let mut wrong = world.command(&["--json", "--device", &id, "vault", "unlock"]);
    wrong.env("TOKENSIM_PIN", "9999");
    let run = crate::common::output(wrong).await;
    let error = run.failed(3, "rejected");
    assert!(error["error"].as_str().unwrap().contains("400"), "{error}");
    let status = world.json(&["--device", &id, "status"]).await;
    assert_eq!(status["failedAttempts"], 1);
    let signed = world
        .json(&["--device", &id, "sign", "--uri-id", "/x", "--verify"])
        .await;
    assert_eq!(signed["verified"], true);
    let status = world.json(&["--device", &id, "status"]).await;
    assert_eq!(status["failedAttempts"], 0, "a good PIN resets the count");

    // No PIN at all, and no terminal to ask on: a usage error naming the variable.
    let mut none = world.command(&["--json", "--device", &id, "vault", "unlock"]);
    none.env_remove("TOKENSIM_PIN");
    let run = crate::common::output(none).await;
    let error = run.failed(2, "no-pin");
    assert!(
        error["hint"].as_str().unwrap().contains("TOKENSIM_PIN"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_or_hangs_gives_clear_errors() {
    let world = World::start().await;
    let (_, code, signature) = world.init("net").await;
    let qr = format!("{code}#{signature}");

    // Connection refused: a port that was just free.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let run = world
        .run(&[
            "--json",
            "activate",
            "--server",
            &down,
            "--config",
            &world.config,
            "--qr",
            &qr,
        ])
        .await;
    let error = run.failed(1, "network");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("server is running"),
        "{error}"
    );

    // A server that accepts and never answers.
    let hanging = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hang = format!("http://{}", hanging.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = hanging.accept().await {
            open.push(socket);
        }
    });
    let run = world
        .run(&[
            "--json",
            "--timeout",
            "1",
            "activate",
            "--server",
            &hang,
            "--config",
            &world.config,
            "--qr",
            &qr,
        ])
        .await;
    let error = run.failed(1, "timeout");
    assert!(
        error["error"].as_str().unwrap().contains("did not answer"),
        "{error}"
    );
    holder.abort();

    // Nothing was stored by the failed attempts; the same code still activates.
    assert_eq!(
        world.json(&["devices"]).await["devices"],
        serde_json::json!([])
    );
    world.json(&world.activate(&["--qr", &qr])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_are_chosen_by_id_name_or_activation_id() {
    let world = World::start().await;
    let run = world.run(&["--json", "status"]).await;
    run.failed(4, "no-device");
    let (phone, activation_id) = world.device("a", "Phone", ProtocolVersion::V3_3).await;
    let (tablet, _) = world.device("b", "Tablet", ProtocolVersion::V3_0).await;
    let run = world.run(&["--json", "status"]).await;
    let error = run.failed(4, "ambiguous-device");
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains(&phone) && message.contains(&tablet),
        "{message}"
    );
    let run = world.run(&["--json", "--device", "laptop", "status"]).await;
    run.failed(4, "device-not-found");
    for selector in [phone.as_str(), "Phone", activation_id.as_str()] {
        world.json(&["--device", selector, "status"]).await;
    }
    let run = world.run(&["status", "--device", "nope"]).await;
    assert_eq!(run.code, 4);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("\n  hint: "), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_completions_and_a_closed_pipe() {
    let world = World::start().await;
    let run = world.run(&["--json", "activate"]).await;
    assert_eq!(run.code, 2);
    assert_eq!(run.json()["kind"], "usage");
    assert_eq!(world.run(&["frobnicate"]).await.code, 2);
    let help = world.run(&["--help"]).await;
    assert!(help.ok().contains("Exit codes"), "{help:?}");
    for (shell, marker) in [
        ("bash", "_tokensim()"),
        ("zsh", "#compdef tokensim"),
        ("fish", "complete -c tokensim"),
    ] {
        let run = world.run(&["completions", shell]).await;
        assert!(
            run.ok().contains(marker),
            "{shell}: {}",
            &run.stdout[..200.min(run.stdout.len())]
        );
        assert!(run.stdout.contains("approve"), "{shell}");
    }

    // The reader goes away before tokensim writes: exit 0, nothing on stderr.
    let mut child = world.command(&["completions", "bash"]).spawn().unwrap();
    drop(child.stdout.take());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The same through a shell pipe into head.
    let script = format!("set -o pipefail; '{BIN}' completions zsh | head -1 >/dev/null");
    let status = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_in_the_middle_of_saves_leaves_a_usable_device() {
    let world = World::start().await;
    let (id, _) = world.device("kill", "phone", ProtocolVersion::V3_3).await;
    // How long one whole run takes here and now; the kills are spread over that time:
    // opening the store, the status call, the resynchronising signature, the saves.
    let started = std::time::Instant::now();
    world.json(&["--device", &id, "status", "--sync"]).await;
    let whole = started.elapsed();
    let rounds = 24u32;
    let mut killed = 0;
    for round in 0..rounds {
        let mut child = world
            .command(&["--device", &id, "status", "--sync"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(whole * (2 * round + 1) / (2 * rounds)).await;
        child.kill().unwrap();
        let output = child.wait_with_output().unwrap();
        // Count only the processes the signal ended; the others must have succeeded.
        if std::os::unix::process::ExitStatusExt::signal(&output.status) == Some(9) {
            killed += 1;
        } else {
            assert!(
                output.status.success(),
                "a run after {killed} kills failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    assert!(
        killed >= rounds / 4,
        "only {killed} of {rounds} runs were killed before they finished (a run takes {whole:?})"
    );
    let devices = world.json(&["devices"]).await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1, "{devices}");
    let status = world.json(&["--device", &id, "status"]).await;
    assert_eq!(status["state"], "ACTIVE");
    let signed = world
        .json(&[
            "--device",
            &id,
            "sign",
            "--uri-id",
            "/after-kills",
            "--verify",
        ])
        .await;
    assert_eq!(
        signed["verified"], true,
        "keys and counter survived the kills"
    );
    // Reopening the store removed what the killed writers left; the last commands left none.
    let mut leftovers = Vec::new();
    for folder in [
        world.dir.path().to_owned(),
        world.dir.path().join("secrets"),
    ] {
        for entry in std::fs::read_dir(folder).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.contains("tmp") {
                leftovers.push(name);
            }
        }
    }
    assert!(leftovers.is_empty(), "{leftovers:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(world.dir.path().join("last-exchanges.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "only the owner reads the kept exchanges");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnose_writes_a_redacted_bundle() {
    let world = World::start().await;
    let (id, _) = world.device("diag", "phone", ProtocolVersion::V3_3).await;
    let signed = world
        .json(&["--device", &id, "sign", "--uri-id", "/x", "--verify"])
        .await;
    world.json(&["--device", &id, "tokens", "create"]).await;
    let out = world.dir.path().join("diagnose.json");
    world
        .json(&[
            "--device",
            &id,
            "diagnose",
            "--out",
            &out.display().to_string(),
        ])
        .await;
    let text = std::fs::read_to_string(&out).unwrap();
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["device"]["summary"]["id"], id.as_str());
    assert!(!bundle["exchanges"].as_array().unwrap().is_empty());
    assert!(
        text.contains("/pa/v3/token/create"),
        "the exchanges are there"
    );
    assert!(text.contains("<redacted>"), "secrets are redacted");
    let signature = signed["value"].as_str().unwrap();
    let value = signature
        .split("pa_signature=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(!text.contains(value), "no signature value in the bundle");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_or_passphrase_the_cli_says_so_plainly() {
    let world = World::start().await;
    let fresh = tempfile::tempdir().unwrap();
    let mut command = world.command_in(fresh.path(), &["--json", "devices"]);
    command.env_remove("TOKENSIM_PASSPHRASE").env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/tokensim-test-bus",
    );
    let run = crate::common::output(command).await;
    let error = run.failed(4, "keychain-unavailable");
    assert!(
        error["hint"].as_str().unwrap().contains("--store file"),
        "{error}"
    );
    assert!(
        !fresh.path().join("secrets").exists(),
        "no store was created behind the user's back"
    );
    // A wrong passphrase on an existing file store is its own error.
    world.device("w", "phone", ProtocolVersion::V3_3).await;
    let mut wrong = world.command(&["--json", "devices"]);
    wrong.env("TOKENSIM_PASSPHRASE", "not it");
    let run = crate::common::output(wrong).await;
    run.failed(4, "wrong-passphrase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_shows_decrypted_exchanges_with_secrets_redacted_unless_asked() {
    let world = World::start().await;
    let (id, _) = world.device("trace", "phone", ProtocolVersion::V3_3).await;
    let run = world
        .run(&["--device", &id, "--trace", "tokens", "create"])
        .await;
    run.ok();
    assert!(run.stderr.contains("> POST"), "{}", run.stderr);
    assert!(run.stderr.contains("/pa/v3/token/create"), "{}", run.stderr);
    assert!(
        run.stderr.contains("decrypted:"),
        "ECIES payloads shown: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("pa_signature=\"<redacted>\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\"tokenSecret\":\"<redacted>\""),
        "{}",
        run.stderr
    );

    let run = world
        .run(&[
            "--device",
            &id,
            "--trace",
            "--reveal-secrets",
            "tokens",
            "create",
        ])
        .await;
    run.ok();
    assert!(
        !run.stderr.contains("pa_signature=\"<redacted>\""),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("\"tokenSecret\":\"<redacted>\""),
        "{}",
        run.stderr
    );

    // With --json, each exchange is a JSON line on stderr and stdout stays one document.
    let run = world
        .run(&["--json", "--device", &id, "--trace", "status"])
        .await;
    assert_eq!(run.json()["state"], "ACTIVE");
    let traced: serde_json::Value =
        serde_json::from_str(run.stderr.lines().next().unwrap()).unwrap();
    assert_eq!(traced["trace"]["label"], "activation/status", "{traced}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_subcommand_serves_what_it_prints() {
    let world = World::start().await;
    let mut child = world
        .command(&["--json", "sandbox", "--port", "0"])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = info["url"].as_str().unwrap();
    let config = info["mobileSdkConfig"].as_str().unwrap();
    assert!(!config.is_empty());
    let response = world
        .http
        .post(format!("{url}/rest/v3/activation/init"))
        .json(&serde_json::json!({"requestObject": {"userId": "x", "applicationId": "tokensim"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    child.kill().unwrap();
    let _ = child.wait();
}

/// The keys of `value`, recursively: an object's keys with the shapes under them, an
/// array's element shapes merged. Values themselves (ids, times, counts) do not count.
fn shape(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), shape(value)))
                .collect(),
        ),
        Value::Array(items) => {
            let mut merged = serde_json::Map::new();
            for item in items {
                if let Value::Object(keys) = shape(item) {
                    merged.extend(keys);
                }
            }
            Value::Array(vec![Value::Object(merged)])
        }
        // A present key counts, whether its value is null this time or not.
        _ => Value::String("value".into()),
    }
}

/// The desktop app's "Export diagnostics" (`Core::diagnostics`) calls the same use case as
/// `tokensim diagnose`, over its own wallet, recorder and server: here the app's side is that
/// call over a wallet opened on the CLI's folder and an engine session that recorded a status
/// exchange. Both bundles have one shape, key for key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_app_write_the_same_diagnose_bundle() {
    use std::sync::Arc;
    use tokensim_api::{DiagnoseRequest, Leased, ServerFacts};
    use tokensim_device::{Client, ClientConfig, Recorder};
    use tokensim_wallet::{BackendKind, DeviceId, Passphrase, Wallet};

    let world = World::start().await;
    let (id, _) = world
        .device("diag-shape", "phone", ProtocolVersion::V3_3)
        .await;
    world.json(&["--device", &id, "status"]).await;
    let out = world.dir.path().join("cli-diagnose.json");
    world
        .json(&[
            "--device",
            &id,
            "diagnose",
            "--out",
            &out.display().to_string(),
        ])
        .await;
    let cli: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();

    let wallet = Wallet::open(
        world.dir.path(),
        Some(BackendKind::EncryptedFile),
        Some(Passphrase::new(crate::common::PASSPHRASE.to_owned())),
    )
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let client = Client::new(ClientConfig::default(), recorder.clone()).unwrap();
    let mut dev = Leased::open(&wallet, &DeviceId::parse(&id).unwrap()).unwrap();
    dev.session(&client).status().await.unwrap();
    dev.save().unwrap();
    let app = tokensim_api::diagnose(
        &wallet,
        DiagnoseRequest {
            made_by: "tokensim-app",
            device: None,
            server: Some(ServerFacts {
                url: world.sandbox.url().to_owned(),
                embedded: true,
            }),
            exchanges: tokensim_api::exchange_values(&recorder.exchanges()),
            warnings: recorder.warnings(),
        },
    )
    .unwrap()
    .to_pretty_json()
    .unwrap();
    let app: serde_json::Value = serde_json::from_str(&app).unwrap();

    assert_eq!(cli["format"], "tokensim-diagnose");
    assert_eq!(cli["madeBy"], "tokensim");
    assert_eq!(app["madeBy"], "tokensim-app");
    assert_eq!(cli["device"]["summary"]["id"], id.as_str());
    assert_eq!(app["device"]["summary"]["id"], id.as_str());
    assert!(!app["exchanges"].as_array().unwrap().is_empty());
    // The CLI knows no server of its own; everything else matches key for key.
    let (cli_shape, mut app_shape) = (shape(&cli), shape(&app));
    assert_eq!(cli["server"], serde_json::Value::Null);
    assert_eq!(
        app_shape["server"],
        serde_json::json!({"url": "value", "embedded": "value"})
    );
    app_shape["server"] = serde_json::json!("value");
    assert_eq!(cli_shape, app_shape);
}
