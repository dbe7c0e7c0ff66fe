//! `tokensim profile oauth ACTION`: an OAuth 2.0 client — client credentials, or an RFC 8628
//! point-of-sale device — whose tokens live in the user's chosen store (keychain, encrypted
//! file or memory), through the profile store: never a file of its own.

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::Value;
use tokensim_device::profiles::ProfileRecord;
use tokensim_device::profiles::oauth::{
    ClientRegistration, OAuthClient, OAuthError, OAuthFault, StoredTokens, register_client,
};
use tokensim_wallet::DeviceId;
use tokensim_wallet::oauth::{AccountTokens, OAuthSecrets};

use super::profile::{Account, AccountRemoved, key_value_text, request_body};
use super::{Ctx, Result};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// The profile's name.
pub(super) const PROFILE: &str = tokensim_wallet::oauth::OAUTH_PROFILE;

/// The actions of `profile oauth`.
#[derive(Debug, Subcommand)]
pub(crate) enum OAuthCommand {
    /// Register a client on the server (a sandbox) and keep it here: a confidential client
    /// for client credentials, or with --device-flow a public point-of-sale client (RFC 8628).
    Register(RegisterArgs),
    /// A valid access token: the stored one while it lives, else a refresh, else the client
    /// credentials grant. Shows where it came from (the token itself only with
    /// --reveal-secrets). `--fault` applies.
    Token,
    /// Call the protected API with the token (one refresh when it answers 401). `--fault`
    /// applies.
    Call,
    /// RFC 8628: show the user code and the verification page, then poll at the server's
    /// interval until the user approves or denies on the page.
    Device(DeviceArgs),
    /// Revoke the refresh token at the server (RFC 7009) and clear the stored tokens.
    Revoke,
    /// Forget the stored tokens here; the next call authenticates again.
    Clear,
    /// Show the account: server, client id, mode, token expiry (nothing secret).
    Show,
    /// Forget the account here (the server is not told).
    Remove,
}

/// `profile oauth register`.
#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    /// The server's base URL (a sandbox: tokensim sandbox prints it).
    #[arg(long)]
    pub server: String,
    /// A public client for the device authorization grant (a cashier's device).
    #[arg(long)]
    pub device_flow: bool,
    /// The device's id, key/value pairs (device flow): /vendor/acme/serial/1234.
    #[arg(long, requires = "device_flow")]
    pub device_id: Option<String>,
    /// The scope the client may ask for (space-separated).
    #[arg(long, default_value = "api")]
    pub scope: String,
    /// The id the account is kept under (default: oauth-cc or oauth-device).
    #[arg(long)]
    pub name: Option<String>,
}

/// `profile oauth device`.
#[derive(Debug, Args)]
pub(crate) struct DeviceArgs {
    /// Approve on the user's behalf through the sandbox's verification page endpoint
    /// (scripts and fleets; a person opens the page instead).
    #[arg(long)]
    pub approve: bool,
}

fn failure(error: OAuthError) -> Failure {
    let (class, kind) = match &error {
        OAuthError::Refused { .. } => (Class::Rejected, ErrorKind::Rejected),
        OAuthError::Network { .. } => (Class::Error, ErrorKind::Network),
        OAuthError::Protocol(_) => (Class::Error, ErrorKind::InvalidResponse),
        OAuthError::NeedsDeviceAuthorization | OAuthError::Settings(_) => {
            (Class::Usage, ErrorKind::Usage)
        }
        OAuthError::Storage(_) => (Class::Error, ErrorKind::Store),
        _ => (Class::Error, ErrorKind::Error),
    };
    let hint = match &error {
        OAuthError::Refused { error: code, .. } => match code.as_str() {
            "invalid_client" => {
                "check the client id and secret (tokensim profile oauth show), or register again"
            }
            "invalid_grant" | "invalid_token" => {
                "authenticate again: tokensim profile oauth clear, then token (or device)"
            }
            "access_denied" | "expired_token" => {
                "start the device authorization again: tokensim profile oauth device"
            }
            _ => "see the exchange with --trace",
        },
        OAuthError::Network { .. } => {
            "start the sandbox (tokensim sandbox) or check the account's server URL"
        }
        OAuthError::NeedsDeviceAuthorization => "run tokensim profile oauth device",
        OAuthError::Storage(_) => {
            "check the store (tokensim devices), or remove the account and register again"
        }
        _ => "see the exchange with --trace",
    };
    Failure::new(class, kind, error.to_string()).hint(hint)
}

