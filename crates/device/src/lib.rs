//! # tokensim-device
//!
//! The simulated PowerAuth mobile token: the device model, an HTTP client that speaks the
//! Standard RESTful API (`/pa/v3/*`) and the mobile-token API, fault injection, and an
//! inspector that reports every exchange with ECIES payloads decrypted and secrets
//! redacted.
//!
//! ```text
//! PendingActivation --activation::activate--> ActiveDevice
//! Session { client, device, persist } .status() .create_token() .unlock_vault()
//!     .enroll_biometry() .change_pin() .approve_operation() .sign_offline()
//!     .encrypted_exchange() .signed_encrypted_exchange() …
//! ```
//!
//! ## Rules the engine keeps
//!
//! - Protocol crypto is `powerauth`'s; this crate only moves bytes.
//! - A signature advances `CTR_DATA`, and the device is persisted through [`Persist`]
//!   *before* the request leaves (digest §16.10); a failure never rolls the counter back.
//! - Every other state change is made after the server's answer was checked, so a
//!   failed call leaves the device usable.
//! - Secrets zeroize on drop, never appear in `Debug`, logs or errors, and are redacted
//!   from inspector events unless `reveal_secrets` is set.
//!
//! ## What it does not do
//!
//! Storage (the `tokensim-store` crate keeps the [`DeviceRecord`] and the secret blob of
//! [`DeviceState::to_parts`]), terminal output, and retries.
#![warn(unreachable_pub)]

pub mod activation;
pub mod catalogue;
pub mod client;
pub mod cmdtool;
pub mod doctor;
pub mod error;
pub mod events;
pub mod exchange;
pub mod fault;
pub mod keystore;
pub mod offline;
pub mod operations;
pub mod profiles;
pub mod push;
pub mod qr_image;
pub mod remove;
pub mod rollback;
pub mod session;
pub mod signing;
pub mod state;
pub mod status;
pub mod token;
pub mod vault;

pub use catalogue::{CATALOGUE, FaultParameter, FaultSpec};
pub use client::{Client, ClientConfig, Clock, SystemClock};
pub use error::{Error, Result};
pub use events::{Events, Exchange, NoEvents, Recorder, Warning};
pub use exchange::EciesScope;
pub use fault::{Fault, FaultReport, FaultRun};
pub use session::{Factors, Persist, Session};
pub use state::{
    ActiveDevice, DeviceRecord, DeviceState, PendingActivation, Profile, StatusSnapshot,
};
pub use status::StatusReport;
