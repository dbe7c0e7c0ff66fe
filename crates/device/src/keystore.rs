//! Temporary encryption keys of protocol 3.3 (digest §7.7, §16.11):
//! `POST /pa/v3/keystore/create`, one cached key per scope, refreshed 10 s before expiry.

use crate::client::{Client, Request, envelope};
use crate::session::Session;
use crate::{Error, Result};
use powerauth::PublicKey;
use powerauth::config::ApplicationConfig;
use powerauth::ecies::Scope;
use powerauth::temporary_key::{TemporaryKeyRequest, TemporaryPublicKey};

/// The keystore path.
pub const KEYSTORE_PATH: &str = "/pa/v3/keystore/create";

/// Fetches and verifies a temporary key for `scope`; `signer` is the master key
/// (application scope) or `KEY_SERVER_PUBLIC` (activation scope).
pub(crate) async fn fetch(
    client: &Client,
    server_url: &str,
    application: &ApplicationConfig,
    scope: Scope<'_>,
    signer: &PublicKey,
) -> Result<TemporaryPublicKey> {
    let application_key = application.application_key.to_b64();
    let secret = application.application_secret.expose_b64();
    let request = TemporaryKeyRequest::new(&application_key, &secret, scope, client.rng())
        .map_err(|e| Error::Protocol(e.to_string()))?;
    let body = envelope::request_body(&serde_json::json!({ "jwt": request.jwt() }));
    let label = match scope {
        Scope::Application => "keystore/create (application)",
        Scope::Activation { .. } => "keystore/create (activation)",
    };
    let reply = client
        .execute(server_url, Request::post(label, KEYSTORE_PATH, body))
        .await?;
    let object = envelope::response_object(&reply, "keystore/create")?;
    let jwt = envelope::string_field(&object, "jwt", "keystore/create")?;
    request
        .verify_response(&jwt, signer)
        .map_err(|e| Error::invalid("keystore/create", e.to_string()))
}

/// A usable cached key, or a fresh one.
pub(crate) async fn cached_or_fetch(
    client: &Client,
    cache: &mut Option<TemporaryPublicKey>,
    server_url: &str,
    application: &ApplicationConfig,
    scope: Scope<'_>,
    signer: &PublicKey,
) -> Result<TemporaryPublicKey> {
    if let Some(key) = cache.as_ref().filter(|k| k.is_usable_at(client.now_ms())) {
        return Ok(key.clone());
    }
    let key = fetch(client, server_url, application, scope, signer).await?;
    *cache = Some(key.clone());
    Ok(key)
}

impl Session<'_> {
    /// The activation-scope temporary key (3.3), cached on the device.
    pub async fn activation_temporary_key(&mut self) -> Result<TemporaryPublicKey> {
        let device = &mut *self.device;
        let scope = Scope::Activation {
            activation_id: &device.activation_id,
            transport_key: &device.transport_key,
        };
        cached_or_fetch(
            self.client,
            &mut device.temporary_keys.activation,
            &device.profile.server_url,
            &device.profile.application,
            scope,
            &device.server_public_key,
        )
        .await
    }
}
