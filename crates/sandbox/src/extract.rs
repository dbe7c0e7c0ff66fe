//! Request and response bodies in the protocol's JSON shapes, with failures reported as
//! [`Error`] so malformed JSON and oversized bodies get the same error shape as every
//! other failure.

use crate::error::Error;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A JSON body, exactly as sent (no envelope).
#[derive(Debug)]
pub(crate) struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let bytes = RawBody::from_request(request, state).await?.0;
        parse(&bytes).map(Json)
    }
}

/// The `requestObject` of a `{"requestObject": …}` envelope.
#[derive(Debug)]
pub(crate) struct RequestObject<T>(pub T);

#[derive(serde::Deserialize)]
struct Envelope<T> {
    #[serde(rename = "requestObject")]
    request_object: T,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for RequestObject<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let bytes = RawBody::from_request(request, state).await?.0;
        request_object(&bytes).map(RequestObject)
    }
}

/// Parses `{"requestObject": …}` from bytes already read (a signed body).
pub(crate) fn request_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    parse::<Envelope<T>>(bytes).map(|e| e.request_object)
}

/// The body's exact bytes (signatures are computed over them), within the size limit.
#[derive(Debug)]
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
                Err(Error::TooLarge)
            }
            Err(other) => Err(Error::InvalidRequest(other.body_text())),
        }
    }
}

/// Parses a JSON body. A string (or key) holding the NUL character is refused: no field of
/// any API means it, and PostgreSQL cannot store it in a text column.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    refuse_nul(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// The message of a body whose JSON strings hold a NUL character.
pub(crate) const NUL_MESSAGE: &str =
    "a text field holds the NUL character (\\u0000), which no field accepts";

/// Refuses JSON whose strings or keys hold `\u0000`. JSON can only carry a NUL escaped, so a
/// body without the six bytes `\\u0000` is let through unparsed; one with them is parsed to
/// tell a NUL from the text `\\u0000` (an escaped backslash).
pub(crate) fn refuse_nul(bytes: &[u8]) -> Result<(), Error> {
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    // Bytes that are not JSON are left for the real parse to report.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    if holds_nul(&value) {
        return Err(Error::InvalidRequest(NUL_MESSAGE.to_owned()));
    }
    Ok(())
}

fn holds_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// A success answer, `{"status":"OK","responseObject": …}`.
#[derive(Debug)]
pub(crate) struct ResponseObject<T>(pub T);

impl<T: Serialize> IntoResponse for ResponseObject<T> {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Ok<'a, T> {
            status: &'static str,
            #[serde(rename = "responseObject")]
            response_object: &'a T,
        }
        json_response(&Ok {
            status: "OK",
            response_object: &self.0,
        })
    }
}

/// Serializes `value` as a 200 JSON response.
pub(crate) fn json_response<T: Serialize>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => Error::Internal(format!("response serialization: {e}")).into_response(),
    }
}
