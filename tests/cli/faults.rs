//! Every fault on a command that carries it: the report says the server answered what the
//! protocol requires (exit 0), and the device stays usable afterwards.

use crate::common::World;
use powerauth::ProtocolVersion;
use serde_json::Value;

async fn usable(world: &World, id: &str) {
    let signed = world
        .json(&["--device", id, "sign", "--uri-id", "/after", "--verify"])
        .await;
    assert_eq!(signed["verified"], true, "the device still signs");
    let status = world.json(&["--device", id, "status"]).await;
    assert_eq!(status["inSync"], true, "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_reported_as_the_protocol_requires() {
    let world = World::start().await;
    for version in [ProtocolVersion::V3_1, ProtocolVersion::V3_3] {
        let (id, _) = world.device(&format!("f{version}"), "phone", version).await;
        world.json(&["--device", &id, "tokens", "create"]).await;
        let cases: [(&str, &[&str], &[&str]); 11] = [
            ("wrong-pin", &[], &["pin", "verify"]),
            ("wrong-pin", &[], &["vault", "unlock"]),
            ("replay", &[], &["pin", "verify"]),
            ("clock-skew=3600000", &[], &["ops", "list"]),
            ("stale-counter=25", &[], &["pin", "verify"]),
            ("stale-counter=3", &[], &["pin", "verify"]),
            (
                "corrupted-mac",
                &[],
                &["tokens", "create", "--name", "second"],
            ),
            ("dropped-response", &[], &["pin", "verify"]),
            ("slow-network=2500", &["--timeout", "1"], &["pin", "verify"]),
            // Vault unlock refuses signatures with 400 ERR_SECURE_VAULT, not 401.
            ("replay", &[], &["vault", "unlock"]),
            ("stale-counter=25", &[], &["vault", "unlock"]),
        ];
        for (fault, options, command) in cases {
            let mut args = vec!["--json", "--device", id.as_str(), "--fault", fault];
            args.extend_from_slice(options);
            args.extend_from_slice(command);
            let run = world.run(&args).await;
            let report: Value = run.json()["faultReport"].clone();
            assert_eq!(
                report["matched"], true,
                "{version} {fault}: {report:#}\n{}",
                run.stderr
            );
            assert_eq!(run.code, 0, "{version} {fault}");
            assert!(!report["sent"].as_array().unwrap().is_empty());
            assert!(report["required"].as_str().is_some_and(|r| !r.is_empty()));
            usable(&world, &id).await;
        }
        // The text form names the verdict.
        let run = world
            .run(&["--device", &id, "--fault", "wrong-pin", "vault", "unlock"])
            .await;
        assert!(run.ok().contains("as the protocol requires"), "{run:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_that_cannot_apply_are_usage_errors() {
    let world = World::start().await;
    let (id, _) = world.device("g", "phone", ProtocolVersion::V3_3).await;
    let run = world
        .run(&["--json", "--device", &id, "--fault", "wrong-pin", "status"])
        .await;
    run.failed(2, "fault-not-applicable");
    let run = world
        .run(&["--json", "--device", &id, "--fault", "gremlins", "status"])
        .await;
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.json()["kind"], "usage");
    usable(&world, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activation_faults_are_judged_and_the_code_stays_usable() {
    let world = World::start().await;
    let (activation_id, code, signature) = world.init("act").await;
    let qr = format!("{code}#{signature}");
    for fault in ["corrupted-mac", "clock-skew=600000"] {
        let run = world
            .run(&world.activate(&["--json", "--fault", fault, "--qr", &qr]))
            .await;
        let report = run.json()["faultReport"].clone();
        assert_eq!(report["matched"], true, "{fault}: {report:#}");
        assert_eq!(run.code, 0, "{fault}");
        assert_eq!(
            world.json(&["devices"]).await["devices"],
            serde_json::json!([]),
            "{fault}: a refused activation stores nothing"
        );
    }
    let out = world.json(&world.activate(&["--qr", &qr])).await;
    assert_eq!(out["activationId"], activation_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_approved_with_a_wrong_pin_stays_pending() {
    let world = World::start().await;
    let (id, _) = world.device("payer", "phone", ProtocolVersion::V3_3).await;
    let operation = crate::device::payment(&world, "payer").await;
    let run = world
        .run(&[
            "--json",
            "--device",
            &id,
            "--fault",
            "wrong-pin",
            "ops",
            "approve",
            &operation,
        ])
        .await;
    let report = run.json()["faultReport"].clone();
    assert_eq!(report["matched"], true, "{report:#}");
    assert_eq!(
        crate::device::operation_status(&world, &operation).await,
        "PENDING"
    );
    world
        .json(&["--device", &id, "ops", "approve", &operation])
        .await;
    assert_eq!(
        crate::device::operation_status(&world, &operation).await,
        "APPROVED"
    );
}
