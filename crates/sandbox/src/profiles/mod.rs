//! Device-authentication profiles beside PowerAuth, each under its own path prefix.

pub mod oauth;
