//! Profile `facemap`: face authentication transactions in the shapes of Jumio's
//! "Authentication with facemap storage on customer premise", under `/profiles/facemap`.
//! A bank's server sends a stored facemap with an enrollment reference, the user's device
//! performs the face capture, and the final state goes to the bank's callback URL.
//!
//! Jumio's API (the paths after the prefix are Jumio's; HTTP Basic with the API token as
//! user and the API secret as password; `User-Agent` required):
//!
//! - `POST /api/authentication/v1/facemap/initiate`: `multipart/form-data` with a
//!   `facemap` part (bytes, at most [`MAX_FACEMAP_BYTES`]) and an `enrollmentMetadata`
//!   JSON part ([`metadata`]). Answers `{"authenticationTransactionReference"}`, and for
//!   a web transaction (any of `successUrl`, `errorUrl`, `locale`,
//!   `tokenLifetimeInMinutes` given) also `redirectUrl`.
//! - `GET /api/netverify/v2/authentications/{transactionReference}`: Jumio's retrieval:
//!   `transactionReference`, `enrollmentTransactionReference`, `transactionResult`
//!   (`CREATED`, `STARTED`, `PASSED`, `FAILED`, `INVALID`, `EXPIRED`), `transactionDate`,
//!   `scanSource` (`SDK`, `WEB`), `userReference`.
//!
//! Lifetimes: a transaction expires 15 minutes after it was made, or after
//! `tokenLifetimeInMinutes` when that is shorter (Jumio accepts 5–86400 but keeps the
//! facemap at most 15 minutes). A newer transaction for the same enrollment reference
//! made within 15 minutes ends the open older ones `EXPIRED`: only the last can finish.
//! All times come from the sandbox's [`Clock`](crate::Clock).
//!
//! Refusals (Jumio: "calls with missing or suspicious headers … or without HTTP Basic
//! Authentication will result in 403 Forbidden"): no `User-Agent`, a content type other
//! than `multipart/form-data`, missing or wrong credentials are 403; a missing `facemap`
//! or `enrollmentMetadata` part or bad metadata 400; a facemap over the limit 413; an
//! unknown reference 404. Bodies are `{"httpStatus", "message"}` (Jumio documents only "the
//! relevant HTTP status code and information about the cause"). The secret and the
//! facemap bytes are never logged, stored or echoed; only the facemap's size is kept.
//!
//! Ours, not Jumio's (Jumio's SDK protocol is not public), for the simulated device, same
//! credentials: `POST /sdk/v1/authentications/{ref}/start` (`CREATED` → `STARTED`, the
//! capture screen opened) and `POST /sdk/v1/authentications/{ref}/capture` with
//! `{"face": "LIVE_MATCH" | "SPOOF" | "DIFFERENT_PERSON", "timestamp": ms}`, which ends it
//! `PASSED`, `INVALID` or `FAILED` (409 when it already ended, with its state; 400 when the
//! device clock is more than [`CLOCK_TOLERANCE_MS`] off). A capture never sent ends
//! `EXPIRED` (the tester's "timeout"). `GET /web/v4/app?authorizationToken=…` is the web
//! transaction's page, and `POST /credentials` (Cloud admin Basic auth,
//! `{"applicationId"}`) makes an API token and secret for an application, the secret shown
//! once.

pub mod metadata;
pub mod store;
pub(crate) mod worker;

use crate::cloud::auth::{Admin, hash_password, make_password};
use crate::error::Error as SandboxError;
use crate::extract::{Json, json_response};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use powerauth::encoding::b64_decode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{MAX_LIFETIME_MS, Transaction, TxResult};

/// The path prefix of the profile.
pub const PREFIX: &str = "/profiles/facemap";
/// The initiate path (the one endpoint that takes `multipart/form-data`).
pub const INITIATE_PATH: &str = "/profiles/facemap/api/authentication/v1/facemap/initiate";
/// The largest facemap accepted (FaceTec facemaps are tens to hundreds of KB).
pub(crate) const MAX_FACEMAP_BYTES: usize = 2 * 1024 * 1024;
/// How far the device's capture timestamp may be from the sandbox's clock.
pub const CLOCK_TOLERANCE_MS: i64 = 5 * 60 * 1000;

/// The routes, to be nested under [`PREFIX`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/authentication/v1/facemap/initiate",
            post(initiate).layer(DefaultBodyLimit::max(MAX_FACEMAP_BYTES + 64 * 1024)),
        )
        .route(
            "/api/netverify/v2/authentications/{reference}",
            get(retrieve),
        )
        .route("/sdk/v1/authentications/{reference}/start", post(start))
        .route("/sdk/v1/authentications/{reference}/capture", post(capture))
        .route("/web/v4/app", get(web_page))
        .route("/credentials", post(create_credentials))
}

