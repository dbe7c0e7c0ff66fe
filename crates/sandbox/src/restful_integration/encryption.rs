//! The server side of application-scope ECIES on `/pa/v3`: which private key a request
//! was encrypted to (master key, or a 3.3 temporary key), replay rejection, timestamp
//! window, then `powerauth::ecies` does the cryptography.

use crate::state::AppState;
use crate::store::{Application, ApplicationVersion};
use powerauth::ecies::{
    EciesError, EncryptedRequest, Encryptor, ResponseEncryptor, Scope, SharedInfo1,
};
use powerauth::encoding::b64;
use powerauth::signature::SignatureType;
use powerauth::{PrivateKey, ProtocolVersion};

/// How far in the future a request timestamp may lie (the reference server's window).
const FUTURE_WINDOW_MS: i64 = 60_000;

/// How long a seen `(ephemeral key, nonce)` is remembered.
const REPLAY_MEMORY_MS: i64 = 7 * 24 * 3600 * 1000;

/// Why an encrypted request was refused. Each endpoint maps these to its own answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// Fields do not fit the declared version (missing nonce, timestamp, temporaryKeyId,
    /// or one too many): 401 `POWER_AUTH_REQUEST_INVALID`.
    #[error("envelope does not fit the declared version: {0}")]
    Format(EciesError),
    /// Unknown or foreign temporary key, replay, timestamp from the future, wrong MAC.
    #[error("cannot decrypt: {0}")]
    Decrypt(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Everything the server side of one ECIES exchange needs besides the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel<'a> {
    /// `APP_KEY` of the version the request declares.
    pub application_key: &'a str,
    /// `APP_SECRET` of that version.
    pub application_secret: &'a str,
    /// The declared protocol version.
    pub protocol: ProtocolVersion,
    /// The endpoint's sharedInfo1.
    pub shared_info1: SharedInfo1,
    /// Application scope, or the activation with its `KEY_TRANSPORT`.
    pub scope: Scope<'a>,
    /// The static recipient before 3.3: `KEY_SERVER_MASTER_PRIVATE` (application scope)
    /// or `KEY_SERVER_PRIVATE` (activation scope).
    pub static_private: &'a PrivateKey,
}

/// Decrypts a request sent over `channel`.
pub(crate) async fn decrypt(
    state: &AppState,
    channel: &Channel<'_>,
    request: &EncryptedRequest,
) -> Result<(Vec<u8>, ResponseEncryptor), Refused> {
    let now = state.now_ms();
    let protocol = channel.protocol;
    let activation_id = match channel.scope {
        Scope::Application => None,
        Scope::Activation { activation_id, .. } => Some(activation_id),
    };
    let temporary;
    let recipient = if protocol.uses_temporary_keys() {
        let Some(key_id) = request.temporary_key_id.as_deref() else {
            return Err(Refused::Format(EciesError::MissingField {
                field: "temporaryKeyId",
                version: protocol,
            }));
        };
        temporary = state
            .store
            .scoped_temporary_key(key_id, channel.application_key, activation_id, now)
            .await?
            .ok_or_else(|| Refused::Decrypt(format!("no temporary key {key_id} for this scope")))?;
        &temporary.key_pair.private
    } else {
        channel.static_private
    };
    check_timestamp(request.timestamp, now)?;
    let encryptor = Encryptor::new(
        protocol,
        channel.shared_info1,
        channel.application_key,
        channel.application_secret,
        channel.scope,
    )
    .map_err(|e| Refused::Decrypt(e.to_string()))?;
    let opened = encryptor
        .decrypt_request(recipient, request)
        .map_err(|error| match error {
            EciesError::MissingField { .. } | EciesError::UnexpectedField { .. } => {
                Refused::Format(error)
            }
            other => Refused::Decrypt(other.to_string()),
        })?;
    // Only a request that decrypted may burn its nonce: garbage must not fill the store.
    burn_nonce(
        state,
        &request.ephemeral_public_key,
        request.nonce.as_ref(),
        channel.shared_info1,
        activation_id,
    )
    .await?;
    Ok(opened)
}

