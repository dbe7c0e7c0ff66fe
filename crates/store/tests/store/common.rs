//! Helpers shared by the tests: a record type, fast key derivation, child processes.

use std::path::Path;
use std::process::{Command, Output};

use serde::{Deserialize, Serialize};
use tokensim_store::{DeviceId, KdfParams, MemorySecrets, Passphrase, Secret, Secrets, Store};

/// A record shaped like the device crate's: non-secret facts about a device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub name: String,
    pub server_url: String,
    pub activation_id: Option<String>,
    pub protocol_version: String,
    /// Which secret goes with this record (see [`secret_for`]).
    pub sequence: u64,
}

pub fn record(name: &str, sequence: u64) -> Record {
    Record {
        name: name.to_owned(),
        server_url: "http://127.0.0.1:8080/powerauth".to_owned(),
        activation_id: Some(format!("e43a5dec-{sequence:08}")),
        protocol_version: "3.3".to_owned(),
        sequence,
    }
}

/// The secret saved with the record of `sequence`, so a load can check they belong together.
pub fn secret_for(sequence: u64) -> Secret {
    Secret::new(format!("device-keys-{sequence:020}").repeat(8).into_bytes())
}

pub fn id(text: &str) -> DeviceId {
    DeviceId::parse(text).unwrap()
}

/// Cheap Argon2id costs so tests stay fast; the store's default is 19 MiB × 2.
pub fn fast_kdf() -> KdfParams {
    KdfParams::new(64, 1, 1).unwrap()
}

pub const PASSPHRASE: &str = "correct horse battery staple";

pub fn encrypted_file() -> Secrets {
    Secrets::EncryptedFile {
        passphrase: Passphrase::from(PASSPHRASE),
        kdf: fast_kdf(),
    }
}

/// Which backend a test runs against; children receive it by name.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    File,
    Keychain,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Keychain => "keychain",
        }
    }

    pub fn from_name(name: &str) -> Self {
        match name {
            "file" => Self::File,
            "keychain" => Self::Keychain,
            other => panic!("unknown backend {other:?}"),
        }
    }

    pub fn secrets(self) -> Secrets {
        match self {
            Self::File => encrypted_file(),
            Self::Keychain => Secrets::Keychain,
        }
    }

    pub fn open(self, folder: &Path) -> Store<Record> {
        Store::open(folder, self.secrets())
            .unwrap_or_else(|error| panic!("opening the {} store failed: {error}", self.name()))
    }
}

/// Makes the same backend choice again, to reopen a store.
pub type SecretsChoice = Box<dyn Fn() -> Secrets>;

/// The backends every basic test runs against (the keychain has its own tests).
pub fn every_backend() -> Vec<(&'static str, SecretsChoice)> {
    let memory = MemorySecrets::new();
    vec![
        ("memory", Box::new(move || Secrets::Memory(memory.clone()))),
        ("encrypted file", Box::new(encrypted_file)),
    ]
}

/// Environment variable naming the child role; children do nothing without it.
pub const CHILD_ROLE: &str = "TOKENSIM_STORE_CHILD";
pub const CHILD_FOLDER: &str = "TOKENSIM_STORE_CHILD_FOLDER";
pub const CHILD_BACKEND: &str = "TOKENSIM_STORE_CHILD_BACKEND";
pub const CHILD_PREFIX: &str = "TOKENSIM_STORE_CHILD_PREFIX";

/// A command that re-runs this test binary as the child test `children::<role>`.
pub fn child(role: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut command = Command::new(exe);
    command
        .args(["--exact", &format!("children::{role}")])
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROLE, role);
    command
}

/// Runs a command and returns its output, failing the test with the child's output if it
/// did not succeed.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command.output().expect("the child process starts");
    assert!(
        output.status.success(),
        "child failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A cheap pseudo-random generator for kill timings (xorshift, seeded from the clock).
pub struct Jitter(u64);

impl Jitter {
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(1);
        Self(u64::from(nanos) | 1)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// Opens the store and checks that every listed device loads with the secret saved with its
/// record. Returns how many devices there are.
pub fn check_consistent(store: &Store<Record>) -> usize {
    let devices = store.list().expect("the index parses");
    for (id, record) in &devices {
        let device = store
            .load(id)
            .unwrap_or_else(|error| panic!("listed device {id} does not load: {error}"));
        assert_eq!(&device.record, record);
        assert!(
            device.secret == secret_for(record.sequence),
            "device {id}: the secret is not the one saved with record {}",
            record.sequence
        );
    }
    devices.len()
}
