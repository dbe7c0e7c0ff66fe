//! `tokensim profile jwt|api-key ACTION`: a phone of a vendor SDK that authenticates with a
//! device JWT (from the bank's app server) or with the app's mobile API key.

use clap::{Args, Subcommand};
use serde::Serialize;
use tokensim_device::profiles::jwt::{self, Enrollment, JwtAccount, Mode};
use tokensim_wallet::DeviceId;
use zeroize::Zeroizing;

use super::profile::{Account, AccountRemoved, key_value_text, request_body};
use super::{Ctx, Result, env_secret, fault_output};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// The actions of `profile jwt` and `profile api-key`.
#[derive(Debug, Subcommand)]
pub(crate) enum JwtCommand {
    /// Enroll this simulated phone: a stable device id and, in JWT mode, a login to the app
    /// server whose JWT is kept in the store. Without --project a new vendor project is made
    /// on the server (a sandbox) and, in JWT mode, the user is registered on its app server.
    Enroll(EnrollArgs),
    /// Call the vendor API as the device; in JWT mode the JWT is renewed first only when its
    /// own expiry has passed (or the server says it expired). `--fault` applies.
    Call,
    /// Log in to the app server again for a new JWT now (JWT mode).
    Refresh,
    /// Show the account: server, project, device id, user, JWT expiry (nothing secret).
    Show,
    /// Forget the account here (the server is not told).
    Remove,
}

/// `profile jwt enroll`.
#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// The server's base URL (a sandbox: tokensim sandbox prints it).
    #[arg(long)]
    pub server: String,
    /// The vendor project id. Without it a new project is created on the server.
    #[arg(long)]
    pub project: Option<String>,
    /// The app server user (JWT mode).
    #[arg(long)]
    pub user: Option<String>,
    /// Environment variable holding the user's app server password (JWT mode).
    #[arg(long, value_name = "VAR", default_value = "TOKENSIM_PROFILE_PASSWORD")]
    pub password_env: String,
    /// Environment variable holding the mobile API key (API-key mode with --project).
    #[arg(long, value_name = "VAR", default_value = "TOKENSIM_MOBILE_API_KEY")]
    pub api_key_env: String,
    /// The device id (default: a new random one, kept for the account's life).
    #[arg(long)]
    pub device_id: Option<String>,
    /// The id the account is kept under (default: PROFILE-USER or PROFILE-DEVICE).
    #[arg(long)]
    pub name: Option<String>,
    /// JWT lifetime in seconds of a project made here.
    #[arg(long, value_name = "SECS", conflicts_with = "project")]
    pub lifetime: Option<i64>,
}

pub(super) async fn run(ctx: &Ctx<'_>, mode: Mode, command: JwtCommand) -> Result<Output> {
    let profile = mode.profile();
    match command {
        JwtCommand::Enroll(args) => {
            ctx.no_fault("profile enroll")?;
            enroll(ctx, mode, args).await
        }
        JwtCommand::Call => {
            let fault = ctx.profile_fault(profile)?;
            let account = ctx.profile_account(profile)?;
            let mut device = JwtAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            let mut persist = persister(&account);
            match fault {
                Some(fault) => {
                    let report = device.call_faulted(&pc, fault, &mut persist).await?;
                    fault_output(&report)
                }
                None => {
                    let seen = device.call(&pc, &mut persist).await?;
                    let text = format!(
                        "the vendor accepted device {} of project {} by {}{}",
                        seen.instance_id,
                        seen.project_id,
                        seen.credential,
                        if seen.refreshed {
                            " (the expired JWT was renewed first)"
                        } else {
                            ""
                        }
                    );
                    Ok(Output::typed(text, &seen)?)
                }
            }
        }
        JwtCommand::Refresh => {
            ctx.no_fault("profile refresh")?;
            let account = ctx.profile_account(profile)?;
            let mut device = JwtAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            device.refresh(&pc, &mut persister(&account)).await?;
            Output::typed(
                format!(
                    "new JWT kept; it expires at {}",
                    device.jwt_expires_at.unwrap_or_default()
                ),
                &JwtRefreshed {
                    id: account.id.as_str(),
                    jwt_expires_at: device.jwt_expires_at,
                },
            )
        }
        JwtCommand::Show => {
            ctx.no_fault("profile show")?;
            let account = ctx.profile_account(profile)?;
            let device = JwtAccount::from_parts(&account.record, &account.secret)?;
            let mut output = Output::typed(String::new(), &shown(account.id.as_str(), &device))?;
            output.text = key_value_text(&output.json, 14);
            Ok(output)
        }
        JwtCommand::Remove => {
            ctx.no_fault("profile remove")?;
            let account = ctx.profile_account(profile)?;
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

/// Saves the account through the store (atomically) whenever the engine says so.
fn persister(
    account: &Account,
) -> impl FnMut(&JwtAccount) -> tokensim_device::Result<()> + Send + '_ {
    move |device: &JwtAccount| account.persist(device.to_parts())
}

/// The sandbox's `POST /profiles/jwt/projects` request.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewProject {
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt_lifetime_seconds: Option<i64>,
}

/// What `tokensim --json profile jwt refresh` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtRefreshed<'a> {
    id: &'a str,
    jwt_expires_at: Option<i64>,
}