/// Refuses a request timestamp more than a minute in the future (the reference server's
/// window), or older than the replay memory: its nonce may be forgotten, so a replay could
/// not be told apart.
pub(crate) fn check_timestamp(timestamp: Option<u64>, now: i64) -> Result<(), Refused> {
    let Some(timestamp) = timestamp else {
        return Ok(());
    };
    let timestamp = i64::try_from(timestamp).unwrap_or(i64::MAX);
    if timestamp > now.saturating_add(FUTURE_WINDOW_MS) {
        return Err(Refused::Decrypt("timestamp lies in the future".to_owned()));
    }
    if timestamp < now.saturating_sub(REPLAY_MEMORY_MS) {
        return Err(Refused::Decrypt(
            "timestamp is older than the replay memory (7 days)".to_owned(),
        ));
    }
    Ok(())
}

/// Remembers `(ephemeral key, nonce, sharedInfo1, activation)` of a request; refuses one
/// seen before.
pub(crate) async fn burn_nonce(
    state: &AppState,
    ephemeral_public_key: &powerauth::PublicKey,
    nonce: Option<&[u8; 16]>,
    shared_info1: SharedInfo1,
    activation_id: Option<&str>,
) -> Result<(), Refused> {
    let now = state.now_ms();
    let mut replay_key = ephemeral_public_key.encoded().to_vec();
    replay_key.extend_from_slice(nonce.map_or(&[][..], |n| &n[..]));
    replay_key.extend_from_slice(shared_info1.constant().as_bytes());
    replay_key.extend_from_slice(activation_id.unwrap_or_default().as_bytes());
    if state
        .store
        .use_nonce(&b64(replay_key), now, now.saturating_add(REPLAY_MEMORY_MS))
        .await?
    {
        Ok(())
    } else {
        Err(Refused::Decrypt("replayed request".to_owned()))
    }
}

/// Decrypts an application-scope request of `application`/`version` speaking `protocol`.
pub(crate) async fn decrypt_application_scope(
    state: &AppState,
    application: &Application,
    version: &ApplicationVersion,
    protocol: ProtocolVersion,
    shared_info1: SharedInfo1,
    request: &EncryptedRequest,
) -> Result<(Vec<u8>, ResponseEncryptor), Refused> {
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol,
        shared_info1,
        scope: Scope::Application,
        static_private: &application.master.private,
    };
    decrypt(state, &channel, request).await
}

/// Decrypts the activation-scope body of a request signed with `header` by
/// `activation`: the signature header's version drives the encryption (digest §7.5), its
/// application key (one of the activation's application) picks the secret, the
/// activation's keys the scope.
async fn open_signed(
    state: &AppState,
    header: &powerauth::signature::AuthorizationHeader,
    activation: &crate::store::Activation,
    shared_info1: SharedInfo1,
    body: &[u8],
) -> Result<(Vec<u8>, ResponseEncryptor), Refused> {
    let version = state
        .store
        .version_by_key(&header.application_key)
        .await?
        .filter(|v| v.application_id == activation.application_id)
        .ok_or_else(|| Refused::Decrypt("application key of another application".to_owned()))?;
    let (Some(keys), Some(server)) = (
        state.activation_keys(activation),
        &activation.server_key_pair,
    ) else {
        return Err(Refused::Decrypt("activation has no keys".to_owned()));
    };
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol: header.version,
        shared_info1,
        scope: Scope::Activation {
            activation_id: &activation.activation_id,
            transport_key: &keys.transport,
        },
        static_private: &server.private,
    };
    let request = EncryptedRequest::from_json(body).map_err(|e| Refused::Decrypt(e.to_string()))?;
    decrypt(state, &channel, &request).await
}

/// What the signature of a signed, encrypted endpoint covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureCovers {
    /// The encrypted body as sent: `@PowerAuth` alone, the controller decrypts afterwards
    /// (`/pa/v3/token/create`, `/pa/v3/vault/unlock`, `/pa/v3/recovery/confirm`).
    EncryptedBody,
    /// The decrypted request, sign-then-encrypt: `@PowerAuth` together with
    /// `@PowerAuthEncryption`. The RESTful integration's interceptor decrypts first and
    /// `extractRequestBodyBytes` hands the signature check the decrypted bytes
    /// (`/exchange/v3/signed*`, `/pa/v3/activation/rename`).
    Plaintext,
}

