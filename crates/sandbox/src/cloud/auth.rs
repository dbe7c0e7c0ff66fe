//! HTTP Basic authentication against the `users` table, and password hashing.

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Role, User};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use powerauth::RandomSource;
use powerauth::encoding::b64_decode;
use std::collections::HashMap;
use std::sync::Mutex;

/// A user who presented valid credentials.
#[derive(Debug, Clone)]
pub struct Authenticated(pub User);

/// A user who presented valid credentials and has the admin role.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let (username, password) = basic_credentials(parts)?;
        let user = state
            .store
            .user(&username)
            .await?
            .ok_or(Error::Unauthenticated("wrong username or password"))?;
        let tag = state.logins.tag(&username, &password);
        if state.logins.is_verified(&tag, &user.password_hash) {
            return Ok(Authenticated(user));
        }
        let hash = user.password_hash.clone();
        // Argon2 takes tens of milliseconds of CPU: keep it off the async workers.
        let valid = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(|e| Error::Internal(format!("password check task: {e}")))?;
        if !valid {
            return Err(Error::Unauthenticated("wrong username or password"));
        }
        state.logins.remember(tag, &user.password_hash);
        Ok(Authenticated(user))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Authenticated(user) = Authenticated::from_request_parts(parts, state).await?;
        if user.role != Role::Admin {
            return Err(Error::Forbidden);
        }
        Ok(Admin(user))
    }
}

fn basic_credentials(parts: &Parts) -> Result<(String, String), Error> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(Error::Unauthenticated(
            "missing Authorization: Basic header",
        ))?;
    let malformed = Error::Unauthenticated("malformed Authorization: Basic header");
    let encoded = header
        .to_str()
        .ok()
        .and_then(|value| {
            let (scheme, rest) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest.trim())
        })
        .ok_or(Error::Unauthenticated(
            "missing Authorization: Basic header",
        ))?;
    let decoded = b64_decode(encoded).map_err(|_| malformed)?;
    let text = String::from_utf8(decoded)
        .map_err(|_| Error::Unauthenticated("malformed Authorization: Basic header"))?;
    let (username, password) = text.split_once(':').ok_or(Error::Unauthenticated(
        "malformed Authorization: Basic header",
    ))?;
    Ok((username.to_owned(), password.to_owned()))
}

/// Logins that passed the Argon2 check, so a client sending the same Basic credentials
/// on every request (as API clients do) pays for Argon2 once, not per request.
///
/// An entry is an HMAC of username and password under a key drawn at start, mapped to the
/// stored hash it was checked against: a changed password (new stored hash) misses, and
/// nothing here outlives the process or reveals a password.
pub struct LoginCache {
    key: ring::hmac::Key,
    entries: Mutex<HashMap<LoginTag, String>>,
}

/// HMAC of a username and password under the cache's key.
pub type LoginTag = [u8; 32];

/// Entries kept before the cache starts over.
const LOGIN_CACHE_SIZE: usize = 1024;

impl LoginCache {
    /// An empty cache with a key from `rng`.
    pub fn new(rng: &dyn RandomSource) -> Self {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        Self {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cache key of a login attempt.
    pub fn tag(&self, username: &str, password: &str) -> LoginTag {
        let mut context = ring::hmac::Context::with_key(&self.key);
        // The length first, so ("ab", "c") and ("a", "bc") differ.
        context.update(&(username.len() as u64).to_be_bytes());
        context.update(username.as_bytes());
        context.update(password.as_bytes());
        let mut tag = [0u8; 32];
        tag.copy_from_slice(context.sign().as_ref());
        tag
    }

    /// Whether this login was verified against the user's current `password_hash`.
    pub fn is_verified(&self, tag: &LoginTag, password_hash: &str) -> bool {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tag)
            .is_some_and(|hash| hash == password_hash)
    }

    /// Records a login that matched `password_hash`.
    pub fn remember(&self, tag: LoginTag, password_hash: &str) {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= LOGIN_CACHE_SIZE {
            entries.clear();
        }
        entries.insert(tag, password_hash.to_owned());
    }
}

impl std::fmt::Debug for LoginCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginCache").finish_non_exhaustive()
    }
}

/// An Argon2id PHC string of `password` with a random salt.
pub fn hash_password(password: &str, rng: &dyn RandomSource) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A hash that does not parse matches
/// nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random password: 24 alphanumeric characters (about 143 bits), the form Wultra's
/// Cloud generates (`nMVPAQFZ4xqR9lP1m56reqaW`). Bytes of 248 and above are drawn again,
/// so each of the 62 letters is equally likely.
pub fn make_password(rng: &dyn RandomSource) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut password = String::with_capacity(24);
    while password.len() < 24 {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        for b in bytes {
            if b < 248 && password.len() < 24 {
                password.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    password
}
