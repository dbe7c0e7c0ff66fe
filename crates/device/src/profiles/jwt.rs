//! Profiles `jwt` and `api-key` (issue 16 §1): a phone whose vendor SDK authenticates with a
//! device JWT or with the app's mobile API key.
//!
//! - **JWT mode:** the device has a stable device id; it logs in to the bank's app server
//!   with the user's credentials and that id (`POST /profiles/jwt/app/login`); the app server
//!   gets a JWT from the vendor (`POST /profiles/jwt/gen-jwt`, `instance_id` = the device id)
//!   and hands it back; the device keeps it in the user's store and sends
//!   `Authorization: Bearer <jwt>` with `X-Instance-Id` on every vendor call. It logs in again
//!   only when the token's own expiry (`exp`, by the device's clock) has passed, or when the
//!   server says it expired.
//! - **API-key mode:** every vendor call carries `X-Api-Key` and `X-Instance-Id`.
//!
//! Faults: `expired-token` (a token born expired, asked of the test app server with
//! `tokenLifetimeSeconds: 0`, sent without refreshing; the stored token is not touched),
//! `wrong-secret` (a JWT signed with a fresh P-256 key, or a wrong API key), and the shared
//! transport faults of [`super::ProfileClient`].

use super::{Answer, FaultCheck, ProfileClient, ProfileRecord, field, unverified_claims};
use crate::{Error, Fault, FaultReport, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The vendor API a device calls.
pub const API_PATH: &str = "/profiles/jwt/api/device";
/// The app server's login.
pub const LOGIN_PATH: &str = "/profiles/jwt/app/login";
/// The header with the device id.
pub const INSTANCE_HEADER: &str = "X-Instance-Id";
/// The header with the mobile API key.
pub const API_KEY_HEADER: &str = "X-Api-Key";

/// Where an account goes after its token changed (the wallet's profile store; nothing for a
/// fleet's in-memory device).
pub type Save<'a> = dyn FnMut(&JwtAccount) -> Result<()> + Send + 'a;

/// The test vendor's projects (the sandbox's): a new one for each enrollment that names none.
pub const PROJECTS_PATH: &str = "/profiles/jwt/projects";
/// The app server's users (the sandbox's test app server), for JWT mode.
pub const USERS_PATH: &str = "/profiles/jwt/app/users";

/// A vendor project made on the server: its id and the app's mobile API key.
pub struct Project {
    /// The project id.
    pub project_id: String,
    /// The app's mobile API key (API-key mode sends it).
    pub mobile_api_key: Zeroizing<String>,
}

/// Makes a vendor project on the server (the sandbox's test vendor) with `settings` (`{}`,
/// or `jwtLifetimeSeconds`).
pub async fn create_project(pc: &ProfileClient, settings: &Value) -> Result<Project> {
    let label = "profile/jwt/project";
    let made = pc
        .send(
            label,
            reqwest::Method::POST,
            PROJECTS_PATH,
            Vec::new(),
            Some(settings),
        )
        .await?;
    Ok(Project {
        project_id: field(&made, "projectId", label)?,
        mobile_api_key: Zeroizing::new(field(&made, "mobileApiKey", label)?),
    })
}

/// Registers `username` with `password` on project `project_id`'s app server (JWT mode logs
/// in with them).
pub async fn register_user(
    pc: &ProfileClient,
    project_id: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    let body = json!({ "projectId": project_id, "username": username, "password": password });
    pc.send(
        "profile/jwt/user",
        reqwest::Method::POST,
        USERS_PATH,
        Vec::new(),
        Some(&body),
    )
    .await
    .map(drop)
}

/// How the device authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// A device JWT from the app server.
    Jwt,
    /// The app's mobile API key.
    ApiKey,
}

impl Mode {
    /// The profile's name: `jwt` or `api-key`.
    pub fn profile(self) -> &'static str {
        match self {
            Mode::Jwt => "jwt",
            Mode::ApiKey => "api-key",
        }
    }
}

/// What enrolling a device needs.
pub struct Enrollment {
    /// How it authenticates.
    pub mode: Mode,
    /// The vendor project.
    pub project_id: String,
    /// The device id; a new random one when `None`.
    pub device_id: Option<String>,
    /// The app server user (JWT mode).
    pub username: Option<String>,
    /// The user's password (JWT mode): kept in the store to log in again when the JWT
    /// expires, as an app keeps its session credential.
    pub password: Option<Zeroizing<String>>,
    /// The mobile API key (API-key mode).
    pub mobile_api_key: Option<Zeroizing<String>>,
}

