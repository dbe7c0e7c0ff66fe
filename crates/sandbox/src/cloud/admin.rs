//! `/powerauth-cloud/admin/*`: users of the Cloud API and applications with the
//! configuration a mobile app needs. Admin role only.

use super::auth::{Admin, hash_password, make_password};
use crate::apps;
use crate::error::Error;
use crate::extract::{Json, json_response};
use crate::state::AppState;
use crate::store::{Application, ApplicationVersion, Role, User};
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get};
use powerauth::encoding::b64;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{username}", delete(delete_user))
        .route(
            "/admin/applications",
            get(list_applications).post(create_application),
        )
        .route("/admin/applications/{name}", get(application_detail))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserView {
    username: String,
    role: Role,
    timestamp_created: i64,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            username: user.username,
            role: user.role,
            timestamp_created: user.timestamp_created,
        }
    }
}

async fn list_users(_: Admin, State(state): State<AppState>) -> Result<Response, Error> {
    let users: Vec<UserView> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(UserView::from)
        .collect();
    Ok(json_response(&users))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewUser {
    username: String,
    #[serde(default = "integration")]
    role: Role,
}

fn integration() -> Role {
    Role::Integration
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedUser {
    username: String,
    password: String,
    role: Role,
}

async fn create_user(
    _: Admin,
    State(state): State<AppState>,
    Json(request): Json<NewUser>,
) -> Result<Response, Error> {
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
        role: request.role,
        password_hash: hash_password(&password, &*state.rng)?,
        timestamp_created: state.now_ms(),
    };
    if !state.store.create_user(&user).await? {
        return Err(Error::api(
            StatusCode::CONFLICT,
            "USER_ALREADY_EXISTS",
            format!("a user {username:?} already exists"),
        ));
    }
    Ok(json_response(&CreatedUser {
        username: user.username,
        password,
        role: user.role,
    }))
}

#[derive(Serialize)]
struct Removed {
    username: String,
    removed: bool,
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
        return Err(Error::api(
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
            format!("no user {username:?}"),
        ));
    }
    Ok(json_response(&Removed {
        username,
        removed: true,
    }))
}

/// An application as the Cloud API shows it: everything a mobile app must be built with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationView {
    name: String,
    master_server_public_key: String,
    versions: Vec<VersionView>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionView {
    version: String,
    app_key: String,
    app_secret: String,
    mobile_sdk_config: String,
    supported: bool,
}

fn application_view(
    application: Application,
    versions: Vec<ApplicationVersion>,
) -> Result<ApplicationView, Error> {
    let mut views = Vec::new();
    for v in versions {
        views.push(VersionView {
            mobile_sdk_config: apps::mobile_sdk_config(&application, &v)?,
            version: v.version_id,
            app_key: v.application_key,
            app_secret: v.application_secret,
            supported: v.supported,
        });
    }
    Ok(ApplicationView {
        master_server_public_key: b64(application.master.public.to_uncompressed()),
        name: application.application_id,
        versions: views,
    })
}

async fn list_applications(_: Admin, State(state): State<AppState>) -> Result<Response, Error> {
    let mut views = Vec::new();
    for application in state.store.applications().await? {
        let versions = state.store.versions(&application.application_id).await?;
        views.push(application_view(application, versions)?);
    }
    Ok(json_response(&views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplication {
    name: String,
}

async fn create_application(
    _: Admin,
    State(state): State<AppState>,
    Json(request): Json<NewApplication>,
) -> Result<Response, Error> {
    let Some((application, version)) = apps::create_application(&state, &request.name).await?
    else {
        return Err(Error::api(
            StatusCode::CONFLICT,
            "APPLICATION_ALREADY_EXISTS",
            format!("an application {:?} already exists", request.name),
        ));
    };
    Ok(json_response(&application_view(
        application,
        vec![version],
    )?))
}

async fn application_detail(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, Error> {
    let application = state.store.application(&name).await?.ok_or_else(|| {
        Error::api(
            StatusCode::NOT_FOUND,
            "APPLICATION_NOT_FOUND",
            format!("no application {name:?}"),
        )
    })?;
    let versions = state.store.versions(&name).await?;
    Ok(json_response(&application_view(application, versions)?))
}
