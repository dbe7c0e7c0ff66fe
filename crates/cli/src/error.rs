//! What a failed command reports: the use-case layer's error (`tokensim_api::Error`: a
//! message, a hint saying what to do, a stable machine kind, and the class its exit code
//! comes from), printed as text or as one JSON document.

pub(crate) use tokensim_api::{Class, Error as Failure, ErrorKind};

/// The JSON document a failed command prints with `--json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorDocument<'a> {
    /// The message.
    error: &'a str,
    /// The stable machine kind, e.g. `device-not-found`.
    kind: ErrorKind,
    /// What to do.
    hint: Option<&'a str>,
    /// The process's exit code.
    exit_code: u8,
}

/// [`ErrorDocument`] as one line of JSON (keys sorted); `None` if it cannot be encoded.
pub(crate) fn to_json(failure: &Failure) -> Option<String> {
    crate::output::json_line(&ErrorDocument {
        error: &failure.message,
        kind: failure.kind,
        hint: failure.hint.as_deref(),
        exit_code: failure.class.code(),
    })
    .ok()
}