/// The engine's client for a loaded account, reporting to this command's inspector sink.
fn engine(ctx: &Ctx<'_>, account: &Account, fault: Option<OAuthFault>) -> Result<OAuthClient> {
    let secrets =
        OAuthSecrets::read(&account.secret).map_err(|e| failure(OAuthError::Storage(e)))?;
    let settings = secrets.settings(&account.id, &account.record);
    let storage = AccountTokens::new(
        ctx.profile_store()?,
        account.id.clone(),
        account.record.clone(),
    );
    Ok(OAuthClient::new(settings, Arc::new(storage))
        .with_events(ctx.client.events())
        .with_fault(fault)
        .reveal_secrets(ctx.g.reveal_secrets))
}

/// The catalogue fault of `--fault`, as the OAuth client takes it; a fault the catalogue
/// does not list for `oauth` is refused with the ones it does.
fn oauth_fault(ctx: &Ctx<'_>) -> Result<Option<OAuthFault>> {
    let Some(fault) = ctx.g.fault else {
        return Ok(None);
    };
    OAuthFault::try_from(fault).map(Some).map_err(|_| {
        Failure::new(
            Class::Usage,
            ErrorKind::FaultNotApplicable,
            format!(
                "--fault {} does not apply to profile oauth",
                fault.spec().name
            ),
        )
        .hint(format!(
            "the faults of oauth: {}",
            tokensim_device::profiles::oauth::fault_names().join(", ")
        ))
    })
}

fn token_output(
    account: &Account,
    source: &str,
    tokens: &StoredTokens,
    reveal: bool,
) -> Result<Output> {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default(),
    )
    .unwrap_or_default();
    let expires_in = (tokens.access_expires_ms - now).max(0) / 1000;
    let issued = TokenIssued {
        id: account.id.as_str(),
        source,
        expires_in,
        scope: &tokens.scope,
        has_refresh_token: tokens.refresh_token.is_some(),
        device_id: tokens.device_id.as_deref(),
        access_token: reveal.then_some(tokens.access_token.as_str()),
    };
    Output::typed(
        format!(
            "access token from {source}, expires in {expires_in} s (scope {})",
            tokens.scope
        ),
        &issued,
    )
}

/// What `tokensim --json profile oauth token|device` prints: the token's facts; the access
/// token itself only with `--reveal-secrets`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenIssued<'a> {
    id: &'a str,
    /// Where the token came from: `storage`, `refresh`, `client-credentials`...
    source: &'a str,
    /// Seconds until the access token expires.
    expires_in: i64,
    scope: &'a str,
    has_refresh_token: bool,
    device_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<&'a str>,
}

/// What `tokensim --json profile oauth call` prints: the API's answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Called<'a> {
    id: &'a str,
    source: &'static str,
    #[serde(rename = "refreshedAfter401")]
    refreshed_after_401: bool,
    api: &'a Value,
}

/// What `tokensim --json profile oauth revoke` prints.
#[derive(Serialize)]
struct Revoked<'a> {
    id: &'a str,
    /// Always `true`.
    revoked: bool,
}

/// What `tokensim --json profile oauth clear` prints.
#[derive(Serialize)]
struct Cleared<'a> {
    id: &'a str,
    /// Always `true`.
    cleared: bool,
}

/// An account as `show` prints it: whether tokens are kept, not the tokens.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OAuthShown<'a> {
    id: &'a str,
    profile: &'static str,
    server_url: &'a str,
    client_id: &'a str,
    mode: &'a Value,
    device_id: &'a Value,
    scope: &'a Value,
    has_tokens: bool,
    access_expires_ms: Option<i64>,
}

/// The sandbox verification page's form: the user approves the code (RFC 8628 user interaction).
#[derive(Serialize)]
struct Verification<'a> {
    user_code: &'a str,
    device_id: &'a str,
    decision: &'static str,
}

