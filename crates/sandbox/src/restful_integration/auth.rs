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
pub(crate) const AUTHORIZATION_HEADER: &str = "X-PowerAuth-Authorization";

/// 401 `POWER_AUTH_SIGNATURE_INVALID`.
pub(crate) fn signature_invalid() -> Error {
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_SIGNATURE_INVALID",
    )
}

/// A verified signature: the header and the activation after its counter moved.
#[derive(Debug)]
pub(crate) struct Authenticated {
    /// The parsed header.
    pub header: AuthorizationHeader,
    /// The record as saved after the check.
    pub activation: Activation,
}

/// Verifies the request's signature over `body` with resource id `uri_id`. Types not in
/// `allowed` are refused before verification: no attempt counted, counter unchanged.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    uri_id: &str,
    body: &[u8],
    allowed: &[SignatureType],
) -> Result<Authenticated, Error> {
    let header = parse_header(headers, allowed)?;
    verify_header(state, header, method, uri_id, body).await
}

/// Reads `X-PowerAuth-Authorization` and refuses a signature type not in `allowed`
/// (no attempt counted, counter unchanged).
pub(crate) fn parse_header(
    headers: &HeaderMap,
    allowed: &[SignatureType],
) -> Result<AuthorizationHeader, Error> {
    let header = headers
        .get(AUTHORIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            tracing::debug!("signature refused: no {AUTHORIZATION_HEADER} header");
            signature_invalid()
        })?;
    let header = AuthorizationHeader::parse(header).map_err(|e| {
        tracing::debug!(%e, "signature refused: bad authorization header");
        signature_invalid()
    })?;
    if !allowed.contains(&header.signature_type) {
        tracing::debug!(
            signature_type = %header.signature_type,
            ?allowed,
            "signature refused: factor not allowed on this endpoint (no attempt counted)"
        );
        return Err(signature_invalid());
    }
    Ok(header)
}

/// Verifies a parsed `header`'s signature over `body` with resource id `uri_id`.
pub(crate) async fn verify_header(
    state: &AppState,
    header: AuthorizationHeader,
    method: &str,
    uri_id: &str,
    body: &[u8],
) -> Result<Authenticated, Error> {
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
