//! The access history every profile keeps: one row per authenticated call, accepted or
//! refused, saying who (the user or device instance), how it was authenticated (`jwt`,
//! `api-key`, `signed-token`, `unsigned`…), whether it carried a signed token, and the
//! refusal's code. The console and the desktop app's inspector read it through
//! `GET /profiles/accesses`. Nothing secret is stored: no token, key or password.

use super::{Answer, Refusal, json};
use crate::state::AppState;
use crate::store::flag;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// One access, as recorded and as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Access {
    /// The profile, e.g. `jwt`.
    pub profile: String,
    /// The profile's project (tenant) id.
    pub project_id: String,
    /// Who: the user id or the device's instance id.
    pub subject: String,
    /// The call, e.g. `api/device` or `attach`.
    pub call: String,
    /// How it was authenticated: `jwt`, `api-key`, `signed-token`, `unsigned`…
    pub credential: String,
    /// Whether the call carried a signed token.
    pub signed: bool,
    /// Whether it was accepted.
    pub accepted: bool,
    /// The refusal's code when it was not (`jwt_expired`…).
    pub reason: Option<String>,
    /// When, Unix ms (the sandbox's clock).
    pub at_ms: i64,
}

/// Records `access` (with the time it carries) under the next access number, in one
/// transaction: taking the number locks the counter, so concurrent accesses are numbered
/// in the order they are written, and the history lists them in that order even within
/// one millisecond.
pub(super) async fn record(state: &AppState, access: &Access) -> Answer<()> {
    let mut tx = state.store.begin().await?;
    let number: i64 = sqlx::query(
        "UPDATE sequences SET value = value + 1 WHERE name = 'profile_accesses' RETURNING value",
    )
    .fetch_one(&mut *tx)
    .await?
    .try_get("value")?;
    sqlx::query(
        "INSERT INTO profile_accesses (access_id, access_number, profile, project_id, subject, endpoint, credential, signed, accepted, reason, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(state.make_uuid())
    .bind(number)
    .bind(&access.profile)
    .bind(&access.project_id)
    .bind(&access.subject)
    .bind(&access.call)
    .bind(&access.credential)
    .bind(flag(access.signed))
    .bind(flag(access.accepted))
    .bind(access.reason.as_deref())
    .bind(access.at_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The filter of [`list`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Filter {
    /// Only this profile.
    pub profile: Option<String>,
    /// Only this project.
    pub project_id: Option<String>,
    /// Only this user or instance.
    pub subject: Option<String>,
    /// At most this many (1–1000, default 100).
    pub limit: Option<i64>,
}

/// The accesses `filter` selects, newest first: by time, then by the order they were
/// recorded (a clock set back by a test still lists by time).
pub(super) async fn list(state: &AppState, filter: &Filter) -> Answer<Vec<Access>> {
    let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
    let rows = sqlx::query(
        "SELECT profile, project_id, subject, endpoint, credential, signed, accepted, reason, at_ms FROM profile_accesses \
         WHERE ($1 = '' OR profile = $1) AND ($2 = '' OR project_id = $2) AND ($3 = '' OR subject = $3) \
         ORDER BY at_ms DESC, access_number DESC LIMIT $4",
    )
    .bind(filter.profile.as_deref().unwrap_or_default())
    .bind(filter.project_id.as_deref().unwrap_or_default())
    .bind(filter.subject.as_deref().unwrap_or_default())
    .bind(limit)
    .fetch_all(state.store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Access {
                profile: row.try_get("profile")?,
                project_id: row.try_get("project_id")?,
                subject: row.try_get("subject")?,
                call: row.try_get("endpoint")?,
                credential: row.try_get("credential")?,
                signed: row.try_get::<i64, _>("signed")? != 0,
                accepted: row.try_get::<i64, _>("accepted")? != 0,
                reason: row.try_get("reason")?,
                at_ms: row.try_get("at_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Refusal::from)
}

/// `GET /profiles/accesses?profile=&projectId=&subject=&limit=`.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/profiles/accesses", get(accesses))
}

async fn accesses(
    State(state): State<AppState>,
    query: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Answer<Response> {
    let Query(filter) = query.map_err(|e| Refusal::bad_request(e.body_text()))?;
    let accesses = list(&state, &filter).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "accesses": accesses }),
    ))
}