/// The account's public details, kept in its profile record.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountDetails<'a> {
    /// `client-credentials` or `device`.
    mode: &'static str,
    scope: &'a str,
    device_id: Option<&'a str>,
}

/// What `tokensim --json profile oauth register` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registered<'a> {
    id: &'a str,
    client_id: &'a str,
    mode: &'a Value,
    device_id: Option<&'a str>,
}

fn source_name(source: tokensim_device::profiles::oauth::TokenSource) -> &'static str {
    use tokensim_device::profiles::oauth::TokenSource;
    match source {
        TokenSource::Stored => "storage",
        TokenSource::Refreshed => "refresh",
        TokenSource::ClientCredentials => "client-credentials",
        TokenSource::DeviceAuthorization => "device-authorization",
    }
}

pub(super) async fn run(ctx: &Ctx<'_>, command: OAuthCommand) -> Result<Output> {
    match command {
        OAuthCommand::Register(args) => {
            ctx.no_fault("profile oauth register")?;
            register(ctx, args).await
        }
        OAuthCommand::Token => {
            let fault = oauth_fault(ctx)?;
            let account = ctx.profile_account(PROFILE)?;
            let client = engine(ctx, &account, fault)?;
            let authorized = client.authorize().await.map_err(failure)?;
            token_output(
                &account,
                source_name(authorized.source),
                &authorized.tokens,
                ctx.g.reveal_secrets,
            )
        }
        OAuthCommand::Call => {
            let fault = oauth_fault(ctx)?;
            let account = ctx.profile_account(PROFILE)?;
            let client = engine(ctx, &account, fault)?;
            let answer = client.call_api().await.map_err(failure)?;
            Output::typed(
                format!(
                    "the API accepted the token (from {}{}): {}",
                    source_name(answer.source),
                    if answer.refreshed_after_401 {
                        ", after a 401 and a refresh"
                    } else {
                        ""
                    },
                    answer.body
                ),
                &Called {
                    id: account.id.as_str(),
                    source: source_name(answer.source),
                    refreshed_after_401: answer.refreshed_after_401,
                    api: &answer.body,
                },
            )
        }
        OAuthCommand::Device(args) => {
            let fault = oauth_fault(ctx)?;
            let account = ctx.profile_account(PROFILE)?;
            let device_id = account.record.details["deviceId"]
                .as_str()
                .ok_or_else(|| {
                    Failure::new(Class::Usage, ErrorKind::Usage, "this account is not a device-flow client")
                        .hint("register one with `tokensim profile oauth register --device-flow --device-id /vendor/acme/serial/1234`")
                })?
                .to_owned();
            let client = engine(ctx, &account, fault)?;
            let code = client.start_device(&device_id).await.map_err(failure)?;
            // The user code goes to the terminal (the person needs it), never to the inspector.
            eprintln!(
                "open {} and enter code {} for device {device_id} (it expires in {} s)",
                code.verification_uri(),
                code.user_code(),
                code.expires_in().as_secs()
            );
            if args.approve {
                approve(
                    ctx,
                    &account.record.server_url,
                    code.user_code(),
                    &device_id,
                )
                .await?;
            }
            let done = client.finish_device(&code).await.map_err(failure)?;
            token_output(
                &account,
                source_name(done.source),
                &done.tokens,
                ctx.g.reveal_secrets,
            )
        }
        OAuthCommand::Revoke => {
            let fault = oauth_fault(ctx)?;
            let account = ctx.profile_account(PROFILE)?;
            engine(ctx, &account, fault)?
                .revoke()
                .await
                .map_err(failure)?;
            Output::typed(
                "refresh token revoked; stored tokens cleared",
                &Revoked {
                    id: account.id.as_str(),
                    revoked: true,
                },
            )
        }
        OAuthCommand::Clear => {
            ctx.no_fault("profile oauth clear")?;
            let account = ctx.profile_account(PROFILE)?;
            engine(ctx, &account, None)?.clear().map_err(failure)?;
            Output::typed(
                "stored tokens cleared; the next call authenticates again",
                &Cleared {
                    id: account.id.as_str(),
                    cleared: true,
                },
            )
        }
        OAuthCommand::Show => {
            ctx.no_fault("profile oauth show")?;
            let account = ctx.profile_account(PROFILE)?;
            let secrets =
                OAuthSecrets::read(&account.secret).map_err(|e| failure(OAuthError::Storage(e)))?;
            let shown = OAuthShown {
                id: account.id.as_str(),
                profile: PROFILE,
                server_url: &account.record.server_url,
                client_id: &account.record.subject,
                mode: &account.record.details["mode"],
                device_id: &account.record.details["deviceId"],
                scope: &account.record.details["scope"],
                has_tokens: secrets.tokens.is_some(),
                access_expires_ms: secrets.tokens.as_ref().map(|t| t.access_expires_ms),
            };
            let mut output = Output::typed(String::new(), &shown)?;
            output.text = key_value_text(&output.json, 16);
            Ok(output)
        }
        OAuthCommand::Remove => {
            ctx.no_fault("profile oauth remove")?;
            let account = ctx.profile_account(PROFILE)?;
            account.store.remove(&account.id)?;
            Output::typed(
                format!("account {} forgotten here", account.id),
                &AccountRemoved {
                    id: account.id.as_str(),
                    removed: true,
                },
            )
        }
    }
}