/// A signed endpoint whose body is encrypted in activation scope: what its signature
/// covers, which factors may sign it, and its `sharedInfo1`.
pub(crate) struct SignedEndpoint {
    /// The URI id the signature covers, e.g. `/pa/vault/unlock`.
    pub uri_id: &'static str,
    /// Factors that may sign the request.
    pub allowed: &'static [SignatureType],
    /// The ECIES `sharedInfo1` of the body.
    pub shared_info1: SharedInfo1,
    /// Whether the signature covers the encrypted body or the decrypted request.
    pub covers: SignatureCovers,
}

/// The start every signed, encrypted endpoint shares: check the `POST` signature and
/// decrypt the body, in the order [`SignedEndpoint::covers`] says. `on_auth` restates a
/// refused signature and `on_refused` a refused decryption in the endpoint's own error;
/// server faults pass through unchanged.
pub(crate) async fn open_signed_request(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    endpoint: &SignedEndpoint,
    on_auth: impl Fn(crate::error::Error) -> crate::error::Error,
    on_refused: impl FnOnce(Refused) -> crate::error::Error,
) -> Result<(super::auth::Authenticated, Vec<u8>, ResponseEncryptor), crate::error::Error> {
    let on_auth = |e: crate::error::Error| match e {
        crate::error::Error::Internal(_) => e,
        other => on_auth(other),
    };
    let on_refused = |e: Refused| match e {
        Refused::Store(e) => e.into(),
        other => on_refused(other),
    };
    let header = super::auth::parse_header(headers, endpoint.allowed).map_err(on_auth)?;
    match endpoint.covers {
        SignatureCovers::EncryptedBody => {
            let authenticated =
                super::auth::verify_header(state, header, "POST", endpoint.uri_id, body)
                    .await
                    .map_err(on_auth)?;
            let (plaintext, responder) = open_signed(
                state,
                &authenticated.header,
                &authenticated.activation,
                endpoint.shared_info1,
                body,
            )
            .await
            .map_err(on_refused)?;
            Ok((authenticated, plaintext, responder))
        }
        SignatureCovers::Plaintext => {
            // Only an ACTIVE activation has a signature to check; anything else is refused
            // as the check itself would refuse it.
            let Some(activation) = crate::activations::load(state, &header.activation_id)
                .await?
                .filter(|a| a.state == powerauth::status::ActivationState::Active)
            else {
                tracing::debug!(
                    activation_id = %header.activation_id,
                    "signature refused: no ACTIVE activation"
                );
                return Err(on_auth(super::auth::signature_invalid()));
            };
            let (plaintext, responder) =
                open_signed(state, &header, &activation, endpoint.shared_info1, body)
                    .await
                    .map_err(on_refused)?;
            let authenticated =
                super::auth::verify_header(state, header, "POST", endpoint.uri_id, &plaintext)
                    .await
                    .map_err(on_auth)?;
            Ok((authenticated, plaintext, responder))
        }
    }
}

/// Encrypts `plaintext` as the answer and wraps it in a 200 JSON response.
pub(crate) fn seal(
    state: &AppState,
    responder: ResponseEncryptor,
    plaintext: &[u8],
) -> Result<axum::response::Response, crate::error::Error> {
    let now = u64::try_from(state.now_ms()).unwrap_or_default();
    let response = responder.encrypt_response(plaintext, &*state.rng, now);
    let body: serde_json::Value = serde_json::from_str(&response.to_json())
        .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    Ok(crate::extract::json_response(&body))
}

/// Why [`open_with_header`] refused.
#[derive(Debug)]
pub(crate) enum HeaderRefusal {
    /// Missing or malformed `X-PowerAuth-Encryption`, or an envelope that does not fit
    /// its version: 401 `POWER_AUTH_REQUEST_INVALID`.
    Request,
    /// No ACTIVE activation, a foreign application key, or undecryptable.
    Refused(String),
    /// A server fault.
    Fault(crate::error::Error),
}

