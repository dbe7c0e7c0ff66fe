//! MAC tokens (digest §8): create (signed + ECIES), remove (signed), and the
//! `X-PowerAuth-Token` header for a request.

use crate::client::{Client, Request, envelope};
use crate::session::{Factors, Session};
use crate::state::{ActiveDevice, Token};
use crate::{Error, Result};
use powerauth::SymmetricKey;
use powerauth::ecies::SharedInfo1;
use powerauth::token::TokenHeader;
use serde_json::{Value, json};

/// The token creation endpoint.
pub const CREATE_PATH: &str = "/pa/v3/token/create";
/// The token removal endpoint.
pub const REMOVE_PATH: &str = "/pa/v3/token/remove";
/// The local name the mobile-token SDK uses for its token.
pub const POSSESSION_UNIVERSAL: &str = "possession_universal";

impl Session<'_> {
    /// Creates a token signed with `factors` and stores it under `name` (replacing any).
    pub async fn create_token(&mut self, name: &str, factors: &Factors) -> Result<String> {
        const WHAT: &str = "token/create";
        let (body, decryptor) = self
            .encrypt_for_activation(SharedInfo1::CreateToken, b"{}")
            .await?;
        let mut request = self.signed_post(WHAT, CREATE_PATH, "/pa/token/create", factors, body)?;
        request.plaintext = Some("{}".to_owned());
        request.decryptor = Some(decryptor);
        let reply = self.execute(request).await?;
        let plain: Value = serde_json::from_slice(reply.decrypted(WHAT)?)
            .map_err(|e| Error::invalid(WHAT, format!("not JSON: {e}")))?;
        let token_id = envelope::string_field(&plain, "tokenId", WHAT)?;
        let secret =
            powerauth::encoding::b64_decode(&envelope::string_field(&plain, "tokenSecret", WHAT)?)
                .ok()
                .and_then(|bytes| SymmetricKey::from_slice(&bytes).ok())
                .ok_or_else(|| Error::invalid(WHAT, "tokenSecret is not Base64 of 16 bytes"))?;
        let token = Token {
            token_id: token_id.clone(),
            secret,
            signature_type: factors.signature_type,
        };
        self.device.tokens.insert(name.to_owned(), token);
        self.persist.persist(self.device).map_err(Error::Persist)?;
        Ok(token_id)
    }

    /// Removes the token `name` on the server (signed with `factors`), then locally.
    pub async fn remove_token(&mut self, name: &str, factors: &Factors) -> Result<()> {
        const WHAT: &str = "token/remove";
        let token_id = self
            .device
            .tokens
            .get(name)
            .ok_or_else(|| Error::UnknownToken(name.to_owned()))?
            .token_id
            .clone();
        let body = envelope::request_body(&json!({ "tokenId": token_id }));
        let request = self.signed_post(WHAT, REMOVE_PATH, "/pa/token/remove", factors, body)?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, WHAT)?;
        self.device.tokens.remove(name);
        self.persist.persist(self.device).map_err(Error::Persist)?;
        Ok(())
    }

    /// The token named `name`, creating it with `possession` when missing (the
    /// mobile-token SDK's `possession_universal` habit).
    pub async fn ensure_token(&mut self, name: &str) -> Result<()> {
        if !self.device.tokens.contains_key(name) {
            self.create_token(name, &Factors::possession()).await?;
        }
        Ok(())
    }
}

impl ActiveDevice {
    /// A fresh `X-PowerAuth-Token` header value for the token `name` (device clock,
    /// shifted by a `ClockSkew` fault).
    pub fn token_header(&self, name: &str, client: &Client) -> Result<String> {
        let token = self
            .tokens
            .get(name)
            .ok_or_else(|| Error::UnknownToken(name.to_owned()))?;
        let header = TokenHeader::make(
            &token.token_id,
            &token.secret,
            self.profile.version,
            client.now_ms(),
            client.rng(),
        );
        Ok(header.to_header_value())
    }
}

/// A token-authenticated `POST` of `{"requestObject": object}`.
pub(crate) fn token_post(
    session: &Session<'_>,
    label: &'static str,
    path: &str,
    token: &str,
    object: Option<&Value>,
) -> Result<Request> {
    let header = session.device.token_header(token, session.client)?;
    let body = match object {
        Some(object) => envelope::request_body(object),
        None => b"{}".to_vec(),
    };
    Ok(Request::post(label, path, body).header(TokenHeader::NAME, header))
}
