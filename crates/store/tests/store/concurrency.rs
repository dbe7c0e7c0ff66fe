//! Concurrent writers: threads sharing a store, threads with their own handles, processes.

use std::process::Stdio;
use std::sync::Arc;
use std::thread;

use tokensim_store::{MemorySecrets, Secrets, Store};

use crate::common::*;

const THREADS: u64 = 6;
const PER_THREAD: u64 = 8;

fn hammer(open: impl Fn() -> Store<Record> + Send + Sync + 'static) {
    let open = Arc::new(open);
    let shared = Arc::new(open());
    let handles: Vec<_> = (0..THREADS)
        .map(|thread_number| {
            let open = Arc::clone(&open);
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                // Half the threads share one handle, half open their own.
                let own;
                let store: &Store<Record> = if thread_number % 2 == 0 {
                    &shared
                } else {
                    own = open();
                    &own
                };
                for n in 0..PER_THREAD {
                    let sequence = thread_number * 100 + n;
                    let device = id(&format!("t{thread_number}-{n}"));
                    store
                        .save(&device, &record("thread", sequence), &secret_for(sequence))
                        .unwrap();
                    store
                        .save(
                            &id("contended"),
                            &record("c", sequence),
                            &secret_for(sequence),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a writer thread panicked");
    }
    let store = open();
    assert_eq!(
        check_consistent(&store),
        (THREADS * PER_THREAD + 1) as usize,
        "a device was lost"
    );
    assert!(
        store.removed_orphans().is_empty(),
        "{:?}",
        store.removed_orphans()
    );
}

#[test]
fn threads_never_lose_each_others_devices_in_memory() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().to_owned();
    let memory = MemorySecrets::new();
    hammer(move || Store::open(&path, Secrets::Memory(memory.clone())).unwrap());
}

#[test]
fn threads_never_lose_each_others_devices_in_the_encrypted_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().to_owned();
    hammer(move || Backend::File.open(&path));
}

/// Two processes writing distinct devices and one shared device at the same time.
pub fn two_processes(backend: Backend) {
    let folder = tempfile::tempdir().unwrap();
    // Create the store first so both children open an existing one.
    drop(backend.open(folder.path()));
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|prefix| {
            child("distinct_writer")
                .env(CHILD_FOLDER, folder.path())
                .env(CHILD_BACKEND, backend.name())
                .env(CHILD_PREFIX, prefix)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("the child starts")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "a writer process failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = backend.open(folder.path());
    assert_eq!(check_consistent(&store), 25, "a device was lost");
    let shared = store.record(&id("shared")).unwrap();
    assert!(shared.name == "a" || shared.name == "b");
}

#[test]
fn two_processes_never_lose_each_others_devices() {
    two_processes(Backend::File);
}
