//! Fleets of the device profiles beside PowerAuth (`--profile jwt,api-key`, `--profile mix`;
//! the OAuth arms are in `crate::oauth`):
//! the profile's shared set-up once (a vendor project on the sandbox), then per device its
//! enrollment (`profile enroll`) and `--profile-calls` authenticated calls (`profile call`),
//! timed per step into the same report as a PowerAuth fleet. A profile is one variant of
//! [`FleetProfile`], one arm in [`set_up`] and one in [`run_device`].

use crate::metrics::{Metrics, Step, error_kind};
use crate::observe::{Cancel, Event, Observer};
use crate::{Error, FleetPlan, FleetReport, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokensim_device::events::{Events, Exchange};
use tokensim_device::profiles::ProfileClient;
use tokensim_device::profiles::jwt::{Enrollment, JwtAccount, Mode};
use tokensim_device::profiles::signed_token::{SignedTokenAccount, Source};
use tokensim_device::{Client, ClientConfig};
use zeroize::Zeroizing;

/// `--profile` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FleetProfile {
    /// PowerAuth: activation, signatures, operations (the default).
    #[serde(rename = "powerauth")]
    PowerAuth,
    /// Device JWT from the app server.
    Jwt,
    /// The mobile API key.
    ApiKey,
    /// HS256 signed device tokens on attach and identify.
    SignedToken,
    /// Face authentication transactions: the bank's server initiates, the device captures
    /// (`--facemap-faces`), the server checks the final state; callbacks counted.
    Facemap,
    /// OAuth 2.0 client credentials: token, reuse, refresh.
    #[serde(rename = "oauth-cc")]
    OAuthCc,
    /// OAuth 2.0 device authorization (RFC 8628), verified on the sandbox's page.
    #[serde(rename = "oauth-device")]
    OAuthDevice,
    /// Every device profile beside PowerAuth, spread over the devices.
    Mix,
}

impl FleetProfile {
    /// Every device profile beside PowerAuth (what `mix` means).
    pub const DEVICE_PROFILES: [FleetProfile; 6] = [
        FleetProfile::Jwt,
        FleetProfile::ApiKey,
        FleetProfile::SignedToken,
        FleetProfile::Facemap,
        FleetProfile::OAuthCc,
        FleetProfile::OAuthDevice,
    ];

    /// Every `--profile` value, in the order the help lists them.
    pub const ALL: [FleetProfile; 8] = [
        FleetProfile::PowerAuth,
        FleetProfile::Jwt,
        FleetProfile::ApiKey,
        FleetProfile::SignedToken,
        FleetProfile::Facemap,
        FleetProfile::OAuthCc,
        FleetProfile::OAuthDevice,
        FleetProfile::Mix,
    ];

    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetProfile::PowerAuth => "powerauth",
            FleetProfile::Jwt => "jwt",
            FleetProfile::ApiKey => "api-key",
            FleetProfile::SignedToken => "signed-token",
            FleetProfile::Facemap => "facemap",
            FleetProfile::OAuthCc => "oauth-cc",
            FleetProfile::OAuthDevice => "oauth-device",
            FleetProfile::Mix => "mix",
        }
    }
}

impl std::str::FromStr for FleetProfile {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "{name:?} is not a fleet profile; known: {}",
                    known.join(", ")
                )
            })
    }
}

/// `None` for a PowerAuth fleet; else the device profiles to spread over the devices.
pub fn plan(profiles: &[FleetProfile]) -> Result<Option<Vec<FleetProfile>>> {
    let mut device_profiles = Vec::new();
    for profile in profiles {
        match profile {
            FleetProfile::PowerAuth => {}
            FleetProfile::Mix => device_profiles.extend(FleetProfile::DEVICE_PROFILES),
            other => device_profiles.push(*other),
        }
    }
    device_profiles.dedup();
    let powerauth = profiles.contains(&FleetProfile::PowerAuth) || profiles.is_empty();
    match (powerauth, device_profiles.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(device_profiles)),
        (true, false) => Err(Error::Options(
            "--profile powerauth does not mix with the device profiles in one run: run them as two fleets".to_owned(),
        )),
        (false, true) => Err(Error::Options("--profile names no profile".to_owned())),
    }
}