/// A refusal in the profile's shape: `{"httpStatus": N, "message": "…"}`.
#[derive(Debug)]
pub struct Refusal {
    status: StatusCode,
    message: String,
    result: Option<TxResult>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            result: None,
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(error: crate::store::StoreError) -> Self {
        tracing::error!(%error, "facemap: database error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }
}

impl From<SandboxError> for Refusal {
    fn from(error: SandboxError) -> Self {
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(%error, "facemap: internal error");
            return Self::new(status, "internal server error");
        }
        Self::new(status, error.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = json!({"httpStatus": self.status.as_u16(), "message": self.message});
        if let Some(result) = self.result {
            body["transactionResult"] = json!(result.as_str());
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// The application whose API credentials the request carries, after the `User-Agent`
/// check. Every failure is 403, as Jumio documents.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, Refusal> {
    let forbidden = |message: &str| Refusal::new(StatusCode::FORBIDDEN, message);
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if agent.trim().is_empty() {
        return Err(forbidden(
            "missing User-Agent header: send one naming your company and application, e.g. \"YourCompany YourApp/1.0\"",
        ));
    }
    let missing = "missing HTTP Basic credentials: send Authorization: Basic with the API token as user and the API secret as password";
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| forbidden(missing))?;
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim())
        .ok_or_else(|| forbidden(missing))?;
    let wrong = "wrong API token or secret";
    let decoded = b64_decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| forbidden("malformed Authorization: Basic header"))?;
    let (token, secret) = decoded
        .split_once(':')
        .ok_or_else(|| forbidden("malformed Authorization: Basic header"))?;
    if token.chars().any(char::is_control) || token.len() > 64 {
        return Err(forbidden(wrong));
    }
    let Some((application_id, hash)) = store::credentials(&state.store, token).await? else {
        state.logins.check(secret.to_owned(), None).await?;
        return Err(forbidden(wrong));
    };
    let tag = state.logins.tag(token, secret);
    if !state.logins.is_verified(&tag, &hash) {
        if !state
            .logins
            .check(secret.to_owned(), Some(hash.clone()))
            .await?
        {
            return Err(forbidden(wrong));
        }
        state.logins.remember(tag, &hash);
    }
    Ok(Authenticated {
        api_token: token.to_owned(),
        application_id,
    })
}

struct Authenticated {
    api_token: String,
    application_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitiateResponse {
    authentication_transaction_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    redirect_url: Option<String>,
}

async fn initiate(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, Refusal> {
    let caller = authenticate(&state, &headers).await?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != "multipart/form-data" {
        let shown = if media.is_empty() { "none" } else { &media };
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "Content-Type {shown} is not accepted: send multipart/form-data with a facemap part and an enrollmentMetadata part"
            ),
        ));
    }
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("not a multipart body: {e}"),
            )
        })?;
    let mut facemap_size: Option<usize> = None;
    let mut metadata_bytes: Option<Vec<u8>> = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refusal)? {
        match field.name() {
            Some("facemap") => {
                if facemap_size.is_some() {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "more than one facemap part",
                    ));
                }
                // Counted, never kept: the sandbox compares no faces.
                let mut size = 0usize;
                while let Some(chunk) = field.chunk().await.map_err(multipart_refusal)? {
                    size += chunk.len();
                    if size > MAX_FACEMAP_BYTES {
                        return Err(too_large());
                    }
                }
                facemap_size = Some(size);
            }
            Some("enrollmentMetadata") => {
                if metadata_bytes.is_some() {
                    return Err(Refusal::new(
                        StatusCode::BAD_REQUEST,
                        "more than one enrollmentMetadata part",
                    ));
                }
                let bytes = field.bytes().await.map_err(multipart_refusal)?;
                if bytes.len() > 64 * 1024 {
                    return Err(Refusal::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the enrollmentMetadata part is larger than 64 KiB",
                    ));
                }
                metadata_bytes = Some(bytes.to_vec());
            }
            _ => {}
        }
    }
    let facemap_size = match facemap_size {
        Some(0) => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "the facemap part is empty: send the facemap bytes of the enrollment",
            ));
        }
        Some(size) => size,
        None => {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                "missing facemap part: send the enrollment's facemap bytes as a part named \"facemap\" (application/octet-stream)",
            ));
        }
    };
    let metadata_bytes = metadata_bytes.ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "missing enrollmentMetadata part: send a JSON part named \"enrollmentMetadata\" with at least enrollmentTransactionReference",
        )
    })?;
    let metadata = metadata::parse(&metadata_bytes)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let now = state.now_ms();
    let lifetime = metadata
        .token_lifetime_in_minutes
        .map_or(MAX_LIFETIME_MS, |m| (m * 60_000).min(MAX_LIFETIME_MS));
    let web = metadata.is_web();
    let authorization_token = web.then(|| hex(&state.random::<16>()));
    let transaction = Transaction {
        reference: state.make_uuid(),
        application_id: caller.application_id,
        api_token: caller.api_token,
        enrollment_reference: metadata.enrollment_transaction_reference,
        user_reference: metadata.user_reference,
        callback_url: metadata.callback_url,
        success_url: metadata.success_url,
        error_url: metadata.error_url,
        locale: metadata.locale,
        scan_source: if web { "WEB" } else { "SDK" }.to_owned(),
        authorization_token,
        facemap_size: i64::try_from(facemap_size).unwrap_or(i64::MAX),
        result: TxResult::Created,
        reason: None,
        created_ms: now,
        expires_ms: now.saturating_add(lifetime),
        finished_ms: None,
        callback_status: None,
        callback_attempts: 0,
        callback_http_status: None,
        callback_error: None,
    };
    let superseded = store::insert_superseding(&state.store, &transaction).await?;
    if superseded > 0 {
        state.facemap.wake();
    }
    tracing::info!(
        reference = %transaction.reference,
        application = %transaction.application_id,
        scan_source = %transaction.scan_source,
        facemap_bytes = facemap_size,
        superseded,
        "facemap transaction initiated"
    );
    let redirect_url = transaction.authorization_token.as_ref().map(|token| {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let locale = transaction.locale.as_deref().unwrap_or("en");
        format!("http://{host}{PREFIX}/web/v4/app?authorizationToken={token}&locale={locale}")
    });
    Ok(json_response(&InitiateResponse {
        authentication_transaction_reference: transaction.reference,
        redirect_url,
    }))
}

