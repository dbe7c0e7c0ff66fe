//! # powerauth
//!
//! The PowerAuth protocol, versions 3.0 to 3.3, for both the mobile client and the
//! server: key derivation, ECIES end-to-end encryption, multi-factor signatures
//! (online and offline), the activation status blob, activation and recovery codes,
//! MAC tokens, temporary keys (3.3), the vault and the PIN-protected knowledge key.
//!
//! ## What this crate refuses to do
//!
//! It performs no I/O: no sockets, no files, no HTTP. It never reads the clock: every
//! timestamp is a parameter. It draws no randomness on its own: ephemeral keys, nonces
//! and challenges come from a [`RandomSource`] the caller passes in, or as explicit
//! values, so that every official test vector replays byte for byte. (ECDSA *signing*
//! goes through `ring`, which mixes the caller's `ring` random source into the nonce.)
//!
//! ## Secrets
//!
//! Secret key types zeroize on drop and print as `<redacted>` in `Debug`. Getting raw
//! bytes out takes a call named `expose_*`.
//!
//! ## Where the rules come from
//!
//! The project's protocol digest (`powerauth-v3.md`), whose sections 14 and 16 record what
//! Wultra's code does where its prose docs differ. Names follow the spec (`ctr_data`,
//! `activation_id`, `KEY_TRANSPORT`) so a reader of the spec finds them.
#![warn(unreachable_pub)]

pub mod activation_code;
pub mod config;
pub mod counter;
pub mod ecies;
pub mod encoding;
#[cfg(feature = "hazmat")]
pub mod hazmat;
// Without the feature the module is private but keeps its `pub` items, so that the feature
// only changes the module's own visibility.
#[cfg(not(feature = "hazmat"))]
#[allow(unreachable_pub)]
mod hazmat;
pub mod header_fields;
pub mod keys;
pub mod offline;
pub mod random;
pub mod recovery;
pub mod signature;
pub mod status;
pub mod temporary_key;
pub mod token;
pub mod totp;
pub mod vault;
mod version;

pub use activation_code::{ActivationCode, ActivationQr};
pub use config::ApplicationConfig;
pub use counter::CtrData;
pub use ecies::{EncryptedRequest, EncryptedResponse, Encryptor, SharedInfo1};
pub use keys::{ActivationKeys, KeyError, KeyPair, PrivateKey, PublicKey, SymmetricKey};
pub use random::{RandomSource, SeededRandom, SystemRandom};
pub use signature::{AuthorizationHeader, SignatureType};
pub use status::{ActivationState, ActivationStatusBlob};
pub use token::TokenHeader;
pub use version::{ProtocolVersion, UnsupportedVersion};
