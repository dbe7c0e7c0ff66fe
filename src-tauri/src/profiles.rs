//! The Profiles panel: the device profiles beside PowerAuth (`tokensim_device::profiles`),
//! one tab each. Each command converts its arguments and makes one call into the device
//! engine or the wallet's profile store; exchanges go to the inspector under the account's
//! id. The types here are exported to `ui/src/lib/profiles/bindings.ts`, with the profile
//! catalogue. Nothing secret goes out: no token, key or password crosses into the window.

use crate::core::Core;
use crate::types::AppError;
use serde::Serialize;
use std::sync::Arc;
use tauri::State;
use tokensim_device::profiles::facemap::{
    Face, FacemapClient, FacemapError, FacemapSession, TransactionView, make_credentials,
};
use tokensim_device::profiles::jwt::{self, Enrollment, JwtAccount, Mode};
use tokensim_device::profiles::signed_token::{self, SignedTokenAccount, Source};
use tokensim_device::profiles::{ProfileClient, ProfileRecord};
use tokensim_wallet::{DeviceId, ProfileAccount, ProfileStore};
use ts_rs::TS;
use zeroize::Zeroizing;

type Result<T> = std::result::Result<T, AppError>;

/// A profile account as the panel lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileAccountView {
    /// The id it is kept under.
    pub id: String,
    /// Its profile (`jwt`, `api-key`…).
    pub profile: String,
    /// The server.
    pub server_url: String,
    /// Who it is there (device id, user).
    pub subject: String,
}

/// What a call showed: accepted, or the server's refusal, or a fault's verdict.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileCallView {
    /// Whether the vendor accepted the call (for a fault: whether the answer was the one
    /// required).
    pub ok: bool,
    /// What happened, in words.
    pub summary: String,
    /// With a fault: what the protocol requires.
    pub required: Option<String>,
}

/// One access in a profile's history on the server.
#[derive(Debug, Clone, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AccessView {
    /// The profile.
    pub profile: String,
    /// The project.
    pub project_id: String,
    /// The user or device id.
    pub subject: String,
    /// The call.
    pub call: String,
    /// How it was authenticated.
    pub credential: String,
    /// Whether it carried a signed token.
    pub signed: bool,
    /// Whether it was accepted.
    pub accepted: bool,
    /// The refusal's code.
    pub reason: Option<String>,
    /// When, Unix ms.
    pub at_ms: f64,
}

/// A wallet error with the kind and hint `tokensim-api` gives it.
pub(crate) fn wallet_error(error: tokensim_wallet::Error) -> AppError {
    AppError::from_api("STORE", tokensim_api::Error::from(error))
}

/// The profile store of the app's wallet.
pub(crate) fn store(core: &Core) -> Result<ProfileStore> {
    core.book.wallet().profiles().map_err(wallet_error)
}

/// An account id from the window (or made from a name): a store id, or an input error.
pub(crate) fn account_id(id: &str) -> Result<DeviceId> {
    DeviceId::parse(id).map_err(|e| AppError::new("INPUT", e))
}

/// Account `id`, leased and loaded: what a call that may renew its token starts from (it
/// saves through [`ProfileAccount::persist`] under the same lease).
fn account(core: &Core, id: &str) -> Result<ProfileAccount> {
    store(core)?.account(account_id(id)?).map_err(wallet_error)
}

/// Keeps a newly enrolled account under `name`.
fn create(
    core: &Core,
    name: &str,
    (record, secret): (ProfileRecord, Zeroizing<Vec<u8>>),
) -> Result<DeviceId> {
    let id = account_id(name)?;
    store(core)?
        .create(&id, &record, &secret)
        .map_err(wallet_error)?;
    Ok(id)
}

/// The current server's URL.
pub(crate) fn server_url(core: &Core) -> Result<String> {
    core.server()
        .map(|s| s.info.url)
        .ok_or_else(|| AppError::new("NO_SERVER", "no server is configured yet"))
}

/// The profile accounts kept here.
#[tauri::command]
pub fn profile_accounts(core: State<'_, Arc<Core>>) -> Result<Vec<ProfileAccountView>> {
    Ok(store(&core)?
        .list()
        .map_err(wallet_error)?
        .into_iter()
        .map(|a| ProfileAccountView {
            id: a.id,
            profile: a.profile,
            server_url: a.server_url,
            subject: a.subject,
        })
        .collect())
}

