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

#![warn(unreachable_pub)]

mod activate;
mod diagnose;
mod error;
mod offline;
mod operations;
mod push;
mod remove;
mod run;
mod sign;
mod status;
mod tokens;
mod vault;

pub use activate::{
    ActivateRequest, Activated, Activation, Step, activate, check_code, store_name,
};
pub use diagnose::{
    DIAGNOSE_FORMAT, DIAGNOSE_FORMAT_VERSION, DiagnoseRequest, Diagnosis, Focus, ServerFacts,
    diagnose, exchange_values,
};
pub use error::{Class, Error, ErrorKind};
pub use offline::{OfflineSigned, sign_offline};
pub use operations::{
    Approved, Claimed, OperationShown, Operations, Rejected, approve_operation, claim_operation,
    list_operations, operation_detail, operation_history, reject_operation,
};
pub use push::{
    MessageRead, Messages, PushRegistered, inbox_list, inbox_read, inbox_read_all, register_push,
};
pub use remove::{Removed, remove};
pub use run::{Leased, Ran, Runner};
pub use sign::{SignRequest, Signed, sign};
pub use status::{Status, status};
pub use tokens::{
    TokenCreated, TokenHeader, TokenInfo, TokenRemoved, Tokens, create_token, list_tokens,
    remove_token, token_header,
};
pub use vault::{
    BiometryChanged, PinChanged, PinValid, VaultUnlocked, change_enrollment, change_pin,
    enroll_biometry, remove_biometry, unlock_vault, verify_pin,
};

/// A use case's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether `factors` carry the PIN (a `wrong-pin` fault needs one).
fn knows(factors: &tokensim_device::Factors) -> bool {
    factors
        .signature_type
        .factors()
        .contains(&powerauth::signature::Factor::Knowledge)
}
