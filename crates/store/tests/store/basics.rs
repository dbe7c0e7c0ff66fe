//! Save, load, list, update and delete on every backend; consistency repairs; messages.

use std::fs;

use tokensim_store::{BackendKind, Error, MemorySecrets, Passphrase, Secret, Secrets, Store};

use crate::common::*;

#[test]
fn save_load_list_delete_on_every_backend() {
    for (name, secrets) in every_backend() {
        let folder = tempfile::tempdir().unwrap();
        let store: Store<Record> = Store::open(folder.path(), secrets()).unwrap();
        assert!(
            store.list().unwrap().is_empty(),
            "{name}: new store not empty"
        );

        store
            .save(&id("alice"), &record("Alice", 1), &secret_for(1))
            .unwrap();
        store
            .save(&id("bob"), &record("Bob", 2), &secret_for(2))
            .unwrap();
        let device = store.load(&id("alice")).unwrap();
        assert_eq!(device.record, record("Alice", 1), "{name}");
        assert!(device.secret == secret_for(1), "{name}: wrong secret");
        assert_eq!(store.ids().unwrap(), [id("alice"), id("bob")], "{name}");
        assert_eq!(store.list().unwrap()[1].1, record("Bob", 2), "{name}");
        assert!(store.contains(&id("bob")).unwrap(), "{name}");

        // Replacing keeps one device with the new pair.
        store
            .save(&id("alice"), &record("Alice", 3), &secret_for(3))
            .unwrap();
        assert_eq!(check_consistent(&store), 2, "{name}");
        assert_eq!(store.record(&id("alice")).unwrap().sequence, 3, "{name}");

        // A new record keeps the secret.
        let mut renamed = record("Alice's phone", 3);
        renamed.activation_id = None;
        store.update_record(&id("alice"), &renamed).unwrap();
        let device = store.load(&id("alice")).unwrap();
        assert_eq!(device.record, renamed, "{name}");
        assert!(device.secret == secret_for(3), "{name}");

        store.delete(&id("alice")).unwrap();
        assert_eq!(store.ids().unwrap(), [id("bob")], "{name}");
        assert!(matches!(
            store.load(&id("alice")),
            Err(Error::DeviceNotFound { .. })
        ));
        assert!(matches!(
            store.delete(&id("alice")),
            Err(Error::DeviceNotFound { .. })
        ));
        assert!(matches!(
            store.update_record(&id("alice"), &record("x", 0)),
            Err(Error::DeviceNotFound { .. })
        ));

        // Reopening finds the same devices and nothing to repair.
        let reopened: Store<Record> = Store::open(folder.path(), secrets()).unwrap();
        assert_eq!(check_consistent(&reopened), 1, "{name}");
        assert!(reopened.removed_orphans().is_empty(), "{name}");
    }
}

#[test]
fn create_refuses_to_overwrite() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> =
        Store::open(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap();
    store
        .create(&id("a"), &record("A", 1), &secret_for(1))
        .unwrap();
    let error = store
        .create(&id("a"), &record("B", 2), &secret_for(2))
        .unwrap_err();
    assert!(matches!(error, Error::DeviceExists { .. }), "{error:?}");
    assert_eq!(store.record(&id("a")).unwrap().name, "A");
}

#[test]
fn encrypted_file_keeps_no_secret_in_clear_and_checks_the_passphrase() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    store
        .save(&id("alice"), &record("Alice", 7), &secret_for(7))
        .unwrap();
    let needle = secret_for(7).expose_secret()[..24].to_vec();
    for entry in walk(folder.path()) {
        let bytes = fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|window| window == needle),
            "{} holds the secret in clear",
            entry.display()
        );
    }
    drop(store);

    let wrong = Secrets::EncryptedFile {
        passphrase: Passphrase::from("correct horse battery stapler"),
        kdf: fast_kdf(),
    };
    let error = Store::<Record>::open(folder.path(), wrong).unwrap_err();
    assert!(matches!(error, Error::WrongPassphrase { .. }), "{error:?}");
    assert!(error.to_string().contains("wrong passphrase"), "{error}");
    assert!(
        !format!("{error} {error:?}").contains("stapler"),
        "passphrase leaked"
    );
}

