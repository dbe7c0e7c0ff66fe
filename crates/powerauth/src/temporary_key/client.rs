//! The client side: build the request JWT, then verify the response JWT that answers it.

use super::jwt::{self, Compact};
use super::{KeyRequestClaims, RequestJwtKey, TemporaryKeyError, TemporaryPublicKey};
use crate::ecies::Scope;
use crate::keys::PublicKey;
use crate::random::RandomSource;
use serde::Serialize;
use serde_json::Value;

/// The request header the mobile SDK sends, `{"alg":"HS256","typ":"JWT"}`.
const REQUEST_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Challenge length the mobile SDK and Wultra's command-line client use.
const CHALLENGE_LEN: usize = 18;

/// A request for a temporary key, waiting for the server's response.
#[derive(Clone, Debug)]
pub struct TemporaryKeyRequest {
    jwt: String,
    claims: KeyRequestClaims,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestPayload<'a> {
    application_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation_id: Option<&'a str>,
    challenge: &'a str,
}

impl TemporaryKeyRequest {
    /// A request with a fresh 18-byte challenge, as the mobile SDK builds it.
    pub fn new(
        application_key: &str,
        application_secret: &str,
        scope: Scope<'_>,
        rng: &dyn RandomSource,
    ) -> Result<Self, TemporaryKeyError> {
        let mut challenge = [0u8; CHALLENGE_LEN];
        rng.fill(&mut challenge);
        let challenge = crate::encoding::b64(challenge);
        Self::new_with(application_key, application_secret, scope, &challenge)
    }

    /// A request with an explicit challenge: header `{"alg":"HS256","typ":"JWT"}`, claims
    /// `applicationKey`, `activationId` (activation scope), `challenge`.
    pub fn new_with(
        application_key: &str,
        application_secret: &str,
        scope: Scope<'_>,
        challenge: &str,
    ) -> Result<Self, TemporaryKeyError> {
        let key = RequestJwtKey::derive(application_secret, &scope)?;
        let activation_id = match scope {
            Scope::Application => None,
            Scope::Activation { activation_id, .. } => Some(activation_id),
        };
        let payload = serde_json::to_string(&RequestPayload {
            application_key,
            activation_id,
            challenge,
        })
        .expect("a struct of strings always serialises");
        let signing_input = jwt::signing_input(REQUEST_HEADER, &payload);
        let mac = crate::hazmat::hmac_sha256(key.expose_bytes(), signing_input.as_bytes());
        Ok(Self {
            jwt: format!("{signing_input}.{}", jwt::encode(mac)),
            claims: KeyRequestClaims {
                application_key: application_key.to_owned(),
                activation_id: activation_id.map(str::to_owned),
                challenge: challenge.to_owned(),
            },
        })
    }

    /// The compact JWT, sent as `{"requestObject":{"jwt":…}}`.
    pub fn jwt(&self) -> &str {
        &self.jwt
    }

    /// The claims the response must echo.
    pub fn claims(&self) -> &KeyRequestClaims {
        &self.claims
    }

    /// Verifies the response JWT as the mobile SDK does (digest §16.11): header `typ` `JWT`
    /// and `alg` `ES256`, an ES256 signature by `signer` (`KEY_SERVER_MASTER_PUBLIC` in
    /// application scope, `KEY_SERVER_PUBLIC` in activation scope), and the echoed
    /// `challenge`, `applicationKey` and (activation scope) `activationId`. Expiry is left to
    /// the caller: see [`TemporaryPublicKey::is_usable_at`].
    pub fn verify_response(
        self,
        response_jwt: &str,
        signer: &PublicKey,
    ) -> Result<TemporaryPublicKey, TemporaryKeyError> {
        let compact = Compact::split(response_jwt)?;
        let header_is = |name: &str, expected: &str| {
            compact.header.get(name).and_then(Value::as_str) == Some(expected)
        };
        if !header_is("typ", "JWT") || !header_is("alg", "ES256") {
            return Err(TemporaryKeyError::UnsupportedAlgorithm);
        }
        signer
            .verify_ecdsa_fixed(compact.signing_input.as_bytes(), &compact.signature)
            .map_err(|_| TemporaryKeyError::InvalidSignature)?;
        let claims = compact.claims()?;
        let echoed = |name: &'static str, expected: &str| match jwt::string_claim(&claims, name)? {
            Some(value) if value == expected => Ok(value),
            _ => Err(TemporaryKeyError::EchoMismatch(name)),
        };
        echoed("challenge", &self.claims.challenge)?;
        let application_key = echoed("applicationKey", &self.claims.application_key)?;
        let activation_id = match &self.claims.activation_id {
            Some(expected) => Some(echoed("activationId", expected)?),
            None => None,
        };
        let public_key = PublicKey::from_b64(&jwt::required_string(&claims, "publicKey")?)
            .map_err(|_| TemporaryKeyError::InvalidPublicKey)?;
        Ok(TemporaryPublicKey {
            id: jwt::required_string(&claims, "sub")?,
            public_key,
            application_key,
            activation_id,
            issued_at_ms: jwt::required_millis(&claims, "iat_ms")?,
            expires_at_ms: jwt::required_millis(&claims, "exp_ms")?,
        })
    }
}