/// An account as `enroll` and `show` print it: nothing secret (whether a JWT is kept, not
/// the JWT).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtShown<'a> {
    id: &'a str,
    profile: &'static str,
    server_url: &'a str,
    project_id: &'a str,
    device_id: &'a str,
    username: Option<&'a str>,
    has_jwt: bool,
    jwt_expires_at: Option<i64>,
}

fn shown<'a>(id: &'a str, device: &'a JwtAccount) -> JwtShown<'a> {
    JwtShown {
        id,
        profile: device.mode.profile(),
        server_url: &device.server_url,
        project_id: &device.project_id,
        device_id: &device.device_id,
        username: device.username.as_deref(),
        has_jwt: device.has_jwt(),
        jwt_expires_at: device.jwt_expires_at,
    }
}

fn secret_from_env(var: &str, what: &str) -> Result<Zeroizing<String>> {
    env_secret(var).ok_or_else(|| {
        Failure::new(Class::Usage, ErrorKind::Usage, format!("no {what} given")).hint(format!(
            "set ${var} (or name another variable with the --*-env option)"
        ))
    })
}

async fn enroll(ctx: &Ctx<'_>, mode: Mode, args: EnrollArgs) -> Result<Output> {
    let profile = mode.profile();
    let pc = ctx.profile_client(&args.server);
    let usage = |message: &str| Failure::new(Class::Usage, ErrorKind::Usage, message.to_owned());
    if mode == Mode::Jwt && args.user.is_none() {
        return Err(usage("JWT mode needs the app server user: --user NAME"));
    }
    let password = match mode {
        Mode::Jwt => Some(secret_from_env(&args.password_env, "app server password")?),
        Mode::ApiKey => None,
    };
    let store = ctx.profile_store()?;
    let (project_id, mobile_api_key) = match &args.project {
        Some(project) => {
            let key = match mode {
                Mode::ApiKey => Some(secret_from_env(&args.api_key_env, "mobile API key")?),
                Mode::Jwt => None,
            };
            (project.clone(), key)
        }
        None => {
            let body = request_body(&NewProject {
                jwt_lifetime_seconds: args.lifetime,
            })?;
            let project = jwt::create_project(&pc, &body).await?;
            if let (Mode::Jwt, Some(user), Some(password)) = (mode, &args.user, &password) {
                jwt::register_user(&pc, &project.project_id, user, password).await?;
            }
            let key = (mode == Mode::ApiKey).then_some(project.mobile_api_key);
            (project.project_id, key)
        }
    };
    let device = JwtAccount::enroll(
        &pc,
        Enrollment {
            mode,
            project_id,
            device_id: args.device_id.clone(),
            username: args.user.clone(),
            password,
            mobile_api_key,
        },
    )
    .await?;
    let name = args.name.clone().unwrap_or_else(|| match &args.user {
        Some(user) => format!("{profile}-{user}"),
        None => format!(
            "{profile}-{}",
            &device.device_id[..8.min(device.device_id.len())]
        ),
    });
    let id = DeviceId::parse(&name).map_err(|e| {
        Failure::from(tokensim_wallet::Error::from(e))
            .hint("use up to 64 letters, digits, '-' and '_' in --name")
    })?;
    let (record, secret) = device.to_parts();
    store.create(&id, &record, &secret)?;
    Output::typed(
        format!(
            "enrolled {profile} device {} as {id} (project {})",
            device.device_id, device.project_id
        ),
        &shown(id.as_str(), &device),
    )
}
