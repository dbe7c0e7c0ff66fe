//! Profile `signed-token` (issue 16 §4): a vendor whose SDK attaches a user to the device
//! (`attach`) and reports events (`identify`), and which a project can configure to require
//! signed tokens on those calls. A token is an HS256 JWT `{"user": ID, "iat", "exp"}` (for
//! identify the "user" is the event id) signed with the project's API secret. It comes from
//! the vendor's sign endpoint (a paid call in real life: each is counted) or is self-signed
//! by the bank's app server; the app server's sign endpoint is rate-limited per user.
//!
//! ```text
//! POST /profiles/signed-token/projects                {requireSignedTokens?, tokenLifetimeSeconds?, signRatePerMinute?}
//!                                                     -> 201 {projectId, apiKey, apiSecret, …settings}
//! GET  /profiles/signed-token/projects/{id}           -> {projectId, requireSignedTokens, tokenLifetimeSeconds, signRatePerMinute, signCalls}
//! PUT  /profiles/signed-token/projects/{id}/settings  {requireSignedTokens?, signRatePerMinute?} -> the project
//! POST /profiles/signed-token/sign                    Basic apiKey:apiSecret, {user} -> {token, expiresAt, signCalls}   (vendor, counted)
//! POST /profiles/signed-token/app/sign                {projectId, user, source?: self|vendor, tokenLifetimeSeconds?}
//!                                                     -> {token, expiresAt, source}; 429 rate_limited for that user only
//! POST /profiles/signed-token/attach                  {projectId, user, token?}    -> {accepted, signed, user}
//! POST /profiles/signed-token/identify                {projectId, eventId, token?} -> {accepted, signed, eventId}
//! ```
//!
//! Refusals: 401 `token_required` (the project requires signed tokens, none came),
//! `token_invalid` (not a JWT, not HS256, not signed with the project's secret),
//! `token_expired` (by the sandbox's clock), `token_user_mismatch` (the token's user is not
//! the call's); 401 `invalid_credentials` on the vendor sign endpoint; 429 `rate_limited`.
//! Every attach and identify is kept in the access history with whether it was signed.

use super::access::{self, Access};
use super::{Answer, Refusal, body, json, random_secret, seconds};
use crate::extract::RawBody;
use crate::state::AppState;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use governor::{Quota, RateLimiter};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The profile's name in access records and paths.
pub(super) const PROFILE: &str = "signed-token";
/// How long a token is valid unless the project says otherwise.
pub(super) const DEFAULT_LIFETIME_SECONDS: i64 = 3600;
/// The app server's signs per user and minute unless the project says otherwise.
pub(super) const DEFAULT_SIGN_RATE_PER_MINUTE: i64 = 10;

/// The routes under `/profiles/signed-token`.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", post(create_project))
        .route("/projects/{id}", get(show_project))
        .route("/projects/{id}/settings", put(settings))
        .route("/sign", post(vendor_sign))
        .route("/app/sign", post(app_sign))
        .route("/attach", post(attach))
        .route("/identify", post(identify))
}

/// The claims of a signed device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Claims {
    /// The user id (attach) or the event id (identify).
    pub user: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// The sandbox's clock as `governor` reads it, so the test clock drives the rate limit.
#[derive(Clone)]
pub(super) struct LimiterClock(Arc<dyn crate::clock::Clock>);

impl governor::clock::Clock for LimiterClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.now_ms()).unwrap_or(0))
    }
}

type UserLimiter = RateLimiter<
    String,
    governor::state::keyed::HashMapStateStore<String>,
    LimiterClock,
    governor::middleware::NoOpMiddleware<Duration>,
>;

