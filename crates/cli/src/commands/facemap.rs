//! `tokensim profile facemap …`: face authentication transactions against the sandbox's
//! `/profiles/facemap` (Jumio's shapes): `credentials` (an admin makes an API token and
//! secret), `initiate` (as the bank's server), `capture` (as the device, choosing the
//! face), `show` (Jumio's retrieval). The API secret comes from an environment variable,
//! never from the command line, and never appears in output or traces.
//!
//! `--fault` takes the catalogue's faults of profile `facemap`: `wrong-secret` and
//! `server-down` on every call, `replay`, `clock-skew` and `expired-token` on `capture`; the
//! output is then the fault report (what was sent, what the sandbox answered, what it must
//! answer), exit 0 when it matched.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use tokensim_device::profiles::facemap::{
    ApiCredentials, EnrollmentMetadata, Face, FacemapClient, FacemapError, PROFILE,
};
use tokensim_device::{Fault, Recorder};

use super::{Ctx, Result, env_secret, fault_output};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

/// `tokensim profile facemap`.
#[derive(Debug, Subcommand)]
pub(crate) enum FacemapCommand {
    /// Make an API token and secret for a sandbox application (needs the admin password);
    /// the secret is shown once.
    Credentials(CredentialsArgs),
    /// As the bank's server: start an authentication transaction with a stored facemap.
    Initiate(InitiateArgs),
    /// As the device: perform the face capture for a transaction, showing the chosen face.
    Capture(CaptureArgs),
    /// The transaction's state, as Jumio's retrieval API gives it.
    Show(ShowArgs),
}

/// Where the profile is and who calls it.
#[derive(Debug, Args)]
pub(crate) struct Endpoint {
    /// The sandbox's URL.
    #[arg(
        long,
        env = "TOKENSIM_SANDBOX_URL",
        default_value = "http://127.0.0.1:8780"
    )]
    pub url: String,
    /// The API token (Basic user).
    #[arg(long, env = "TOKENSIM_FACEMAP_TOKEN")]
    pub api_token: String,
    /// Environment variable holding the API secret (Basic password).
    #[arg(long, value_name = "VAR", default_value = "TOKENSIM_FACEMAP_SECRET")]
    pub api_secret_env: String,
}

/// `credentials`.
#[derive(Debug, Args)]
pub(crate) struct CredentialsArgs {
    /// The sandbox's URL.
    #[arg(
        long,
        env = "TOKENSIM_SANDBOX_URL",
        default_value = "http://127.0.0.1:8780"
    )]
    pub url: String,
    /// The application the credentials belong to.
    #[arg(long, default_value = "tokensim")]
    pub application: String,
    /// The Cloud admin user.
    #[arg(long, default_value = "admin")]
    pub admin: String,
    /// Environment variable holding the admin's password.
    #[arg(long, value_name = "VAR", default_value = "TOKENSIM_ADMIN_PASSWORD")]
    pub admin_password_env: String,
}

/// `initiate`.
#[derive(Debug, Args)]
pub(crate) struct InitiateArgs {
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// `enrollmentTransactionReference`: the enrollment the face is compared with.
    #[arg(long)]
    pub enrollment: String,
    /// The facemap file (default: 4 KiB of random bytes standing for one).
    #[arg(long, value_name = "FILE")]
    pub facemap: Option<std::path::PathBuf>,
    /// `userReference`.
    #[arg(long)]
    pub user_reference: Option<String>,
    /// `callbackUrl`: where the final state is POSTed.
    #[arg(long)]
    pub callback_url: Option<String>,
    /// Web: `successUrl`.
    #[arg(long)]
    pub success_url: Option<String>,
    /// Web: `errorUrl`.
    #[arg(long)]
    pub error_url: Option<String>,
    /// Web: `locale`, e.g. `de`.
    #[arg(long)]
    pub locale: Option<String>,
    /// Web: `tokenLifetimeInMinutes` (5–86400; the transaction lives at most 15).
    #[arg(long, value_name = "MINUTES")]
    pub lifetime: Option<i64>,
}

/// `capture`.
#[derive(Debug, Args)]
pub(crate) struct CaptureArgs {
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// The transaction reference (`authenticationTransactionReference`).
    pub reference: String,
    /// The face shown: live (PASSED), spoof (INVALID), different-person (FAILED), timeout
    /// (no capture: EXPIRED once the transaction's time is up).
    #[arg(long, default_value = "live")]
    pub face: Face,
}

