//! `/rest/v3/application/*`: applications, their master keys and versions.

use crate::apps;
use crate::error::{Error, RestCode};
use crate::extract::{RequestObject, ResponseObject};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use powerauth::encoding::b64;
use serde::{Deserialize, Serialize};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v3/application/create", post(create))
        .route("/rest/v3/application/list", post(list))
        .route("/rest/v3/application/detail", post(detail))
        .route("/rest/v3/application/detail/version", post(detail_by_key))
        .route("/rest/v3/application/version/create", post(create_version))
        .route("/rest/v3/application/version/support", post(support))
        .route("/rest/v3/application/version/unsupport", post(unsupport))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationIdRequest {
    application_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationSummary {
    application_id: String,
    application_roles: Vec<String>,
}

async fn create(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ApplicationIdRequest>,
) -> Result<ResponseObject<ApplicationSummary>, Error> {
    let Some((application, _)) = apps::create_application(&state, &request.application_id).await?
    else {
        return Err(Error::rest(
            RestCode::InvalidRequest,
            format!("application {:?} already exists", request.application_id),
        ));
    };
    Ok(ResponseObject(ApplicationSummary {
        application_id: application.application_id,
        application_roles: Vec::new(),
    }))
}

#[derive(Serialize)]
struct ApplicationList {
    applications: Vec<ApplicationSummary>,
}

async fn list(State(state): State<AppState>) -> Result<ResponseObject<ApplicationList>, Error> {
    let applications = state
        .store
        .applications()
        .await?
        .into_iter()
        .map(|a| ApplicationSummary {
            application_id: a.application_id,
            application_roles: Vec::new(),
        })
        .collect();
    Ok(ResponseObject(ApplicationList { applications }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationDetail {
    application_id: String,
    master_public_key: String,
    application_roles: Vec<String>,
    versions: Vec<VersionDetail>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionDetail {
    application_version_id: String,
    application_key: String,
    application_secret: String,
    mobile_sdk_config: String,
    supported: bool,
}

async fn detail(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ApplicationIdRequest>,
) -> Result<ResponseObject<ApplicationDetail>, Error> {
    let application = state
        .store
        .application(&request.application_id)
        .await?
        .ok_or_else(|| unknown_application(&request.application_id))?;
    let mut versions = Vec::new();
    for version in state.store.versions(&application.application_id).await? {
        versions.push(VersionDetail {
            mobile_sdk_config: apps::mobile_sdk_config(&application, &version)?,
            application_version_id: version.version_id,
            application_key: version.application_key,
            application_secret: version.application_secret,
            supported: version.supported,
        });
    }
    Ok(ResponseObject(ApplicationDetail {
        master_public_key: b64(application.master.public.to_uncompressed()),
        application_id: application.application_id,
        application_roles: Vec::new(),
        versions,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationKeyRequest {
    application_key: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplicationOfKey {
    application_id: String,
}

async fn detail_by_key(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<ApplicationKeyRequest>,
) -> Result<ResponseObject<ApplicationOfKey>, Error> {
    let version = state
        .store
        .version_by_key(&request.application_key)
        .await?
        .ok_or_else(|| {
            Error::rest(
                RestCode::InvalidApplication,
                "no version has this applicationKey",
            )
        })?;
    Ok(ResponseObject(ApplicationOfKey {
        application_id: version.application_id,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionRequest {
    application_id: String,
    application_version_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedVersion {
    application_version_id: String,
    application_version_name: String,
    application_key: String,
    application_secret: String,
    supported: bool,
}

async fn create_version(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VersionRequest>,
) -> Result<ResponseObject<CreatedVersion>, Error> {
    let version = apps::create_version(
        &state,
        &request.application_id,
        &request.application_version_id,
    )
    .await?;
    Ok(ResponseObject(CreatedVersion {
        application_version_name: version.version_id.clone(),
        application_version_id: version.version_id,
        application_key: version.application_key,
        application_secret: version.application_secret,
        supported: version.supported,
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VersionSupport {
    application_version_id: String,
    supported: bool,
}

async fn support(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VersionRequest>,
) -> Result<ResponseObject<VersionSupport>, Error> {
    set_supported(&state, request, true).await
}

async fn unsupport(
    State(state): State<AppState>,
    RequestObject(request): RequestObject<VersionRequest>,
) -> Result<ResponseObject<VersionSupport>, Error> {
    set_supported(&state, request, false).await
}

async fn set_supported(
    state: &AppState,
    request: VersionRequest,
    supported: bool,
) -> Result<ResponseObject<VersionSupport>, Error> {
    let version = state
        .store
        .set_version_supported(
            &request.application_id,
            &request.application_version_id,
            supported,
        )
        .await?
        .ok_or_else(|| {
            Error::rest(
                RestCode::InvalidApplication,
                format!(
                    "no version {:?} in application {:?}",
                    request.application_version_id, request.application_id
                ),
            )
        })?;
    Ok(ResponseObject(VersionSupport {
        application_version_id: version.version_id,
        supported: version.supported,
    }))
}

fn unknown_application(application_id: &str) -> Error {
    Error::rest(
        RestCode::InvalidApplication,
        format!("no application {application_id:?}"),
    )
}
