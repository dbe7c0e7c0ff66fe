//! End-to-end tests of the `tokensim` binary against the real sandbox over HTTP: each test
//! starts a sandbox in this process on a random port, gives the binary a scratch data folder
//! (encrypted file store) and reads its exit code, stdout (`--json`) and stderr.
//!
//! `keychain::` tests are ignored here; `make test-keychain` runs them against a real
//! gnome-keyring, where they fail (not skip) when the keychain cannot be reached.

mod activation;
mod claim_and_proximity;
mod cmdtool;
mod common;
mod device;
mod doctor;
mod ecies;
mod errors;
mod facemap;
mod faults;
mod fleet;
mod keychain;
mod lease;
mod outputs;
mod probe;
mod profile_jwt;
mod profile_oauth;
mod profile_signed_token;
mod snapshot;
