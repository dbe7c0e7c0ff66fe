//! `/rest/v3/application/callback/*`: an application's callback URLs, as PowerAuth
//! Server's `ApplicationCallbackController` and `CallbackUrlBehavior` have them. Errors:
//! a missing or invalid field is `ERR0024` (PowerAuth Server's bean validation), a URL that
//! does not parse `ERR0014`, an unknown application `ERR0015`, updating an id that is not
//! the application's `ERR0024`; removing an unknown id answers `"removed": false`.

use crate::callbacks::auth::{PrivateAuth, PublicAuth};
use crate::callbacks::duration;
use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use crate::store::CallbackUrlRecord;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde::{Deserialize, Deserializer, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/application/callback/create", post(create))
        .route("/rest/v3/application/callback/update", post(update))
        .route("/rest/v3/application/callback/list", post(list))
        .route("/rest/v3/application/callback/remove", post(remove))
}

/// `CallbackUrlType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum CallbackUrlType {
    ActivationStatusChange,
    OperationStatusChange,
}

impl CallbackUrlType {
    fn as_str(self) -> &'static str {
        match self {
            Self::ActivationStatusChange => crate::callbacks::ACTIVATION_STATUS_CHANGE,
            Self::OperationStatusChange => crate::callbacks::OPERATION_STATUS_CHANGE,
        }
    }

    fn parse(stored: &str) -> Result<Self, Error> {
        match stored {
            crate::callbacks::ACTIVATION_STATUS_CHANGE => Ok(Self::ActivationStatusChange),
            crate::callbacks::OPERATION_STATUS_CHANGE => Ok(Self::OperationStatusChange),
            _ => Err(Error::Internal(format!("stored callback type {stored:?}"))),
        }
    }
}

/// The fields create and update share (`CreateCallbackUrlRequest`,
/// `UpdateCallbackUrlRequest`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CallbackFields {
    application_id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    callback_type: Option<CallbackUrlType>,
    callback_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    attributes: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    authentication: PrivateAuth,
    #[serde(default, deserialize_with = "java_duration")]
    retention_period: Option<i64>,
    #[serde(default, deserialize_with = "java_duration")]
    initial_backoff: Option<i64>,
    max_attempts: Option<i64>,
}

/// The fields after PowerAuth Server's bean validation (`@NotBlank`, `@NotNull`,
/// `@DurationMin(0)`, `@Min(1)`).
struct Valid {
    application_id: String,
    name: String,
    callback_type: CallbackUrlType,
    callback_url: String,
}

impl CallbackFields {
    fn validate(&self) -> Result<Valid, Error> {
        let blank = |field: &str| Error::InvalidRequest(format!("{field} - must not be blank"));
        let present = |value: &Option<String>, field: &str| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
                .ok_or_else(|| blank(field))
        };
        let application_id = present(&self.application_id, "applicationId")?;
        let callback_url = present(&self.callback_url, "callbackUrl")?;
        let name = present(&self.name, "name")?;
        let callback_type = self
            .callback_type
            .ok_or_else(|| Error::InvalidRequest("type - must not be null".to_owned()))?;
        for (value, field) in [
            (self.initial_backoff, "initialBackoff"),
            (self.retention_period, "retentionPeriod"),
        ] {
            if value.is_some_and(|ms| ms < 0) {
                return Err(Error::InvalidRequest(format!(
                    "{field} - Duration must be positive or zero"
                )));
            }
        }
        if self.max_attempts.is_some_and(|n| n < 1) {
            return Err(Error::InvalidRequest(
                "maxAttempts - must be greater than or equal to 1".to_owned(),
            ));
        }
        Ok(Valid {
            application_id,
            name,
            callback_type,
            callback_url,
        })
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A `java.time.Duration` as Jackson reads it: an ISO 8601 string, or a number of
/// seconds. Milliseconds here.
fn java_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error as _;
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => duration::parse_ms(&text)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("{text:?} is not an ISO 8601 duration"))),
        Some(serde_json::Value::Number(seconds)) => seconds
            .as_f64()
            .map(|s| s * 1000.0)
            .filter(|ms| ms.is_finite() && ms.abs() < 9.0e15)
            .map(|ms| Some(ms.trunc() as i64))
            .ok_or_else(|| D::Error::custom("duration out of range")),
        Some(other) => Err(D::Error::custom(format!(
            "a duration is an ISO 8601 string, not {other}"
        ))),
    }
}

/// PowerAuth Server checks with `new java.net.URL(…)`; the sandbox can only deliver over
/// HTTP(S), so it also wants that scheme and a host.
fn check_url(url: &str) -> Result<(), Error> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| {
        Error::rest(
            RestCode::InvalidUrlFormat,
            format!("callbackUrl does not parse: {e}"),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::rest(
            RestCode::InvalidUrlFormat,
            "callbackUrl must be an http:// or https:// URL with a host",
        ));
    }
    Ok(())
}

