//! Profile `jwt` (issue 16 §1): a vendor server whose mobile SDK authenticates either with a
//! mobile API key sent on every call, or with a device JWT; and the bank's minimal app
//! server that logs a user in and gets that JWT for the phone, server to server.
//!
//! ```text
//! POST /profiles/jwt/projects      {jwtLifetimeSeconds?}            -> 201 {projectId, apiKey, mobileApiKey, jwtLifetimeSeconds}
//! POST /profiles/jwt/gen-jwt       {api_key, instance_id, expires_in?} -> 200 {jwt, expires_at}      (vendor; the app server's call)
//! GET  /profiles/jwt/api/device    Authorization: Bearer JWT | X-Api-Key: KEY, and X-Instance-Id: ID
//!                                                                   -> 200 {instanceId, projectId, credential}
//! POST /profiles/jwt/app/users     {projectId, username, password}  -> 201 {projectId, username}   (the bank's app server)
//! POST /profiles/jwt/app/login     {projectId, username, password, deviceId, tokenLifetimeSeconds?}
//!                                                                   -> 200 {jwt, expiresAt, instanceId}
//! ```
//!
//! JWTs are ES256 (`jsonwebtoken`), claims `{iss: projectId, instance_id, iat, exp}`, signed
//! with the project's own P-256 key, valid `jwtLifetimeSeconds` (default 3600) by the
//! sandbox's clock. The vendor API refuses, each with 401 and a reason: a wrong API key
//! (`invalid_api_key`), a JWT signed with another key (`jwt_invalid_signature`), an expired
//! JWT (`jwt_expired`), and a JWT issued for another instance (`jwt_instance_mismatch`). The
//! app server reaches the vendor's `gen-jwt` through the same function its HTTP handler
//! runs, with the project's server API key: a sandbox has no network between the two.

use super::access::{self, Access};
use super::{Answer, Refusal, bearer, body, header_text, json, random_secret, seconds};
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// The profile's name in access records and paths.
pub(super) const PROFILE: &str = "jwt";
/// How long a JWT is valid unless the project says otherwise.
pub(super) const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
/// The longest lifetime a project may choose (a day).
pub(super) const MAX_LIFETIME_SECONDS: i64 = 86_400;
/// The header a device names its instance (device id) with.
pub(super) const INSTANCE_HEADER: &str = "x-instance-id";
/// The header of the mobile API key.
pub(super) const API_KEY_HEADER: &str = "x-api-key";
/// PBKDF2 rounds of the app server's test logins: a test double, not a bank.
const PASSWORD_ROUNDS: u32 = 1_000;

/// The routes under `/profiles/jwt`.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", post(create_project))
        .route("/gen-jwt", post(gen_jwt))
        .route("/api/device", get(api_device))
        .route("/app/users", post(create_user))
        .route("/app/login", post(login))
}

/// The claims of a device JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Claims {
    /// The project that issued it.
    pub iss: String,
    /// The device it was issued for.
    pub instance_id: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

struct Project {
    project_id: String,
    api_key: String,
    signing_key: Vec<u8>,
    public_key: Vec<u8>,
    lifetime_seconds: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewProject {
    jwt_lifetime_seconds: Option<i64>,
}

async fn create_project(
    State(state): State<AppState>,
    RawBody(bytes): RawBody,
) -> Answer<Response> {
    let request: NewProject = if bytes.is_empty() {
        NewProject {
            jwt_lifetime_seconds: None,
        }
    } else {
        body(&bytes)?
    };
    let lifetime = request
        .jwt_lifetime_seconds
        .unwrap_or(DEFAULT_LIFETIME_SECONDS);
    if !(1..=MAX_LIFETIME_SECONDS).contains(&lifetime) {
        return Err(Refusal::bad_request(format!(
            "jwtLifetimeSeconds must be 1 to {MAX_LIFETIME_SECONDS}, not {lifetime}"
        )));
    }
    let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        state.signing_rng(),
    )
    .map_err(|_| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "no key pair",
        )
    })?;
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8.as_ref(),
        state.signing_rng(),
    )
    .map_err(|_| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "no key pair",
        )
    })?;
    use ring::signature::KeyPair as _;
    let project_id = state.make_uuid();
    let api_key = random_secret(&state);
    let mobile_api_key = random_secret(&state);
    sqlx::query(
        "INSERT INTO profile_jwt_projects (project_id, api_key, mobile_api_key, signing_key, public_key, jwt_lifetime_seconds, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&project_id)
    .bind(&api_key)
    .bind(&mobile_api_key)
    .bind(STANDARD.encode(pkcs8.as_ref()))
    .bind(STANDARD.encode(pair.public_key().as_ref()))
    .bind(lifetime)
    .bind(state.now_ms())
    .execute(state.store.pool())
    .await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "projectId": project_id,
            "apiKey": api_key,
            "mobileApiKey": mobile_api_key,
            "jwtLifetimeSeconds": lifetime,
        }),
    ))
}

