//! A process killed in the middle of writes leaves a store that opens, parses and loads.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use crate::common::*;

/// Runs `rounds` rounds of: start a writer, kill it (SIGKILL on Unix) at a random moment,
/// reopen the store, check every listed device loads with its own secret.
pub fn kill_mid_write(backend: Backend, rounds: u32) {
    let folder = tempfile::tempdir().unwrap();
    let mut jitter = Jitter::new();
    let mut devices_seen = 0;
    for round in 0..rounds {
        let mut writer = child("endless_writer")
            .env(CHILD_FOLDER, folder.path())
            .env(CHILD_BACKEND, backend.name())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the writer starts");
        // Wait until it has opened the store, then let it write for a random while.
        let mut line = String::new();
        let stdout = writer.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        while !line.contains("ready") {
            line.clear();
            let read = reader.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "round {round}: the writer ended before it was ready"
            );
        }
        thread::sleep(Duration::from_millis(5 + jitter.below(150)));
        writer.kill().unwrap();
        let status = writer.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the writer was not killed"
        );

        let store = backend.open(folder.path());
        devices_seen += check_consistent(&store);
        // After the repair, nothing is left over: reopening finds no orphan.
        drop(store);
        let again = backend.open(folder.path());
        assert!(
            again.removed_orphans().is_empty(),
            "round {round}: orphans survived a reopen: {:?}",
            again.removed_orphans()
        );
    }
    assert!(devices_seen > 0, "the writers never saved a device");
}

#[test]
fn killed_writers_leave_a_consistent_encrypted_file_store() {
    kill_mid_write(Backend::File, 8);
}
