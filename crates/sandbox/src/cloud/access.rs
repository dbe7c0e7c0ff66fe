//! Who is calling the Cloud API and which applications they may use: an admin every
//! application, an integration user those it was assigned
//! (`POST /admin/users/{username}/applications/{appId}`). "The PowerAuth application is
//! always derived from credentials" where a call names none (operations, push, inbox).

use super::auth::Authenticated;
use crate::apps::DEFAULT_APPLICATION;
use crate::error::Error;
use crate::state::AppState;
use crate::store::{Role, User};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// An authenticated caller and the applications assigned to it.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// The user.
    pub user: User,
    /// Assigned applications, in assignment order.
    pub applications: Vec<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Authenticated(user) = Authenticated::from_request_parts(parts, state).await?;
        let applications = state.store.user_applications(&user.username).await?;
        Ok(Caller { user, applications })
    }
}

impl Caller {
    /// Whether the caller may act in `application_id`.
    pub(super) fn may_use(&self, application_id: &str) -> bool {
        self.user.role == Role::Admin || self.applications.iter().any(|a| a == application_id)
    }

    /// The application a call without an application id acts in: the first one assigned;
    /// for an admin with none, the sandbox's default application (or the first there is).
    pub(super) async fn application(&self, state: &AppState) -> Result<String, Error> {
        if let Some(first) = self.applications.first() {
            return Ok(first.clone());
        }
        if self.user.role == Role::Admin {
            if state
                .store
                .application(DEFAULT_APPLICATION)
                .await?
                .is_some()
            {
                return Ok(DEFAULT_APPLICATION.to_owned());
            }
            if let Some(first) = state.store.applications().await?.into_iter().next() {
                return Ok(first.application_id);
            }
        }
        Err(Error::InvalidRequest(format!(
            "the user {:?} is assigned to no application",
            self.user.username
        )))
    }
}
