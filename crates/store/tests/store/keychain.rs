//! Tests against a real Secret Service (gnome-keyring under `dbus-run-session`). Ignored in a
//! plain `cargo test`; `make test-keychain` sets up the session, sets
//! `TOKENSIM_KEYCHAIN_TESTS=1` and runs them with `--ignored`, and there they fail, not skip,
//! when the keychain cannot be reached.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use tokensim_store::{KeychainStatus, detect};

use crate::common::*;

fn require_keychain() {
    assert_eq!(
        std::env::var("TOKENSIM_KEYCHAIN_TESTS").as_deref(),
        Ok("1"),
        "keychain tests need a Secret Service session: run them with `make test-keychain`"
    );
    assert_eq!(
        detect(),
        KeychainStatus::Available,
        "the keychain of this session cannot be used"
    );
}

/// User names of this store's entries in the keychain, as `secret-tool` (libsecret) sees them.
fn keychain_users(store_folder: &Path) -> Vec<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store_folder.join("devices.json")).unwrap()).unwrap();
    let prefix = format!("{}/", index["store_id"].as_str().unwrap());
    // Other tests add and delete entries meanwhile; secret-tool fails when an item it found
    // vanishes before it reads it, so retry.
    let mut attempts = 0;
    let output = loop {
        let output = Command::new("secret-tool")
            .args(["search", "--all", "service", "tokensim"])
            .output()
            .expect("secret-tool runs");
        attempts += 1;
        if output.status.success() || attempts == 20 {
            break output;
        }
    };
    assert!(
        output.status.success(),
        "secret-tool failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut users: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
        .filter_map(|line| line.strip_prefix("attribute.username = "))
        .filter_map(|user| user.strip_prefix(&prefix))
        .map(str::to_owned)
        .collect();
    users.sort();
    users
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn detect_finds_the_unlocked_keyring() {
    require_keychain();
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn save_load_list_delete() {
    require_keychain();
    let folder = tempfile::tempdir().unwrap();
    let store = Backend::Keychain.open(folder.path());
    store
        .save(&id("alice"), &record("Alice", 1), &secret_for(1))
        .unwrap();
    store
        .save(&id("bob"), &record("Bob", 2), &secret_for(2))
        .unwrap();
    store
        .save(&id("alice"), &record("Alice", 3), &secret_for(3))
        .unwrap();
    assert_eq!(check_consistent(&store), 2);
    assert_eq!(keychain_users(folder.path()), ["alice.2", "bob.1"]);
    assert!(
        !folder.path().join("secrets").exists(),
        "keychain secrets went to files"
    );

    store.delete(&id("alice")).unwrap();
    assert_eq!(keychain_users(folder.path()), ["bob.1"]);
    let reopened = Backend::Keychain.open(folder.path());
    assert_eq!(check_consistent(&reopened), 1);
    assert!(reopened.removed_orphans().is_empty());
    reopened.delete(&id("bob")).unwrap();
    assert!(keychain_users(folder.path()).is_empty());
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn stores_in_different_folders_keep_their_own_entries() {
    require_keychain();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store_a = Backend::Keychain.open(a.path());
    let store_b = Backend::Keychain.open(b.path());
    store_a
        .save(&id("dev"), &record("A", 1), &secret_for(1))
        .unwrap();
    store_b
        .save(&id("dev"), &record("B", 2), &secret_for(2))
        .unwrap();
    let reopened_a = Backend::Keychain.open(a.path());
    assert!(
        reopened_a.removed_orphans().is_empty(),
        "store a removed b's entry"
    );
    assert_eq!(check_consistent(&reopened_a), 1);
    assert_eq!(check_consistent(&store_b), 1);
    store_a.delete(&id("dev")).unwrap();
    store_b.delete(&id("dev")).unwrap();
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn threads_never_lose_each_others_devices() {
    require_keychain();
    let folder = tempfile::tempdir().unwrap();
    let store = Arc::new(Backend::Keychain.open(folder.path()));
    let handles: Vec<_> = (0..4u64)
        .map(|thread_number| {
            let store = Arc::clone(&store);
            thread::spawn(move || {
                for n in 0..5 {
                    let sequence = thread_number * 10 + n;
                    store
                        .save(
                            &id(&format!("t{thread_number}-{n}")),
                            &record("t", sequence),
                            &secret_for(sequence),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(check_consistent(&store), 20);
    assert_eq!(keychain_users(folder.path()).len(), 20);
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn two_processes_never_lose_each_others_devices() {
    require_keychain();
    crate::concurrency::two_processes(Backend::Keychain);
}

#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn killed_writers_leave_a_consistent_keychain_store() {
    require_keychain();
    crate::crash::kill_mid_write(Backend::Keychain, 5);
}

/// A D-Bus session with no Secret Service provider: a private bus whose configuration names
/// no service folders, so nothing can be activated.
#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn a_bus_without_provider_is_reported() {
    require_keychain();
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("bus.conf");
    std::fs::write(
        &config,
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
    )
    .unwrap();
    let stdout = in_session(
        scratch.path(),
        &["--config-file", config.to_str().unwrap()],
        None,
    );
    assert!(stdout.contains("DETECT no-provider"), "{stdout}");
    assert!(stdout.contains("OPEN no keychain service"), "{stdout}");
}

/// A gnome-keyring whose login keyring exists but was not unlocked in this session.
#[test]
#[ignore = "needs a Secret Service: make test-keychain"]
fn a_locked_keyring_is_reported() {
    require_keychain();
    let scratch = tempfile::tempdir().unwrap();
    // First session: create the login keyring with a password.
    let seed = Command::new("dbus-run-session")
        .args(["--", "bash", "-c"])
        .arg(
            "echo -n seed-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
             echo -n seed | secret-tool store --label=seed service tokensim-seed username seed",
        )
        .envs(session_env(scratch.path()))
        .output()
        .unwrap();
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    // Second session: the daemon starts without the password, so the keyring stays locked.
    let stdout = in_session(
        scratch.path(),
        &[],
        Some("gnome-keyring-daemon --start --components=secrets >/dev/null;"),
    );
    assert!(stdout.contains("DETECT locked"), "{stdout}");
    assert!(
        stdout.contains("OPEN the keychain is locked: unlock it"),
        "{stdout}"
    );
}

/// Fresh runtime and data folders, so nested sessions never reach the outer keyring daemon.
fn session_env(scratch: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    let runtime = scratch.join("runtime");
    let data = scratch.join("data");
    for folder in [&runtime, &data] {
        std::fs::create_dir_all(folder).unwrap();
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    vec![("XDG_RUNTIME_DIR", runtime), ("XDG_DATA_HOME", data)]
}

/// Runs the `report_keychain` child inside a new `dbus-run-session` (after `setup`, a shell
/// snippet) and returns its output.
fn in_session(scratch: &Path, session_args: &[&str], setup: Option<&str>) -> String {
    let store = scratch.join("store");
    let template = child("report_keychain");
    let mut command = Command::new("dbus-run-session");
    command.args(session_args).args(["--", "bash", "-c"]);
    command.arg(format!("{} exec \"$0\" \"$@\"", setup.unwrap_or("")));
    command
        .arg(template.get_program())
        .args(template.get_args());
    command
        .envs(session_env(scratch))
        .env(CHILD_ROLE, "report_keychain")
        .env(CHILD_FOLDER, &store);
    let output = run_ok(&mut command);
    String::from_utf8_lossy(&output.stdout).into_owned()
}