fn too_large() -> Refusal {
    Refusal::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the facemap part is larger than {} bytes (2 MiB): send the facemap exported for the enrollment, not an image or video",
            MAX_FACEMAP_BYTES
        ),
    )
}

fn multipart_refusal(error: axum::extract::multipart::MultipartError) -> Refusal {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    Refusal::new(
        StatusCode::BAD_REQUEST,
        format!("malformed multipart body: {}", error.body_text()),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A transaction of the caller's application, expired first if it is past its time.
async fn own_transaction(
    state: &AppState,
    caller: &Authenticated,
    reference: &str,
) -> Result<Transaction, Refusal> {
    let not_found = || {
        Refusal::new(
            StatusCode::NOT_FOUND,
            format!("no authentication transaction {reference:?} for these credentials"),
        )
    };
    if reference.len() > 64 || reference.chars().any(char::is_control) {
        return Err(not_found());
    }
    let transaction = store::get(&state.store, reference)
        .await?
        .filter(|t| t.application_id == caller.application_id)
        .ok_or_else(not_found)?;
    let now = state.now_ms();
    if !transaction.result.is_final() && transaction.expires_ms <= now {
        if store::expire_due(&state.store, now).await? > 0 {
            state.facemap.wake();
        }
        return store::get(&state.store, reference)
            .await?
            .ok_or_else(not_found);
    }
    Ok(transaction)
}

/// Jumio's authentication retrieval.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Retrieval {
    transaction_reference: String,
    enrollment_transaction_reference: String,
    transaction_result: &'static str,
    transaction_date: String,
    scan_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_reference: Option<String>,
}

async fn retrieve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, Refusal> {
    let caller = authenticate(&state, &headers).await?;
    let t = own_transaction(&state, &caller, &reference).await?;
    Ok(json_response(&Retrieval {
        transaction_result: t.result.as_str(),
        transaction_date: worker::jumio_time(t.created_ms),
        transaction_reference: t.reference,
        enrollment_transaction_reference: t.enrollment_reference,
        scan_source: t.scan_source,
        user_reference: t.user_reference,
    }))
}

/// What the device sees of a transaction (ours).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceView {
    transaction_reference: String,
    transaction_result: &'static str,
    /// Unix ms.
    timestamp_expires: i64,
}

fn device_view(t: &Transaction) -> Response {
    json_response(&DeviceView {
        transaction_reference: t.reference.clone(),
        transaction_result: t.result.as_str(),
        timestamp_expires: t.expires_ms,
    })
}

fn ended(t: &Transaction) -> Refusal {
    Refusal {
        status: StatusCode::CONFLICT,
        message: format!(
            "the transaction has already ended {}{}: only an open transaction can be captured; initiate a new one",
            t.result.as_str(),
            t.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ),
        result: Some(t.result),
    }
}

async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Result<Response, Refusal> {
    let caller = authenticate(&state, &headers).await?;
    let t = own_transaction(&state, &caller, &reference).await?;
    if t.result.is_final() {
        return Err(ended(&t));
    }
    store::start(&state.store, &reference, state.now_ms()).await?;
    let t = own_transaction(&state, &caller, &reference).await?;
    if t.result.is_final() {
        return Err(ended(&t));
    }
    Ok(device_view(&t))
}