/// Enrolls a `jwt` (with `user` and `password`) or `api-key` device on the app's server: a
/// new vendor project there, the user on its app server, the device's login.
#[tauri::command]
pub async fn profile_jwt_enroll(
    core: State<'_, Arc<Core>>,
    profile: String,
    user: Option<String>,
    password: Option<String>,
) -> Result<ProfileAccountView> {
    let mode = match profile.as_str() {
        "jwt" => Mode::Jwt,
        "api-key" => Mode::ApiKey,
        other => {
            return Err(AppError::new(
                "INPUT",
                format!("{other:?} is not jwt or api-key"),
            ));
        }
    };
    let password = password.map(Zeroizing::new);
    if mode == Mode::Jwt && (user.as_deref().is_none_or(str::is_empty) || password.is_none()) {
        return Err(AppError::new(
            "INPUT",
            "JWT mode needs the user and the password",
        ));
    }
    let url = server_url(&core)?;
    let pc = ProfileClient::new(core.engine_client(), &url);
    let device_error = |e: tokensim_device::Error| AppError::from_device(&e);
    let project = jwt::create_project(&pc, &serde_json::json!({}))
        .await
        .map_err(device_error)?;
    if let (Mode::Jwt, Some(user), Some(password)) = (mode, &user, &password) {
        jwt::register_user(&pc, &project.project_id, user, password)
            .await
            .map_err(device_error)?;
    }
    let device = JwtAccount::enroll(
        &pc,
        Enrollment {
            mode,
            project_id: project.project_id,
            device_id: None,
            username: user.clone(),
            password,
            mobile_api_key: (mode == Mode::ApiKey).then_some(project.mobile_api_key),
        },
    )
    .await
    .map_err(device_error)?;
    let name = match &user {
        Some(user) if mode == Mode::Jwt => format!("{profile}-{user}"),
        _ => format!("{profile}-{}", &device.device_id[..8]),
    };
    let id = create(&core, &name, device.to_parts())?;
    Ok(ProfileAccountView {
        id: id.to_string(),
        profile,
        server_url: url,
        subject: device.device_id,
    })
}

/// Calls the vendor as account `id` (`jwt` or `api-key`), under the catalogue's `fault`.
#[tauri::command]
pub async fn profile_jwt_call(
    core: State<'_, Arc<Core>>,
    id: String,
    fault: Option<String>,
) -> Result<ProfileCallView> {
    let account = account(&core, &id)?;
    let mut device = JwtAccount::from_parts(&account.record, &account.secret)
        .map_err(|e| AppError::from_device(&e))?;
    let pc = ProfileClient::new(&core.client_tagged(&id), &device.server_url);
    let mut save = |device: &JwtAccount| account.persist(device.to_parts());
    match fault.as_deref().filter(|f| !f.is_empty()) {
        Some(name) => {
            let fault = tokensim_device::Fault::named(name)
                .ok_or_else(|| AppError::new("INPUT", format!("{name:?} is not a fault")))?;
            let report = device
                .call_faulted(&pc, fault, &mut save)
                .await
                .map_err(|e| AppError::from_device(&e))?;
            Ok(ProfileCallView {
                ok: report.matched,
                summary: report.answered,
                required: Some(report.required),
            })
        }
        None => match device.call(&pc, &mut save).await {
            Ok(seen) => Ok(ProfileCallView {
                ok: true,
                summary: format!(
                    "accepted: device {} of project {} by {}{}",
                    seen.instance_id,
                    seen.project_id,
                    seen.credential,
                    if seen.refreshed {
                        " (JWT renewed first)"
                    } else {
                        ""
                    }
                ),
                required: None,
            }),
            Err(error) => Ok(ProfileCallView {
                ok: false,
                summary: error.to_string(),
                required: None,
            }),
        },
    }
}

/// Enrolls a `signed-token` phone for `user` on the app's server (a new vendor project there
/// that requires signed tokens).
#[tauri::command]
pub async fn profile_signed_token_enroll(
    core: State<'_, Arc<Core>>,
    user: String,
) -> Result<ProfileAccountView> {
    if user.trim().is_empty() {
        return Err(AppError::new("INPUT", "name the user to attach"));
    }
    let url = server_url(&core)?;
    let pc = ProfileClient::new(core.engine_client(), &url);
    let project =
        signed_token::create_project(&pc, &serde_json::json!({ "requireSignedTokens": true }))
            .await
            .map_err(|e| AppError::from_device(&e))?;
    let device = SignedTokenAccount::new(&url, &project, &user, Source::SelfSigned);
    let id = create(&core, &format!("signed-token-{user}"), device.to_parts())?;
    Ok(ProfileAccountView {
        id: id.to_string(),
        profile: "signed-token".to_owned(),
        server_url: url,
        subject: user,
    })
}

