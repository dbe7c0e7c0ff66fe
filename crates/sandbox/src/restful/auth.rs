//! `X-PowerAuth-Authorization` on `/pa/v3` endpoints: parse the header, rebuild the
//! normalized request data, verify through [`crate::signatures`], and answer 401
//! `ERR_AUTHENTICATION` / `POWER_AUTH_SIGNATURE_INVALID` for every failure (digest §16.3).

use crate::error::Error;
use crate::signatures::{self, SignedRequest};
use crate::state::AppState;
use crate::store::Activation;
use axum::http::{HeaderMap, StatusCode};
use powerauth::signature::{AuthorizationHeader, RequestData, SignatureType};

/// The header that carries a PowerAuth signature.
pub const AUTHORIZATION_HEADER: &str = "X-PowerAuth-Authorization";

/// 401 `POWER_AUTH_SIGNATURE_INVALID`.
pub fn signature_invalid() -> Error {
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_SIGNATURE_INVALID",
    )
}

/// A verified signature: the header and the activation after its counter moved.
#[derive(Debug)]
pub struct Authenticated {
    /// The parsed header.
    pub header: AuthorizationHeader,
    /// The record as saved after the check.
    pub activation: Activation,
}

/// Verifies the request's signature over `body` with resource id `uri_id`. Types not in
/// `allowed` are refused before verification: no attempt counted, counter unchanged.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    uri_id: &str,
    body: &[u8],
    allowed: &[SignatureType],
) -> Result<Authenticated, Error> {
    let header = headers
        .get(AUTHORIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(signature_invalid)?;
    let header = AuthorizationHeader::parse(header).map_err(|e| {
        tracing::debug!(%e, "bad authorization header");
        signature_invalid()
    })?;
    if !allowed.contains(&header.signature_type) {
        return Err(signature_invalid());
    }
    let data = RequestData::new(method, uri_id, &header.nonce, body);
    let verdict = signatures::verify(
        state,
        &SignedRequest {
            activation_id: &header.activation_id,
            application_key: &header.application_key,
            data: &data,
            signature: &header.signature,
            signature_type: header.signature_type,
            version: header.version,
        },
    )
    .await?;
    match verdict.activation {
        Some(activation) if verdict.valid => Ok(Authenticated { header, activation }),
        _ => Err(signature_invalid()),
    }
}
