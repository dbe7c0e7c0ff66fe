//! The fleet's OAuth 2.0 devices (`--profile oauth-cc`, `--profile oauth-device`), through
//! the device crate's [`OAuthClient`] (the `oauth2` crate) against the sandbox's `/oauth2`:
//!
//! - `oauth-cc`: the device registers its own confidential client and takes a token by the
//!   client credentials grant (enroll); its calls reuse the stored token (a call that
//!   authenticates again is an error); before its last call it refreshes the token with its
//!   refresh token (`profile refresh`), and the last call goes out with the new one.
//! - `oauth-device`: a point-of-sale device of the fleet's shared public client starts an
//!   RFC 8628 device authorization for its id (`/vendor/tokensim-fleet/serial/N`) and polls
//!   at the server's interval; after the first `authorization_pending` the fleet, as the
//!   user, opens the sandbox's verification page, finds the device among the pending ones
//!   and approves it with the user code, over HTTP. The next poll gets the tokens (enroll).
//!   Calls and refresh as for `oauth-cc`.

use crate::metrics::Step;
use crate::profiles::Context;
use crate::{Error, Result};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokensim_device::profiles::ProfileClient;
use tokensim_device::profiles::oauth::{
    ClientRegistration, MemoryTokens, OAuthClient, OAuthError, OAuthSettings, Sleep, TokenSource,
    register_client,
};
use zeroize::Zeroizing;

/// Which OAuth grant a device uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    /// `oauth-cc`.
    ClientCredentials,
    /// `oauth-device`.
    DeviceAuthorization,
}

/// Registers the fleet's public point-of-sale client (`oauth-device`); its id.
pub(crate) async fn register_device_client(client: &ProfileClient) -> Result<String> {
    let registration = ClientRegistration::device("TokenSim fleet point-of-sale device", "api");
    register_client(client, &registration)
        .await
        .map(|made| made.client_id)
        .map_err(|e| Error::Options(format!("the oauth-device profile's client: {e}")))
}

/// Why a device failed: the metrics' kind and the message (no secret in either).
pub(crate) struct Failure {
    pub kind: String,
    pub message: String,
}

impl From<OAuthError> for Failure {
    fn from(error: OAuthError) -> Self {
        let kind = match &error {
            OAuthError::Refused { status, error, .. } => format!("HTTP {status} {error}"),
            OAuthError::Network { .. } => "network".to_owned(),
            OAuthError::Protocol(_) => "protocol".to_owned(),
            OAuthError::Storage(_) => "store".to_owned(),
            _ => "other".to_owned(),
        };
        Self {
            kind,
            message: error.to_string(),
        }
    }
}

impl From<tokensim_device::Error> for Failure {
    fn from(error: tokensim_device::Error) -> Self {
        Self {
            kind: crate::metrics::error_kind(&error),
            message: error.to_string(),
        }
    }
}

fn protocol(message: String) -> Failure {
    Failure {
        kind: "protocol".to_owned(),
        message,
    }
}

async fn timed<T, E: Into<Failure>>(
    context: &Context,
    step: Step,
    call: impl Future<Output = std::result::Result<T, E>>,
) -> std::result::Result<T, Failure> {
    let started = Instant::now();
    let result = call.await.map_err(Into::into);
    if result.is_ok() {
        context.metrics.time(step, started.elapsed());
    }
    result
}