const PROJECT_COLUMNS: &str = "project_id, api_key, signing_key, public_key, jwt_lifetime_seconds";

fn project_from(row: &sqlx::any::AnyRow) -> Answer<Project> {
    let decode = |column: &str| -> Answer<Vec<u8>> {
        let text: String = row.try_get(column)?;
        STANDARD
            .decode(text)
            .map_err(|_| crate::store::StoreError::Corrupt("profile_jwt_projects").into())
    };
    Ok(Project {
        project_id: row.try_get("project_id")?,
        api_key: row.try_get("api_key")?,
        signing_key: decode("signing_key")?,
        public_key: decode("public_key")?,
        lifetime_seconds: row.try_get("jwt_lifetime_seconds")?,
    })
}

async fn project_where(state: &AppState, column: &str, value: &str) -> Answer<Option<Project>> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM profile_jwt_projects WHERE {column} = $1");
    match sqlx::query(&sql)
        .bind(value)
        .fetch_optional(state.store.pool())
        .await?
    {
        Some(row) => project_from(&row).map(Some),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
struct GenJwt {
    api_key: String,
    instance_id: String,
    /// Seconds the JWT is valid, at most the project's lifetime (default: that lifetime).
    expires_in: Option<i64>,
}

/// The vendor's `POST /gen-jwt`: a JWT for `instance_id`, authorised by the project's
/// server API key.
async fn gen_jwt(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: GenJwt = body(&bytes)?;
    let (jwt, claims) = issue(
        &state,
        &request.api_key,
        &request.instance_id,
        request.expires_in,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "jwt": jwt, "expires_at": claims.exp }),
    ))
}

fn check_instance_id(instance_id: &str) -> Answer<()> {
    let fine = !instance_id.is_empty()
        && instance_id.len() <= 128
        && instance_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if fine {
        Ok(())
    } else {
        Err(Refusal::bad_request(
            "instance_id must be 1 to 128 letters, digits, '-', '_', '.' or ':'",
        ))
    }
}

/// Signs a JWT for `instance_id` if `api_key` is a project's server API key, valid
/// `lifetime` seconds (0 to the project's lifetime; 0 makes a token born expired, for
/// testing a client's refusal path) or the project's lifetime.
async fn issue(
    state: &AppState,
    api_key: &str,
    instance_id: &str,
    lifetime: Option<i64>,
) -> Answer<(String, Claims)> {
    check_instance_id(instance_id)?;
    let Some(project) = project_where(state, "api_key", api_key).await? else {
        return Err(Refusal::unauthorized(
            "invalid_api_key",
            "the API key is not a project's server API key: use the apiKey the project was created with",
        ));
    };
    let lifetime = match lifetime {
        None => project.lifetime_seconds,
        Some(seconds) if (0..=project.lifetime_seconds).contains(&seconds) => seconds,
        Some(seconds) => {
            return Err(Refusal::bad_request(format!(
                "the lifetime must be 0 to the project's {} s, not {seconds}",
                project.lifetime_seconds
            )));
        }
    };
    let now = seconds(state.now_ms());
    let claims = Claims {
        iss: project.project_id.clone(),
        instance_id: instance_id.to_owned(),
        iat: now,
        exp: now + lifetime,
    };
    let jwt = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_der(&project.signing_key),
    )
    .map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the JWT could not be signed: {e}"),
        )
    })?;
    Ok((jwt, claims))
}