/// `show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    pub endpoint: Endpoint,
    /// The transaction reference.
    pub reference: String,
}

/// Runs a `tokensim profile facemap` command.
pub(super) async fn facemap(ctx: &Ctx<'_>, command: FacemapCommand) -> Result<Output> {
    let fault = ctx.profile_fault(PROFILE)?;
    if let (Some(fault), false) = (fault, matches!(command, FacemapCommand::Capture(_)))
        && !matches!(fault, Fault::WrongSecret | Fault::ServerDown)
    {
        return Err(Failure::new(
            Class::Usage,
            ErrorKind::Usage,
            format!(
                "--fault {} applies to profile facemap's capture only",
                fault.spec().name
            ),
        )
        .hint("wrong-secret and server-down apply to every facemap call; replay, clock-skew and expired-token to capture"));
    }
    match command {
        FacemapCommand::Credentials(args) => {
            if fault.is_some() {
                ctx.no_fault("profile facemap credentials")?;
            }
            credentials(ctx, args).await
        }
        FacemapCommand::Initiate(args) => {
            let (client, recorder) = client(ctx, &args.endpoint, fault)?;
            let facemap = match &args.facemap {
                Some(path) => std::fs::read(path).map_err(|e| {
                    Failure::new(
                        Class::Error,
                        ErrorKind::Io,
                        format!("cannot read the facemap {}: {e}", path.display()),
                    )
                })?,
                None => {
                    let mut bytes = vec![0u8; 4096];
                    ctx.client.rng().fill(&mut bytes);
                    bytes
                }
            };
            let metadata = EnrollmentMetadata {
                enrollment_transaction_reference: args.enrollment,
                user_reference: args.user_reference,
                callback_url: args.callback_url,
                success_url: args.success_url,
                error_url: args.error_url,
                locale: args.locale,
                token_lifetime_in_minutes: args.lifetime,
            };
            let result = client.initiate(facemap, &metadata).await;
            if let Some(report) = client.fault_report(&result, recorder.exchanges()) {
                return fault_output(&report);
            }
            let initiated = result.map_err(failure)?;
            let mut text = format!(
                "transaction {} created\n",
                initiated.authentication_transaction_reference
            );
            if let Some(url) = &initiated.redirect_url {
                text.push_str(&format!("the user opens {url}\n"));
            }
            Output::typed(text, &initiated)
        }
        FacemapCommand::Capture(args) => {
            let (client, recorder) = client(ctx, &args.endpoint, fault)?;
            // The client applies `clock-skew` to the capture's timestamp itself.
            let now = i64::try_from(ctx.client.now_ms()).unwrap_or(i64::MAX);
            let result = client.capture(&args.reference, args.face, now).await;
            if let Some(report) = client.fault_report(&result, recorder.exchanges()) {
                return fault_output(&report);
            }
            let outcome = result.map_err(failure)?;
            let text = match args.face {
                Face::Timeout => format!(
                    "the capture of {} was opened and left: it ends EXPIRED when its time is up",
                    outcome.transaction_reference
                ),
                face => format!(
                    "captured a {} face: {} is {}",
                    face.name(),
                    outcome.transaction_reference,
                    outcome.transaction_result
                ),
            };
            Output::typed(text, &outcome)
        }
        FacemapCommand::Show(args) => {
            let (client, recorder) = client(ctx, &args.endpoint, fault)?;
            let result = client.detail(&args.reference).await;
            if let Some(report) = client.fault_report(&result, recorder.exchanges()) {
                return fault_output(&report);
            }
            let detail = result.map_err(failure)?;
            let text = format!(
                "{} {} (enrollment {}, {}, made {})",
                detail.transaction_reference,
                detail.transaction_result,
                detail.enrollment_transaction_reference,
                detail.scan_source,
                detail.transaction_date
            );
            Output::typed(text, &detail)
        }
    }
}

