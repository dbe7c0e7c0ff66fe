//! What a sandbox makes sure of at every start: an application to activate against, and
//! the two built-in Cloud API users with known passwords, the integration user assigned
//! to the default application.

use crate::apps;
use crate::cloud::auth::{hash_password, make_password};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Role, User};

/// A Cloud API login.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password, in clear: the sandbox prints it for the tester.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The built-in users' logins, valid until the next start.
#[derive(Debug, Clone)]
pub struct BuiltInUsers {
    /// `admin`, role ADMIN.
    pub admin: Credentials,
    /// `integration`, role INTEGRATION.
    pub integration: Credentials,
}

/// Creates the default application when the database has none, and (re)sets the
/// built-in users' passwords from the configuration, or to fresh random ones.
pub async fn prepare(state: &AppState) -> Result<BuiltInUsers, Error> {
    if state.store.applications().await?.is_empty() {
        apps::create_application(state, apps::DEFAULT_APPLICATION).await?;
    }
    let admin = put_built_in(
        state,
        "admin",
        Role::Admin,
        state.config.admin_password.clone(),
    )
    .await?;
    let integration = put_built_in(
        state,
        "integration",
        Role::Integration,
        state.config.integration_password.clone(),
    )
    .await?;
    // The built-in integration user may use the default application (Cloud API access).
    if state
        .store
        .application(apps::DEFAULT_APPLICATION)
        .await?
        .is_some()
    {
        state
            .store
            .assign_application("integration", apps::DEFAULT_APPLICATION, state.now_ms())
            .await?;
    }
    Ok(BuiltInUsers { admin, integration })
}

async fn put_built_in(
    state: &AppState,
    username: &str,
    role: Role,
    password: Option<String>,
) -> Result<Credentials, Error> {
    let password = password.unwrap_or_else(|| make_password(&*state.rng));
    let user = User {
        username: username.to_owned(),
        role,
        password_hash: hash_password(&password, &*state.rng)?,
        timestamp_created: state.now_ms(),
    };
    state.store.put_user(&user).await?;
    Ok(Credentials {
        username: username.to_owned(),
        password,
    })
}
