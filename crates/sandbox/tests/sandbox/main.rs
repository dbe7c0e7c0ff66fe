//! Integration tests: each starts a real sandbox on 127.0.0.1:0 with in-memory SQLite and
//! a test clock, and talks to it over HTTP like any client.

mod activation;
mod activation_create;
mod applications;
mod binary;
mod callbacks;
mod cloud_admin;
mod cloud_v2;
mod common;
mod console_and_docs;
mod device;
mod exchange;
mod facemap;
mod inbox;
mod intermediate;
mod load;
mod oauth;
mod offline;
mod operation_templates;
mod operations;
mod probe;
mod profiles_jwt;
mod profiles_signed_token;
mod push_ws;
mod qr_image;
mod recovery;
mod robustness;
mod security;
mod signature;
mod status;
mod storage;
mod token;
mod vault;
