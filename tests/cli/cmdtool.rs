//! Status files of Wultra's command-line client: a device leaves TokenSim as a status file,
//! comes back from it into another store, signs, leaves and comes back again, its counter
//! going on each time; a wrong PIN is caught offline; damaged files are refused.

use crate::common::{PIN, World, output};
use powerauth::ProtocolVersion;
use serde_json::Value;

/// `sign --verify` with the PIN in data folder `dir` (the server checks the signature).
async fn sign_verified(world: &World, dir: &std::path::Path, device: &str) {
    let run = output(world.command_in(
        dir,
        &[
            "--json",
            "--device",
            device,
            "sign",
            "--uri-id",
            "/pa/test",
            "--body",
            "{}",
            "--factors",
            "possession,knowledge",
            "--verify",
        ],
    ))
    .await;
    run.ok();
    assert_eq!(run.json()["verified"], true, "{run:?}");
}

fn status_file(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_goes_out_as_a_status_file_and_comes_back_with_its_counter() {
    let world = World::start().await;
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_3] {
        let (id, activation_id) = world
            .device(
                &format!("cmd-{version}"),
                &format!("phone {version}"),
                version,
            )
            .await;
        sign_verified(&world, world.dir.path(), &id).await;

        // Out: the cmd-tool's layout, 0600, with the warning.
        let file = world.dir.path().join(format!("status-{version}.json"));
        let file_arg = file.display().to_string();
        let out = world
            .run(&["devices", "export-cmdtool", &id, &file_arg])
            .await;
        out.ok();
        assert!(out.stderr.contains("plain JSON"), "{out:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let first = status_file(&file);
        assert_eq!(first["activationId"], activation_id.as_str());
        assert_eq!(first["version"], 3);
        assert_eq!(first["counter"], 1, "one signature so far: {first}");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("\"ctrData\" : \""),
            "Jackson's layout: {text}"
        );

        // In, to another store: the PIN is checked, the vault opened once.
        let other = tempfile::tempdir().unwrap();
        let other_dir = other.path();
        let import = |name: &str, path: &str| {
            world.command_in(
                other_dir,
                &[
                    "--json",
                    "devices",
                    "import-cmdtool",
                    path,
                    "--config",
                    &world.config,
                    "--server",
                    world.url(),
                    "--version",
                    version.as_str(),
                    "--name",
                    name,
                ],
            )
        };
        let imported = output(import("first", &file_arg)).await;
        imported.ok();
        let imported = imported.json();
        assert_eq!(imported["activationId"], activation_id.as_str());
        assert_eq!(imported["state"], "ACTIVE");
        assert_eq!(
            imported["counter"], 2,
            "the vault unlock signed once: {imported}"
        );
        let shown = output(world.command_in(
            other_dir,
            &["--json", "--device", "first", "devices", "show"],
        ))
        .await;
        let original = world.json(&["--device", &id, "devices", "show"]).await;
        assert_eq!(
            shown.json()["record"]["activation"]["fingerprint"],
            original["record"]["activation"]["fingerprint"],
            "the fingerprint comes from the device key the vault opened"
        );
        sign_verified(&world, other_dir, "first").await;

        // Out again and in again: the counter goes on, the server accepts each signature.
        let again = other_dir.join("again.json");
        let again_arg = again.display().to_string();
        output(world.command_in(
            other_dir,
            &["devices", "export-cmdtool", "first", &again_arg],
        ))
        .await
        .ok();
        let second = status_file(&again);
        assert_eq!(second["counter"], 3, "{second}");
        assert_ne!(second["ctrData"], first["ctrData"]);
        for key in [
            "signaturePossessionKey",
            "transportMasterKey",
            "signatureKnowledgeKeySalt",
            "encryptedDevicePrivateKey",
            "serverPublicKey",
        ] {
            assert_eq!(
                second[key], first[key],
                "{key} is the activation's, it does not move"
            );
        }
        let reimported = output(import("second", &again_arg)).await;
        reimported.ok();
        assert_eq!(reimported.json()["counter"], 4);
        sign_verified(&world, other_dir, "second").await;
        let status =
            output(world.command_in(other_dir, &["--json", "--device", "second", "status"])).await;
        let status = status.json();
        assert_eq!(status["inSync"], true, "{status}");
        assert_eq!(status["failedAttempts"], 0, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_is_caught_offline_and_bad_files_are_refused() {
    let world = World::start().await;
    // A device with a biometry key, as every cmd-tool status file has one.
    let (activation_id, code, signature) = world.init("cmd-pin").await;
    let qr = format!("{code}#{signature}");
    let activated = world
        .json(&world.activate(&["--qr", &qr, "--name", "phone", "--biometry"]))
        .await;
    world.commit(&activation_id).await;
    let id = activated["id"].as_str().unwrap().to_owned();
    let file = world.dir.path().join("status.json");
    let file_arg = file.display().to_string();
    world
        .run(&["devices", "export-cmdtool", &id, &file_arg])
        .await
        .ok();
    assert!(status_file(&file)["signatureBiometryKey"].is_string());
    let other = tempfile::tempdir().unwrap();
    let import = |path: &str, pin: &str| {
        let mut command = world.command_in(
            other.path(),
            &[
                "--json",
                "devices",
                "import-cmdtool",
                path,
                "--config",
                &world.config,
                "--server",
                world.url(),
            ],
        );
        command.env("TOKENSIM_PIN", pin);
        output(command)
    };
    let wrong = import(&file_arg, "9999").await;
    let error = wrong.failed(3, "wrong-pin");
    assert!(
        error["error"].as_str().unwrap().contains("offline"),
        "{error}"
    );
    // Nothing stored, and the server counted no failed attempt.
    let listed = output(world.command_in(other.path(), &["--json", "devices", "list"])).await;
    assert_eq!(listed.json()["devices"], serde_json::json!([]));
    let status = world.json(&["--device", &id, "status"]).await;
    assert_eq!(status["failedAttempts"], 0, "{status}");
    let imported = import(&file_arg, PIN).await;
    imported.ok();
    let shown = output(world.command_in(other.path(), &["--json", "devices", "show"])).await;
    assert_eq!(
        shown.json()["record"]["activation"]["biometryEnrollment"],
        "cmd-tool"
    );

    // Without a biometry key the PIN opens the vault: the server judges it, and counts.
    let (plain, _) = world
        .device("cmd-plain", "plain", ProtocolVersion::V3_3)
        .await;
    let plain_file = world.dir.path().join("plain.json");
    let plain_arg = plain_file.display().to_string();
    world
        .run(&["devices", "export-cmdtool", &plain, &plain_arg])
        .await
        .ok();
    import(&plain_arg, "9999").await.failed(3, "rejected");
    let status = world.json(&["--device", &plain, "status"]).await;
    assert_eq!(status["failedAttempts"], 1, "{status}");

    // A PowerAuth 2 file, a file of an unfinished create, junk.
    for (name, content) in [
        (
            "v2.json",
            r#"{"activationId":"a","counter":3,"encryptedDevicePrivateKey":"AA==","serverPublicKey":"AA=="}"#,
        ),
        (
            "empty.json",
            r#"{"ctrData":"AAAAAAAAAAAAAAAAAAAAAA==","version":3}"#,
        ),
        ("junk.json", "\0not json"),
    ] {
        let path = other.path().join(name);
        std::fs::write(&path, content).unwrap();
        let run = import(&path.display().to_string(), PIN).await;
        run.failed(2, "cmdtool-file");
    }
}
