//! # tokensim-backend
//!
//! The bank's side of PowerAuth, typed: one client for PowerAuth Server's own API
//! (`/rest/v3`, `{"requestObject"}` envelopes, no authentication) and one for the
//! PowerAuth Cloud API (`/powerauth-cloud`, HTTP Basic), in Wultra's shapes. The fleet, the
//! desktop app, the test harnesses and the benchmarks use it to create activations and
//! operations and read back what the server recorded.
//!
//! ```text
//! Rest::new(http, url).init_activation(..) / commit_activation / create_operation / ..
//! Cloud::new(http, url, user, password).create_registration(..) / create_operation / ..
//! ```
//!
//! What it refuses to do: guess. An answer without a field the shape requires is an
//! [`Error::Malformed`], never an empty string; a non-200 answer is an [`Error::Refused`]
//! with the server's code and message. It keeps no state and retries nothing.

#![warn(unreachable_pub)]

mod cloud;
mod error;
mod http;
mod rest;

pub use cloud::{
    Application, Cloud, CreatedRegistration, InboxMessage, NewOperation, NewRegistration, NewUser,
    Operation, Registration, RegistrationChange, SignatureVerdict, SystemUser, TokenVerdict,
};
pub use error::{Error, Result};
pub use rest::{
    ApplicationDetail, ApplicationVersion, InitActivation, InitedActivation, NewRestOperation,
    Rest, RestOperation,
};