/// One OAuth device: enroll (its grant), then `--profile-calls` API calls, the last one after
/// a refresh. `Ok(true)` when it enrolled; on failure, whether it had enrolled.
pub(crate) async fn device(
    context: &Context,
    grant: Grant,
    index: usize,
) -> std::result::Result<bool, (bool, Failure)> {
    let pc = &context.client;
    let http = context.shared.oauth_http.clone();
    let events = Arc::new(crate::profiles::CountRequests(context.metrics.clone()));
    let storage = Arc::new(MemoryTokens::new());
    let slot = format!("fleet-{index}");
    let client = match grant {
        Grant::ClientCredentials => {
            let enroll = async {
                let (client_id, secret) = register(pc).await?;
                let settings = OAuthSettings {
                    server: pc.base_url().to_owned(),
                    client_id,
                    client_secret: Some(secret),
                    scope: None,
                    slot,
                };
                let client = OAuthClient::new(settings, storage)
                    .with_http(http)
                    .with_events(events);
                let authorized = client.authorize().await?;
                Ok::<_, Failure>((client, authorized))
            };
            let (client, authorized) = timed(context, Step::ProfileEnroll, enroll)
                .await
                .map_err(|e| (false, e))?;
            if authorized.source != TokenSource::ClientCredentials {
                return Err((
                    false,
                    protocol(format!(
                        "a new client's first token came from {:?}, not the client credentials grant",
                        authorized.source
                    )),
                ));
            }
            client
        }
        Grant::DeviceAuthorization => {
            let Some(client_id) = &context.shared.oauth_device else {
                return Ok(false);
            };
            let settings = OAuthSettings {
                server: pc.base_url().to_owned(),
                client_id: client_id.clone(),
                client_secret: None,
                scope: None,
                slot,
            };
            let device_id = format!("/vendor/tokensim-fleet/serial/{index}");
            let user = User::new(pc.clone(), device_id.clone());
            let client = OAuthClient::new(settings, storage)
                .with_http(http)
                .with_events(events)
                .with_sleep(user.sleep());
            let enroll = async {
                let code = client.start_device(&device_id).await?;
                user.shown(code.user_code());
                // The user's failure ends the polling (else it would go on until the code
                // expires, ten minutes later).
                tokio::select! {
                    done = client.finish_device(&code) => done.map_err(Failure::from),
                    failure = user.failed() => Err(failure),
                }
            };
            let started = Instant::now();
            let done = enroll.await.map_err(|e| (false, e))?;
            context.metrics.time(Step::ProfileEnroll, started.elapsed());
            if done.source != TokenSource::DeviceAuthorization
                || done.tokens.refresh_token.is_none()
            {
                return Err((
                    false,
                    protocol("the device authorization gave no refresh token".to_owned()),
                ));
            }
            if !user.approved_between_polls() {
                return Err((
                    false,
                    protocol(
                        "the device got its tokens without polling while the user verified"
                            .to_owned(),
                    ),
                ));
            }
            client
        }
    };
    context.metrics.activated();
    let calls = context.args.profile_calls;
    for call in 0..calls {
        if call + 1 == calls {
            let stored = client
                .stored()
                .map_err(|e| (true, e.into()))?
                .ok_or_else(|| (true, protocol("the stored tokens are gone".to_owned())))?;
            timed(context, Step::ProfileRefresh, client.refresh(&stored))
                .await
                .map_err(|e| (true, e))?;
        }
        let answer = timed(context, Step::ProfileCall, client.call_api())
            .await
            .map_err(|e| (true, e))?;
        if answer.source != TokenSource::Stored {
            return Err((
                true,
                protocol(format!(
                    "call {} authenticated again ({:?}) instead of reusing the stored token",
                    call + 1,
                    answer.source
                )),
            ));
        }
    }
    Ok(true)
}

/// Registers a confidential client for one `oauth-cc` device: its id and secret.
async fn register(pc: &ProfileClient) -> std::result::Result<(String, Zeroizing<String>), Failure> {
    let registration = ClientRegistration::confidential("TokenSim fleet client", "api");
    let made = register_client(pc, &registration).await?;
    // `register_client` refuses a confidential client's answer without a secret.
    let secret = made
        .client_secret
        .ok_or_else(|| protocol("the client registration has no client_secret".to_owned()))?;
    Ok((made.client_id, secret))
}