/// What a profile's devices share, made once before the first device.
pub(crate) struct Shared {
    /// `jwt`: the vendor project and its mobile API key.
    jwt: Option<(String, Zeroizing<String>)>,
    /// `signed-token`: the vendor project (signed tokens required).
    signed_token: Option<String>,
    /// `facemap`: the API credentials' client, the faces, the callback receiver.
    facemap: Option<crate::facemap::Shared>,
    /// `oauth-device`: the public client of the point-of-sale devices.
    pub(crate) oauth_device: Option<String>,
    /// The OAuth devices' HTTP client (one connection pool).
    pub(crate) oauth_http: reqwest::Client,
}

/// What the device profiles may use of the target beyond its URL.
#[derive(Clone, Default)]
pub(crate) struct Target {
    /// The Cloud admin login (the embedded sandbox's, or `--admin`).
    pub admin: Option<crate::facemap::Admin>,
    /// The embedded sandbox's clock (`None` on an outside server).
    pub clock: Option<crate::facemap::ShiftedClock>,
}

pub(crate) struct Context {
    pub(crate) args: FleetPlan,
    profiles: Vec<FleetProfile>,
    pub(crate) client: ProfileClient,
    pub(crate) shared: Shared,
    pub(crate) metrics: Arc<Metrics>,
    observer: Arc<dyn Observer>,
    cancel: Cancel,
}

pub(crate) struct CountRequests(pub(crate) Arc<Metrics>);

impl Events for CountRequests {
    fn exchange(&self, _: &Exchange) {
        self.0.request();
    }
}

/// Runs the device-profile fleet of `args` against `url`.
pub(crate) async fn execute(
    args: &FleetPlan,
    profiles: &[FleetProfile],
    url: &str,
    target: Target,
    observer: Option<Arc<dyn Observer>>,
    cancel: Cancel,
) -> Result<FleetReport> {
    let metrics = Arc::new(Metrics::new());
    let timeout = Duration::from_secs(args.timeout_seconds.max(1));
    let client = Client::new(
        ClientConfig {
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(5)),
            ..ClientConfig::default()
        },
        Arc::new(CountRequests(metrics.clone())),
    )
    .map_err(|e| Error::Options(e.to_string()))?;
    let client = ProfileClient::new(&client, url);
    let mut shared = set_up(&client, profiles).await?;
    if profiles.contains(&FleetProfile::Facemap) {
        shared.facemap = Some(
            crate::facemap::set_up(
                url,
                &args.app_id,
                target.admin.as_ref(),
                target.clock.clone(),
                args.facemap_faces.as_deref(),
                Arc::new(CountRequests(metrics.clone())),
                timeout,
            )
            .await?,
        );
    }
    let observer = observer.unwrap_or_else(|| Arc::new(crate::Unobserved));
    let context = Arc::new(Context {
        args: args.clone(),
        profiles: profiles.to_vec(),
        client,
        shared,
        metrics: metrics.clone(),
        observer,
        cancel,
    });
    metrics.restart_clock();
    context.observer.event(&Event::Started {
        devices: u64::from(args.devices),
    });
    let progress = crate::engine::progress_bar(args);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency as usize));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..args.devices as usize {
        let (context, semaphore, progress) = (context.clone(), semaphore.clone(), progress.clone());
        tasks.spawn(async move {
            let cancel = context.cancel.clone();
            let _permit = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                permit = semaphore.acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return,
                },
            };
            let enrolled = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                enrolled = run_device(&context, index) => enrolled,
            };
            context.metrics.completed();
            context.observer.event(&Event::DeviceDone {
                activated: enrolled,
            });
            progress.inc(1);
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            metrics.error("panic".to_owned(), format!("a device task failed: {e}"));
        }
    }
    progress.finish_and_clear();
    let transactions = match &context.shared.facemap {
        Some(facemap) if !context.cancel.is_cancelled() => Some(
            crate::facemap::finish(facemap, &metrics, timeout.max(Duration::from_secs(10))).await,
        ),
        _ => None,
    };
    let names: Vec<&str> = profiles.iter().map(|p| p.as_str()).collect();
    let mut report = FleetReport {
        cancelled: context.cancel.is_cancelled(),
        target: url.to_owned(),
        backend: format!("device profiles: {}", names.join(", ")),
        devices: u64::from(args.devices),
        concurrency: u64::from(args.concurrency),
        versions: names.iter().map(|n| (*n).to_owned()).collect(),
        signatures_per_device: u64::from(args.profile_calls),
        store: "memory".to_owned(),
        transactions,
        ..FleetReport::default()
    };
    metrics.finish(&mut report);
    Ok(report)
}

