//! The device lease across processes: two `tokensim` loops sign with one device at the same
//! time, and the server accepts every signature (a reused counter value would be refused).

use crate::common::{World, output};
use powerauth::ProtocolVersion;

/// Signatures each of the two processes makes.
const EACH: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_signing_with_one_device_never_reuse_a_counter() {
    let world = World::start().await;
    let (id, _) = world
        .device("lease", "shared phone", ProtocolVersion::V3_3)
        .await;
    let before = world.json(&["--device", &id, "status"]).await;
    assert_eq!(before["inSync"], true, "{before}");

    // Each loop signs and has the server verify, one `tokensim` process per signature; the
    // two loops run at once against the same device in the same data folder.
    let signer = |loop_name: &'static str| {
        let world = &world;
        let id = id.clone();
        async move {
            let mut values = Vec::with_capacity(EACH);
            for n in 0..EACH {
                let body = format!("{loop_name} {n}");
                let run = output(world.command(&[
                    "--json",
                    "--device",
                    &id,
                    "sign",
                    "--uri-id",
                    "/lease/test",
                    "--body",
                    &body,
                    "--verify",
                ]))
                .await;
                assert_eq!(run.code, 0, "{loop_name} signature {n}: {run:#?}");
                let signed = run.json();
                assert_eq!(
                    signed["verified"], true,
                    "{loop_name} signature {n}: {signed}"
                );
                values.push(signed["value"].as_str().unwrap().to_owned());
            }
            values
        }
    };
    let (first, second) = tokio::join!(signer("first"), signer("second"));

    // 400 headers, all different, every one accepted by the server: had two processes
    // signed with the same counter value, the second one's verification would have failed.
    let mut all: Vec<&String> = first.iter().chain(&second).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2 * EACH);

    // The server moved its counter exactly as far as the device: in sync, no failed attempt.
    let after = world.json(&["--device", &id, "status"]).await;
    assert_eq!(after["inSync"], true, "{after}");
    assert_eq!(after["failedAttempts"], 0, "{after}");
    assert_eq!(after["state"], "ACTIVE", "{after}");
}
