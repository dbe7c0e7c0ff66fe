//! `/powerauth-cloud/admin/*`: system users (integration users get a generated password,
//! shown once) and applications with the credentials a mobile app is built with. Admin
//! role only.

use super::auth::{Admin, hash_password, make_password};
use super::status_ok;
use crate::apps;
use crate::error::Error;
use crate::extract::{RawBody, json_response};
use crate::state::AppState;
use crate::store::{Application, Role, User};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{delete, get, post};
use powerauth::encoding::b64;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{username}", delete(delete_user))
        .route(
            "/admin/users/{username}/applications/{app_id}",
            post(assign_application),
        )
        .route(
            "/admin/applications",
            get(list_applications).post(create_application),
        )
        .route("/admin/applications/{id}", get(application_detail))
}

/// A system user as the Cloud shows it (`password` only in the creation answer).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    enabled: bool,
    role: Vec<&'static str>,
    applications: Vec<String>,
}

fn roles(role: Role) -> Vec<&'static str> {
    match role {
        Role::Admin => vec!["ROLE_ADMIN"],
        Role::Integration => vec!["ROLE_USER"],
    }
}

async fn user_view(state: &AppState, user: User) -> Result<UserView, Error> {
    Ok(UserView {
        applications: state.store.user_applications(&user.username).await?,
        role: roles(user.role),
        username: user.username,
        password: None,
        enabled: true,
    })
}

async fn list_users(_: Admin, State(state): State<AppState>) -> Result<Response, Error> {
    let mut users = Vec::new();
    for user in state.store.users().await? {
        users.push(user_view(&state, user).await?);
    }
    Ok(json_response(&users))
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
}

async fn create_user(
    _: Admin,
    State(state): State<AppState>,
    body: RawBody,
) -> Result<Response, Error> {
    let request: NewUser =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let username = request.username.trim();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        return Err(Error::InvalidRequest(
            "username must be 1 to 64 characters of A-Z a-z 0-9 - _ . @".to_owned(),
        ));
    }
    let password = make_password(&*state.rng);
    let user = User {
        username: username.to_owned(),
        role: Role::Integration,
        password_hash: hash_password(&password, &*state.rng)?,
        timestamp_created: state.now_ms(),
    };
    if !state.store.create_user(&user).await? {
        return Err(Error::InvalidRequest(format!(
            "a user {username:?} already exists"
        )));
    }
    let mut view = user_view(&state, user).await?;
    view.password = Some(password);
    Ok(json_response(&view))
}

async fn delete_user(
    Admin(admin): Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Response, Error> {
    if username == admin.username {
        return Err(Error::InvalidRequest(
            "an admin cannot delete the user it is logged in as".to_owned(),
        ));
    }
    if !state.store.delete_user(&username).await? {
        return Err(Error::InvalidRequest(format!("no user {username:?}")));
    }
    Ok(status_ok())
}

/// `POST /admin/users/{username}/applications/{appId}`: the path says everything; a body
/// (the tutorial repeats the path in one) is ignored. Assigning again changes nothing.
async fn assign_application(
    _: Admin,
    State(state): State<AppState>,
    Path((username, app_id)): Path<(String, String)>,
) -> Result<Response, Error> {
    let user = state
        .store
        .user(&username)
        .await?
        .ok_or_else(|| Error::InvalidRequest(format!("no user {username:?}")))?;
    if state.store.application(&app_id).await?.is_none() {
        return Err(Error::InvalidRequest(format!("no application {app_id:?}")));
    }
    state
        .store
        .assign_application(&username, &app_id, state.now_ms())
        .await?;
    Ok(json_response(&user_view(&state, user).await?))
}

/// An application as the Cloud shows it: flat, with everything a mobile app is built with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ApplicationView {
    id: String,
    service_base_url: String,
    master_server_public_key: String,
    app_key: String,
    app_secret: String,
    mobile_sdk_config: String,
    roles: Vec<String>,
}

/// Where the mobile app reaches this sandbox's Standard RESTful API (`/pa/v3`): the host
/// the caller used.
fn service_base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn application_view(
    state: &AppState,
    headers: &HeaderMap,
    application: Application,
) -> Result<ApplicationView, Error> {
    let versions = state.store.versions(&application.application_id).await?;
    let version = versions
        .iter()
        .find(|v| v.supported)
        .or(versions.first())
        .ok_or_else(|| {
            Error::Internal(format!(
                "application {} has no version",
                application.application_id
            ))
        })?;
    Ok(ApplicationView {
        mobile_sdk_config: apps::mobile_sdk_config(&application, version)?,
        service_base_url: service_base_url(headers),
        master_server_public_key: b64(application.master.public.to_uncompressed()),
        app_key: version.application_key.clone(),
        app_secret: version.application_secret.clone(),
        roles: state
            .store
            .application_roles(&application.application_id)
            .await?,
        id: application.application_id,
    })
}

async fn list_applications(
    _: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let mut views = Vec::new();
    for application in state.store.applications().await? {
        views.push(application_view(&state, &headers, application).await?);
    }
    Ok(json_response(&views))
}

#[derive(Deserialize)]
struct NewApplication {
    id: String,
    #[serde(default)]
    roles: Vec<String>,
}

async fn create_application(
    _: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: RawBody,
) -> Result<Response, Error> {
    let request: NewApplication =
        serde_json::from_slice(&body.0).map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let Some((application, _)) = apps::create_application(&state, &request.id).await? else {
        return Err(Error::InvalidRequest(format!(
            "an application {:?} already exists",
            request.id
        )));
    };
    state
        .store
        .set_application_roles(&application.application_id, &request.roles)
        .await?;
    Ok(json_response(
        &application_view(&state, &headers, application).await?,
    ))
}

async fn application_detail(
    _: Admin,
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let application = state
        .store
        .application(&id)
        .await?
        .ok_or_else(|| Error::InvalidRequest(format!("no application {id:?}")))?;
    Ok(json_response(
        &application_view(&state, &headers, application).await?,
    ))
}