/// Each profile's shared set-up: one arm per profile.
async fn set_up(client: &ProfileClient, profiles: &[FleetProfile]) -> Result<Shared> {
    let mut shared = Shared {
        jwt: None,
        signed_token: None,
        facemap: None,
        oauth_device: None,
        oauth_http: tokensim_device::profiles::oauth::http_client(),
    };
    for profile in profiles {
        match profile {
            FleetProfile::Jwt | FleetProfile::ApiKey if shared.jwt.is_none() => {
                let project = tokensim_device::profiles::jwt::create_project(client, &json!({}))
                    .await
                    .map_err(|e| Error::Options(format!("the jwt profile's project: {e}")))?;
                shared.jwt = Some((project.project_id, project.mobile_api_key));
            }
            FleetProfile::SignedToken if shared.signed_token.is_none() => {
                // A rate above what one fleet device asks for: the fleet measures, it does
                // not test throttling.
                let settings = json!({ "requireSignedTokens": true, "signRatePerMinute": 1000 });
                shared.signed_token = Some(
                    tokensim_device::profiles::signed_token::create_project(client, &settings)
                        .await
                        .map_err(|e| {
                            Error::Options(format!("the signed-token profile's project: {e}"))
                        })?,
                );
            }
            FleetProfile::OAuthDevice if shared.oauth_device.is_none() => {
                shared.oauth_device = Some(crate::oauth::register_device_client(client).await?);
            }
            _ => {}
        }
    }
    Ok(shared)
}

/// One device of its profile: enroll, then the calls. `true` when it enrolled.
async fn run_device(context: &Context, index: usize) -> bool {
    let profile = context.profiles[index % context.profiles.len()];
    let result = match profile {
        FleetProfile::Jwt => jwt_device(context, Mode::Jwt, index).await,
        FleetProfile::ApiKey => jwt_device(context, Mode::ApiKey, index).await,
        FleetProfile::SignedToken => signed_token_device(context, index).await,
        FleetProfile::Facemap => {
            let Some(facemap) = &context.shared.facemap else {
                return false;
            };
            let rank = index / context.profiles.len();
            return crate::facemap::device(facemap, &context.metrics, index, rank).await;
        }
        FleetProfile::OAuthCc | FleetProfile::OAuthDevice => {
            let grant = if profile == FleetProfile::OAuthCc {
                crate::oauth::Grant::ClientCredentials
            } else {
                crate::oauth::Grant::DeviceAuthorization
            };
            return match crate::oauth::device(context, grant, index).await {
                Ok(enrolled) => enrolled,
                Err((enrolled, failure)) => {
                    context.metrics.error(failure.kind, failure.message);
                    enrolled
                }
            };
        }
        FleetProfile::PowerAuth | FleetProfile::Mix => Ok(false),
    };
    match result {
        Ok(enrolled) => enrolled,
        Err((enrolled, error)) => {
            context.metrics.error(error_kind(&error), error.to_string());
            enrolled
        }
    }
}