/// `attach` (or `identify` of `event`) as `signed-token` account `id`, signed or not, under
/// the catalogue's `fault`.
#[tauri::command]
pub async fn profile_signed_token_call(
    core: State<'_, Arc<Core>>,
    id: String,
    event: Option<String>,
    signed: bool,
    fault: Option<String>,
) -> Result<ProfileCallView> {
    let account = account(&core, &id)?;
    let mut device = SignedTokenAccount::from_parts(&account.record, &account.secret)
        .map_err(|e| AppError::from_device(&e))?;
    let pc = ProfileClient::new(&core.client_tagged(&id), &device.server_url);
    let mut save = |device: &SignedTokenAccount| account.persist(device.to_parts());
    if let Some(name) = fault.as_deref().filter(|f| !f.is_empty()) {
        let fault = tokensim_device::Fault::named(name)
            .ok_or_else(|| AppError::new("INPUT", format!("{name:?} is not a fault")))?;
        let report = device
            .attach_faulted(&pc, fault, &mut save)
            .await
            .map_err(|e| AppError::from_device(&e))?;
        return Ok(ProfileCallView {
            ok: report.matched,
            summary: report.answered,
            required: Some(report.required),
        });
    }
    let result = match event.as_deref().filter(|e| !e.is_empty()) {
        Some(event) => device.identify(&pc, event, signed).await,
        None => device.attach(&pc, signed, &mut save).await,
    };
    Ok(match result {
        Ok(accepted) => ProfileCallView {
            ok: true,
            summary: format!(
                "accepted: {} {} ({}){}",
                accepted.call,
                accepted.subject,
                accepted.signing(),
                if accepted.refreshed {
                    ", token renewed first"
                } else {
                    ""
                }
            ),
            required: None,
        },
        Err(error) => ProfileCallView {
            ok: false,
            summary: error.to_string(),
            required: None,
        },
    })
}

/// The Face authentication tab's session: the bank's server and the device on the embedded
/// sandbox (its URL; API credentials made with its admin login, a callback receiver).
#[derive(Default)]
pub struct FacemapState(tokio::sync::Mutex<Option<(String, Arc<FacemapSession>)>>);

/// What a capture showed: the transaction after it, and the result in words (a fault's
/// verdict when one was armed).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FacemapCaptureView {
    /// The transaction as the bank's server retrieves it after the capture.
    pub transaction: TransactionView,
    /// What happened.
    pub result: ProfileCallView,
}

const FACEMAP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn facemap_error(error: FacemapError) -> AppError {
    let code = match &error {
        FacemapError::Network { .. } | FacemapError::Timeout { .. } => "NETWORK",
        FacemapError::Refused { .. } => "REJECTED",
        _ => "SERVER",
    };
    AppError::new(code, error)
}

async fn facemap_session(core: &Core, state: &FacemapState) -> Result<Arc<FacemapSession>> {
    let url = server_url(core)?;
    let mut slot = state.0.lock().await;
    if let Some((made_for, session)) = slot.as_ref()
        && *made_for == url
    {
        return Ok(session.clone());
    }
    let (sandbox_url, admin, password) = core
        .slot
        .sandbox_admin()
        .await
        .filter(|(sandbox_url, ..)| *sandbox_url == url)
        .ok_or_else(|| {
            AppError::new(
                "NO_SERVER",
                "face authentication needs the embedded sandbox: its admin login makes the API token and secret (start the sandbox in Settings)",
            )
        })?;
    let credentials = make_credentials(
        &sandbox_url,
        &admin,
        &password,
        sandbox::apps::DEFAULT_APPLICATION,
        FACEMAP_TIMEOUT,
    )
    .await
    .map_err(facemap_error)?;
    let client = FacemapClient::new(
        &format!("{sandbox_url}/profiles/facemap"),
        credentials,
        core.client_tagged("facemap").events(),
        FACEMAP_TIMEOUT,
    )
    .map_err(facemap_error)?;
    let session = Arc::new(FacemapSession::start(client).await.map_err(facemap_error)?);
    *slot = Some((url, session.clone()));
    Ok(session)
}

fn now_ms(core: &Core) -> i64 {
    i64::try_from(core.engine_client().now_ms()).unwrap_or(i64::MAX)
}