/// The per-user rate limiters of the app server's sign endpoint, one per project and rate.
#[derive(Default)]
pub struct Limits {
    limiters: Mutex<HashMap<(String, u32), Arc<UserLimiter>>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

impl Limits {
    /// Takes one sign of `user` in `project` at `per_minute`; `Err(seconds to wait)` when
    /// the user is over the rate (other users are not affected).
    fn take(
        &self,
        state: &AppState,
        project: &str,
        per_minute: u32,
        user: &str,
    ) -> Result<(), u64> {
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            limiters
                .entry((project.to_owned(), per_minute))
                .or_insert_with(|| {
                    let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
                    Arc::new(RateLimiter::hashmap_with_clock(
                        Quota::per_minute(rate),
                        LimiterClock(state.clock.clone()),
                    ))
                })
                .clone()
        };
        limiter.check_key(&user.to_owned()).map_err(|not_until| {
            let now = governor::clock::Clock::now(&LimiterClock(state.clock.clone()));
            not_until.wait_time_from(now).as_secs().max(1)
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Project {
    project_id: String,
    #[serde(skip)]
    api_key: String,
    #[serde(skip)]
    api_secret: String,
    require_signed_tokens: bool,
    token_lifetime_seconds: i64,
    sign_rate_per_minute: i64,
    sign_calls: i64,
}

const COLUMNS: &str = "project_id, api_key, api_secret, require_signed_tokens, token_lifetime_seconds, sign_rate_per_minute, sign_calls";

fn project_from(row: &sqlx::any::AnyRow) -> Result<Project, sqlx::Error> {
    Ok(Project {
        project_id: row.try_get("project_id")?,
        api_key: row.try_get("api_key")?,
        api_secret: row.try_get("api_secret")?,
        require_signed_tokens: row.try_get::<i64, _>("require_signed_tokens")? != 0,
        token_lifetime_seconds: row.try_get("token_lifetime_seconds")?,
        sign_rate_per_minute: row.try_get("sign_rate_per_minute")?,
        sign_calls: row.try_get("sign_calls")?,
    })
}

async fn project_where(state: &AppState, column: &str, value: &str) -> Answer<Option<Project>> {
    let sql = format!("SELECT {COLUMNS} FROM profile_signed_token_projects WHERE {column} = $1");
    let row = sqlx::query(&sql)
        .bind(value)
        .fetch_optional(state.store.pool())
        .await?;
    Ok(row.as_ref().map(project_from).transpose()?)
}

async fn project(state: &AppState, id: &str) -> Answer<Project> {
    project_where(state, "project_id", id)
        .await?
        .ok_or_else(|| {
            Refusal::not_found(format!(
                "there is no project {id:?}: create one with POST /profiles/signed-token/projects"
            ))
        })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Settings {
    require_signed_tokens: Option<bool>,
    token_lifetime_seconds: Option<i64>,
    sign_rate_per_minute: Option<i64>,
}

fn check_settings(settings: &Settings) -> Answer<()> {
    if let Some(lifetime) = settings.token_lifetime_seconds
        && !(1..=86_400).contains(&lifetime)
    {
        return Err(Refusal::bad_request(format!(
            "tokenLifetimeSeconds must be 1 to 86400, not {lifetime}"
        )));
    }
    if let Some(rate) = settings.sign_rate_per_minute
        && !(1..=100_000).contains(&rate)
    {
        return Err(Refusal::bad_request(format!(
            "signRatePerMinute must be 1 to 100000, not {rate}"
        )));
    }
    Ok(())
}

async fn create_project(
    State(state): State<AppState>,
    RawBody(bytes): RawBody,
) -> Answer<Response> {
    let settings: Settings = if bytes.is_empty() {
        Settings::default()
    } else {
        body(&bytes)?
    };
    check_settings(&settings)?;
    let project = Project {
        project_id: state.make_uuid(),
        api_key: random_secret(&state),
        api_secret: random_secret(&state),
        require_signed_tokens: settings.require_signed_tokens.unwrap_or(true),
        token_lifetime_seconds: settings
            .token_lifetime_seconds
            .unwrap_or(DEFAULT_LIFETIME_SECONDS),
        sign_rate_per_minute: settings
            .sign_rate_per_minute
            .unwrap_or(DEFAULT_SIGN_RATE_PER_MINUTE),
        sign_calls: 0,
    };
    sqlx::query(
        "INSERT INTO profile_signed_token_projects (project_id, api_key, api_secret, require_signed_tokens, token_lifetime_seconds, sign_rate_per_minute, sign_calls, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
    )
    .bind(&project.project_id)
    .bind(&project.api_key)
    .bind(&project.api_secret)
    .bind(crate::store::flag(project.require_signed_tokens))
    .bind(project.token_lifetime_seconds)
    .bind(project.sign_rate_per_minute)
    .bind(state.now_ms())
    .execute(state.store.pool())
    .await?;
    let mut answer = serde_json::to_value(&project).unwrap_or_default();
    answer["apiKey"] = project.api_key.clone().into();
    answer["apiSecret"] = project.api_secret.clone().into();
    Ok(json(StatusCode::CREATED, &answer))
}

async fn show_project(State(state): State<AppState>, Path(id): Path<String>) -> Answer<Response> {
    Ok(json(StatusCode::OK, &project(&state, &id).await?))
}

async fn settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawBody(bytes): RawBody,
) -> Answer<Response> {
    let settings: Settings = body(&bytes)?;
    check_settings(&settings)?;
    let current = project(&state, &id).await?;
    sqlx::query(
        "UPDATE profile_signed_token_projects SET require_signed_tokens = $2, token_lifetime_seconds = $3, sign_rate_per_minute = $4 WHERE project_id = $1",
    )
    .bind(&id)
    .bind(crate::store::flag(
        settings
            .require_signed_tokens
            .unwrap_or(current.require_signed_tokens),
    ))
    .bind(
        settings
            .token_lifetime_seconds
            .unwrap_or(current.token_lifetime_seconds),
    )
    .bind(
        settings
            .sign_rate_per_minute
            .unwrap_or(current.sign_rate_per_minute),
    )
    .execute(state.store.pool())
    .await?;
    Ok(json(StatusCode::OK, &project(&state, &id).await?))
}

fn sign(project: &Project, user: &str, now: i64, lifetime: i64) -> Answer<(String, Claims)> {
    let claims = Claims {
        user: user.to_owned(),
        iat: now,
        exp: now + lifetime,
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(project.api_secret.as_bytes()),
    )
    .map(|token| (token, claims))
    .map_err(|e| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            format!("the token could not be signed: {e}"),
        )
    })
}

fn check_user(user: &str, what: &str) -> Answer<()> {
    if user.trim().is_empty() || user.len() > 256 || user.chars().any(char::is_control) {
        return Err(Refusal::bad_request(format!(
            "{what} must be 1 to 256 characters, no control characters"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VendorSign {
    user: String,
}

/// HTTP Basic `apiKey:apiSecret`.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (key, secret) = text.split_once(':')?;
    Some((key.to_owned(), secret.to_owned()))
}

/// The vendor's sign endpoint: a token for `user`, counted (a paid call in real life).
async fn vendor_sign(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Answer<Response> {
    let wrong = || {
        Refusal::unauthorized(
            "invalid_credentials",
            "the sign endpoint takes HTTP Basic with the project's API key and API secret",
        )
    };
    let (key, secret) = basic(&headers).ok_or_else(wrong)?;
    let project = project_where(&state, "api_key", &key)
        .await?
        .filter(|p| p.api_secret == secret)
        .ok_or_else(wrong)?;
    let request: VendorSign = body(&bytes)?;
    check_user(&request.user, "user")?;
    let (token, claims) = vendor_signed(&state, &project, &request.user, None).await?;
    let calls = project_where(&state, "project_id", &project.project_id)
        .await?
        .map_or(0, |p| p.sign_calls);
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "token": token, "expiresAt": claims.exp, "signCalls": calls }),
    ))
}

async fn vendor_signed(
    state: &AppState,
    project: &Project,
    user: &str,
    lifetime: Option<i64>,
) -> Answer<(String, Claims)> {
    sqlx::query(
        "UPDATE profile_signed_token_projects SET sign_calls = sign_calls + 1 WHERE project_id = $1",
    )
    .bind(&project.project_id)
    .execute(state.store.pool())
    .await?;
    sign(
        project,
        user,
        seconds(state.now_ms()),
        lifetime.unwrap_or(project.token_lifetime_seconds),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppSign {
    project_id: String,
    user: String,
    source: Option<String>,
    token_lifetime_seconds: Option<i64>,
}

/// The app server's sign endpoint, rate-limited per user: self-signs with the project's API
/// secret, or (`source: vendor`) asks the vendor's counted sign endpoint.
async fn app_sign(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: AppSign = body(&bytes)?;
    check_user(&request.user, "user")?;
    let project = project(&state, &request.project_id).await?;
    let lifetime = match request.token_lifetime_seconds {
        None => None,
        Some(s) if (0..=project.token_lifetime_seconds).contains(&s) => Some(s),
        Some(s) => {
            return Err(Refusal::bad_request(format!(
                "tokenLifetimeSeconds must be 0 to the project's {} s, not {s}",
                project.token_lifetime_seconds
            )));
        }
    };
    let rate = u32::try_from(project.sign_rate_per_minute).unwrap_or(u32::MAX);
    if let Err(wait) =
        state
            .profiles
            .signed_token
            .take(&state, &project.project_id, rate, &request.user)
    {
        let mut refusal = Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "user {:?} asked for more than {rate} tokens a minute: wait {wait} s (other users are not affected)",
                request.user
            ),
        );
        refusal.header = Some((header::RETRY_AFTER, wait.to_string()));
        return Err(refusal);
    }
    let source = request.source.as_deref().unwrap_or("self");
    let (token, claims) = match source {
        "self" => sign(
            &project,
            &request.user,
            seconds(state.now_ms()),
            lifetime.unwrap_or(project.token_lifetime_seconds),
        )?,
        "vendor" => vendor_signed(&state, &project, &request.user, lifetime).await?,
        other => {
            return Err(Refusal::bad_request(format!(
                "source must be self or vendor, not {other:?}"
            )));
        }
    };
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "token": token, "expiresAt": claims.exp, "source": source }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Call {
    project_id: String,
    user: Option<String>,
    event_id: Option<String>,
    token: Option<String>,
}

async fn attach(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: Call = body(&bytes)?;
    let user = request
        .user
        .clone()
        .ok_or_else(|| Refusal::bad_request("user is missing: attach names the user"))?;
    guarded(&state, &request, "attach", &user).await
}

async fn identify(State(state): State<AppState>, RawBody(bytes): RawBody) -> Answer<Response> {
    let request: Call = body(&bytes)?;
    let event = request
        .event_id
        .clone()
        .ok_or_else(|| Refusal::bad_request("eventId is missing: identify names the event"))?;
    guarded(&state, &request, "identify", &event).await
}

/// Checks the call's token against the project's rules, records the access, answers.
async fn guarded(state: &AppState, request: &Call, call: &str, subject: &str) -> Answer<Response> {
    check_user(subject, if call == "attach" { "user" } else { "eventId" })?;
    let project = project(state, &request.project_id).await?;
    let outcome = check_token(state, &project, request.token.as_deref(), subject);
    let signed = request.token.is_some();
    access::record(
        state,
        &Access {
            profile: PROFILE.to_owned(),
            project_id: project.project_id.clone(),
            subject: subject.to_owned(),
            call: call.to_owned(),
            credential: if signed { "signed-token" } else { "unsigned" }.to_owned(),
            signed,
            accepted: outcome.is_ok(),
            reason: outcome.as_ref().err().map(|r| r.error.to_owned()),
            at_ms: state.now_ms(),
        },
    )
    .await?;
    outcome?;
    let key = if call == "attach" { "user" } else { "eventId" };
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "accepted": true, "signed": signed, key: subject }),
    ))
}

fn check_token(
    state: &AppState,
    project: &Project,
    token: Option<&str>,
    subject: &str,
) -> Answer<()> {
    let Some(token) = token else {
        return if project.require_signed_tokens {
            Err(Refusal::unauthorized(
                "token_required",
                "this project requires a signed token on attach and identify: get one from the app server",
            ))
        } else {
            Ok(())
        };
    };
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(project.api_secret.as_bytes()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => Refusal::unauthorized(
            "token_invalid",
            "the token is not signed with this project's API secret: it was forged or signed for another project",
        ),
        _ => Refusal::unauthorized(
            "token_invalid",
            format!("the token is not an HS256 JWT signed with this project's API secret: {e}"),
        ),
    })?
    .claims;
    let now = seconds(state.now_ms());
    if claims.exp <= now {
        return Err(Refusal::unauthorized(
            "token_expired",
            format!(
                "the token expired {} s ago: get a new one from the app server",
                now - claims.exp
            ),
        ));
    }
    if claims.user != subject {
        return Err(Refusal::unauthorized(
            "token_user_mismatch",
            format!(
                "the token was signed for {:?}, the call is for {subject:?}",
                claims.user
            ),
        ));
    }
    Ok(())
}