type DeviceResult = std::result::Result<bool, (bool, tokensim_device::Error)>;

async fn timed<T>(
    metrics: &Metrics,
    step: Step,
    call: impl Future<Output = tokensim_device::Result<T>>,
) -> tokensim_device::Result<T> {
    let started = Instant::now();
    let result = call.await;
    if result.is_ok() {
        metrics.time(step, started.elapsed());
    }
    result
}

async fn jwt_device(context: &Context, mode: Mode, index: usize) -> DeviceResult {
    let Some((project, mobile_api_key)) = &context.shared.jwt else {
        return Ok(false);
    };
    let pc = &context.client;
    let metrics = &context.metrics;
    let user = format!("fleet-{index}");
    let password = Zeroizing::new(format!("fleet-password-{index}"));
    let enroll = async {
        if mode == Mode::Jwt {
            tokensim_device::profiles::jwt::register_user(pc, project, &user, &password).await?;
        }
        JwtAccount::enroll(
            pc,
            Enrollment {
                mode,
                project_id: project.clone(),
                device_id: Some(format!("fleet-device-{index}")),
                username: (mode == Mode::Jwt).then(|| user.clone()),
                password: (mode == Mode::Jwt).then(|| password.clone()),
                mobile_api_key: (mode == Mode::ApiKey).then(|| mobile_api_key.clone()),
            },
        )
        .await
    };
    let mut account = timed(metrics, Step::ProfileEnroll, enroll)
        .await
        .map_err(|e| (false, e))?;
    metrics.activated();
    // In memory: the task holds the account itself.
    let mut keep = |_: &JwtAccount| Ok(());
    for _ in 0..context.args.profile_calls {
        timed(metrics, Step::ProfileCall, account.call(pc, &mut keep))
            .await
            .map_err(|e| (true, e))?;
    }
    Ok(true)
}

/// A `signed-token` device: its first attach fetches the token (enroll), the calls attach
/// again with it.
async fn signed_token_device(context: &Context, index: usize) -> DeviceResult {
    let Some(project) = &context.shared.signed_token else {
        return Ok(false);
    };
    let pc = &context.client;
    let metrics = &context.metrics;
    let mut account = SignedTokenAccount::new(
        pc.base_url(),
        project,
        &format!("fleet-{index}"),
        Source::SelfSigned,
    );
    let mut keep = |_: &SignedTokenAccount| Ok(());
    timed(
        metrics,
        Step::ProfileEnroll,
        account.attach(pc, true, &mut keep),
    )
    .await
    .map_err(|e| (false, e))?;
    metrics.activated();
    for _ in 0..context.args.profile_calls {
        timed(
            metrics,
            Step::ProfileCall,
            account.attach(pc, true, &mut keep),
        )
        .await
        .map_err(|e| (true, e))?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_plan_into_one_dispatch() {
        assert_eq!(plan(&[FleetProfile::PowerAuth]).unwrap(), None);
        for profile in FleetProfile::ALL {
            assert_eq!(profile.as_str().parse::<FleetProfile>(), Ok(profile));
            // A plan or report in JSON names a profile as the command line does.
            let json = serde_json::to_value(profile).unwrap();
            assert_eq!(json, serde_json::Value::from(profile.as_str()));
            assert_eq!(
                serde_json::from_value::<FleetProfile>(json).unwrap(),
                profile
            );
        }
        assert!("power-auth".parse::<FleetProfile>().is_err());
        assert_eq!(
            plan(&[FleetProfile::Mix]).unwrap(),
            Some(FleetProfile::DEVICE_PROFILES.to_vec())
        );
        assert_eq!(
            plan(&[FleetProfile::ApiKey]).unwrap(),
            Some(vec![FleetProfile::ApiKey])
        );
        assert!(plan(&[FleetProfile::PowerAuth, FleetProfile::Jwt]).is_err());
    }
}
