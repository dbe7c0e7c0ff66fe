//! The short fuzz run of `make test`: every target's committed seeds, then deterministic
//! mutations of them, through the same functions libFuzzer runs in `make fuzz`.

use std::path::{Path, PathBuf};
use tokensim_fuzz::{TARGETS, mutate};

/// Mutated inputs per target in this short run; `TOKENSIM_FUZZ_MUTATIONS` asks for more (a
/// longer unguided run on the ordinary build, when no cargo-fuzz build is at hand).
fn mutations() -> u64 {
    std::env::var("TOKENSIM_FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{target} has no seed corpus in {}: {e}", folder.display()))
        .map(|entry| {
            let path = entry.expect("a folder entry").path();
            let bytes = std::fs::read(&path).expect("a seed file");
            (path, bytes)
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{target}: the seed corpus is empty");
    seeds
}

/// Runs `input` through `target`; a panic names the input so it can be replayed.
fn check(name: &str, run: fn(&[u8]), what: &str, input: &[u8]) {
    if std::panic::catch_unwind(|| run(input)).is_err() {
        panic!(
            "fuzz target {name} failed on {what}; input (hex): {}",
            input.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
}

fn short_run(name: &str) {
    let (_, run) = TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .expect("a listed target");
    let seeds = corpus(name);
    for (path, bytes) in &seeds {
        check(name, *run, &path.display().to_string(), bytes);
    }
    for n in 0..mutations() {
        let seed = &seeds[n as usize % seeds.len()].1;
        let other = &seeds[(n as usize / seeds.len()) % seeds.len()].1;
        let input = mutate(seed, other, n);
        check(name, *run, &format!("mutation {n}"), &input);
    }
}

macro_rules! short_runs {
    ($($name:ident),* $(,)?) => {
        $(#[test]
        fn $name() {
            short_run(stringify!($name));
        })*

        #[test]
        fn every_target_has_a_short_run() {
            let listed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            assert_eq!(listed, [$(stringify!($name)),*]);
        }
    };
}

short_runs!(
    activation_code,
    auth_header,
    basic_auth,
    cmdtool_status,
    device_reply,
    ecies_envelope,
    facemap_initiate,
    offline_qr,
    public_key,
    qr_payload,
    sandbox_request,
    status_blob,
    store_files,
    temporary_key_jwt,
    token_header,
);

/// Every target has a libFuzzer binary in `fuzz/`, and every binary is a target.
#[test]
fn every_target_has_a_libfuzzer_binary() {
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .expect("the cargo-fuzz manifest");
    let mut binaries: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .filter(|name| *name != "tokensim-fuzz-libfuzzer")
        .collect();
    binaries.sort_unstable();
    let mut targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    targets.sort_unstable();
    assert_eq!(binaries, targets);
    for name in targets {
        let entry = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&entry).expect("the binary's source");
        assert!(
            text.contains(&format!("tokensim_fuzz::targets::{name}::run(data)")),
            "{} runs another target",
            entry.display()
        );
    }
}
