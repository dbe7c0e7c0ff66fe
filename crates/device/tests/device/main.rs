//! Integration tests of the simulated token: end to end against the real sandbox over
//! HTTP (every protocol version 3.0–3.3), and in-process where the sandbox has no endpoint.

mod common;

mod activation;
mod exchange;
mod facemap;
mod faults;
mod oauth;
mod offline;
mod operations;
mod qr;
mod session;
mod state;
