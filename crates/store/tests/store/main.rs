//! Integration tests of `tokensim-store`: every backend through the public API, concurrent
//! writers (threads and processes), kills in the middle of writes, bundles, and the real OS
//! keychain (`keychain::`, ignored unless run by `make test-keychain`).

mod basics;
mod bundles;
mod children;
mod common;
mod concurrency;
mod crash;
// The keychain tests drive D-Bus, gnome-keyring and secret-tool: Linux only.
#[cfg(target_os = "linux")]
mod detect;
#[cfg(target_os = "linux")]
mod keychain;
mod properties;
