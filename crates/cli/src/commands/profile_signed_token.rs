//! `tokensim profile signed-token ACTION`: a phone whose vendor SDK attaches the user and
//! reports events with HS256 signed tokens from the bank's app server (issue 16 §4).

use clap::{Args, Subcommand};
use serde::Serialize;
use tokensim_device::profiles::signed_token::{PROFILE, SignedTokenAccount, Source};
use tokensim_wallet::DeviceId;

use super::profile::{Account, AccountRemoved, request_body};
use super::{Ctx, Result, fault_output};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// The actions of `profile signed-token`.
#[derive(Debug, Subcommand)]
pub(crate) enum SignedTokenCommand {
    /// Enroll this simulated phone for a user. Without --project a new vendor project is
    /// made on the server (a sandbox), requiring signed tokens.
    Enroll(EnrollArgs),
    /// Attach the user to the device, with the kept token (renewed first only when its own
    /// expiry has passed). `--fault` applies.
    Attach {
        /// Send no token (a project that does not require signed tokens accepts it).
        #[arg(long)]
        unsigned: bool,
    },
    /// Report an event, with a token for the event id from the app server.
    Identify {
        /// The event id.
        #[arg(long)]
        event: String,
        /// Send no token.
        #[arg(long)]
        unsigned: bool,
    },
    /// Ask the app server for a new attach token now.
    Refresh,
    /// The vendor project: its setting, rate and how many sign calls were made.
    Project {
        /// Change the setting: whether attach and identify require a signed token.
        #[arg(long, value_name = "true|false")]
        require_signed: Option<bool>,
    },
    /// The access history of this user on the server (signed or not, accepted or why not).
    History,
    /// Show the account (nothing secret).
    Show,
    /// Forget the account here.
    Remove,
}

/// `profile signed-token enroll`.
#[derive(Debug, Args)]
pub(crate) struct EnrollArgs {
    /// The server's base URL (a sandbox).
    #[arg(long)]
    pub server: String,
    /// The user to attach.
    #[arg(long)]
    pub user: String,
    /// The vendor project id. Without it a new project is created on the server.
    #[arg(long)]
    pub project: Option<String>,
    /// Where the app server gets tokens: self-signed with the project's API secret, or the
    /// vendor's (counted) sign endpoint.
    #[arg(long, default_value = "self", value_parser = ["self", "vendor"])]
    pub source: String,
    /// The app server's signs per user and minute, for a project made here.
    #[arg(long, conflicts_with = "project")]
    pub rate: Option<i64>,
    /// Token lifetime in seconds, for a project made here.
    #[arg(long, value_name = "SECS", conflicts_with = "project")]
    pub lifetime: Option<i64>,
    /// The id the account is kept under (default: signed-token-USER).
    #[arg(long)]
    pub name: Option<String>,
}

