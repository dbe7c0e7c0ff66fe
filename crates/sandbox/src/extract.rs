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
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Error> {
        let bytes = RawBody::from_request(request, state).await?.0;
        parse(&bytes).map(Json)
    }
}

/// The `requestObject` of a `{"requestObject": …}` envelope.
#[derive(Debug)]
pub struct RequestObject<T>(pub T);

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
pub fn request_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    parse::<Envelope<T>>(bytes).map(|e| e.request_object)
}

/// The body's exact bytes (signatures are computed over them), within the size limit.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

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

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// A success answer, `{"status":"OK","responseObject": …}`.
#[derive(Debug)]
pub struct ResponseObject<T>(pub T);

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
pub fn json_response<T: Serialize>(value: &T) -> Response {
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
