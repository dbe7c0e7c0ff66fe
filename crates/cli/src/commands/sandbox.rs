//! `tokensim sandbox`: the local PowerAuth server, until Ctrl-C.

use serde::Serialize;
use serde_json::Value;

use super::{Ctx, Result};
use crate::cli::SandboxArgs;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit, json_line};

/// What `tokensim --json sandbox` prints once it runs: where, the sandbox's own logins (a
/// local test server's, printed on purpose) and the mobile SDK configuration to activate with.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Running<'a> {
    url: &'a str,
    admin: Login<'a>,
    integration: Login<'a>,
    mobile_sdk_config: &'a str,
}

/// A sandbox login.
#[derive(Serialize)]
struct Login<'a> {
    username: &'a str,
    password: &'a str,
}

pub(super) async fn sandbox(ctx: &Ctx<'_>, args: SandboxArgs) -> Result<Output> {
    ctx.no_fault("sandbox")?;
    let mut config = sandbox::Config::in_memory();
    config.bind = args.bind.unwrap_or(std::net::SocketAddr::from((
        std::net::Ipv4Addr::LOCALHOST,
        args.port,
    )));
    config.allow_remote = args.allow_remote;
    if let Some(db) = &args.db {
        config.database_url = sandbox::Config::sqlite_url(db);
    }
    if let Some(url) = args.database_url {
        config.database_url = url;
    }
    args.policy.apply(&mut config);
    let server = sandbox::Sandbox::start(config).await.map_err(|e| {
        Failure::new(
            Class::Error,
            ErrorKind::Sandbox,
            format!("the sandbox did not start: {e}"),
        )
        .hint("choose another --port, or check the --db file and the flags' values")
    })?;
    let sdk_config = server
        .default_mobile_sdk_config()
        .await
        .map_err(|e| Failure::new(Class::Error, ErrorKind::Sandbox, e.to_string()))?
        .unwrap_or_default();
    let info = Running {
        url: server.url(),
        admin: Login {
            username: &server.admin().username,
            password: &server.admin().password,
        },
        integration: Login {
            username: &server.integration().username,
            password: &server.integration().password,
        },
        mobile_sdk_config: &sdk_config,
    };
    if ctx.g.json {
        emit(&format!("{}\n", json_line(&info)?));
    } else {
        emit(&format!(
            "PowerAuth sandbox running at {url}\n  admin:        {au} / {ap}\n  integration:  {iu} / {ip}\n  mobile SDK config:\n    {sdk_config}\n\nActivate a device:\n  tokensim activate --server {url} --config {sdk_config} --qr 'CODE#SIGNATURE'\n\nCtrl-C stops it.\n",
            url = server.url(),
            au = server.admin().username,
            ap = server.admin().password,
            iu = server.integration().username,
            ip = server.integration().password,
        ));
    }
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    Ok(Output::new("", Value::Null))
}