/// The face the tester chose for the capture.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Face {
    LiveMatch,
    Spoof,
    DifferentPerson,
}

#[derive(Deserialize)]
struct CaptureRequest {
    face: Face,
    /// The device's clock, Unix ms.
    timestamp: i64,
}

async fn capture(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    body: Result<Json<CaptureRequest>, SandboxError>,
) -> Result<Response, Refusal> {
    let caller = authenticate(&state, &headers).await?;
    let Json(request) = body.map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "{e}; send {{\"face\": \"LIVE_MATCH\" | \"SPOOF\" | \"DIFFERENT_PERSON\", \"timestamp\": UNIX_MS}}"
            ),
        )
    })?;
    let t = own_transaction(&state, &caller, &reference).await?;
    if t.result.is_final() {
        return Err(ended(&t));
    }
    let now = state.now_ms();
    let skew = request.timestamp.saturating_sub(now);
    if skew.abs() > CLOCK_TOLERANCE_MS {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            format!(
                "the device clock is {} s {} the server's (at most {} s allowed): set the device's clock",
                skew.abs() / 1000,
                if skew > 0 { "ahead of" } else { "behind" },
                CLOCK_TOLERANCE_MS / 1000
            ),
        ));
    }
    let (result, reason) = match request.face {
        Face::LiveMatch => (TxResult::Passed, "LIVE_MATCH"),
        Face::Spoof => (TxResult::Invalid, "SPOOF"),
        Face::DifferentPerson => (TxResult::Failed, "DIFFERENT_PERSON"),
    };
    let finished = store::finish(&state.store, &reference, result, reason, now).await?;
    let t = own_transaction(&state, &caller, &reference).await?;
    if !finished {
        return Err(ended(&t));
    }
    state.facemap.wake();
    tracing::info!(reference = %t.reference, result = t.result.as_str(), "facemap capture");
    Ok(device_view(&t))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebQuery {
    authorization_token: Option<String>,
}

/// The web transaction's page: what the user would open from `redirectUrl`.
async fn web_page(State(state): State<AppState>, Query(query): Query<WebQuery>) -> Response {
    let token = query.authorization_token.unwrap_or_default();
    let row = if token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        sqlx_lookup(&state, &token).await
    } else {
        None
    };
    let Some(t) = row else {
        return (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>Authentication</title><p>This authentication link is not valid (errorCode 9200: authorization token missing, invalid, or expired).</p>".to_owned()),
        )
            .into_response();
    };
    let state_text = match t.result {
        TxResult::Created | TxResult::Started => {
            "Waiting for the face capture. Capture it with the device: tokensim profile facemap capture"
        }
        TxResult::Passed => "Authenticated: the face is live and matches the enrollment.",
        TxResult::Failed => "Not authenticated: the face does not match the enrollment.",
        TxResult::Invalid => "Not authenticated: the capture was not a live face.",
        TxResult::Expired => "This authentication has expired.",
    };
    Html(format!(
        "<!doctype html><meta charset=utf-8><title>Authentication</title>\
         <h1>Face authentication</h1><p id=reference>{}</p><p id=result>{}</p><p>{}</p>",
        t.reference,
        t.result.as_str(),
        state_text
    ))
    .into_response()
}

async fn sqlx_lookup(state: &AppState, token: &str) -> Option<Transaction> {
    let reference: Option<String> = sqlx::query_scalar(
        "SELECT transaction_reference FROM facemap_transactions WHERE authorization_token = $1",
    )
    .bind(token)
    .fetch_optional(state.store.pool())
    .await
    .ok()
    .flatten();
    let reference = reference?;
    let t = store::get(&state.store, &reference).await.ok().flatten()?;
    let now = state.now_ms();
    if !t.result.is_final() && t.expires_ms <= now {
        let _ = store::expire_due(&state.store, now).await;
        state.facemap.wake();
        return store::get(&state.store, &reference).await.ok().flatten();
    }
    Some(t)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewCredentials {
    application_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialsView {
    application_id: String,
    api_token: String,
    api_secret: String,
}

async fn create_credentials(
    _: Admin,
    State(state): State<AppState>,
    Json(request): Json<NewCredentials>,
) -> Result<Response, SandboxError> {
    if state
        .store
        .application(&request.application_id)
        .await?
        .is_none()
    {
        return Err(SandboxError::InvalidRequest(format!(
            "no application {:?}",
            request.application_id
        )));
    }
    let api_token = state.make_uuid();
    let api_secret = make_password(&*state.rng);
    let hash = hash_password(&api_secret, &*state.rng)?;
    store::insert_credentials(
        &state.store,
        &api_token,
        &request.application_id,
        &hash,
        state.now_ms(),
    )
    .await?;
    Ok(json_response(&CredentialsView {
        application_id: request.application_id,
        api_token,
        api_secret,
    }))
}
