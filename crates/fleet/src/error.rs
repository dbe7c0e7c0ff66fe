//! [`Error`]: why a fleet could not run, in words that say what to do next.
//!
//! A device that fails mid-scenario is not an error of the fleet: it is counted in the
//! report's `errors`. These are the failures that stop the whole run.

use std::path::PathBuf;

/// Why a fleet could not start or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The options do not make a fleet.
    #[error("invalid fleet options: {0}")]
    Options(String),
    /// The embedded sandbox did not start.
    #[error("the embedded sandbox did not start: {0}")]
    Sandbox(String),
    /// The server could not be reached before the first device.
    #[error(
        "cannot reach the server at {url}: {detail}. Check that it is running and the URL is right (or leave --server out to use the embedded sandbox)"
    )]
    Unreachable {
        /// The server URL.
        url: String,
        /// What the HTTP stack said.
        detail: String,
    },
    /// The server's backend API (Cloud API or `/rest/v3`) refused a call the fleet needs.
    #[error("the server refused {what}: HTTP {status}: {detail}")]
    Backend {
        /// The call, e.g. `POST /powerauth-cloud/v2/registrations`.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The body or its error message.
        detail: String,
    },
    /// The application configuration is missing or invalid.
    #[error("the application configuration is not usable: {0}")]
    Config(String),
    /// The device store could not be opened.
    #[error("the device store at {folder} could not be opened: {detail}")]
    Store {
        /// The store folder.
        folder: PathBuf,
        /// The store's error.
        detail: String,
    },
    /// The report could not be written.
    #[error("the report could not be written to {target}: {detail}")]
    Output {
        /// Where it went (`the output` or a file path).
        target: String,
        /// The I/O error.
        detail: String,
    },
    /// The async runtime could not be built (the synchronous wrapper).
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