async fn post_json(
    ctx: &Ctx<'_>,
    server: &str,
    label: &'static str,
    path: &str,
    body: &impl Serialize,
) -> Result<Value> {
    let body = request_body(body)?;
    let answer = ctx
        .profile_client(server)
        .send(label, reqwest::Method::POST, path, Vec::new(), Some(&body))
        .await?;
    Ok(answer.body)
}

/// The verification page's approval, sent on the user's behalf.
async fn approve(ctx: &Ctx<'_>, server: &str, user_code: &str, device_id: &str) -> Result<()> {
    post_json(
        ctx,
        server,
        "profile/oauth/approve",
        "/oauth2/device/verify",
        &Verification {
            user_code,
            device_id,
            decision: "approve",
        },
    )
    .await?;
    Ok(())
}

async fn register(ctx: &Ctx<'_>, args: RegisterArgs) -> Result<Output> {
    let device_id = match (&args.device_flow, &args.device_id) {
        (true, Some(id)) => Some(id.clone()),
        (true, None) => Some(format!("/vendor/tokensim/serial/{}", &uuid_like()[..8])),
        (false, _) => None,
    };
    let registration = if args.device_flow {
        ClientRegistration::device("TokenSim point-of-sale device", &args.scope)
    } else {
        ClientRegistration::confidential("TokenSim client", &args.scope)
    };
    let store = ctx.profile_store()?;
    let name = args.name.clone().unwrap_or_else(|| {
        if args.device_flow {
            "oauth-device".to_owned()
        } else {
            "oauth-cc".to_owned()
        }
    });
    let id = DeviceId::parse(&name).map_err(|e| {
        Failure::from(tokensim_wallet::Error::from(e))
            .hint("use up to 64 letters, digits, '-' and '_' in --name")
    })?;
    let registered = register_client(&ctx.profile_client(&args.server), &registration).await?;
    let client_id = registered.client_id.clone();
    let record = ProfileRecord {
        profile: PROFILE.to_owned(),
        server_url: args.server.trim_end_matches('/').to_owned(),
        subject: client_id.clone(),
        details: request_body(&AccountDetails {
            mode: if args.device_flow {
                "device"
            } else {
                "client-credentials"
            },
            scope: &args.scope,
            device_id: device_id.as_deref(),
        })?,
    };
    let secrets = OAuthSecrets {
        client_secret: registered.client_secret.as_deref().cloned(),
        tokens: None,
    };
    let bytes = secrets
        .to_bytes()
        .map_err(|e| failure(OAuthError::Storage(e)))?;
    store.create(&id, &record, &bytes)?;
    Output::typed(
        format!("client {client_id} registered and kept as {id}"),
        &Registered {
            id: id.as_str(),
            client_id: &client_id,
            mode: &record.details["mode"],
            device_id: device_id.as_deref(),
        },
    )
}

/// Eight hex characters of randomness for a default device id.
fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ std::process::id())
        .unwrap_or_default();
    format!("{nanos:08x}")
}