/// As the bank's server: starts a face authentication transaction for `enrollment` with a
/// facemap (4 KiB of random bytes standing for the enrollment's).
#[tauri::command]
pub async fn profile_facemap_initiate(
    core: State<'_, Arc<Core>>,
    facemap: State<'_, FacemapState>,
    enrollment: String,
    user_reference: Option<String>,
) -> Result<TransactionView> {
    let session = facemap_session(&core, &facemap).await?;
    let mut bytes = vec![0u8; 4096];
    core.engine_client().rng().fill(&mut bytes);
    session
        .initiate(
            enrollment.trim(),
            user_reference.filter(|u| !u.trim().is_empty()),
            bytes,
            now_ms(&core),
        )
        .await
        .map_err(facemap_error)
}

/// As the device: performs the face capture for `reference` showing `face`, under the
/// catalogue's `fault`.
#[tauri::command]
pub async fn profile_facemap_capture(
    core: State<'_, Arc<Core>>,
    facemap: State<'_, FacemapState>,
    reference: String,
    face: Face,
    fault: Option<String>,
) -> Result<FacemapCaptureView> {
    let session = facemap_session(&core, &facemap).await?;
    let fault = match fault.as_deref().filter(|f| !f.is_empty()) {
        Some(name) => Some(
            tokensim_device::Fault::named(name)
                .ok_or_else(|| AppError::new("INPUT", format!("{name:?} is not a fault")))?,
        ),
        None => None,
    };
    let (transaction, report) = session
        .capture(&reference, face, fault, now_ms(&core))
        .await
        .map_err(facemap_error)?;
    let result = match report {
        Some(report) => ProfileCallView {
            ok: report.matched,
            summary: if report.answered == "success" {
                format!("captured a {} face: {}", face.name(), transaction.state)
            } else {
                report.answered
            },
            required: Some(report.required),
        },
        None if face == Face::Timeout => ProfileCallView {
            ok: true,
            summary: "the capture screen was opened and left: the transaction ends EXPIRED when its time is up".to_owned(),
            required: None,
        },
        None => ProfileCallView {
            ok: true,
            summary: format!("captured a {} face: {}", face.name(), transaction.state),
            required: None,
        },
    };
    Ok(FacemapCaptureView {
        transaction,
        result,
    })
}

/// Every transaction the tab started, newest first, as the bank's server retrieves them now.
#[tauri::command]
pub async fn profile_facemap_transactions(
    core: State<'_, Arc<Core>>,
    facemap: State<'_, FacemapState>,
) -> Result<Vec<TransactionView>> {
    let session = facemap_session(&core, &facemap).await?;
    session.transactions().await.map_err(facemap_error)
}

/// The access history of `profile` on the app's server (newest first).
#[tauri::command]
pub async fn profile_accesses(
    core: State<'_, Arc<Core>>,
    profile: Option<String>,
) -> Result<Vec<AccessView>> {
    let url = server_url(&core)?;
    let pc = ProfileClient::new(core.engine_client(), &url);
    let filters = match &profile {
        Some(profile) => vec![("profile", profile.as_str()), ("limit", "50")],
        None => vec![("limit", "50")],
    };
    let answer = pc
        .accesses(&filters)
        .await
        .map_err(|e| AppError::from_device(&e))?;
    serde_json::from_value(answer.body["accesses"].clone())
        .map_err(|e| AppError::new("SERVER", format!("the access history does not read: {e}")))
}

/// The declarations of `ui/src/lib/profiles/bindings.ts`, with the profile catalogue.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/profiles.rs by ts-rs. Do not edit: run\n\
         // `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app profiles_bindings` instead.\n",
    );
    for decl in [
        <tokensim_device::profiles::ProfileSpec as TS>::decl(),
        <ProfileAccountView as TS>::decl(),
        <ProfileCallView as TS>::decl(),
        <AccessView as TS>::decl(),
        <Face as TS>::decl(),
        <TransactionView as TS>::decl(),
        <FacemapCaptureView as TS>::decl(),
    ]
    .into_iter()
    .chain(crate::profiles_oauth::typescript_decls())
    {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out.push_str(&format!(
        "\n/** The device profiles beside PowerAuth, one tab each (tokensim-device's catalogue). */\nexport const PROFILES: ProfileSpec[] = {};\n",
        serde_json::to_string(tokensim_device::profiles::PROFILES).unwrap_or_else(|_| "[]".to_owned())
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn profiles_bindings_are_fresh() {
        crate::types::assert_bindings_fresh(
            "profiles/bindings.ts",
            &super::typescript(),
            "profiles_bindings",
        );
    }
}
