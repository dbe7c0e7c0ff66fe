//! Creating applications and versions: the one place that makes master key pairs and
//! APP_KEY / APP_SECRET, used by `/rest/v3/application/*`, the Cloud admin API and the
//! first start.

use crate::error::{Error, RestCode};
use crate::state::AppState;
use crate::store::{Application, ApplicationVersion};
use powerauth::KeyPair;
use powerauth::config::{ApplicationConfig, ApplicationKey, ApplicationSecret};

/// The version every new application starts with, as in PowerAuth Server.
pub(crate) const DEFAULT_VERSION: &str = "default";

/// The application a fresh sandbox creates so it is usable at once.
pub const DEFAULT_APPLICATION: &str = "tokensim";

/// Longest application or version name accepted.
const MAX_NAME_LEN: usize = 255;

/// Creates an application (fresh master key pair) with a supported `default` version.
/// Returns `None` when the name is taken.
pub async fn create_application(
    state: &AppState,
    application_id: &str,
) -> Result<Option<(Application, ApplicationVersion)>, Error> {
    check_name("applicationId", application_id)?;
    let application = Application {
        application_id: application_id.to_owned(),
        master: KeyPair::make(&*state.rng),
    };
    let version = make_version(state, application_id, DEFAULT_VERSION);
    let created = state
        .store
        .create_application(&application, &version, state.now_ms())
        .await?;
    Ok(created.then_some((application, version)))
}

/// Adds a supported version with fresh credentials. Fails with ERR0015 when the
/// application does not exist and an invalid request when the version name is taken.
pub(crate) async fn create_version(
    state: &AppState,
    application_id: &str,
    version_id: &str,
) -> Result<ApplicationVersion, Error> {
    check_name("applicationVersionId", version_id)?;
    if state.store.application(application_id).await?.is_none() {
        return Err(Error::rest(
            RestCode::InvalidApplication,
            format!("no application {application_id:?}"),
        ));
    }
    let version = make_version(state, application_id, version_id);
    if !state.store.create_version(&version, state.now_ms()).await? {
        return Err(Error::InvalidRequest(format!(
            "application {application_id:?} already has a version {version_id:?}"
        )));
    }
    Ok(version)
}

fn make_version(state: &AppState, application_id: &str, version_id: &str) -> ApplicationVersion {
    ApplicationVersion {
        application_id: application_id.to_owned(),
        version_id: version_id.to_owned(),
        application_key: ApplicationKey::make(&*state.rng).to_b64(),
        application_secret: ApplicationSecret::make(&*state.rng)
            .expose_b64()
            .to_string(),
        supported: true,
    }
}

fn check_name(field: &str, name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "{field} must be 1 to {MAX_NAME_LEN} printable characters"
        )));
    }
    Ok(())
}

/// The `mobileSdkConfig` string of one version (digest §13): APP_KEY, APP_SECRET and the
/// master public key in one Base64 blob, as PowerAuth Server shows it.
pub fn mobile_sdk_config(
    application: &Application,
    version: &ApplicationVersion,
) -> Result<String, Error> {
    let config = ApplicationConfig {
        application_key: ApplicationKey::from_b64(&version.application_key)
            .map_err(|e| Error::Internal(format!("stored applicationKey: {e}")))?,
        application_secret: ApplicationSecret::from_b64(&version.application_secret)
            .map_err(|e| Error::Internal(format!("stored applicationSecret: {e}")))?,
        master_server_public_key: application.master.public.clone(),
    };
    Ok(config.to_mobile_sdk_config())
}
