//! Bodies of the child processes the other tests start (see `common::child`). They are
//! ignored tests that return at once unless `TOKENSIM_STORE_CHILD` names them.

use std::path::PathBuf;

use tokensim_store::{KeychainStatus, Secrets, Store, detect};

use crate::common::*;

fn role_is(role: &str) -> bool {
    std::env::var(CHILD_ROLE).is_ok_and(|value| value == role)
}

fn folder() -> PathBuf {
    std::env::var_os(CHILD_FOLDER)
        .expect("the parent names the store folder")
        .into()
}

fn backend() -> Backend {
    Backend::from_name(&std::env::var(CHILD_BACKEND).unwrap_or_else(|_| "file".to_owned()))
}

/// Saves and deletes devices in a tight loop until killed.
#[test]
#[ignore = "child process of crash::*; started by the tests"]
fn endless_writer() {
    if !role_is("endless_writer") {
        return;
    }
    let store = backend().open(&folder());
    println!("ready");
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for step in start.. {
        let device = id(&format!("dev-{}", step % 6));
        if step % 9 == 0 {
            let _ = store.delete(&device);
        } else {
            store
                .save(&device, &record("looping", step), &secret_for(step))
                .unwrap();
        }
    }
}

/// Saves 12 devices named `<prefix>-<n>`, re-saving a shared one each time.
#[test]
#[ignore = "child process of concurrency::*; started by the tests"]
fn distinct_writer() {
    if !role_is("distinct_writer") {
        return;
    }
    let prefix = std::env::var(CHILD_PREFIX).expect("the parent names a prefix");
    let store = backend().open(&folder());
    for n in 0..12u64 {
        let sequence = n + 1000 * u64::from(prefix.as_bytes()[0]);
        let device = id(&format!("{prefix}-{n}"));
        store
            .save(&device, &record(&prefix, sequence), &secret_for(sequence))
            .unwrap();
        store
            .save(
                &id("shared"),
                &record(&prefix, sequence),
                &secret_for(sequence),
            )
            .unwrap();
    }
}

/// Prints what `detect` says and what opening a keychain store answers.
#[test]
#[ignore = "child process of detect::* and keychain::*; started by the tests"]
fn report_keychain() {
    if !role_is("report_keychain") {
        return;
    }
    match detect() {
        KeychainStatus::Available => println!("DETECT available"),
        KeychainStatus::Unavailable(reason) => {
            println!("DETECT {}", reason.code());
            println!("REASON {reason}");
        }
    }
    match Store::<Record>::open(folder(), Secrets::Keychain) {
        Ok(_) => println!("OPEN ok"),
        Err(error) => println!("OPEN {error}"),
    }
}
