//! `tokensim ecies`: generic ECIES exchanges with the sandbox's `/exchange/v3/*`.

use crate::common::World;
use powerauth::ProtocolVersion;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecies_exchanges_in_both_scopes_signed_and_from_a_file() {
    let world = World::start().await;
    let (id, _) = world.device("alice", "phone", ProtocolVersion::V3_3).await;

    let application = world
        .json(&[
            "--device",
            &id,
            "ecies",
            "--scope",
            "application",
            "--path",
            "/exchange/v3/application",
            "--data",
            r#"{"data":"from the CLI"}"#,
        ])
        .await;
    assert_eq!(application["scope"], "application");
    assert_eq!(
        application["response"],
        json!({"data": "Server successfully decrypted signed data: from the CLI, scope: APPLICATION_SCOPE"})
    );

    let file = world.dir.path().join("body.json");
    std::fs::write(&file, br#"{"data":"from a file"}"#).unwrap();
    let activation = world
        .json(&[
            "--device",
            &id,
            "ecies",
            "--scope",
            "activation",
            "--path",
            "/exchange/v3/activation",
            "--data",
            &format!("@{}", file.display()),
        ])
        .await;
    assert_eq!(
        activation["response"]["data"],
        "Server successfully decrypted signed data: from a file, scope: ACTIVATION_SCOPE"
    );

    // Signed with the PIN (from TOKENSIM_PIN); the text output is the decrypted answer.
    let run = world
        .run(&[
            "--device",
            &id,
            "ecies",
            "--scope",
            "activation",
            "--path",
            "/exchange/v3/signed/string",
            "--sign",
            "/exchange/v3/signed/string",
            "--data",
            r#""hello""#,
        ])
        .await;
    assert_eq!(
        run.ok().trim(),
        r#""Server successfully decrypted data and verified signature, request data: hello, user ID: alice""#
    );

    // Refusals: the server's error, and a signed application-scope exchange.
    let wrong = world
        .run(&[
            "--json",
            "--device",
            &id,
            "ecies",
            "--scope",
            "application",
            "--path",
            "/exchange/v3/activation",
            "--data",
            "{}",
        ])
        .await;
    let error = wrong.failed(3, "rejected");
    assert!(
        error["error"].as_str().unwrap().contains("ERR_ENCRYPTION"),
        "{error}"
    );
    let usage = world
        .run(&[
            "--json",
            "--device",
            &id,
            "ecies",
            "--scope",
            "application",
            "--path",
            "/exchange/v3/signed",
            "--sign",
            "/exchange/v3/signed",
            "--data",
            "{}",
        ])
        .await;
    usage.failed(2, "sign-needs-activation-scope");
}
