//! Tokens: create (signed), list (local), remove (signed with possession), and the
//! `X-PowerAuth-Token` header computed from a token.

use serde::Serialize;
use tokensim_device::{Factors, Fault};

use crate::{Leased, Ran, Result, Runner};

/// A token created on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCreated {
    /// The name the device keeps it under.
    pub name: String,
    /// The server's `tokenId`.
    pub token_id: String,
}

/// One stored token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// The name the device keeps it under.
    pub name: String,
    /// The server's `tokenId`.
    pub token_id: String,
    /// The factors it was created with, e.g. `possession_knowledge`.
    pub signature_type: String,
}

/// The device's tokens, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tokens {
    /// Every token, ordered by name.
    pub tokens: Vec<TokenInfo>,
}

/// A token removed on the server and here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRemoved {
    /// Its name.
    pub name: String,
    /// Always `true`.
    pub removed: bool,
}

/// The token header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenHeader {
    /// The header's name, `X-PowerAuth-Token`.
    pub header: &'static str,
    /// The header's value.
    pub value: String,
}

/// Creates token `name` with `factors` (faulted when the runner says so).
pub async fn create_token(
    runner: &Runner<'_>,
    dev: &mut Leased,
    name: &str,
    factors: &Factors,
) -> Result<Ran<TokenCreated>> {
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.create_token(name, factors).await
        })
        .await?;
    Ok(ran.map(|token_id| TokenCreated {
        name: name.to_owned(),
        token_id,
    }))
}

/// The device's tokens (no request; no fault applies).
pub fn list_tokens(runner: &Runner<'_>, dev: &Leased) -> Result<Tokens> {
    runner.no_fault("tokens list")?;
    let tokens = dev
        .device
        .tokens
        .iter()
        .map(|(name, t)| TokenInfo {
            name: name.clone(),
            token_id: t.token_id.clone(),
            signature_type: t.signature_type.as_str().to_owned(),
        })
        .collect();
    Ok(Tokens { tokens })
}

/// Removes token `name` on the server (signed with possession) and here.
pub async fn remove_token(
    runner: &Runner<'_>,
    dev: &mut Leased,
    name: &str,
) -> Result<Ran<TokenRemoved>> {
    let ran = runner
        .call(dev, async |s| {
            s.remove_token(name, &Factors::possession()).await
        })
        .await?;
    Ok(ran.map(|()| TokenRemoved {
        name: name.to_owned(),
        removed: true,
    }))
}

/// The `X-PowerAuth-Token` header of token `name`. Only a clock skew applies (the header's
/// timestamp moves); no request is sent.
pub fn token_header(runner: &Runner<'_>, dev: &Leased, name: &str) -> Result<TokenHeader> {
    let client = match runner.fault() {
        Some(fault @ Fault::ClockSkew(_)) => runner.client().with_fault(fault),
        Some(_) => {
            runner.no_fault("tokens header")?;
            runner.client().clone()
        }
        None => runner.client().clone(),
    };
    Ok(TokenHeader {
        header: powerauth::token::TokenHeader::NAME,
        value: dev.device.token_header(name, &client)?,
    })
}