/// The client for `endpoint` with `fault` armed, and the recorder of its exchanges (for the
/// fault report).
fn client(
    ctx: &Ctx<'_>,
    endpoint: &Endpoint,
    fault: Option<Fault>,
) -> Result<(FacemapClient, Arc<Recorder>)> {
    let secret = env_secret(&endpoint.api_secret_env).ok_or_else(|| {
        Failure::new(
            Class::Usage,
            ErrorKind::NoPassword,
            format!("no API secret in ${}", endpoint.api_secret_env),
        )
        .hint("export the API secret `tokensim profile facemap credentials` printed into that variable")
    })?;
    let url = format!(
        "{}{}",
        endpoint.url.trim_end_matches('/'),
        "/profiles/facemap"
    );
    let client = FacemapClient::new(
        &url,
        ApiCredentials {
            api_token: endpoint.api_token.clone(),
            api_secret: secret.to_string(),
        },
        ctx.client.events(),
        Duration::from_secs(ctx.g.timeout.max(1)),
    )
    .map_err(failure)?;
    let recorder = Arc::new(Recorder::default());
    let client = client
        .with_fault(fault)
        .map_err(|e| Failure::new(Class::Usage, ErrorKind::Usage, e.to_string()))?
        .recorded(recorder.clone());
    Ok((client, recorder))
}

async fn credentials(ctx: &Ctx<'_>, args: CredentialsArgs) -> Result<Output> {
    let password = env_secret(&args.admin_password_env).ok_or_else(|| {
        Failure::new(
            Class::Usage,
            ErrorKind::NoPassword,
            format!("no admin password in ${}", args.admin_password_env),
        )
        .hint("export the admin password the sandbox printed into that variable")
    })?;
    let url = format!(
        "{}/profiles/facemap/credentials",
        args.url.trim_end_matches('/')
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(ctx.g.timeout.max(1)))
        .build()
        .map_err(|e| Failure::new(Class::Error, ErrorKind::Network, e.to_string()))?;
    let response = http
        .post(&url)
        .basic_auth(&args.admin, Some(password.as_str()))
        .json(&NewCredentials {
            application_id: &args.application,
        })
        .send()
        .await
        .map_err(|e| {
            failure(FacemapError::Network {
                url: url.clone(),
                detail: e.to_string(),
            })
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        return Err(Failure::new(
            Class::Rejected,
            ErrorKind::Rejected,
            format!(
                "the sandbox refused to make credentials (HTTP {}): {}",
                status.as_u16(),
                body["responseObject"]["message"]
                    .as_str()
                    .or(body["message"].as_str())
                    .unwrap_or("no reason given")
            ),
        )
        .hint("check the admin password and the application id"));
    }
    let made: Credentials = serde_json::from_value(body).map_err(|e| {
        failure(FacemapError::InvalidResponse {
            what: "profile/facemap/credentials",
            detail: e.to_string(),
        })
    })?;
    let text = format!(
        "API token {}\nAPI secret {} (shown once: export it as TOKENSIM_FACEMAP_SECRET)",
        made.api_token, made.api_secret
    );
    Output::typed(text, &made)
}

/// The sandbox's `POST /profiles/facemap/credentials` request.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewCredentials<'a> {
    application_id: &'a str,
}

/// Its answer, which `tokensim --json profile facemap credentials` prints: the secret is
/// shown once, on purpose (the tester exports it).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credentials {
    application_id: String,
    api_token: String,
    api_secret: String,
}

/// The facemap client's error as the CLI reports it.
fn failure(error: FacemapError) -> Failure {
    let message = error.to_string();
    match error {
        FacemapError::Network { .. } => Failure::new(Class::Error, ErrorKind::Network, message)
            .hint("start the sandbox (tokensim sandbox) or check --url"),
        FacemapError::Timeout { .. } => Failure::new(Class::Error, ErrorKind::Timeout, message)
            .hint("retry, or raise --timeout"),
        FacemapError::Refused { status, .. } if status >= 500 => {
            Failure::new(Class::Error, ErrorKind::ServerError, message)
                .hint("the sandbox failed; see its log")
        }
        FacemapError::Refused { .. } => Failure::new(Class::Rejected, ErrorKind::Rejected, message)
            .hint("see the server's reason above"),
        FacemapError::InvalidResponse { .. } => {
            Failure::new(Class::Rejected, ErrorKind::InvalidResponse, message)
                .hint("check that --url points at a TokenSim sandbox")
        }
        FacemapError::Facemap(_) => {
            Failure::new(Class::Error, ErrorKind::Io, message).hint("check the facemap file")
        }
        _ => Failure::new(Class::Error, ErrorKind::Error, message),
    }
}