#[test]
fn a_store_is_opened_the_way_it_was_created() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    assert_eq!(store.backend_kind(), BackendKind::EncryptedFile);
    store
        .save(&id("a"), &record("A", 1), &secret_for(1))
        .unwrap();
    let error =
        Store::<Record>::open(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap_err();
    assert!(
        matches!(
            error,
            Error::BackendMismatch {
                stored: BackendKind::EncryptedFile,
                requested: BackendKind::Memory
            }
        ),
        "{error:?}"
    );
    // An empty store may change its mind.
    store.delete(&id("a")).unwrap();
    let memory: Store<Record> =
        Store::open(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap();
    assert_eq!(memory.backend_kind(), BackendKind::Memory);
}

#[test]
fn orphan_secrets_are_removed_and_reported_on_open() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    store
        .save(&id("kept"), &record("Kept", 1), &secret_for(1))
        .unwrap();
    drop(store);
    // What a crash between the secret write and the index write leaves behind.
    let secrets = folder.path().join("secrets");
    fs::copy(
        secrets.join("kept.1.secret"),
        secrets.join("ghost.1.secret"),
    )
    .unwrap();
    fs::copy(secrets.join("kept.1.secret"), secrets.join("kept.2.secret")).unwrap();
    fs::write(secrets.join(".tokensim-tmp-half"), b"half-written").unwrap();

    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    assert_eq!(store.removed_orphans(), [id("ghost"), id("kept")]);
    let mut left: Vec<_> = fs::read_dir(&secrets)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["kept.1.secret", "key"]);
    assert_eq!(check_consistent(&store), 1);
}

#[test]
fn a_missing_secret_is_reported_not_invented() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    store
        .save(&id("alice"), &record("Alice", 1), &secret_for(1))
        .unwrap();
    fs::remove_file(folder.path().join("secrets/alice.1.secret")).unwrap();
    let error = store.load(&id("alice")).unwrap_err();
    assert!(
        matches!(
            error,
            Error::SecretMissing {
                backend: BackendKind::EncryptedFile,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("activate it again"), "{error}");
}

#[test]
fn records_of_another_shape_are_a_typed_error() {
    let folder = tempfile::tempdir().unwrap();
    let memory = MemorySecrets::new();
    let store: Store<Record> = Store::open(folder.path(), Secrets::Memory(memory.clone())).unwrap();
    store
        .save(&id("a"), &record("A", 1), &secret_for(1))
        .unwrap();
    let other: Store<Vec<u8>> = Store::open(folder.path(), Secrets::Memory(memory)).unwrap();
    let error = other.load(&id("a")).unwrap_err();
    assert!(matches!(error, Error::Record { .. }), "{error:?}");
}

#[test]
fn a_damaged_index_is_named_with_a_remedy() {
    let folder = tempfile::tempdir().unwrap();
    fs::write(folder.path().join("devices.json"), b"{\"format\": \"tokens").unwrap();
    let error =
        Store::<Record>::open(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap_err();
    assert!(matches!(error, Error::CorruptIndex { .. }), "{error:?}");
    assert!(error.to_string().contains("devices.json"), "{error}");
}

#[test]
fn debug_output_never_shows_secrets() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> = Store::open(folder.path(), encrypted_file()).unwrap();
    store
        .save(&id("a"), &record("A", 1), &secret_for(1))
        .unwrap();
    let device = store.load(&id("a")).unwrap();
    let printed = format!("{device:?} {store:?} {:?}", encrypted_file());
    assert!(!printed.contains("device-keys"), "{printed}");
    assert!(!printed.contains(PASSPHRASE), "{printed}");
    let printed = format!("{:?}", Secret::new(b"device-keys".to_vec()));
    assert!(!printed.contains("device-keys"), "{printed}");
}

#[test]
fn the_index_has_a_format_version_and_no_secret() {
    let folder = tempfile::tempdir().unwrap();
    let store: Store<Record> =
        Store::open(folder.path(), Secrets::Memory(MemorySecrets::new())).unwrap();
    store
        .save(&id("a"), &record("A", 1), &secret_for(1))
        .unwrap();
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(folder.path().join("devices.json")).unwrap()).unwrap();
    assert_eq!(index["format"], "tokensim-device-index");
    assert_eq!(index["version"], 1);
    assert_eq!(index["secrets"], "memory");
    assert_eq!(index["devices"]["a"]["record"]["name"], "A");
    assert!(!index.to_string().contains("device-keys"));
}

fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
