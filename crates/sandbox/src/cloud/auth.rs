//! HTTP Basic authentication against the `users` table, and password hashing.

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Role, User};
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use powerauth::RandomSource;
use powerauth::encoding::b64_decode;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use tokio::sync::Semaphore;

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
        let wrong = Error::Unauthenticated("wrong username or password");
        let Some(user) = state.store.user(&username).await? else {
            // An unknown user costs the same Argon2 check as a wrong password, so the time
            // of the answer does not tell which user names exist.
            state.logins.check(password, None).await?;
            return Err(wrong);
        };
        let tag = state.logins.tag(&username, &password);
        if state.logins.is_verified(&tag, &user.password_hash) {
            return Ok(Authenticated(user));
        }
        if !state
            .logins
            .check(password, Some(user.password_hash.clone()))
            .await?
        {
            return Err(wrong);
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
    parse_basic(header)
}

/// The user name and password of an `Authorization: Basic …` value (RFC 7617), as sent by
/// anyone: the scheme case-insensitive, Base64 of UTF-8 `name:password`, the name free of
/// control characters (no stored name has one, and PostgreSQL cannot be asked about a
/// NUL). Every refusal is a 401 that says what was wrong with the header.
pub fn parse_basic(header: &HeaderValue) -> Result<(String, String), Error> {
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
    if username.chars().any(char::is_control) {
        return Err(Error::Unauthenticated("wrong username or password"));
    }
    Ok((username.to_owned(), password.to_owned()))
}

/// The Argon2 checks of Basic credentials, and the logins that passed one.
///
/// A client sending the same Basic credentials on every request (as API clients do) pays
/// for Argon2 once, not per request: an entry is an HMAC of username and password under a
/// key drawn at start, mapped to the stored hash it was checked against, so a changed
/// password (new stored hash) misses, and nothing here outlives the process or reveals a
/// password.
///
/// Every other attempt (a wrong password, an unknown user) runs one Argon2 check. At most
/// [`CONCURRENT_CHECKS`] run at once, each in one of as many memory buffers kept for the
/// life of the process: a crowd of clients sending wrong passwords waits in line instead of
/// allocating 19 MiB each (the memory the default parameters take).
pub struct LoginCache {
    key: ring::hmac::Key,
    entries: Mutex<HashMap<LoginTag, String>>,
    permits: Semaphore,
    buffers: Mutex<Vec<Vec<Block>>>,
    /// Checks run so far, and the most that ran at once (figures for tests and the probe).
    checks_run: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Argon2 checks that may run at once.
pub const CONCURRENT_CHECKS: usize = 2;

/// The largest Argon2 memory cost a stored hash may ask for, in KiB blocks: the default
/// (19 MiB) with room to spare. A hand-edited hash asking for more matches nothing.
const MAX_BLOCKS: usize = 64 * 1024;

/// What an unknown user is checked against: the default parameters, a fixed salt, an
/// output no password is known to produce. The answer is thrown away; only the time counts.
fn dummy_hash() -> String {
    format!(
        "$argon2id$v=19$m={},t={},p={}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST
    )
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
            permits: Semaphore::new(CONCURRENT_CHECKS),
            buffers: Mutex::new(Vec::new()),
            checks_run: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Argon2 checks run since start.
    pub fn checks_run(&self) -> u64 {
        self.checks_run.load(Ordering::Relaxed)
    }

    /// The most Argon2 checks that ran at the same time.
    pub fn peak_checks(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Runs one Argon2 check of `password` against `hash` (against a dummy hash of the same
    /// cost when `None`, which never matches), waiting for a free slot first. Argon2 takes
    /// tens of milliseconds of CPU: it runs off the async workers.
    pub async fn check(&self, password: String, hash: Option<String>) -> Result<bool, Error> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("password check slots: {e}")))?;
        let mut buffer = self
            .buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let running = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(running, Ordering::SeqCst);
        self.checks_run.fetch_add(1, Ordering::Relaxed);
        let outcome = tokio::task::spawn_blocking(move || {
            let valid = match &hash {
                Some(hash) => verify_in(&password, hash, &mut buffer),
                None => {
                    verify_in(&password, &dummy_hash(), &mut buffer);
                    false
                }
            };
            (valid, buffer)
        })
        .await;
        self.running.fetch_sub(1, Ordering::SeqCst);
        let (valid, buffer) =
            outcome.map_err(|e| Error::Internal(format!("password check task: {e}")))?;
        self.buffers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(buffer);
        Ok(valid)
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
    pub(crate) fn is_verified(&self, tag: &LoginTag, password_hash: &str) -> bool {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tag)
            .is_some_and(|hash| hash == password_hash)
    }

    /// Records a login that matched `password_hash`.
    pub(crate) fn remember(&self, tag: LoginTag, password_hash: &str) {
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
pub(crate) fn hash_password(password: &str, rng: &dyn RandomSource) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    rng.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("password hashing: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A hash that does not parse, or asks
/// for more memory than the sandbox allows, matches nothing.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    verify_in(password, hash, &mut Vec::new())
}

/// [`verify_password`] with Argon2's working memory in `blocks`, grown as needed and kept
/// for the next check.
fn verify_in(password: &str, hash: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        Params::try_from(&parsed),
        Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        return false;
    }
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::new());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..])
        .is_ok()
        // `Output` compares in constant time.
        && Output::new(&out).is_ok_and(|out| out == expected)
}

/// A random password: 24 alphanumeric characters (about 143 bits), the form Wultra's
/// Cloud generates (`nMVPAQFZ4xqR9lP1m56reqaW`). Bytes of 248 and above are drawn again,
/// so each of the 62 letters is equally likely.
pub(crate) fn make_password(rng: &dyn RandomSource) -> String {
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
