//! What a phone does, through the CLI: status, signatures verified by the server, tokens,
//! operations approved and rejected, offline codes, pushes, the inbox, PIN and biometry,
//! export and import, removal.

use crate::common::{PIN, World, qr_png};
use powerauth::ProtocolVersion;
use serde_json::{Value, json};
use std::time::Duration;
use tokensim_backend::NewOperation;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_and_verify_tokens_and_data_in_every_version() {
    let world = World::start().await;
    let body = world.dir.path().join("body.json");
    std::fs::write(&body, br#"{"amount": 100}"#).unwrap();
    let body = body.display().to_string();
    for version in ProtocolVersion::ALL {
        let (id, activation_id) = world
            .device(&format!("u{version}"), &format!("phone {version}"), version)
            .await;
        let run = |args: &[&str]| {
            let mut all = vec!["--device".to_owned(), id.clone()];
            all.extend(args.iter().map(|a| a.to_string()));
            on(&world, all)
        };
        for factors in ["possession", "possession,knowledge"] {
            let signed = run(&[
                "sign",
                "--method",
                "POST",
                "--uri-id",
                "/pa/test",
                "--body-file",
                &body,
                "--factors",
                factors,
                "--verify",
            ])
            .await;
            assert_eq!(signed["verified"], true, "{version} {factors}");
            let value = signed["value"].as_str().unwrap();
            assert!(value.contains(&activation_id), "{value}");
            assert!(
                value.contains(&format!("pa_version=\"{version}\"")),
                "{value}"
            );
        }
        let data = run(&["sign-data", "--data", "I agree to the terms", "--verify"]).await;
        assert_eq!(data["verified"], true, "{version}");

        let created = run(&["tokens", "create", "--name", "mine"]).await;
        let token_id = created["tokenId"].as_str().unwrap().to_owned();
        let listed = run(&["tokens", "list"]).await;
        assert_eq!(listed["tokens"][0]["tokenId"], token_id.as_str());
        let header = run(&["tokens", "header", "mine"]).await;
        let value = header["value"].as_str().unwrap();
        assert!(value.contains(&token_id), "{value}");
        assert_eq!(header["header"], "X-PowerAuth-Token");
        // The header is accepted by the server: the token authenticates a mobile API call.
        let response = world
            .http
            .post(format!("{}/api/inbox/count", world.url()))
            .header("X-PowerAuth-Token", value)
            .json(&json!({"requestObject": {}}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "{version}: {:?}",
            response.text().await
        );
        run(&["tokens", "remove", "mine"]).await;
        assert_eq!(run(&["tokens", "list"]).await["tokens"], json!([]));

        let status = run(&["status", "--sync"]).await;
        assert_eq!(status["state"], "ACTIVE");
        assert_eq!(status["inSync"], true);
    }
}

async fn on(world: &World, args: Vec<String>) -> Value {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    world.json(&args).await
}

pub async fn payment(world: &World, user: &str) -> String {
    let parameters =
        json!({"amount": "100.50", "currency": "CZK", "iban": "CZ6508000000192000145399"});
    world
        .cloud()
        .create_operation(&NewOperation {
            user_id: Some(user.to_owned()),
            template: "payment".to_owned(),
            parameters: parameters.as_object().cloned().unwrap_or_default(),
            ..NewOperation::default()
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .operation_id
}

pub async fn operation_status(world: &World, id: &str) -> Value {
    let operation = world
        .cloud()
        .operation(id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Value::from(operation.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payments_created_through_the_cloud_api_are_approved_and_rejected() {
    let world = World::start().await;
    for version in [ProtocolVersion::V3_0, ProtocolVersion::V3_3] {
        let user = format!("payer-{version}");
        let (id, _) = world.device(&user, "phone", version).await;
        let d = ["--device", id.as_str()];
        let approve_me = payment(&world, &user).await;
        let reject_me = payment(&world, &user).await;

        let listed = world.json(&[&d[..], &["ops", "list"]].concat()).await;
        let ids: Vec<&str> = listed["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert!(
            ids.contains(&approve_me.as_str()) && ids.contains(&reject_me.as_str()),
            "{listed}"
        );

        let shown = world
            .run(&[&d[..], &["ops", "show", &approve_me]].concat())
            .await;
        assert!(shown.ok().contains("CZ6508000000192000145399"), "{shown:?}");
        let approved = world
            .json(&[&d[..], &["ops", "approve", &approve_me]].concat())
            .await;
        assert_eq!(approved["approved"], true);
        assert_eq!(operation_status(&world, &approve_me).await, "APPROVED");

        let rejected = world
            .json(
                &[
                    &d[..],
                    &["ops", "reject", &reject_me, "--reason", "INCORRECT_DATA"],
                ]
                .concat(),
            )
            .await;
        assert_eq!(rejected["rejected"], true);
        assert_eq!(operation_status(&world, &reject_me).await, "REJECTED");

        let pending = world.json(&[&d[..], &["ops", "list"]].concat()).await;
        assert_eq!(pending["operations"], json!([]), "{version}");
        let history = world.json(&[&d[..], &["ops", "history"]].concat()).await;
        assert!(
            history["operations"].as_array().unwrap().len() >= 2,
            "{history}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_codes_from_payload_and_image_verify_on_the_server() {
    let world = World::start().await;
    let (id, activation_id) = world
        .device("offline", "phone", ProtocolVersion::V3_3)
        .await;
    let data = powerauth::offline::operation_qr_data(
        "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6",
        "Payment",
        "Pay 100 CZK",
        "A1*A100CZK*Q238400856/0300**D20190629",
        powerauth::offline::QrFlags::parse("B"),
    );
    let image = world.dir.path().join("offline.png");
    for use_image in [false, true] {
        let offline = world
            .rest(
                "/rest/v3/signature/offline/personalized/create",
                json!({"activationId": activation_id, "data": data}),
            )
            .await;
        let payload = offline["offlineData"].as_str().unwrap();
        let out = if use_image {
            std::fs::write(&image, qr_png(payload, 3)).unwrap();
            world
                .json(&[
                    "--device",
                    &id,
                    "offline",
                    "--image",
                    &image.display().to_string(),
                ])
                .await
        } else {
            world
                .json(&["--device", &id, "offline", "--payload", payload])
                .await
        };
        assert_eq!(out["title"], "Payment");
        let signature = out["signature"].as_str().unwrap();
        let qr = powerauth::offline::OfflineQr::parse(payload).unwrap();
        let verified = world
            .rest(
                "/rest/v3/signature/offline/verify",
                json!({
                    "activationId": activation_id,
                    "data": qr.request_data().as_str(),
                    "signature": signature,
                    "allowBiometry": true,
                }),
            )
            .await;
        assert_eq!(
            verified["signatureValid"], true,
            "image {use_image}: {verified}"
        );
    }
    // A payload altered after signing is refused before anything is computed.
    let offline = world
        .rest(
            "/rest/v3/signature/offline/personalized/create",
            json!({"activationId": activation_id, "data": data}),
        )
        .await;
    let tampered = offline["offlineData"]
        .as_str()
        .unwrap()
        .replace("100 CZK", "900 CZK");
    let run = world
        .run(&["--json", "--device", &id, "offline", "--payload", &tampered])
        .await;
    run.failed(3, "offline-qr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_sent_through_the_cloud_api_is_received_and_the_inbox_reads() {
    let world = World::start().await;
    let (id, _) = world.device("carol", "phone", ProtocolVersion::V3_3).await;
    world.json(&["--device", &id, "push", "register"]).await;
    let mut listener = world
        .command(&[
            "--json", "--device", &id, "push", "listen", "--count", "1", "--wait", "30",
        ])
        .spawn()
        .unwrap();
    let stderr = listener.stderr.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut line).map(|_| line)
    });
    let line = tokio::time::timeout(Duration::from_secs(20), first_line)
        .await
        .expect("the listener connects")
        .unwrap()
        .unwrap();
    assert!(line.contains("listening for pushes"), "{line}");
    world
        .cloud()
        .send_push("carol", None, "Payment waiting", "A payment waits for you.")
        .await
        .unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::task::spawn_blocking(move || listener.wait_with_output()),
    )
    .await
    .expect("the listener ends after one push")
    .unwrap()
    .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let push: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(push["push"]["body"]["title"], "Payment waiting", "{push}");

    world
        .cloud()
        .post_inbox_message("carol", "text", "Hello", "Welcome", "Welcome aboard.")
        .await
        .unwrap();
    let list = world
        .json(&["--device", &id, "inbox", "list", "--unread"])
        .await;
    let message_id = list["messages"][0]["id"].as_str().unwrap().to_owned();
    let read = world
        .json(&["--device", &id, "inbox", "read", &message_id])
        .await;
    assert_eq!(read["message"]["body"], "Welcome aboard.");
    let unread = world
        .json(&["--device", &id, "inbox", "list", "--unread"])
        .await;
    assert_eq!(unread["messages"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vault_pin_biometry_export_import_rename_and_remove() {
    let world = World::start().await;
    let (id, activation_id) = world
        .device("erin", "Erin's phone", ProtocolVersion::V3_2)
        .await;
    assert_eq!(id, "erin-s-phone");
    let unlocked = world.json(&["vault", "unlock"]).await;
    assert_eq!(unlocked["vaultKey"], "<redacted>");
    let revealed = world.json(&["--reveal-secrets", "vault", "unlock"]).await;
    assert_ne!(revealed["vaultKey"], "<redacted>");

    world.json(&["biometry", "enroll"]).await;
    let bio = world
        .json(&[
            "sign",
            "--uri-id",
            "/x",
            "--factors",
            "possession,biometry",
            "--verify",
        ])
        .await;
    assert_eq!(bio["verified"], true);
    world.json(&["biometry", "change"]).await;
    let run = world
        .run(&[
            "--json",
            "sign",
            "--uri-id",
            "/x",
            "--factors",
            "possession,biometry",
        ])
        .await;
    run.failed(4, "biometry");

    let mut change = world.command(&["--json", "pin", "change"]);
    change.env("TOKENSIM_NEW_PIN", "5678");
    crate::common::output(change).await.ok();
    let mut with_new = world.command(&["--json", "sign", "--uri-id", "/x", "--verify"]);
    with_new.env("TOKENSIM_PIN", "5678");
    crate::common::output(with_new).await.ok();

    // Export, then import into another data folder under a new name.
    let bundle = world.dir.path().join("erin.tsim");
    let mut export = world.command(&[
        "--json",
        "devices",
        "export",
        "--out",
        &bundle.display().to_string(),
    ]);
    export.env("TOKENSIM_BUNDLE_PASSPHRASE", "bundle pass");
    crate::common::output(export).await.ok();
    let bytes = std::fs::read(&bundle).unwrap();
    assert!(
        !bytes
            .windows(activation_id.len())
            .any(|w| w == activation_id.as_bytes())
    );
    let other = tempfile::tempdir().unwrap();
    let mut import = world.command_in(
        other.path(),
        &[
            "--json",
            "devices",
            "import",
            &bundle.display().to_string(),
            "--name",
            "Erin copy",
        ],
    );
    import.env("TOKENSIM_BUNDLE_PASSPHRASE", "bundle pass");
    crate::common::output(import).await.ok();
    let mut status = world.command_in(other.path(), &["--json", "--device", "Erin copy", "status"]);
    status.env("TOKENSIM_PIN", "5678");
    crate::common::output(status).await.ok();

    world.json(&["devices", "rename", "Erin (old)"]).await;
    let shown = world
        .json(&["--device", "Erin (old)", "devices", "show"])
        .await;
    assert_eq!(shown["device"]["id"], "erin-s-phone");

    let mut remove = world.command(&["--json", "remove"]);
    remove.env("TOKENSIM_PIN", "5678");
    crate::common::output(remove).await.ok();
    assert_eq!(world.json(&["devices"]).await["devices"], json!([]));
    let detail = world
        .rest(
            "/rest/v3/activation/status",
            json!({"activationId": activation_id}),
        )
        .await;
    assert_eq!(detail["activationStatus"], "REMOVED");
    let _ = PIN;
}