/// The person at the verification page for one `oauth-device` device. The device's poll
/// loop waits through [`User::sleep`]; the first wait (after the first
/// `authorization_pending`) is when the user verifies, then the interval passes.
struct User {
    pc: ProfileClient,
    device_id: String,
    user_code: Arc<Mutex<Option<Zeroizing<String>>>>,
    approved: Arc<AtomicBool>,
    failure: Arc<tokio::sync::Mutex<Option<tokio::sync::oneshot::Receiver<Failure>>>>,
    report: Arc<Mutex<Option<tokio::sync::oneshot::Sender<Failure>>>>,
}

impl User {
    fn new(pc: ProfileClient, device_id: String) -> Self {
        let (report, failure) = tokio::sync::oneshot::channel();
        Self {
            pc,
            device_id,
            user_code: Arc::default(),
            approved: Arc::default(),
            failure: Arc::new(tokio::sync::Mutex::new(Some(failure))),
            report: Arc::new(Mutex::new(Some(report))),
        }
    }

    /// The device shows its user code.
    fn shown(&self, user_code: &str) {
        if let Ok(mut slot) = self.user_code.lock() {
            *slot = Some(Zeroizing::new(user_code.to_owned()));
        }
    }

    /// Whether the user had approved before the device's last poll (it polled first).
    fn approved_between_polls(&self) -> bool {
        self.approved.load(Ordering::SeqCst)
    }

    /// Resolves when the user could not verify; pending forever otherwise.
    async fn failed(&self) -> Failure {
        let receiver = self.failure.lock().await.take();
        match receiver {
            Some(receiver) => match receiver.await {
                Ok(failure) => failure,
                Err(_) => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// The poll loop's wait: the first one has the user verify, each one waits the interval.
    fn sleep(&self) -> Sleep {
        let pc = self.pc.clone();
        let device_id = self.device_id.clone();
        let user_code = self.user_code.clone();
        let approved = self.approved.clone();
        let report = self.report.clone();
        Arc::new(move |interval: Duration| {
            let code = user_code.lock().ok().and_then(|mut slot| slot.take());
            let (pc, device_id, approved, report) = (
                pc.clone(),
                device_id.clone(),
                approved.clone(),
                report.clone(),
            );
            Box::pin(async move {
                if let Some(code) = code {
                    match verify(&pc, &device_id, &code).await {
                        Ok(()) => approved.store(true, Ordering::SeqCst),
                        Err(failure) => {
                            if let Some(sender) = report.lock().ok().and_then(|mut r| r.take()) {
                                let _ = sender.send(failure);
                            }
                        }
                    }
                }
                tokio::time::sleep(interval).await;
            })
        })
    }
}

/// What the user does on the verification page, over HTTP: open the page, pick the device
/// from the pending ones, type the code and approve.
async fn verify(
    pc: &ProfileClient,
    device_id: &str,
    user_code: &str,
) -> std::result::Result<(), Failure> {
    let page = pc.get_page("profile/oauth/page", "/oauth2/device").await?;
    if !page.contains("id=\"user_code\"") {
        return Err(protocol(
            "the verification page has no user code field".to_owned(),
        ));
    }
    let pending = pc
        .send(
            "profile/oauth/pending",
            reqwest::Method::GET,
            "/oauth2/device/pending",
            Vec::new(),
            None,
        )
        .await?;
    let listed = pending.body["devices"]
        .as_array()
        .is_some_and(|list| list.iter().any(|d| d["device_id"] == device_id));
    if !listed {
        return Err(protocol(format!(
            "the verification page does not list the waiting device {device_id}"
        )));
    }
    let decided = pc
        .send(
            "profile/oauth/verify",
            reqwest::Method::POST,
            "/oauth2/device/verify",
            Vec::new(),
            Some(&json!({ "user_code": user_code, "device_id": device_id, "decision": "approve" })),
        )
        .await?;
    if decided.body["status"] != "APPROVED" {
        return Err(protocol(format!(
            "the verification page answered {} instead of APPROVED",
            decided.body["status"]
        )));
    }
    Ok(())
}
