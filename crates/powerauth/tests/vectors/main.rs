//! Every file under `../shared/vectors` replayed against this crate.
//!
//! The vectors live outside the repository (they are shared with the other projects of
//! the team) and are read by path. A missing folder fails loudly: no silent skip.

mod common;

mod activation_code;
mod ecies;
mod primitives;
mod recovery;
mod signature;
mod status;
mod temporary_key;
mod token;
mod totp;
mod vault;

/// Every vector file must be claimed by exactly one test module: a new file in the shared
/// folder that nobody reads fails here.
#[test]
fn every_vector_file_is_read() {
    let mut missing = Vec::new();
    for file in common::all_vector_files() {
        if !common::CLAIMED
            .iter()
            .any(|claimed| file.ends_with(claimed))
        {
            missing.push(file);
        }
    }
    assert!(
        missing.is_empty(),
        "vector files no test reads: {missing:?}"
    );
}
