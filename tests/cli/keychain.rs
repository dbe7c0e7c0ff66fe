//! The OS keychain, for real (ignored in a plain `cargo test`; `make test-keychain` runs
//! them inside a private D-Bus session with gnome-keyring). They fail, never skip, when the
//! keychain cannot be reached.

use crate::common::{World, output};
use powerauth::ProtocolVersion;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an OS keychain: make test-keychain"]
async fn keychain_activate_sign_and_survive_a_reopen() {
    let world = World::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (_, code, signature) = world.init("keychain").await;
    let qr = format!("{code}#{signature}");
    let keychain = |args: &[&str]| {
        let mut command = world.command_in(dir.path(), args);
        // Inherit the session bus of the keychain under test.
        if let Some(bus) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
            command.env("DBUS_SESSION_BUS_ADDRESS", bus);
        }
        command.env_remove("TOKENSIM_PASSPHRASE");
        command
    };
    let run = output(keychain(&world.activate(&["--json", "--qr", &qr]))).await;
    let activated = run.json();
    assert_eq!(run.code, 0, "{run:?}");
    let activation_id = activated["activationId"].as_str().unwrap();
    world.commit(activation_id).await;
    let run = output(keychain(&["--json", "devices"])).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["store"], "keychain");
    let run = output(keychain(&["--json", "sign", "--uri-id", "/k", "--verify"])).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["verified"], true);
    let run = output(keychain(&["--json", "remove"])).await;
    assert_eq!(run.code, 0, "{run:?}");
    let _ = ProtocolVersion::V3_3;
}
