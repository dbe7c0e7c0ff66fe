//! The server slot: the server the devices talk to (the embedded sandbox, or an outside
//! server with its mobile SDK config and Cloud login), why there is none, and the Cloud API
//! client for it (the Sandbox panel, the bank's side). It knows nothing of devices.

use crate::core::lock;
use crate::types::{AppError, ServerInfo};
use powerauth::config::ApplicationConfig;
use sandbox::{Config, Sandbox};
use std::sync::Mutex;
use tokensim_backend::Cloud;

/// The server the devices talk to.
#[derive(Clone)]
pub struct Server {
    /// What the window shows.
    pub info: ServerInfo,
    /// The application the sandbox (or outside server) issued.
    pub application: ApplicationConfig,
}

/// The current server (or why there is none) and the embedded sandbox, if it runs.
#[derive(Default)]
pub struct ServerSlot {
    http: reqwest::Client,
    server: Mutex<Option<Server>>,
    server_error: Mutex<Option<String>>,
    sandbox: tokio::sync::Mutex<Option<Sandbox>>,
}

impl ServerSlot {
    /// Starts the embedded sandbox: in memory on a random port when `database` is `None`,
    /// else on a SQLite file and `port`.
    pub async fn start_sandbox(
        &self,
        database: Option<&std::path::Path>,
        port: u16,
    ) -> Result<ServerInfo, AppError> {
        let mut config = Config::in_memory();
        if let Some(path) = database {
            config.database_url = Config::sqlite_url(path);
        }
        config.bind.set_port(port);
        // The PowerAuth Server release to answer as, as `tokensim sandbox --server-version`.
        if let Ok(version) = std::env::var("TOKENSIM_SERVER_VERSION") {
            config.server_version = version.parse().map_err(|e: sandbox::ServerVersionError| {
                AppError::new("SANDBOX", format!("TOKENSIM_SERVER_VERSION: {e}"))
            })?;
        }
        let started = async {
            let sandbox = Sandbox::start(config)
                .await
                .map_err(|e| AppError::new("SANDBOX", format!("the sandbox did not start: {e}")))?;
            let sdk = sandbox
                .default_mobile_sdk_config()
                .await
                .map_err(|e| AppError::new("SANDBOX", e))?
                .ok_or_else(|| AppError::new("SANDBOX", "the sandbox has no application"))?;
            let application = ApplicationConfig::from_mobile_sdk_config(&sdk)
                .map_err(|e| AppError::new("SANDBOX", e))?;
            let integration = sandbox.integration();
            let info = ServerInfo {
                url: sandbox.url().to_owned(),
                embedded: true,
                console_url: format!("{}/", sandbox.url()),
                cloud_user: integration.username.clone(),
                cloud_password: integration.password.clone(),
            };
            Ok::<_, AppError>((sandbox, Server { info, application }))
        }
        .await;
        match started {
            Ok((sandbox, server)) => {
                let info = server.info.clone();
                if let Some(old) = self.sandbox.lock().await.replace(sandbox) {
                    old.shutdown().await;
                }
                *lock(&self.server) = Some(server);
                *lock(&self.server_error) = None;
                Ok(info)
            }
            Err(e) => {
                *lock(&self.server_error) = Some(e.message.clone());
                Err(e)
            }
        }
    }

    /// Uses an outside server instead of the embedded sandbox.
    pub async fn use_outside(
        &self,
        url: &str,
        mobile_sdk_config: &str,
        cloud_user: &str,
        cloud_password: &str,
    ) -> Result<ServerInfo, AppError> {
        let application = ApplicationConfig::from_mobile_sdk_config(mobile_sdk_config.trim())
            .map_err(|e| AppError::new("CONFIG", e))?;
        let url = url.trim().trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(AppError::new(
                "CONFIG",
                "the server URL must start with http:// or https://",
            ));
        }
        let info = ServerInfo {
            console_url: format!("{url}/"),
            url,
            embedded: false,
            cloud_user: cloud_user.to_owned(),
            cloud_password: cloud_password.to_owned(),
        };
        if let Some(old) = self.sandbox.lock().await.take() {
            old.shutdown().await;
        }
        *lock(&self.server) = Some(Server {
            info: info.clone(),
            application,
        });
        *lock(&self.server_error) = None;
        Ok(info)
    }

    /// The current server, if any.
    pub fn get(&self) -> Option<Server> {
        lock(&self.server).clone()
    }

    /// Why there is no server.
    pub fn error(&self) -> Option<String> {
        lock(&self.server_error).clone()
    }

    /// The current server, or why there is none as a `NO_SERVER` error.
    pub fn require(&self) -> Result<Server, AppError> {
        self.get().ok_or_else(|| {
            AppError::new(
                "NO_SERVER",
                self.error()
                    .unwrap_or_else(|| "no server is configured yet".to_owned()),
            )
        })
    }

    /// The embedded sandbox's URL and built-in admin login (`None` with an outside server):
    /// what makes the facemap profile's API credentials.
    pub async fn sandbox_admin(&self) -> Option<(String, String, String)> {
        self.sandbox.lock().await.as_ref().map(|sandbox| {
            (
                sandbox.url().to_owned(),
                sandbox.admin().username.clone(),
                sandbox.admin().password.clone(),
            )
        })
    }

    /// Stops the embedded sandbox.
    pub async fn shutdown(&self) {
        if let Some(sandbox) = self.sandbox.lock().await.take() {
            sandbox.shutdown().await;
        }
    }

    /// The server's Cloud API as its integration user (the typed client of
    /// `tokensim-backend`).
    pub fn cloud(&self) -> Result<Cloud, AppError> {
        let server = self.require()?;
        Ok(Cloud::new(
            self.http.clone(),
            &server.info.url,
            &server.info.cloud_user,
            &server.info.cloud_password,
        ))
    }
}
