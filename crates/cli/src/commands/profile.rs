//! `tokensim profile NAME ACTION`: the device profiles beside PowerAuth. Each profile is a
//! subcommand whose actions live in its own file (`profile_jwt.rs`…); this file dispatches
//! and holds what they share: the profile store (the wallet's, with the user's backend),
//! the account's lease, and the `--fault` check against the catalogue.

use clap::Subcommand;
use serde::Serialize;
use tokensim_device::profiles::{PROFILES, ProfileClient, ProfileSpec};
use tokensim_wallet::{ProfileStore, ProfileSummary};

use super::{Ctx, Result};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// `tokensim profile ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Device JWT: log in to the app server with this device's id, keep the JWT it gets from
    /// the vendor, call the vendor with `Authorization: Bearer`.
    #[command(subcommand)]
    Jwt(super::profile_jwt::JwtCommand),
    /// Mobile API key: every vendor call carries the app's API key and the device id.
    #[command(subcommand, name = "api-key")]
    ApiKey(super::profile_jwt::JwtCommand),
    /// Signed device tokens: attach and identify with HS256 tokens from the app server.
    #[command(subcommand, name = "signed-token")]
    SignedToken(super::profile_signed_token::SignedTokenCommand),
    /// Face authentication transactions (Jumio's facemap API on the sandbox).
    #[command(subcommand)]
    Facemap(super::facemap::FacemapCommand),
    /// OAuth 2.0: client credentials with refresh, or an RFC 8628 point-of-sale device
    /// approved on the sandbox's verification page; tokens kept in the user's store.
    #[command(subcommand)]
    Oauth(super::profile_oauth::OAuthCommand),
    /// List the profiles and the accounts kept here (nothing secret).
    List,
}

pub(super) async fn run(ctx: &Ctx<'_>, command: ProfileCommand) -> Result<Output> {
    match command {
        ProfileCommand::Jwt(command) => {
            super::profile_jwt::run(ctx, tokensim_device::profiles::jwt::Mode::Jwt, command).await
        }
        ProfileCommand::ApiKey(command) => {
            super::profile_jwt::run(ctx, tokensim_device::profiles::jwt::Mode::ApiKey, command)
                .await
        }
        ProfileCommand::SignedToken(command) => {
            super::profile_signed_token::run(ctx, command).await
        }
        ProfileCommand::Facemap(command) => super::facemap::facemap(ctx, command).await,
        ProfileCommand::Oauth(command) => super::profile_oauth::run(ctx, command).await,
        ProfileCommand::List => list(ctx),
    }
}

fn list(ctx: &Ctx<'_>) -> Result<Output> {
    ctx.no_fault("profile list")?;
    let accounts = ctx.wallet()?.profiles()?.list()?;
    let mut text = String::new();
    for spec in PROFILES {
        text.push_str(&format!("{:<10} {}\n", spec.name, spec.label));
    }
    text.push('\n');
    if accounts.is_empty() {
        text.push_str("no accounts: tokensim profile jwt enroll makes one\n");
    }
    for account in &accounts {
        text.push_str(&format!(
            "{:<24} {:<10} {}  {}\n",
            account.id, account.profile, account.subject, account.server_url
        ));
    }
    Output::typed(
        text,
        &ProfileList {
            profiles: PROFILES,
            accounts: &accounts,
        },
    )
}

/// What `tokensim --json profile NAME remove` prints.
#[derive(Serialize)]
pub(super) struct AccountRemoved<'a> {
    pub id: &'a str,
    /// Always `true`.
    pub removed: bool,
}

/// A typed request body as the profile client sends it (a JSON value).
pub(super) fn request_body(body: &impl Serialize) -> Result<serde_json::Value> {
    serde_json::to_value(body).map_err(|e| {
        Failure::new(
            Class::Error,
            ErrorKind::Error,
            format!("cannot encode the request: {e}"),
        )
    })
}

/// `field  value` lines of a JSON object, in its key order (a `show` command's text).
pub(super) fn key_value_text(value: &serde_json::Value, width: usize) -> String {
    value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    format!(
                        "{k:<width$} {}\n",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                })
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// `tokensim --json profile list`: the profiles this build has and the accounts kept here.
#[derive(Serialize)]
struct ProfileList<'a> {
    profiles: &'a [ProfileSpec],
    accounts: &'a [ProfileSummary],
}

/// A profile account loaded for a command: its store, id and lease (held until dropped).
pub(super) use tokensim_wallet::ProfileAccount as Account;

impl Ctx<'_> {
    /// The profile store of the user's wallet.
    pub(super) fn profile_store(&self) -> Result<ProfileStore> {
        Ok(self.wallet()?.profiles()?)
    }

    /// The account `--device` names (or the only one of `profile`), leased and loaded.
    pub(super) fn profile_account(&self, profile: &str) -> Result<Account> {
        let store = self.profile_store()?;
        let id = store
            .resolve(self.g.device.as_deref(), profile)
            .map_err(|e| {
                Failure::from(e).hint(format!(
                    "enroll one with `tokensim profile {profile} enroll`, or name it with --device ID"
                ))
            })?;
        Ok(store.account(id)?)
    }

    /// The profile client for `server_url`, through this command's engine client (its
    /// inspector sink and timeouts).
    pub(super) fn profile_client(&self, server_url: &str) -> ProfileClient {
        ProfileClient::new(&self.client, server_url)
    }

    /// Refuses `--fault` when the catalogue does not list it for `profile`.
    pub(super) fn profile_fault(&self, profile: &str) -> Result<Option<tokensim_device::Fault>> {
        match self.g.fault {
            Some(fault) if !fault.spec().profiles.contains(&profile) => Err(Failure::new(
                Class::Usage,
                ErrorKind::Usage,
                format!(
                    "--fault {} does not apply to profile {profile}",
                    fault.spec().name
                ),
            )
            .hint(format!(
                "the faults of {profile}: {}",
                tokensim_device::catalogue::for_profile(profile)
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
            other => Ok(other),
        }
    }
}
