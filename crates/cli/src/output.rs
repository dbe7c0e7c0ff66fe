//! Writing to stdout and stderr. A closed stdout (`tokensim ops list | head -1`) ends the
//! process quietly with exit code 0: the command's work is done and saved by then.

use std::io::{ErrorKind, Write};

/// What a command prints on success: text for a terminal, a JSON document for `--json`,
/// and its exit code (0, or 3 when a fault was not answered as the protocol requires).
pub(crate) struct Output {
    /// The text form.
    pub text: String,
    /// The `--json` form.
    pub json: serde_json::Value,
    /// The exit code.
    pub code: u8,
}

impl Output {
    /// A successful output whose `--json` form is `value`, its keys sorted (the JSON
    /// scripts read does not depend on a struct's field order).
    pub(crate) fn typed(
        text: impl Into<String>,
        value: &impl serde::Serialize,
    ) -> Result<Self, crate::error::Failure> {
        use crate::error::{Class, ErrorKind, Failure};
        let json = serde_json::to_value(value).map_err(|e| {
            Failure::new(
                Class::Error,
                ErrorKind::Error,
                format!("cannot encode the result: {e}"),
            )
        })?;
        Ok(Self::new(text, json))
    }

    /// A successful output.
    pub(crate) fn new(text: impl Into<String>, json: serde_json::Value) -> Self {
        Self {
            text: text.into(),
            json,
            code: 0,
        }
    }
}

/// `value` as one line of JSON with its keys sorted, as every `--json` document is (the
/// lines `push listen` and `sandbox` print as they go).
pub(crate) fn json_line(value: &impl serde::Serialize) -> Result<String, crate::error::Failure> {
    use crate::error::{Class, ErrorKind, Failure};
    serde_json::to_value(value)
        .map(|value| value.to_string())
        .map_err(|e| {
            Failure::new(
                Class::Error,
                ErrorKind::Error,
                format!("cannot encode the result: {e}"),
            )
        })
}

/// Writes `text` to stdout; exits 0 if the reader went away.
pub(crate) fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(error) = result
        && error.kind() == ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes `text` to stderr, ignoring failures (there is nowhere left to report them).
pub(crate) fn emit_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
