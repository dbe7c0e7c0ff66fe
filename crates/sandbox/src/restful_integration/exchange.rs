//! Generic ECIES endpoints, `/exchange/v3/*`: the encrypted data exchange of the PowerAuth
//! RESTful integration's test server, so a client can try application- and
//! activation-scope encryption (sharedInfo1 `/pa/generic/application`,
//! `/pa/generic/activation`) in every 3.x version, with and without a signature.
//!
//! - `application`, `activation`: `X-PowerAuth-Encryption` names the scope, key and
//!   version; `{"data": …}` → `{"data": "Server successfully decrypted signed data: …,
//!   scope: APPLICATION_SCOPE"}` (or `ACTIVATION_SCOPE`).
//! - `signed`, `signed/string`, `signed/raw`, `signed/generics`: `X-PowerAuth-Authorization`
//!   (resource id = the path, a 2FA signature) also drives the activation-scope
//!   encryption (digest §7.5). Sign-then-encrypt, as the RESTful integration does it:
//!   the body is decrypted first and the signature covers the decrypted request. `signed` answers `{"data": "… request
//!   data: …, user ID: …"}`, `string` the same text as a JSON string, `raw` echoes the
//!   bytes, `generics` takes `{"requestObject": {"data"}}` and answers
//!   `{"status": "OK", "responseObject": {"data"}}`.
//!
//! Errors as the reference: a refused decryption (missing or bad header, unknown
//! application key or activation, wrong MAC, replayed nonce, stale or future timestamp,
//! a body that is not the expected JSON) is 400 `ERR_ENCRYPTION` /
//! `POWER_AUTH_ENCRYPTION_FAILED`; a refused signature is 401 `ERR_AUTHENTICATION` /
//! `POWER_AUTH_SIGNATURE_INVALID`.

use super::encryption::{
    HeaderRefusal, Refused, SignatureCovers, SignedEndpoint, open_application_with_header,
    open_signed_request, open_with_header, seal,
};
use crate::error::Error;
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use powerauth::ecies::SharedInfo1;
use powerauth::signature::SignatureType;
use serde::{Deserialize, Serialize};

/// The application-scope exchange.
pub(crate) const APPLICATION_PATH: &str = "/exchange/v3/application";
/// The activation-scope exchange.
pub(crate) const ACTIVATION_PATH: &str = "/exchange/v3/activation";
/// The signed activation-scope exchange of `{"data"}`.
pub(crate) const SIGNED_PATH: &str = "/exchange/v3/signed";
/// The signed exchange of a JSON string.
pub(crate) const SIGNED_STRING_PATH: &str = "/exchange/v3/signed/string";
/// The signed exchange of raw bytes (echoed).
pub(crate) const SIGNED_RAW_PATH: &str = "/exchange/v3/signed/raw";
/// The signed exchange of an enveloped `{"requestObject": {"data"}}`.
pub(crate) const SIGNED_GENERICS_PATH: &str = "/exchange/v3/signed/generics";

/// The `/exchange/v3` routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(APPLICATION_PATH, post(application))
        .route(ACTIVATION_PATH, post(activation))
        .route(SIGNED_PATH, post(signed))
        .route(SIGNED_STRING_PATH, post(signed_string))
        .route(SIGNED_RAW_PATH, post(signed_raw))
        .route(SIGNED_GENERICS_PATH, post(signed_generics))
}

/// 400 `ERR_ENCRYPTION`: the request could not be decrypted or read.
fn encryption_failed(why: impl std::fmt::Display) -> Error {
    tracing::debug!(%why, "encrypted exchange refused");
    Error::api(
        StatusCode::BAD_REQUEST,
        "ERR_ENCRYPTION",
        "POWER_AUTH_ENCRYPTION_FAILED",
    )
}

fn from_header_refusal(refusal: HeaderRefusal) -> Error {
    match refusal {
        HeaderRefusal::Request => encryption_failed("missing or malformed request"),
        HeaderRefusal::Refused(why) => encryption_failed(why),
        HeaderRefusal::Fault(e) => e,
    }
}

/// The exchange's request and response object. Unknown fields are refused, as Jackson
/// does by default.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Data {
    data: Option<String>,
}

