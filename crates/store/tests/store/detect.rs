//! Detection of a missing keychain, without one: runs in every `cargo test`.

use crate::common::*;

/// With no D-Bus session the keychain is reported missing in plain words, opening a keychain
/// store fails with the same reason, and nothing falls back to a file on its own.
#[test]
fn without_a_session_bus_the_keychain_is_missing_and_nothing_falls_back() {
    let folder = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let output = run_ok(
        child("report_keychain")
            .env(CHILD_FOLDER, folder.path())
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", runtime.path()),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("DETECT no-session-bus"), "{stdout}");
    assert!(
        stdout.contains("OPEN there is no D-Bus session") && stdout.contains("--store-passphrase"),
        "{stdout}"
    );
    assert!(
        !folder.path().join("secrets").exists(),
        "the store fell back to a file on its own"
    );
}
