//! The files a device store reads back, which anyone with access to the folder can edit or
//! damage: the index (`devices.json`), a device bundle given to `import`, and a device's
//! two halves (the non-secret record, the secret blob). Nothing panics; a device rebuilt
//! from its parts splits into the same parts again.

use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;
use tokensim_device::{DeviceRecord, DeviceState};
use tokensim_store::{Conflict, MemorySecrets, Passphrase, Secrets, Store};

/// The passphrase the seed bundles were exported with.
pub const BUNDLE_PASSPHRASE: &str = "fuzz bundle passphrase";

/// The largest Argon2 costs a fuzzed bundle header may ask for here (the store accepts up to
/// 1 GiB and 64 passes, bounded by `KdfParams`; a fuzzer must stay fast).
const CHEAP_MEMORY_KIB: u32 = 64;
const CHEAP_ITERATIONS: u32 = 1;

fn folder() -> &'static PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    FOLDER.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("tokensim-fuzz-store")
            .tempdir()
            .expect("a temporary folder");
        dir.keep()
    })
}

/// One input: the first byte picks the file, the rest is its bytes.
pub fn run(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => index(bytes),
        1 => bundle(bytes),
        _ => parts(bytes),
    }
}

/// The index file as found in the folder: the store opens, lists and reads every record.
fn index(bytes: &[u8]) {
    let folder = folder();
    std::fs::write(folder.join("devices.json"), bytes).expect("the index is written");
    let Ok(store) = Store::<Value>::open(folder, Secrets::Memory(MemorySecrets::new())) else {
        return;
    };
    if let Ok(ids) = store.ids() {
        for id in ids {
            let _ = store.record(&id);
            let _ = store.load(&id);
        }
    }
    let _ = store.list();
}

/// A bundle handed to `import`, into an empty store.
fn bundle(bytes: &[u8]) {
    let costs = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    };
    // Header: magic (8), version (1), memory, iterations, parallelism (u32 each).
    if costs(9).is_some_and(|m| m > CHEAP_MEMORY_KIB)
        || costs(13).is_some_and(|i| i > CHEAP_ITERATIONS)
    {
        return;
    }
    let folder = folder().join("import");
    let _ = std::fs::remove_file(folder.join("devices.json"));
    let store = Store::<Value>::open(&folder, Secrets::Memory(MemorySecrets::new()))
        .expect("an empty store opens");
    let passphrase = Passphrase::new(BUNDLE_PASSPHRASE.to_owned());
    if let Ok(id) = store.import(bytes, &passphrase, Conflict::Overwrite) {
        store.load(&id).expect("an imported device loads");
    }
}

/// A device's record (JSON, up to the first 0xFF byte) and secret blob (the rest).
fn parts(bytes: &[u8]) {
    let split = bytes.iter().position(|&b| b == 0xFF).unwrap_or(bytes.len());
    let (record, blob) = (&bytes[..split], bytes.get(split + 1..).unwrap_or_default());
    let Ok(record) = serde_json::from_slice::<DeviceRecord>(record) else {
        return;
    };
    let Ok(device) = DeviceState::from_parts(&record, blob) else {
        return;
    };
    let (record, blob) = device.to_parts();
    let again = DeviceState::from_parts(&record, &blob).expect("a device's own parts");
    let (record_again, blob_again) = again.to_parts();
    assert_eq!(record_again, record);
    assert_eq!(*blob_again, *blob);
}
