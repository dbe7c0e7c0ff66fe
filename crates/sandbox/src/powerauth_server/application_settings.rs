//! `/rest/v3/application/config/*` and `/rest/v3/application/roles/*`: what PowerAuth
//! Server keeps per application besides its keys.
//!
//! - `config/detail`, `config/create` (saves or replaces one key's values),
//!   `config/remove` (answers the bare `{"status":"OK"}`). The keys are PowerAuth
//!   Server's: `fido2_attestation_fmt_allowed`, `fido2_aaguids_allowed`,
//!   `fido2_root_ca_certs`, `oauth2_providers`; any other is ERR0024.
//! - `roles/list`, `roles/create` (adds), `roles/update` (replaces), `roles/remove`; an
//!   empty role list is ERR0024. Roles come back sorted, as PowerAuth Server sorts them,
//!   and are reported by `signature/verify` and `token/validate`.
//!
//! An unknown application is ERR0015.

use crate::error::Error;
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The configuration keys PowerAuth Server accepts (`ALLOWED_CONFIGURATION_KEYS`).
pub(super) const CONFIG_KEYS: [&str; 4] = [
    "fido2_attestation_fmt_allowed",
    "fido2_aaguids_allowed",
    "fido2_root_ca_certs",
    "oauth2_providers",
];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/application/config/detail", post(config_detail))
        .route("/rest/v3/application/config/create", post(config_create))
        .route("/rest/v3/application/config/remove", post(config_remove))
        .route("/rest/v3/application/roles/list", post(roles_list))
        .route("/rest/v3/application/roles/create", post(roles_create))
        .route("/rest/v3/application/roles/update", post(roles_update))
        .route("/rest/v3/application/roles/remove", post(roles_remove))
}

async fn known(state: &AppState, application_id: &str) -> Result<(), Error> {
    match state.store.application(application_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::UnknownApplication),
    }
}

fn check_key(key: &str) -> Result<(), Error> {
    if CONFIG_KEYS.contains(&key) {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "unknown configuration key {key:?}; PowerAuth Server accepts {}",
            CONFIG_KEYS.join(", ")
        )))
    }
}

/// `GetApplicationConfigRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDetailRequest {
    application_id: String,
}

/// `ApplicationConfigurationItem`.
#[derive(Serialize)]
struct ConfigItem {
    key: String,
    values: Vec<Value>,
}

/// `GetApplicationConfigResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDetailResponse {
    application_id: String,
    application_configs: Vec<ConfigItem>,
}

/// PowerAuth Server answers the detail of any application id, an unknown one with no
/// items.
async fn config_detail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfigDetailRequest>,
) -> Result<ResponseObject<ConfigDetailResponse>, Error> {
    let items = state
        .store
        .application_configs(&request.application_id)
        .await?
        .into_iter()
        .map(|(key, values)| ConfigItem { key, values })
        .collect();
    Ok(ResponseObject(ConfigDetailResponse {
        application_id: request.application_id,
        application_configs: items,
    }))
}

/// `CreateApplicationConfigRequest` / `CreateApplicationConfigResponse`.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigCreate {
    application_id: String,
    key: String,
    #[serde(default)]
    values: Vec<Value>,
}

async fn config_create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfigCreate>,
) -> Result<ResponseObject<ConfigCreate>, Error> {
    check_key(&request.key)?;
    known(&state, &request.application_id).await?;
    state
        .store
        .save_application_config(&request.application_id, &request.key, &request.values)
        .await?;
    Ok(ResponseObject(request))
}

/// `RemoveApplicationConfigRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigRemoveRequest {
    application_id: String,
    key: String,
}

/// Answers PowerAuth Server's bare `Response`: `{"status":"OK"}`.
async fn config_remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ConfigRemoveRequest>,
) -> Result<Response, Error> {
    check_key(&request.key)?;
    known(&state, &request.application_id).await?;
    state
        .store
        .remove_application_config(&request.application_id, &request.key)
        .await?;
    Ok(axum::Json(serde_json::json!({"status": "OK"})).into_response())
}

/// `ListApplicationRolesRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesListRequest {
    application_id: String,
}

/// The roles answers (`…ApplicationRolesResponse`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolesResponse {
    application_id: Option<String>,
    application_roles: Vec<String>,
}

/// PowerAuth Server's list leaves `applicationId` of its answer unset (null).
async fn roles_list(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RolesListRequest>,
) -> Result<ResponseObject<RolesResponse>, Error> {
    known(&state, &request.application_id).await?;
    let mut roles = state
        .store
        .application_roles(&request.application_id)
        .await?;
    // Java's sort, whatever the database's collation.
    roles.sort();
    Ok(ResponseObject(RolesResponse {
        application_id: None,
        application_roles: roles,
    }))
}

/// `AddApplicationRolesRequest`, `UpdateApplicationRolesRequest`,
/// `RemoveApplicationRolesRequest`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RolesChange {
    application_id: String,
    #[serde(default)]
    application_roles: Vec<String>,
}

#[derive(Clone, Copy)]
enum Change {
    Add,
    Replace,
    Remove,
}

async fn change_roles(
    state: &AppState,
    request: RolesChange,
    change: Change,
) -> Result<ResponseObject<RolesResponse>, Error> {
    if request.application_roles.is_empty() {
        return Err(Error::InvalidRequest(
            "applicationRoles must not be empty".to_owned(),
        ));
    }
    known(state, &request.application_id).await?;
    let roles = &request.application_roles;
    let after = match change {
        Change::Add => {
            state
                .store
                .change_application_roles(&request.application_id, false, roles, &[])
        }
        Change::Replace => {
            state
                .store
                .change_application_roles(&request.application_id, true, roles, &[])
        }
        Change::Remove => {
            state
                .store
                .change_application_roles(&request.application_id, false, &[], roles)
        }
    }
    .await?;
    Ok(ResponseObject(RolesResponse {
        application_id: Some(request.application_id),
        application_roles: after,
    }))
}

async fn roles_create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RolesChange>,
) -> Result<ResponseObject<RolesResponse>, Error> {
    change_roles(&state, request, Change::Add).await
}

async fn roles_update(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RolesChange>,
) -> Result<ResponseObject<RolesResponse>, Error> {
    change_roles(&state, request, Change::Replace).await
}

async fn roles_remove(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<RolesChange>,
) -> Result<ResponseObject<RolesResponse>, Error> {
    change_roles(&state, request, Change::Remove).await
}