/// The vendor API a device calls: who it is, by JWT or mobile API key.
async fn api_device(State(state): State<AppState>, headers: HeaderMap) -> Answer<Response> {
    let instance = header_text(&headers, INSTANCE_HEADER)
        .unwrap_or_default()
        .to_owned();
    let outcome = authenticate(&state, &headers, &instance).await;
    let (project_id, credential) = match &outcome {
        Ok((project, credential)) => (project.clone(), *credential),
        Err((project, credential, _)) => (project.clone(), *credential),
    };
    access::record(
        &state,
        &Access {
            profile: PROFILE.to_owned(),
            project_id: project_id.clone().unwrap_or_default(),
            subject: instance.clone(),
            call: "api/device".to_owned(),
            credential: credential.to_owned(),
            signed: credential == "jwt",
            accepted: outcome.is_ok(),
            reason: outcome.as_ref().err().map(|(_, _, r)| r.error.to_owned()),
            at_ms: state.now_ms(),
        },
    )
    .await?;
    match outcome {
        Ok((project_id, credential)) => Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "instanceId": instance,
                "projectId": project_id,
                "credential": credential,
            }),
        )),
        Err((_, _, refusal)) => Err(refusal),
    }
}

type Refused = (Option<String>, &'static str, Refusal);

/// The project and how the call was authenticated, or the refusal (with what was known).
async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    instance: &str,
) -> Result<(Option<String>, &'static str), Refused> {
    let database = |e: Refusal| (None, "none", e);
    if instance.is_empty() {
        return Err((
            None,
            "none",
            Refusal::bad_request(format!(
                "the {INSTANCE_HEADER} header is missing: the device sends its device id with every call"
            )),
        ));
    }
    if let Some(token) = bearer(headers) {
        let jwt_refusal = |project: Option<String>, refusal: Refusal| (project, "jwt", refusal);
        let unverified = unverified_claims(token).map_err(|r| jwt_refusal(None, r))?;
        let project = project_where(state, "project_id", &unverified.iss)
            .await
            .map_err(database)?
            .ok_or_else(|| {
                jwt_refusal(
                    None,
                    Refusal::unauthorized(
                        "jwt_invalid_signature",
                        "the JWT names a project (iss) this vendor does not know: it was not issued here",
                    ),
                )
            })?;
        let project_id = Some(project.project_id.clone());
        let claims =
            verify(token, &project.public_key).map_err(|r| jwt_refusal(project_id.clone(), r))?;
        let now = seconds(state.now_ms());
        if claims.exp <= now {
            return Err(jwt_refusal(
                project_id,
                Refusal::unauthorized(
                    "jwt_expired",
                    format!(
                        "the JWT expired {} s ago (exp {}): log in to the app server again for a new one",
                        now - claims.exp,
                        claims.exp
                    ),
                ),
            ));
        }
        if claims.instance_id != instance {
            return Err(jwt_refusal(
                project_id,
                Refusal::unauthorized(
                    "jwt_instance_mismatch",
                    format!(
                        "the JWT was issued for instance {:?}, not for {instance:?}: a JWT works only on the device it was issued for",
                        claims.instance_id
                    ),
                ),
            ));
        }
        return Ok((project_id, "jwt"));
    }
    if let Some(key) = header_text(headers, API_KEY_HEADER) {
        let project = project_where(state, "mobile_api_key", key)
            .await
            .map_err(database)?;
        return match project {
            Some(project) => Ok((Some(project.project_id), "api-key")),
            None => Err((
                None,
                "api-key",
                Refusal::unauthorized(
                    "invalid_api_key",
                    "the mobile API key is not a project's: configure the mobileApiKey the project was created with",
                ),
            )),
        };
    }
    Err((
        None,
        "none",
        Refusal::unauthorized(
            "missing_credentials",
            "no credentials: send Authorization: Bearer <JWT> or X-Api-Key: <mobile API key>",
        ),
    ))
}

/// The claims of `token` before its signature is checked (to find the project's key).
fn unverified_claims(token: &str) -> Answer<Claims> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| {
        Refusal::unauthorized(
            "jwt_malformed",
            format!("the bearer token is not a JWT: {e}"),
        )
    })?;
    if header.alg != Algorithm::ES256 {
        return Err(Refusal::unauthorized(
            "jwt_invalid_signature",
            format!(
                "the JWT is signed with {:?}; this vendor signs with ES256",
                header.alg
            ),
        ));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.insecure_disable_signature_validation();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&[]), &validation)
        .map(|data| data.claims)
        .map_err(|e| {
            Refusal::unauthorized(
                "jwt_malformed",
                format!("the JWT's claims are not this vendor's (iss, instance_id, iat, exp): {e}"),
            )
        })
}

