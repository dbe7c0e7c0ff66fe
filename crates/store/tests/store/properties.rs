//! Property tests: any record and secret come back as saved, directly and through a bundle.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use tokensim_store::{Conflict, MemorySecrets, Passphrase, Secret, Secrets, Store};

use crate::common::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct AnyRecord {
    name: String,
    counter: u64,
    negative: i64,
    flags: Vec<bool>,
    extra: BTreeMap<String, Option<String>>,
}

fn any_record() -> impl Strategy<Value = AnyRecord> {
    (
        ".{0,40}",
        any::<u64>(),
        any::<i64>(),
        proptest::collection::vec(any::<bool>(), 0..8),
        proptest::collection::btree_map(".{0,10}", proptest::option::of(".{0,20}"), 0..4),
    )
        .prop_map(|(name, counter, negative, flags, extra)| AnyRecord {
            name,
            counter,
            negative,
            flags,
            extra,
        })
}

fn any_id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn records_and_secrets_round_trip(
        id_text in any_id(),
        record in any_record(),
        secret in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let folder = tempfile::tempdir().unwrap();
        let store: Store<AnyRecord> = Store::open(folder.path(), encrypted_file()).unwrap();
        let device = id(&id_text);
        store.save(&device, &record, &Secret::new(secret.clone())).unwrap();
        let reopened: Store<AnyRecord> = Store::open(folder.path(), encrypted_file()).unwrap();
        let loaded = reopened.load(&device).unwrap();
        prop_assert_eq!(&loaded.record, &record);
        prop_assert_eq!(loaded.secret.expose_secret(), &secret[..]);
    }

    #[test]
    fn bundles_round_trip(
        id_text in any_id(),
        record in any_record(),
        secret in proptest::collection::vec(any::<u8>(), 0..512),
        passphrase in ".{0,32}",
    ) {
        let folder = tempfile::tempdir().unwrap();
        let memory = MemorySecrets::new();
        let from: Store<AnyRecord> =
            Store::open(folder.path().join("a"), Secrets::Memory(memory.clone())).unwrap();
        let to: Store<AnyRecord> =
            Store::open(folder.path().join("b"), Secrets::Memory(memory)).unwrap();
        let device = id(&id_text);
        from.save(&device, &record, &Secret::new(secret.clone())).unwrap();
        let passphrase = Passphrase::new(passphrase);
        let bundle = from.export(&device, &passphrase, fast_kdf()).unwrap();
        prop_assert_eq!(to.import(&bundle, &passphrase, Conflict::Refuse).unwrap(), device.clone());
        let loaded = to.load(&device).unwrap();
        prop_assert_eq!(&loaded.record, &record);
        prop_assert_eq!(loaded.secret.expose_secret(), &secret[..]);
    }
}
