//! [`Sandbox`]: a running server on a local port, for the desktop app, the CLI and tests.

use crate::bootstrap::{self, BuiltInUsers, Credentials};
use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::error::Error;
use crate::state::AppState;
use crate::store::StoreError;
use powerauth::RandomSource;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A setting is out of range, or the address is not loopback without `allow_remote`.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated (bad URL, unreachable PostgreSQL,
    /// a file in a directory that does not exist, a schema from a newer sandbox).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The first-start setup (default application, built-in users) failed.
    #[error("preparing the sandbox failed: {0}")]
    Prepare(#[from] Error),
    /// The address could not be bound (port in use, no permission).
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// How long [`Sandbox::shutdown`] waits for open connections before cutting them.
pub(crate) const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// A sandbox serving on a local port. Stops when dropped or on [`Sandbox::shutdown`].
#[derive(Debug)]
pub struct Sandbox {
    address: SocketAddr,
    url: String,
    users: BuiltInUsers,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Sandbox {
    /// Opens the database, prepares defaults, binds and starts serving in the background
    /// of the current Tokio runtime.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let state = AppState::open(config).await?;
        Self::serve(state).await
    }

    /// Like [`Sandbox::start`] with an explicit clock and random source.
    pub async fn start_with(
        config: Config,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn RandomSource>,
    ) -> Result<Self, StartError> {
        config.validate()?;
        let state = AppState::open_with(config, clock, rng).await?;
        Self::serve(state).await
    }

    async fn serve(state: AppState) -> Result<Self, StartError> {
        let users = bootstrap::prepare(&state).await?;
        let requested = state.config.bind;
        let listener = tokio::net::TcpListener::bind(requested)
            .await
            .map_err(|source| StartError::Bind {
                address: requested,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: requested,
            source,
        })?;
        let (stop, stopped) = oneshot::channel::<()>();
        crate::expiry::start(state.clone());
        let router = crate::app(state.clone());
        let task = tokio::spawn(accept_loop(
            listener,
            router,
            state.config.header_timeout,
            stopped,
        ));
        tracing::info!(%address, "sandbox listening");
        Ok(Self {
            address,
            url: format!("http://{address}"),
            users,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:49152` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The built-in `admin` login.
    pub fn admin(&self) -> &Credentials {
        &self.users.admin
    }

    /// The built-in `integration` login.
    pub fn integration(&self) -> &Credentials {
        &self.users.integration
    }

    /// The `mobileSdkConfig` of the default application's first supported version: what a
    /// simulated token needs to talk to this sandbox. `None` when that application was
    /// removed or has no supported version.
    pub async fn default_mobile_sdk_config(&self) -> Result<Option<String>, Error> {
        let Some(application) = self
            .state
            .store
            .application(crate::apps::DEFAULT_APPLICATION)
            .await?
        else {
            return Ok(None);
        };
        let versions = self
            .state
            .store
            .versions(&application.application_id)
            .await?;
        versions
            .iter()
            .find(|v| v.supported)
            .map(|v| crate::apps::mobile_sdk_config(&application, v))
            .transpose()
    }

    /// The running instance's state: its store, clock and configuration.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Stops accepting connections, lets requests in flight finish (long-lived ones such
    /// as an SSE stream get [`SHUTDOWN_GRACE`]), closes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
                Ok(Ok(Err(error))) => tracing::warn!(%error, "sandbox server ended with an error"),
                Ok(_) => {}
                Err(_) => task.abort(),
            }
        }
        self.state.callbacks.stop();
        self.state.store.close().await;
    }
}

/// Serves every connection of `listener` until `stop` fires (or its sender is dropped), then
/// asks each open connection to finish its request in flight and close, and waits for them.
///
/// axum's `serve` sets no timer, so a client could hold a connection open forever without
/// sending a request; here hyper closes a connection whose request headers have not arrived
/// within `header_timeout`, which also bounds how long a kept-alive connection may idle.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    header_timeout: std::time::Duration,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tokio::sync::watch;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Dropping `closing` tells every connection to shut down; each holds a `done` receiver
    // until it has, so `done_tx.closed()` resolves when the last one ends.
    let (closing, closed) = watch::channel(());
    let (done_tx, done) = watch::channel(());
    let mut stop = std::pin::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    if !matches!(
                        error.kind(),
                        std::io::ErrorKind::ConnectionRefused
                            | std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                    ) {
                        // Out of file descriptors, most likely: wait for some to close.
                        tracing::error!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        let closed = closed.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let shutdown = async {
                let mut closed = closed;
                while closed.changed().await.is_ok() {}
            };
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(done);
        });
    }
    drop(listener);
    drop(closing);
    drop(done);
    done_tx.closed().await;
    Ok(())
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.state.callbacks.stop();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
