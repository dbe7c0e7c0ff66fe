//! The bank's side of a fleet: creating registrations (activation codes) and payment
//! operations on the server, and reading back what the server recorded, through the typed
//! client of `tokensim-backend`.
//!
//! Two dialects: the Cloud API (`/powerauth-cloud/v2`, HTTP Basic) when credentials are
//! given, or the PowerAuth server's own `/rest/v3` (unauthenticated, as inside a bank's
//! network, or with the same Basic login when one is given; what the embedded sandbox is driven with, since the Cloud API's password
//! hashing would cost more than the activation itself). Both create activations that
//! commit on key exchange, so a device is `ACTIVE` right after its activation call.

use crate::plan::Credentials;
use crate::{Error, Result};
use serde_json::{Map, json};
use tokensim_backend::{
    Cloud, InitActivation, NewOperation, NewRegistration, NewRestOperation, Rest,
};

/// The IBAN of every payment a fleet creates.
pub const PAYMENT_IBAN: &str = "CZ6508000000192000145399";

/// How the fleet talks to the server's backend API.
#[derive(Debug, Clone)]
pub struct Backend {
    rest: Rest,
    cloud: Option<Cloud>,
    app_id: String,
}

/// A registration: what the device scans.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The activation id.
    pub activation_id: String,
    /// `CODE#SIGNATURE`.
    pub qr: String,
}

impl Backend {
    /// A backend at `url` (no trailing slash) for `app_id`, through the Cloud API when
    /// `cloud` credentials are given.
    pub fn new(http: reqwest::Client, url: &str, app_id: &str, cloud: Option<Credentials>) -> Self {
        let rest = Rest::new(http.clone(), url);
        Self {
            // A server that secures /rest/v3 (a sandbox with --allow-remote) takes the same
            // login; one that does not ignores it.
            rest: match &cloud {
                Some(c) => rest.with_basic(&c.user, c.password()),
                None => rest,
            },
            cloud: cloud.map(|c| Cloud::new(http, url, &c.user, c.password())),
            app_id: app_id.to_owned(),
        }
    }

    /// `cloud` or `rest`.
    pub fn dialect(&self) -> &'static str {
        if self.cloud.is_some() {
            "Cloud API"
        } else {
            "/rest/v3"
        }
    }

    /// The `mobileSdkConfig` of the application's first supported version, from
    /// `/rest/v3/application/detail`.
    pub async fn mobile_sdk_config(&self) -> Result<String> {
        let detail = self
            .rest
            .application_detail(&self.app_id)
            .await
            .map_err(|e| self.error(e))?;
        detail.mobile_sdk_config().map(str::to_owned).ok_or_else(|| {
            Error::Config(format!(
                "the application {:?} has no supported version with a mobileSdkConfig; pass --config",
                self.app_id
            ))
        })
    }

    /// Checks the server answers and accepts the credentials, before any device starts.
    pub async fn preflight(&self, user_id: &str) -> Result<()> {
        match &self.cloud {
            Some(cloud) => cloud.registrations(user_id).await.map(|_| ()),
            None => self.rest.application_ids().await.map(|_| ()),
        }
        .map_err(|e| self.error(e))
    }

    /// A new activation for `user_id`, committed on key exchange.
    pub async fn register(&self, user_id: &str) -> Result<Registration> {
        match &self.cloud {
            Some(cloud) => {
                let created = cloud
                    .create_registration(&NewRegistration {
                        user_id: user_id.to_owned(),
                        app_id: self.app_id.clone(),
                        commit_phase: Some("ON_KEY_EXCHANGE".to_owned()),
                        ..NewRegistration::default()
                    })
                    .await
                    .map_err(|e| self.error(e))?;
                Ok(Registration {
                    activation_id: created.registration_id,
                    qr: created.activation_qr_code_data,
                })
            }
            None => {
                let init = self
                    .rest
                    .init_activation(&InitActivation {
                        user_id: user_id.to_owned(),
                        application_id: self.app_id.clone(),
                        commit_phase: Some("ON_KEY_EXCHANGE".to_owned()),
                        ..InitActivation::default()
                    })
                    .await
                    .map_err(|e| self.error(e))?;
                Ok(Registration {
                    qr: init.qr(),
                    activation_id: init.activation_id,
                })
            }
        }
    }

    /// A payment operation for `user_id`; returns its id.
    pub async fn create_payment(&self, user_id: &str, amount: &str) -> Result<String> {
        let parameters = payment_parameters(amount);
        match &self.cloud {
            Some(cloud) => cloud
                .create_operation(&NewOperation {
                    user_id: Some(user_id.to_owned()),
                    template: "payment".to_owned(),
                    parameters,
                    ..NewOperation::default()
                })
                .await
                .map(|o| o.operation_id),
            None => self
                .rest
                .create_operation(&NewRestOperation {
                    user_id: Some(user_id.to_owned()),
                    applications: vec![self.app_id.clone()],
                    template_name: "payment".to_owned(),
                    parameters,
                })
                .await
                .map(|o| o.id),
        }
        .map_err(|e| self.error(e))
    }

    /// The status the server records for every operation of `user_id`, by id.
    pub async fn operation_statuses(&self, user_id: &str) -> Result<Vec<(String, String)>> {
        match &self.cloud {
            Some(cloud) => cloud.operations_of(user_id).await.map(|list| {
                list.into_iter()
                    .map(|o| (o.operation_id, o.status))
                    .collect()
            }),
            None => self
                .rest
                .operations_of(user_id, &[&self.app_id])
                .await
                .map(|list| list.into_iter().map(|o| (o.id, o.status)).collect()),
        }
        .map_err(|e| self.error(e))
    }

    /// The fleet's words for a backend failure: unreachable, refused (401 names the
    /// credentials option), or an answer of the wrong shape.
    fn error(&self, error: tokensim_backend::Error) -> Error {
        use tokensim_backend::Error as Backend;
        match error {
            Backend::Unreachable { url, detail, .. } => Error::Unreachable { url, detail },
            Backend::Refused {
                what,
                status,
                code,
                message,
            } => {
                let mut detail = match code {
                    Some(code) => format!("{code}: {message}"),
                    None => message,
                };
                if status == 401 {
                    detail.push_str(": check the --admin credentials");
                }
                Error::Backend {
                    what,
                    status,
                    detail,
                }
            }
            Backend::Malformed { what, detail } => Error::Backend {
                what,
                status: 200,
                detail,
            },
            other => Error::Backend {
                what: "backend call".to_owned(),
                status: 0,
                detail: other.to_string(),
            },
        }
    }
}

fn payment_parameters(amount: &str) -> Map<String, serde_json::Value> {
    let mut parameters = Map::new();
    parameters.insert("amount".to_owned(), json!(amount));
    parameters.insert("currency".to_owned(), json!("CZK"));
    parameters.insert("iban".to_owned(), json!(PAYMENT_IBAN));
    parameters
}
