//! # tokensim-api
//!
//! TokenSim's use cases, shared by the `tokensim` command and the desktop app: each is a
//! function over plain inputs (a client, a leased device, strings) that returns a typed,
//! `Serialize` result or one [`Error`] with a stable [`ErrorKind`], a message and a hint.
//! The CLI renders the results as text or JSON; the app's commands hand them to the window.
//!
//! ```text
//! Error { class, kind, message, hint }   From<tokensim_device::Error>, From<tokensim_wallet::Error>
//! ```
//!
//! ## What it refuses to do
//!
//! It prints nothing, prompts for nothing and parses no command line (the CLI does), knows
//! nothing of Tauri (the app does), and never puts a secret in an error or a result unless
//! the caller asks for it by name.

mod activate;
mod error;
mod run;
mod status;

pub use activate::{
    ActivateRequest, Activated, Activation, Step, activate, check_code, store_name,
};
pub use error::{Class, Error, ErrorKind};
pub use run::{Leased, Ran, Runner};
pub use status::{Status, status};

/// A use case's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
