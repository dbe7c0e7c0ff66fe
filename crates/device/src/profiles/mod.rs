//! Device-authentication profiles beside PowerAuth.

pub mod oauth;
