//! `X-PowerAuth-Token` authentication for the mobile API.

use crate::error::Error;
use crate::state::AppState;
use crate::store::Activation;
use axum::http::{HeaderMap, StatusCode};
use powerauth::signature::SignatureType;
use powerauth::token::TokenHeader;

/// Token types the enrollment server accepts for reads: operations and inbox (digest §16.6).
pub(super) const TOKEN_TYPES: [SignatureType; 4] = [
    SignatureType::Possession,
    SignatureType::PossessionBiometry,
    SignatureType::PossessionKnowledge,
    SignatureType::PossessionKnowledgeBiometry,
];

/// 401 `ERR_AUTHENTICATION`: a missing, malformed, unknown, stale or replayed token, or a
/// bad signature (the RESTful layer reports them all alike, digest §16.3).
pub(super) fn authentication_failed() -> Error {
    Error::api(
        StatusCode::UNAUTHORIZED,
        "ERR_AUTHENTICATION",
        "POWER_AUTH_SIGNATURE_INVALID",
    )
}

/// The activation behind a valid token header whose type is in `allowed`.
pub(crate) async fn token_activation(
    state: &AppState,
    headers: &HeaderMap,
    allowed: &[SignatureType],
) -> Result<Activation, Error> {
    let header = headers
        .get(TokenHeader::NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(authentication_failed)?;
    let header = TokenHeader::parse(header).map_err(|e| {
        tracing::debug!(%e, "bad token header");
        authentication_failed()
    })?;
    match crate::tokens::validate(state, &header).await? {
        Ok(valid) if allowed.contains(&valid.token.signature_type) => Ok(valid.activation),
        Ok(_) => Err(authentication_failed()),
        Err(refusal) => {
            tracing::debug!(%refusal, "token refused");
            Err(authentication_failed())
        }
    }
}
