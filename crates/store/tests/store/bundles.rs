//! Export and import of one device as an encrypted bundle.

use tokensim_store::{Conflict, Error, MemorySecrets, Passphrase, Secrets, Store};

use crate::common::*;

fn stores() -> (tempfile::TempDir, Store<Record>, Store<Record>) {
    let folder = tempfile::tempdir().unwrap();
    let from = Store::open(folder.path().join("from"), encrypted_file()).unwrap();
    let to = Store::open(
        folder.path().join("to"),
        Secrets::Memory(MemorySecrets::new()),
    )
    .unwrap();
    (folder, from, to)
}

fn pass(text: &str) -> Passphrase {
    Passphrase::from(text)
}

#[test]
fn round_trip_between_backends() {
    let (_folder, from, to) = stores();
    from.save(&id("alice"), &record("Alice", 5), &secret_for(5))
        .unwrap();
    let bundle = from
        .export(&id("alice"), &pass("move me"), fast_kdf())
        .unwrap();
    let imported = to
        .import(&bundle, &pass("move me"), Conflict::Refuse)
        .unwrap();
    assert_eq!(imported, id("alice"));
    let device = to.load(&id("alice")).unwrap();
    assert_eq!(device.record, record("Alice", 5));
    assert!(device.secret == secret_for(5));

    to.import_as(
        &bundle,
        &pass("move me"),
        &id("alice-copy"),
        Conflict::Refuse,
    )
    .unwrap();
    assert_eq!(check_consistent(&to), 2);
}

#[test]
fn import_refuses_to_overwrite_unless_asked() {
    let (_folder, from, to) = stores();
    from.save(&id("alice"), &record("Alice", 5), &secret_for(5))
        .unwrap();
    let bundle = from.export(&id("alice"), &pass("p"), fast_kdf()).unwrap();
    to.save(&id("alice"), &record("Other", 9), &secret_for(9))
        .unwrap();

    let error = to
        .import(&bundle, &pass("p"), Conflict::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::DeviceExists { .. }), "{error:?}");
    assert_eq!(
        to.record(&id("alice")).unwrap().sequence,
        9,
        "refused import changed data"
    );

    to.import(&bundle, &pass("p"), Conflict::Overwrite).unwrap();
    assert_eq!(to.record(&id("alice")).unwrap().sequence, 5);
    assert_eq!(check_consistent(&to), 1);
}

#[test]
fn wrong_passphrase_and_tampering_are_typed_errors() {
    let (_folder, from, to) = stores();
    from.save(&id("alice"), &record("Alice", 5), &secret_for(5))
        .unwrap();
    let bundle = from
        .export(&id("alice"), &pass("right"), fast_kdf())
        .unwrap();

    let error = to
        .import(&bundle, &pass("wrong"), Conflict::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::WrongPassphrase { .. }), "{error:?}");

    // Every single-byte change anywhere is caught, and none gets into the store.
    for position in (0..bundle.len()).step_by(7) {
        let mut altered = bundle.clone();
        altered[position] ^= 0x20;
        let error = to
            .import(&altered, &pass("right"), Conflict::Overwrite)
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Tampered { .. }
                    | Error::WrongPassphrase { .. }
                    | Error::Malformed { .. }
                    | Error::UnsupportedFormat { .. }
                    | Error::InvalidKdfParams { .. }
            ),
            "byte {position}: {error:?}"
        );
    }
    let mut altered = bundle.clone();
    let last = altered.len() - 1;
    altered[last] ^= 1;
    let error = to
        .import(&altered, &pass("right"), Conflict::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::Tampered { .. }), "{error:?}");
    assert!(error.to_string().contains("altered"), "{error}");

    let error = to
        .import(&bundle[..40], &pass("right"), Conflict::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::Malformed { .. }), "{error:?}");
    assert!(to.ids().unwrap().is_empty());
}

#[test]
fn a_bundle_whose_record_does_not_fit_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let memory = MemorySecrets::new();
    let numbers: Store<u32> =
        Store::open(folder.path().join("a"), Secrets::Memory(memory.clone())).unwrap();
    numbers.save(&id("n"), &7, &secret_for(1)).unwrap();
    let bundle = numbers.export(&id("n"), &pass("p"), fast_kdf()).unwrap();
    let records: Store<Record> =
        Store::open(folder.path().join("b"), Secrets::Memory(memory)).unwrap();
    let error = records
        .import(&bundle, &pass("p"), Conflict::Refuse)
        .unwrap_err();
    assert!(matches!(error, Error::Record { .. }), "{error:?}");
    assert!(records.ids().unwrap().is_empty());
}

#[test]
fn exporting_a_missing_device_says_so() {
    let (_folder, from, _to) = stores();
    let error = from
        .export(&id("nobody"), &pass("p"), fast_kdf())
        .unwrap_err();
    assert!(matches!(error, Error::DeviceNotFound { .. }), "{error:?}");
}