/// `CreateCallbackUrlResponse`, `UpdateCallbackUrlResponse` and `CallbackUrl`: the stored
/// URL with the defaults filled in, authentication without its secrets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackUrlView {
    id: String,
    application_id: String,
    name: String,
    #[serde(rename = "type")]
    callback_type: CallbackUrlType,
    callback_url: String,
    attributes: Vec<String>,
    authentication: PublicAuth,
    retention_period: String,
    initial_backoff: String,
    max_attempts: i64,
}

impl CallbackUrlView {
    fn of(state: &AppState, record: CallbackUrlRecord) -> Result<Self, Error> {
        let defaults = &state.config.callbacks;
        let auth: PrivateAuth = serde_json::from_value(record.authentication)
            .map_err(|e| Error::Internal(format!("stored callback authentication: {e}")))?;
        let ms = |d: std::time::Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Ok(Self {
            callback_type: CallbackUrlType::parse(&record.callback_type)?,
            id: record.callback_id,
            application_id: record.application_id,
            name: record.name,
            callback_url: record.callback_url,
            attributes: record.attributes,
            authentication: auth.public(),
            retention_period: duration::format_ms(
                record
                    .retention_period_ms
                    .unwrap_or_else(|| ms(defaults.default_retention_period)),
            ),
            initial_backoff: duration::format_ms(
                record
                    .initial_backoff_ms
                    .unwrap_or_else(|| ms(defaults.default_initial_backoff)),
            ),
            max_attempts: record
                .max_attempts
                .unwrap_or(i64::from(defaults.default_max_attempts)),
        })
    }
}

fn record_of(fields: CallbackFields, valid: Valid, id: String, now: i64) -> CallbackUrlRecord {
    CallbackUrlRecord {
        callback_id: id,
        application_id: valid.application_id,
        name: valid.name,
        callback_type: valid.callback_type.as_str().to_owned(),
        callback_url: valid.callback_url,
        attributes: fields.attributes,
        authentication: serde_json::to_value(&fields.authentication).unwrap_or_default(),
        retention_period_ms: fields.retention_period,
        initial_backoff_ms: fields.initial_backoff,
        max_attempts: fields.max_attempts,
        enabled: true,
        timestamp_created: now,
        timestamp_last_updated: None,
    }
}

async fn create(
    State(state): State<AppState>,
    RequestObject(fields): RequestObject<CallbackFields>,
) -> Result<ResponseObject<CallbackUrlView>, Error> {
    let valid = fields.validate()?;
    check_url(&valid.callback_url)?;
    if state
        .store
        .application(&valid.application_id)
        .await?
        .is_none()
    {
        return Err(Error::rest(
            RestCode::InvalidApplication,
            format!("no application {:?}", valid.application_id),
        ));
    }
    let record = record_of(fields, valid, state.make_uuid(), state.now_ms());
    state.store.insert_callback_url(&record).await?;
    state.callbacks.urls_changed();
    Ok(ResponseObject(CallbackUrlView::of(&state, record)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    id: Option<String>,
    #[serde(flatten)]
    fields: CallbackFields,
}

async fn update(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<UpdateRequest>,
) -> Result<ResponseObject<CallbackUrlView>, Error> {
    let id = request
        .id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| Error::InvalidRequest("id - must not be blank".to_owned()))?;
    let mut fields = request.fields;
    let valid = fields.validate()?;
    let existing = state
        .store
        .callback_url(&id)
        .await?
        .filter(|c| c.application_id == valid.application_id)
        .ok_or_else(|| {
            Error::rest(
                RestCode::InvalidRequest,
                format!(
                    "no callback URL {id:?} in application {:?}",
                    valid.application_id
                ),
            )
        })?;
    check_url(&valid.callback_url)?;
    let stored: PrivateAuth = serde_json::from_value(existing.authentication)
        .map_err(|e| Error::Internal(format!("stored callback authentication: {e}")))?;
    fields.authentication.keep_secrets_of(&stored);
    let now = state.now_ms();
    let mut record = record_of(fields, valid, id, existing.timestamp_created);
    record.timestamp_last_updated = Some(now);
    if !state.store.update_callback_url(&record).await? {
        return Err(Error::rest(
            RestCode::InvalidRequest,
            "the callback URL was removed meanwhile",
        ));
    }
    state.callbacks.urls_changed();
    Ok(ResponseObject(CallbackUrlView::of(&state, record)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    application_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallbackUrlList {
    callback_url_list: Vec<CallbackUrlView>,
}

async fn list(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ListRequest>,
) -> Result<ResponseObject<CallbackUrlList>, Error> {
    let mut callback_url_list = Vec::new();
    if let Some(application_id) = request.application_id {
        for record in state.store.callback_urls(&application_id, None).await? {
            callback_url_list.push(CallbackUrlView::of(&state, record)?);
        }
    }
    Ok(ResponseObject(CallbackUrlList { callback_url_list }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoveRequest {
    id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Removal {
    id: String,
    removed: bool,
}

async fn remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RemoveRequest>,
) -> Result<ResponseObject<Removal>, Error> {
    let id = request
        .id
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| Error::InvalidRequest("id - must not be blank".to_owned()))?;
    let removed = state
        .store
        .disable_callback_url(&id, state.now_ms())
        .await?;
    if removed {
        state.callbacks.urls_changed();
    }
    Ok(ResponseObject(Removal { id, removed }))
}