/// A device of profile `jwt` or `api-key`.
#[derive(Clone)]
pub struct JwtAccount {
    /// How it authenticates.
    pub mode: Mode,
    /// The server's base URL.
    pub server_url: String,
    /// The vendor project.
    pub project_id: String,
    /// The stable device id (`instance_id` in the JWT).
    pub device_id: String,
    /// The app server user (JWT mode).
    pub username: Option<String>,
    /// When the kept JWT expires, Unix seconds (from its `exp`).
    pub jwt_expires_at: Option<i64>,
    password: Option<Zeroizing<String>>,
    mobile_api_key: Option<Zeroizing<String>>,
    jwt: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for JwtAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAccount")
            .field("mode", &self.mode)
            .field("server_url", &self.server_url)
            .field("project_id", &self.project_id)
            .field("device_id", &self.device_id)
            .field("username", &self.username)
            .field("jwt_expires_at", &self.jwt_expires_at)
            .finish_non_exhaustive()
    }
}

/// What the vendor saw on a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    /// The device id it authenticated.
    pub instance_id: String,
    /// The project.
    pub project_id: String,
    /// `jwt` or `api-key`.
    pub credential: String,
    /// Whether the device logged in again for a new JWT first.
    pub refreshed: bool,
    /// When the JWT used expires (JWT mode), Unix seconds.
    pub jwt_expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct SecretPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mobile_api_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jwt: Option<String>,
}

impl Drop for SecretPart {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        for secret in [&mut self.password, &mut self.mobile_api_key, &mut self.jwt]
            .into_iter()
            .flatten()
        {
            secret.zeroize();
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    mode: Mode,
    project_id: String,
    username: Option<String>,
    jwt_expires_at: Option<i64>,
}

impl JwtAccount {
    /// Enrolls a device: in JWT mode it logs in and keeps the JWT.
    pub async fn enroll(pc: &ProfileClient, enrollment: Enrollment) -> Result<Self> {
        let device_id = match enrollment.device_id {
            Some(id) => id,
            None => {
                let mut bytes = [0u8; 16];
                pc.client().rng().fill(&mut bytes);
                uuid_text(bytes)
            }
        };
        let mut account = Self {
            mode: enrollment.mode,
            server_url: pc.base_url().to_owned(),
            project_id: enrollment.project_id,
            device_id,
            username: enrollment.username,
            jwt_expires_at: None,
            password: enrollment.password,
            mobile_api_key: enrollment.mobile_api_key,
            jwt: None,
        };
        match account.mode {
            Mode::Jwt => {
                if account.username.is_none() || account.password.is_none() {
                    return Err(Error::invalid(
                        "jwt enrollment",
                        "JWT mode needs the app server user and password",
                    ));
                }
                let (jwt, expires_at) = account.login(pc, None).await?;
                account.keep(jwt, expires_at);
            }
            Mode::ApiKey => {
                if account.mobile_api_key.is_none() {
                    return Err(Error::invalid(
                        "api-key enrollment",
                        "API-key mode needs the mobile API key",
                    ));
                }
            }
        }
        Ok(account)
    }

    fn keep(&mut self, jwt: Zeroizing<String>, expires_at: i64) {
        self.jwt = Some(jwt);
        self.jwt_expires_at = Some(expires_at);
    }

    /// Whether a JWT is kept.
    pub fn has_jwt(&self) -> bool {
        self.jwt.is_some()
    }

    /// Whether the kept JWT must be replaced before a call: none kept, or its own expiry
    /// has passed by the device's clock (`now_seconds`).
    pub fn needs_refresh(&self, now_seconds: i64) -> bool {
        self.mode == Mode::Jwt
            && (self.jwt.is_none() || self.jwt_expires_at.is_none_or(|exp| exp <= now_seconds))
    }

    /// Logs in to the app server for a JWT (valid `lifetime` seconds when given, else the
    /// project's lifetime); returns it and its expiry.
    async fn login(
        &self,
        pc: &ProfileClient,
        lifetime: Option<i64>,
    ) -> Result<(Zeroizing<String>, i64)> {
        let mut body = json!({
            "projectId": self.project_id,
            "username": self.username,
            "password": self.password.as_deref().map(String::as_str),
            "deviceId": self.device_id,
        });
        if let Some(seconds) = lifetime {
            body["tokenLifetimeSeconds"] = json!(seconds);
        }
        let answer = pc
            .send(
                "profile/jwt/login",
                reqwest::Method::POST,
                LOGIN_PATH,
                Vec::new(),
                Some(&body),
            )
            .await?;
        let jwt = Zeroizing::new(field(&answer, "jwt", "profile/jwt/login")?);
        let expires_at = answer
            .body
            .get("expiresAt")
            .and_then(Value::as_i64)
            .or_else(|| expiry_of(&jwt))
            .ok_or_else(|| Error::invalid("profile/jwt/login", "the field expiresAt is missing"))?;
        Ok((jwt, expires_at))
    }

