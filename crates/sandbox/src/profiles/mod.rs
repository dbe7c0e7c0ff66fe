//! Device-authentication profiles beside PowerAuth, each under its own path prefix
//! (`/profiles/<name>`, `/oauth2`) with its own migration.

pub mod facemap;
pub mod oauth;

/// Whether `path` is an endpoint that takes `multipart/form-data` (the guard lets such a
/// body through to it; it checks its own credentials and content type).
pub fn takes_multipart(path: &str) -> bool {
    path == facemap::INITIATE_PATH
}
