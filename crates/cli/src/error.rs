//! What a failed command reports: the use-case layer's error (`tokensim_api::Error`: a
//! message, a hint saying what to do, a stable machine kind, and the class its exit code
//! comes from), printed as text or as one JSON document.

pub(crate) use tokensim_api::{Class, Error as Failure, ErrorKind};

/// The JSON document printed with `--json`.
pub(crate) fn to_json(failure: &Failure) -> serde_json::Value {
    serde_json::json!({
        "error": failure.message,
        "kind": failure.kind,
        "hint": failure.hint,
        "exitCode": failure.class.code(),
    })
}