    /// Logs in again for a new JWT, keeps it, and saves the account through `persist`
    /// before anything uses it.
    pub async fn refresh(&mut self, pc: &ProfileClient, persist: &mut Save<'_>) -> Result<()> {
        if self.mode != Mode::Jwt {
            return Err(Error::invalid(
                "profile refresh",
                "an API-key device has no token to refresh",
            ));
        }
        let (jwt, expires_at) = self.login(pc, None).await?;
        self.keep(jwt, expires_at);
        persist(self)
    }

    /// Calls the vendor API as this device: in JWT mode with the kept JWT, refreshed first
    /// when its own expiry has passed, and once more when the server answers
    /// `jwt_expired` (the clocks disagree). A new JWT is saved through `persist` before it
    /// is used.
    pub async fn call(&mut self, pc: &ProfileClient, persist: &mut Save<'_>) -> Result<Seen> {
        super::check_fault(self.mode.profile(), pc.fault())?;
        match (pc.fault(), self.mode) {
            (Some(Fault::ExpiredToken), Mode::Jwt) => {
                let (born_expired, expires_at) = self.login(pc, Some(0)).await?;
                let answer = self.send(pc, Credential::Jwt(&born_expired)).await?;
                return seen(&answer, false, Some(expires_at));
            }
            (Some(Fault::WrongSecret), Mode::Jwt) => {
                let forged = forge(&self.project_id, &self.device_id, pc.now_seconds())?;
                let answer = self.send(pc, Credential::Jwt(&forged)).await?;
                return seen(&answer, false, None);
            }
            (Some(Fault::WrongSecret), Mode::ApiKey) => {
                let mut bytes = [0u8; 24];
                pc.client().rng().fill(&mut bytes);
                let wrong = Zeroizing::new(uuid_text(bytes[..16].try_into().unwrap_or([0; 16])));
                let answer = self.send(pc, Credential::ApiKey(&wrong)).await?;
                return seen(&answer, false, None);
            }
            _ => {}
        }
        if self.mode == Mode::ApiKey {
            let key = self.mobile_api_key.clone().unwrap_or_default();
            let answer = self.send(pc, Credential::ApiKey(&key)).await?;
            return seen(&answer, false, None);
        }
        let mut refreshed = false;
        if self.needs_refresh(pc.now_seconds()) {
            self.refresh(pc, persist).await?;
            refreshed = true;
        }
        let jwt = self.jwt.clone().unwrap_or_default();
        match self.send(pc, Credential::Jwt(&jwt)).await {
            Err(Error::Server {
                status: 401, code, ..
            }) if code == "jwt_expired" && !refreshed && pc.fault().is_none() => {
                self.refresh(pc, persist).await?;
                let jwt = self.jwt.clone().unwrap_or_default();
                let answer = self.send(pc, Credential::Jwt(&jwt)).await?;
                seen(&answer, true, self.jwt_expires_at)
            }
            other => seen(&other?, refreshed, self.jwt_expires_at),
        }
    }

    async fn send(&self, pc: &ProfileClient, credential: Credential<'_>) -> Result<Answer> {
        let mut headers = vec![(INSTANCE_HEADER.to_owned(), self.device_id.clone())];
        match credential {
            Credential::Jwt(jwt) => {
                headers.push((
                    "Authorization".to_owned(),
                    format!("Bearer {}", jwt.as_str()),
                ));
            }
            Credential::ApiKey(key) => headers.push((API_KEY_HEADER.to_owned(), key.to_string())),
        }
        pc.send(
            "profile/jwt/api",
            reqwest::Method::GET,
            API_PATH,
            headers,
            None,
        )
        .await
    }

    /// [`Self::call`] under `fault`, judged: the report of what was sent and answered.
    pub async fn call_faulted(
        &mut self,
        pc: &ProfileClient,
        fault: Fault,
        persist: &mut Save<'_>,
    ) -> Result<FaultReport> {
        let check = FaultCheck::start(pc.client(), self.mode.profile(), fault)?;
        let faulted = pc.with_client(check.client());
        let result = self.call(&faulted, persist).await;
        Ok(check.report(&result, |fault| match (fault, self.mode) {
            (Fault::ExpiredToken, _) => "jwt_expired",
            (_, Mode::Jwt) => "jwt_invalid_signature",
            (_, Mode::ApiKey) => "invalid_api_key",
        }))
    }