/// Reads the decrypted `{"data": …}`; an empty plaintext is no request at all.
fn read_data(plaintext: &[u8]) -> Result<Option<Data>, Error> {
    if plaintext.is_empty() {
        return Ok(None);
    }
    serde_json::from_slice(plaintext)
        .map(Some)
        .map_err(encryption_failed)
}

/// The request's data as the reference prints it: `''` without a request, `null`
/// without data.
fn shown(request: Option<Data>) -> String {
    match request {
        None => "''".to_owned(),
        Some(Data { data }) => data.unwrap_or_else(|| "null".to_owned()),
    }
}

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(e.to_string()))
}

async fn application(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (plaintext, responder) = open_application_with_header(&state, &headers, &body.0)
        .await
        .map_err(from_header_refusal)?;
    answer_scoped(&state, responder, &plaintext, "APPLICATION_SCOPE")
}

async fn activation(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (_, plaintext, responder) = open_with_header(&state, &headers, &body.0)
        .await
        .map_err(from_header_refusal)?;
    answer_scoped(&state, responder, &plaintext, "ACTIVATION_SCOPE")
}

/// The reference's answer to an unsigned exchange in `scope` (`APPLICATION_SCOPE`,
/// `ACTIVATION_SCOPE`).
fn answer_scoped(
    state: &AppState,
    responder: powerauth::ecies::ResponseEncryptor,
    plaintext: &[u8],
    scope: &str,
) -> Result<Response, Error> {
    let data = shown(read_data(plaintext)?);
    let answer = Data {
        data: Some(format!(
            "Server successfully decrypted signed data: {data}, scope: {scope}"
        )),
    };
    seal(state, responder, &to_json(&answer)?)
}

/// The factors `@PowerAuth` accepts by default: any second factor.
const TWO_FACTORS: &[SignatureType] = &[
    SignatureType::PossessionBiometry,
    SignatureType::PossessionKnowledge,
    SignatureType::PossessionKnowledgeBiometry,
];

/// Decrypts in activation scope, then checks the signature (resource id `uri_id`) over
/// the decrypted request; returns the activation's user id and the plaintext.
async fn open_signed(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    uri_id: &'static str,
) -> Result<(String, Vec<u8>, powerauth::ecies::ResponseEncryptor), Error> {
    let endpoint = SignedEndpoint {
        uri_id,
        allowed: TWO_FACTORS,
        shared_info1: SharedInfo1::ActivationScopeGeneric,
        covers: SignatureCovers::Plaintext,
    };
    let (authenticated, plaintext, responder) = open_signed_request(
        state,
        headers,
        body,
        &endpoint,
        |e| e,
        |refused: Refused| encryption_failed(refused),
    )
    .await?;
    Ok((authenticated.activation.user_id, plaintext, responder))
}

fn signed_text(data: &str, user_id: &str) -> String {
    format!(
        "Server successfully decrypted data and verified signature, request data: {data}, \
         user ID: {user_id}"
    )
}

async fn signed(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (user_id, plaintext, responder) =
        open_signed(&state, &headers, &body.0, SIGNED_PATH).await?;
    let data = shown(read_data(&plaintext)?);
    let answer = Data {
        data: Some(signed_text(&data, &user_id)),
    };
    seal(&state, responder, &to_json(&answer)?)
}

async fn signed_string(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (user_id, plaintext, responder) =
        open_signed(&state, &headers, &body.0, SIGNED_STRING_PATH).await?;
    let data = if plaintext.is_empty() {
        "null".to_owned()
    } else {
        serde_json::from_slice::<String>(&plaintext).map_err(encryption_failed)?
    };
    seal(&state, responder, &to_json(&signed_text(&data, &user_id))?)
}

async fn signed_raw(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (_, plaintext, responder) = open_signed(&state, &headers, &body.0, SIGNED_RAW_PATH).await?;
    seal(&state, responder, &plaintext)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Enveloped {
    request_object: Option<Data>,
}

async fn signed_generics(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let (_, plaintext, responder) =
        open_signed(&state, &headers, &body.0, SIGNED_GENERICS_PATH).await?;
    let request: Enveloped = serde_json::from_slice(&plaintext).map_err(encryption_failed)?;
    let data = request
        .request_object
        .ok_or_else(|| encryption_failed("no requestObject"))?;
    let answer = serde_json::json!({ "status": "OK", "responseObject": data });
    seal(&state, responder, &to_json(&answer)?)
}
