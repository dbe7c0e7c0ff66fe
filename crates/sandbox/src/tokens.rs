//! Token validation shared by `/rest/v3/token/validate` and every token-protected
//! endpoint: header timestamp window, digest, nonce replay, activation state.

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Activation, Token};
use powerauth::status::ActivationState;
use powerauth::token::{TimestampWindow, TokenHeader};

/// A header whose token is valid, with its token and activation.
#[derive(Debug)]
pub(crate) struct ValidToken {
    /// The token.
    pub token: Token,
    /// Its activation (ACTIVE).
    pub activation: Activation,
}

/// Why a token header was refused (logged; clients see one generic answer).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenRefusal {
    /// No such token.
    #[error("unknown token")]
    Unknown,
    /// Timestamp outside the window, or wrong digest.
    #[error(transparent)]
    Invalid(#[from] powerauth::token::TokenError),
    /// The same nonce was seen before.
    #[error("replayed token digest")]
    Replay,
    /// The activation is not ACTIVE.
    #[error("activation is {0}")]
    Inactive(ActivationState),
}

/// Validates `header`. `Ok(Err(_))` is a refused token; `Err(_)` a server fault.
pub(crate) async fn validate(
    state: &AppState,
    header: &TokenHeader,
) -> Result<Result<ValidToken, TokenRefusal>, Error> {
    let Some(token) = state.store.token(&header.token_id).await? else {
        return Ok(Err(TokenRefusal::Unknown));
    };
    let now = state.now_ms();
    let window = TimestampWindow::default();
    if let Err(e) = header.validate(
        &token.token_secret,
        u64::try_from(now).unwrap_or_default(),
        window,
    ) {
        return Ok(Err(e.into()));
    }
    let Some(activation) = crate::activations::load(state, &token.activation_id).await? else {
        return Ok(Err(TokenRefusal::Inactive(ActivationState::Removed)));
    };
    if activation.state != ActivationState::Active {
        return Ok(Err(TokenRefusal::Inactive(activation.state)));
    }
    // Remember the nonce as long as its timestamp could still pass the window.
    let expires =
        i64::try_from(header.timestamp_ms.saturating_add(window.max_age_ms)).unwrap_or(i64::MAX);
    if !state
        .store
        .use_token_nonce(&token.token_id, &header.nonce, now, expires)
        .await?
    {
        return Ok(Err(TokenRefusal::Replay));
    }
    Ok(Ok(ValidToken { token, activation }))
}