    /// The account as the store keeps it: the record, and the secret part (password,
    /// mobile API key, JWT) as JSON bytes.
    pub fn to_parts(&self) -> (ProfileRecord, Zeroizing<Vec<u8>>) {
        let details = Details {
            mode: self.mode,
            project_id: self.project_id.clone(),
            username: self.username.clone(),
            jwt_expires_at: self.jwt_expires_at,
        };
        let record = ProfileRecord {
            profile: self.mode.profile().to_owned(),
            server_url: self.server_url.clone(),
            subject: self.device_id.clone(),
            details: serde_json::to_value(details).unwrap_or(Value::Null),
        };
        let secret = SecretPart {
            password: self.password.as_deref().cloned(),
            mobile_api_key: self.mobile_api_key.as_deref().cloned(),
            jwt: self.jwt.as_deref().cloned(),
        };
        let bytes = Zeroizing::new(serde_json::to_vec(&secret).unwrap_or_default());
        (record, bytes)
    }

    /// The account from what the store kept.
    pub fn from_parts(record: &ProfileRecord, secret: &[u8]) -> Result<Self> {
        let corrupt = |detail: String| Error::invalid("stored profile account", detail);
        let details: Details = serde_json::from_value(record.details.clone())
            .map_err(|e| corrupt(format!("the record does not read: {e}")))?;
        let secret: SecretPart = serde_json::from_slice(secret)
            .map_err(|e| corrupt(format!("the secret part does not read: {e}")))?;
        Ok(Self {
            mode: details.mode,
            server_url: record.server_url.clone(),
            project_id: details.project_id,
            device_id: record.subject.clone(),
            username: details.username,
            jwt_expires_at: details.jwt_expires_at,
            password: secret.password.clone().map(Zeroizing::new),
            mobile_api_key: secret.mobile_api_key.clone().map(Zeroizing::new),
            jwt: secret.jwt.clone().map(Zeroizing::new),
        })
    }
}

enum Credential<'a> {
    Jwt(&'a Zeroizing<String>),
    ApiKey(&'a Zeroizing<String>),
}

fn seen(answer: &Answer, refreshed: bool, jwt_expires_at: Option<i64>) -> Result<Seen> {
    Ok(Seen {
        instance_id: field(answer, "instanceId", "profile/jwt/api")?,
        project_id: field(answer, "projectId", "profile/jwt/api")?,
        credential: field(answer, "credential", "profile/jwt/api")?,
        refreshed,
        jwt_expires_at,
    })
}

/// The `exp` of a JWT, read without checking its signature.
pub fn expiry_of(jwt: &str) -> Option<i64> {
    unverified_claims(jwt)?.get("exp")?.as_i64()
}

/// A JWT with this device's claims, signed with a fresh P-256 key: not the vendor's.
fn forge(project_id: &str, device_id: &str, now: i64) -> Result<Zeroizing<String>> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .map_err(|_| Error::Protocol("no P-256 key pair for the forged JWT".to_owned()))?;
    let claims =
        json!({ "iss": project_id, "instance_id": device_id, "iat": now, "exp": now + 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
        &claims,
        &jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
    )
    .map(Zeroizing::new)
    .map_err(|e| Error::Protocol(format!("the forged JWT could not be signed: {e}")))
}

/// 16 random bytes as an RFC 4122 version 4 UUID.
fn uuid_text(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> JwtAccount {
        JwtAccount {
            mode: Mode::Jwt,
            server_url: "http://127.0.0.1:1".to_owned(),
            project_id: "p".to_owned(),
            device_id: "d".to_owned(),
            username: Some("alice".to_owned()),
            jwt_expires_at: Some(100),
            password: Some(Zeroizing::new("pw-secret".to_owned())),
            mobile_api_key: None,
            jwt: Some(Zeroizing::new("jwt-secret".to_owned())),
        }
    }

    #[test]
    fn parts_round_trip_and_keep_secrets_out_of_the_record() {
        let original = account();
        let (record, secret) = original.to_parts();
        let text = serde_json::to_string(&record).unwrap();
        assert!(!text.contains("secret"), "{text}");
        let back = JwtAccount::from_parts(&record, &secret).unwrap();
        assert_eq!(back.jwt.as_deref().map(String::as_str), Some("jwt-secret"));
        assert_eq!(back.device_id, "d");
        assert!(!format!("{back:?}").contains("secret"));
        assert!(JwtAccount::from_parts(&record, b"not json").is_err());
    }

    #[test]
    fn refresh_only_once_the_tokens_own_expiry_has_passed() {
        let account = account();
        assert!(!account.needs_refresh(99));
        assert!(account.needs_refresh(100));
        let api_key = JwtAccount {
            mode: Mode::ApiKey,
            ..account
        };
        assert!(!api_key.needs_refresh(1_000));
    }

    #[test]
    fn a_forged_jwt_reads_but_is_not_the_vendors() {
        let forged = forge("p", "d", 1_000).unwrap();
        assert_eq!(expiry_of(&forged), Some(4_600));
        assert_eq!(uuid_text([0; 16]).len(), 36);
    }
}