pub(super) async fn run(ctx: &Ctx<'_>, command: SignedTokenCommand) -> Result<Output> {
    match command {
        SignedTokenCommand::Enroll(args) => {
            ctx.no_fault("profile enroll")?;
            enroll(ctx, args).await
        }
        SignedTokenCommand::Attach { unsigned } => {
            let fault = ctx.profile_fault(PROFILE)?;
            let account = ctx.profile_account(PROFILE)?;
            let mut device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            let mut persist = persister(&account);
            match fault {
                Some(fault) => {
                    fault_output(&device.attach_faulted(&pc, fault, &mut persist).await?)
                }
                None => {
                    let accepted = device.attach(&pc, !unsigned, &mut persist).await?;
                    Ok(Output::typed(
                        format!(
                            "attached {} ({}){}",
                            accepted.subject,
                            accepted.signing(),
                            if accepted.refreshed {
                                ", the expired token was renewed first"
                            } else {
                                ""
                            }
                        ),
                        &accepted,
                    )?)
                }
            }
        }
        SignedTokenCommand::Identify { event, unsigned } => {
            let fault = ctx.profile_fault(PROFILE)?;
            let account = ctx.profile_account(PROFILE)?;
            let mut device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            let accepted = match fault {
                Some(fault) => {
                    let check =
                        tokensim_device::profiles::FaultCheck::start(pc.client(), PROFILE, fault)?;
                    let faulted = pc.with_client(check.client());
                    let result = device.identify(&faulted, &event, !unsigned).await;
                    return fault_output(&check.report(&result, |fault| match fault {
                        tokensim_device::Fault::ExpiredToken => "token_expired",
                        _ => "token_invalid",
                    }));
                }
                None => device.identify(&pc, &event, !unsigned).await?,
            };
            Ok(Output::typed(
                format!(
                    "identified event {} ({})",
                    accepted.subject,
                    accepted.signing()
                ),
                &accepted,
            )?)
        }
        SignedTokenCommand::Refresh => {
            ctx.no_fault("profile refresh")?;
            let account = ctx.profile_account(PROFILE)?;
            let mut device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            device.refresh(&pc, &mut persister(&account)).await?;
            Output::typed(
                format!(
                    "new token kept; it expires at {}",
                    device.token_expires_at.unwrap_or_default()
                ),
                &TokenRefreshed {
                    id: account.id.as_str(),
                    token_expires_at: device.token_expires_at,
                },
            )
        }
        SignedTokenCommand::Project { require_signed } => {
            ctx.no_fault("profile project")?;
            let account = ctx.profile_account(PROFILE)?;
            let device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            let path = format!("/profiles/signed-token/projects/{}", device.project_id);
            let answer = match require_signed {
                Some(require) => {
                    pc.send(
                        "profile/signed-token/settings",
                        reqwest::Method::PUT,
                        &format!("{path}/settings"),
                        Vec::new(),
                        Some(&request_body(&ProjectSettings {
                            require_signed_tokens: require,
                            sign_rate_per_minute: None,
                            token_lifetime_seconds: None,
                        })?),
                    )
                    .await?
                }
                None => {
                    pc.send(
                        "profile/signed-token/project",
                        reqwest::Method::GET,
                        &path,
                        Vec::new(),
                        None,
                    )
                    .await?
                }
            };
            let body = answer.body;
            Ok(Output::new(
                format!(
                    "project {}: signed tokens {}; {} sign calls; {} signs per user and minute",
                    body["projectId"].as_str().unwrap_or_default(),
                    if body["requireSignedTokens"] == true {
                        "required"
                    } else {
                        "optional"
                    },
                    body["signCalls"],
                    body["signRatePerMinute"]
                ),
                body,
            ))
        }
        SignedTokenCommand::History => {
            ctx.no_fault("profile history")?;
            let account = ctx.profile_account(PROFILE)?;
            let device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let pc = ctx.profile_client(&device.server_url);
            let answer = pc
                .accesses(&[
                    ("profile", PROFILE),
                    ("projectId", &device.project_id),
                    ("subject", &device.user),
                ])
                .await?;
            let mut text = String::new();
            for access in answer.body["accesses"].as_array().into_iter().flatten() {
                text.push_str(&format!(
                    "{:<14} {:<9} {:<9} {}\n",
                    access["atMs"],
                    access["call"].as_str().unwrap_or_default(),
                    if access["signed"] == true {
                        "signed"
                    } else {
                        "unsigned"
                    },
                    if access["accepted"] == true {
                        "accepted"
                    } else {
                        access["reason"].as_str().unwrap_or("refused")
                    }
                ));
            }
            if text.is_empty() {
                text.push_str("no access yet\n");
            }
            Ok(Output::new(text, answer.body))
        }
        SignedTokenCommand::Show => {
            ctx.no_fault("profile show")?;
            let account = ctx.profile_account(PROFILE)?;
            let device = SignedTokenAccount::from_parts(&account.record, &account.secret)?;
            let mut output = Output::typed(String::new(), &shown(account.id.as_str(), &device))?;
            output.text = format!("{:#}", output.json);
            Ok(output)
        }
        SignedTokenCommand::Remove => {
            ctx.no_fault("profile remove")?;
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

/// Query-string escaping of a user id.
fn persister(
    account: &Account,
) -> impl FnMut(&SignedTokenAccount) -> tokensim_device::Result<()> + Send + '_ {
    move |device: &SignedTokenAccount| account.persist(device.to_parts())
}

/// A vendor project's settings, as `POST /profiles/signed-token/projects` and
/// `PUT .../settings` take them (absent: the server's default).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProjectSettings {
    require_signed_tokens: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_rate_per_minute: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_lifetime_seconds: Option<i64>,
}

/// What `tokensim --json profile signed-token refresh` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenRefreshed<'a> {
    id: &'a str,
    token_expires_at: Option<i64>,
}

/// An account as `enroll` and `show` print it: whether a token is kept, not the token.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenShown<'a> {
    id: &'a str,
    profile: &'static str,
    server_url: &'a str,
    project_id: &'a str,
    user: &'a str,
    source: &'static str,
    has_token: bool,
    token_expires_at: Option<i64>,
}

fn shown<'a>(id: &'a str, device: &'a SignedTokenAccount) -> TokenShown<'a> {
    TokenShown {
        id,
        profile: PROFILE,
        server_url: &device.server_url,
        project_id: &device.project_id,
        user: &device.user,
        source: device.source.as_str(),
        has_token: device.has_token(),
        token_expires_at: device.token_expires_at,
    }
}

async fn enroll(ctx: &Ctx<'_>, args: EnrollArgs) -> Result<Output> {
    let pc = ctx.profile_client(&args.server);
    let source = if args.source == "vendor" {
        Source::Vendor
    } else {
        Source::SelfSigned
    };
    let project = match &args.project {
        Some(project) => project.clone(),
        None => {
            let body = request_body(&ProjectSettings {
                require_signed_tokens: true,
                sign_rate_per_minute: args.rate,
                token_lifetime_seconds: args.lifetime,
            })?;
            tokensim_device::profiles::signed_token::create_project(&pc, &body).await?
        }
    };
    let device = SignedTokenAccount::new(&args.server, &project, &args.user, source);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("{PROFILE}-{}", args.user));
    let id = DeviceId::parse(&name).map_err(|e| {
        Failure::from(tokensim_wallet::Error::from(e))
            .hint("use up to 64 letters, digits, '-' and '_' in --name")
    })?;
    let store = ctx.profile_store()?;
    let (record, secret) = device.to_parts();
    store.create(&id, &record, &secret).map_err(|e| {
        Failure::new(Class::Device, ErrorKind::Store, e.to_string())
            .hint("choose another --name, or remove the account first")
    })?;
    Output::typed(
        format!(
            "enrolled {PROFILE} phone for {} as {id} (project {project})",
            args.user
        ),
        &shown(id.as_str(), &device),
    )
}