/// Verifies `token`'s ES256 signature with `public_key`; expiry is checked by the caller
/// against the sandbox's clock.
fn verify(token: &str, public_key: &[u8]) -> Answer<Claims> {
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_ec_der(public_key), &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::unauthorized(
                "jwt_invalid_signature",
                "the JWT is not signed with this project's key: it was forged or issued by another vendor",
            ),
            _ => Refusal::unauthorized("jwt_malformed", format!("the JWT does not verify: {e}")),
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Login {
    project_id: String,
    username: String,
    password: String,
    device_id: Option<String>,
    /// A shorter JWT than the project's (0: born expired), for testing refusals.
    token_lifetime_seconds: Option<i64>,
}

fn check_username(username: &str) -> Answer<()> {
    if username.trim().is_empty() || username.len() > 128 || username.chars().any(char::is_control)
    {
        return Err(Refusal::bad_request(
            "username must be 1 to 128 characters, no control characters",
        ));
    }
    Ok(())
}

fn hash_password(salt: &[u8], password: &str) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(PASSWORD_ROUNDS).unwrap_or(std::num::NonZeroU32::MIN),
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

/// The app server's `POST /app/users`: a login for `username` (a test user).
async fn create_user(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: Login = body(&bytes)?;
    check_username(&request.username)?;
    if request.password.is_empty() || request.password.len() > 1024 {
        return Err(Refusal::bad_request("password must be 1 to 1024 bytes"));
    }
    if project_where(&state, "project_id", &request.project_id)
        .await?
        .is_none()
    {
        return Err(Refusal::not_found(format!(
            "there is no project {:?}: create one with POST /profiles/jwt/projects",
            request.project_id
        )));
    }
    let salt = state.random::<16>();
    let hash = hash_password(&salt, &request.password);
    let inserted = sqlx::query(
        "INSERT INTO profile_jwt_users (project_id, username, password_salt, password_hash) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project_id, username) DO NOTHING",
    )
    .bind(&request.project_id)
    .bind(&request.username)
    .bind(STANDARD.encode(salt))
    .bind(STANDARD.encode(hash))
    .execute(state.store.pool())
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(Refusal::new(
            StatusCode::CONFLICT,
            "user_exists",
            format!("the app server already has a user {:?}", request.username),
        ));
    }
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "projectId": request.project_id, "username": request.username }),
    ))
}

/// The app server's `POST /app/login`: checks the user's password, then gets a JWT for the
/// device from the vendor (`gen-jwt` with the project's server API key).
async fn login(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: Login = body(&bytes)?;
    check_username(&request.username)?;
    let Some(device_id) = request.device_id.as_deref() else {
        return Err(Refusal::bad_request(
            "deviceId is missing: the device sends its device id with the login",
        ));
    };
    check_instance_id(device_id)?;
    let wrong = || {
        Refusal::unauthorized(
            "invalid_credentials",
            "wrong username or password for the app server",
        )
    };
    let row = sqlx::query(
        "SELECT password_salt, password_hash FROM profile_jwt_users WHERE project_id = $1 AND username = $2",
    )
    .bind(&request.project_id)
    .bind(&request.username)
    .fetch_optional(state.store.pool())
    .await?;
    let Some(row) = row else {
        return Err(wrong());
    };
    let salt: String = row.try_get("password_salt")?;
    let hash: String = row.try_get("password_hash")?;
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return Err(crate::store::StoreError::Corrupt("profile_jwt_users").into());
    };
    let verified = ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(PASSWORD_ROUNDS).unwrap_or(std::num::NonZeroU32::MIN),
        &salt,
        request.password.as_bytes(),
        &hash,
    );
    if verified.is_err() {
        return Err(wrong());
    }
    let Some(project) = project_where(&state, "project_id", &request.project_id).await? else {
        return Err(wrong());
    };
    let (jwt, claims) = issue(
        &state,
        &project.api_key,
        device_id,
        request.token_lifetime_seconds,
    )
    .await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "jwt": jwt, "expiresAt": claims.exp, "instanceId": claims.instance_id }),
    ))
}