/// The `X-PowerAuth-Encryption` header of `scope`, or [`HeaderRefusal::Request`].
fn encryption_header(
    headers: &axum::http::HeaderMap,
    scope: powerauth::ecies::EncryptorScope,
) -> Result<powerauth::ecies::EncryptionHeader, HeaderRefusal> {
    use powerauth::ecies::{ENCRYPTION_HEADER_NAME, EncryptionHeader};
    let header = headers
        .get(ENCRYPTION_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .ok_or(HeaderRefusal::Request)?;
    EncryptionHeader::parse(header, scope).map_err(|e| {
        tracing::debug!(%e, "bad encryption header");
        HeaderRefusal::Request
    })
}

/// Runs [`decrypt`] for a header-named request and restates its refusal.
async fn decrypt_for_header(
    state: &AppState,
    channel: &Channel<'_>,
    body: &[u8],
) -> Result<(Vec<u8>, ResponseEncryptor), HeaderRefusal> {
    let request =
        EncryptedRequest::from_json(body).map_err(|e| HeaderRefusal::Refused(e.to_string()))?;
    decrypt(state, channel, &request)
        .await
        .map_err(|e| match e {
            Refused::Format(_) => HeaderRefusal::Request,
            Refused::Decrypt(why) => HeaderRefusal::Refused(why),
            Refused::Store(e) => HeaderRefusal::Fault(e.into()),
        })
}

/// Decrypts an application-scope generic request (`/pa/generic/application`) named by
/// its `X-PowerAuth-Encryption` header: a supported application version's key, the
/// header's protocol version.
pub(crate) async fn open_application_with_header(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<(Vec<u8>, ResponseEncryptor), HeaderRefusal> {
    let header = encryption_header(headers, powerauth::ecies::EncryptorScope::Application)?;
    let fault = |e: crate::store::StoreError| HeaderRefusal::Fault(e.into());
    let version = state
        .store
        .version_by_key(header.application_key())
        .await
        .map_err(fault)?
        .filter(|v| v.supported)
        .ok_or_else(|| HeaderRefusal::Refused("unknown or unsupported application key".into()))?;
    let application = state
        .store
        .application(&version.application_id)
        .await
        .map_err(fault)?
        .ok_or_else(|| HeaderRefusal::Refused("application vanished".to_owned()))?;
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol: header.version(),
        shared_info1: SharedInfo1::ApplicationScopeGeneric,
        scope: Scope::Application,
        static_private: &application.master.private,
    };
    decrypt_for_header(state, &channel, body).await
}

/// Decrypts an activation-scope generic request (`/pa/generic/activation`) named by its
/// `X-PowerAuth-Encryption` header: returns the ACTIVE activation, the plaintext and the
/// responder.
pub(crate) async fn open_with_header(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<(crate::store::Activation, Vec<u8>, ResponseEncryptor), HeaderRefusal> {
    let fault = |e: crate::store::StoreError| HeaderRefusal::Fault(e.into());
    let header = encryption_header(headers, powerauth::ecies::EncryptorScope::Activation)?;
    let activation_id = header.activation_id().unwrap_or_default();
    let activation = crate::activations::load(state, activation_id)
        .await
        .map_err(HeaderRefusal::Fault)?
        .filter(|a| a.state == powerauth::status::ActivationState::Active)
        .ok_or_else(|| HeaderRefusal::Refused("no ACTIVE activation".to_owned()))?;
    let version = state
        .store
        .version_by_key(header.application_key())
        .await
        .map_err(fault)?
        .filter(|v| v.supported && v.application_id == activation.application_id)
        .ok_or_else(|| HeaderRefusal::Refused("application key".to_owned()))?;
    let (Some(keys), Some(server)) = (
        state.activation_keys(&activation),
        &activation.server_key_pair,
    ) else {
        return Err(HeaderRefusal::Refused("activation has no keys".to_owned()));
    };
    let channel = Channel {
        application_key: &version.application_key,
        application_secret: &version.application_secret,
        protocol: header.version(),
        shared_info1: SharedInfo1::ActivationScopeGeneric,
        scope: Scope::Activation {
            activation_id: &activation.activation_id,
            transport_key: &keys.transport,
        },
        static_private: &server.private,
    };
    let (plaintext, responder) = decrypt_for_header(state, &channel, body).await?;
    Ok((activation, plaintext, responder))
}
