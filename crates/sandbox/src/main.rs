//! `tokensim-sandbox`: runs the sandbox alone and prints its URL and credentials.

use clap::Parser;
use sandbox::{Config, Sandbox};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A local PowerAuth-compatible server for testing mobile tokens.
#[derive(Debug, Parser)]
#[command(name = "tokensim-sandbox", version)]
struct Args {
    /// Address to listen on. An address other than loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8780")]
    bind: SocketAddr,
    /// Serve on a --bind address other than loopback, to other machines. /rest/v3 then
    /// asks for the Basic credentials of a Cloud API user (admin or integration), and any
    /// Host name is accepted. See docs/security.md.
    #[arg(long)]
    allow_remote: bool,
    /// Database URL (`sqlite://…`, `postgres://…`); overrides --db-file and DATABASE_URL.
    #[arg(long)]
    database_url: Option<String>,
    /// SQLite file to use (default: tokensim/sandbox.db in the user data directory).
    #[arg(long, conflicts_with = "database_url")]
    db_file: Option<PathBuf>,
    /// Keep everything in memory; nothing survives a restart.
    #[arg(long, conflicts_with_all = ["database_url", "db_file"])]
    in_memory: bool,
    /// The sandbox's policies (the same flags as `tokensim sandbox`).
    #[command(flatten)]
    policy: sandbox::flags::Policy,
}

/// A startup failure, printed as one line.
struct Fail(String);

impl Args {
    fn into_config(self) -> Result<Config, Fail> {
        let database_url = if self.in_memory {
            "sqlite::memory:".to_owned()
        } else if let Some(url) = self
            .database_url
            .or_else(|| std::env::var("DATABASE_URL").ok())
        {
            url
        } else {
            let path = match self.db_file {
                Some(path) => path,
                None => Config::default_database_path()
                    .ok_or_else(|| Fail("no user data directory; pass --db-file".to_owned()))?,
            };
            if let Some(parent) = path.parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                // The database holds the master and server private keys: a folder made
                // for it is the user's alone (the file itself is created 0600).
                let mut folder = std::fs::DirBuilder::new();
                folder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
                folder
                    .create(parent)
                    .map_err(|e| Fail(format!("cannot create {}: {e}", parent.display())))?;
            }
            Config::sqlite_url(&path)
        };
        let mut config = Config {
            bind: self.bind,
            database_url,
            allow_remote: self.allow_remote,
            ..Config::in_memory()
        };
        self.policy.apply(&mut config);
        Ok(config)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(message)) => {
            eprintln!("tokensim-sandbox: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Fail> {
    let config = args.into_config()?;
    // The handlers are installed before the banner announces the server: a SIGTERM sent as
    // soon as the URL is read must stop it gracefully, not kill it by the default action.
    let stop = stop_signal()?;
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| Fail(e.to_string()))?;
    // The banner goes out in one write, and a closed stdout (a caller that read the URL and
    // went away) must not stop the server: println! would panic on the broken pipe.
    let mut banner = format!("PowerAuth sandbox listening on {}\n", sandbox.url());
    banner += &format!("  RESTful API:  {}/pa/v3\n", sandbox.url());
    banner += &format!("  Server API:   {}/rest/v3\n", sandbox.url());
    banner += &format!("  Cloud API:    {}/powerauth-cloud\n", sandbox.url());
    banner += &format!(
        "  admin:        {} / {}\n",
        sandbox.admin().username,
        sandbox.admin().password
    );
    banner += &format!(
        "  integration:  {} / {}\n",
        sandbox.integration().username,
        sandbox.integration().password
    );
    if let Ok(Some(config)) = sandbox.default_mobile_sdk_config().await {
        banner += &format!("  mobileSdkConfig (application tokensim): {config}\n");
    }
    if sandbox.state().config.allow_remote && !sandbox.address().ip().is_loopback() {
        banner +=
            "  Remote access on: /rest/v3 needs the admin or integration credentials above.\n";
    }
    banner += "Press Ctrl-C to stop.\n";
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush())
    {
        tracing::warn!("cannot print the banner ({e}); serving anyway");
    }
    drop(stdout);
    stop.await?;
    tracing::info!("stopping: finishing the requests in flight");
    sandbox.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM (a service manager, `docker stop`, `kill`): both stop the sandbox
/// gracefully and exit 0. The handlers are installed when this is called; the returned future
/// resolves on the first signal.
fn stop_signal() -> Result<impl std::future::Future<Output = Result<(), Fail>>, Fail> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())
            .map_err(|e| Fail(format!("cannot wait for SIGTERM: {e}")))?;
        let mut interrupt = signal(SignalKind::interrupt())
            .map_err(|e| Fail(format!("cannot wait for Ctrl-C: {e}")))?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
            Ok(())
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Fail(format!("cannot wait for Ctrl-C: {e}")))
    })
}
