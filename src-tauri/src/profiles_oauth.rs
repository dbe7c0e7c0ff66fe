//! The Profiles panel's OAuth 2.0 tab: a client-credentials client (token, expiry, refresh,
//! revocation, clearing the storage) and an RFC 8628 point-of-sale device (start, the user
//! code and verification page, polling states until the tokens arrive), through the device
//! engine's [`OAuthClient`] against the app's server. Accounts are kept in the wallet's
//! profile store in the CLI's layout (`tokensim profile oauth` reads them); the tokens live
//! where the user chose: in memory until the app quits, or in the store's secret part (the
//! keychain or the encrypted file, whichever the app's store uses). No token or client
//! secret crosses into the window; the user code does (the device shows it to the person).

use crate::core::Core;
use crate::profiles::wallet_error;
use crate::types::AppError;
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use tauri::State;
use tokensim_device::events::{Events, Exchange, Warning};
use tokensim_device::profiles::oauth::{
    ClientRegistration, MemoryTokens, OAuthClient, OAuthError, OAuthFault, TokenSource,
    TokenStorage, register_client,
};
use tokensim_device::profiles::{ProfileClient, ProfileRecord};
use tokensim_wallet::oauth::{AccountTokens, OAuthSecrets};
use tokensim_wallet::{DeviceId, ProfileStore};
use ts_rs::TS;

type Result<T> = std::result::Result<T, AppError>;

/// The profile's name.
const PROFILE: &str = tokensim_wallet::oauth::OAUTH_PROFILE;

/// Tokens kept in memory (storage `memory`): gone when the app quits.
static MEMORY: LazyLock<Arc<MemoryTokens>> = LazyLock::new(|| Arc::new(MemoryTokens::new()));

/// Device authorizations in progress, by account id.
static DEVICE_FLOWS: LazyLock<Mutex<HashMap<String, DeviceFlowView>>> =
    LazyLock::new(Mutex::default);

/// An OAuth account as the tab shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OAuthAccountView {
    /// The id it is kept under.
    pub id: String,
    /// `client-credentials` or `device`.
    pub mode: String,
    /// The client id.
    pub client_id: String,
    /// The device id (device mode).
    pub device_id: Option<String>,
    /// Where its tokens live: `memory`, `keychain` or `file`.
    pub storage: String,
    /// The stored tokens, if any.
    pub tokens: Option<OAuthTokenView>,
}

/// The stored tokens, without the tokens themselves.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OAuthTokenView {
    /// When the access token expires, Unix ms.
    pub expires_at_ms: f64,
    /// Whether a refresh token is stored.
    pub has_refresh_token: bool,
    /// The granted scope.
    pub scope: String,
}

/// What an action did.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OAuthResultView {
    /// Whether it worked (with a fault: whether the answer was the one the protocol
    /// requires).
    pub ok: bool,
    /// What happened, in the profile's words.
    pub summary: String,
    /// The account afterwards.
    pub account: OAuthAccountView,
}

/// A device authorization as the tab shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceFlowView {
    /// The code the person types on the verification page.
    pub user_code: String,
    /// The verification page.
    pub verification_uri: String,
    /// The page with the code filled in (in its fragment, never sent to the server).
    pub verification_uri_complete: Option<String>,
    /// The polling interval the server asks for, seconds (grows with each `slow_down`).
    pub interval_seconds: f64,
    /// `starting`, `authorization_pending`, `slow_down`, `approved`, `access_denied`,
    /// `expired_token` or `failed`.
    pub state: String,
    /// Polls sent so far.
    pub polls: f64,
    /// The last answer, in words.
    pub message: String,
}

/// The profile's refusal in its own words (RFC 6749/6750/8628 codes), never PowerAuth's.
fn oauth_error(error: &OAuthError) -> AppError {
    let code = match error {
        OAuthError::Refused { .. } => "REFUSED",
        OAuthError::Network { .. } => "NETWORK",
        OAuthError::Storage(_) => "STORE",
        _ => "OAUTH",
    };
    AppError::new(code, error.to_string())
}

/// The storage `choice` the app's store allows: `memory` always, `keychain` or `file` when
/// the store uses that backend (it never moves secrets to another one on its own).
fn check_storage(core: &Core, choice: &str) -> Result<()> {
    let kind = core.book.kind();
    match choice {
        "memory" => Ok(()),
        "keychain" if kind == "keychain" => Ok(()),
        "file" if kind == "encrypted-file" => Ok(()),
        "keychain" | "file" => Err(AppError::new(
            "INPUT",
            format!(
                "the app's store keeps its secrets in {kind}: choose memory, or start the app with TOKENSIM_STORE={choice}"
            ),
        )),
        other => Err(AppError::new(
            "INPUT",
            format!("{other:?} is not memory, keychain or file"),
        )),
    }
}

/// An OAuth account as read, not leased: the OAuth client takes no counter, and each
/// token it stores is written atomically, so a device flow polling in the CLI does not
/// hold the tab up.
struct Loaded {
    store: ProfileStore,
    id: DeviceId,
    record: ProfileRecord,
    secrets: OAuthSecrets,
}

fn load(core: &Core, id: &str) -> Result<Loaded> {
    let store = crate::profiles::store(core)?;
    let id = crate::profiles::account_id(id)?;
    let (record, bytes) = store.load(&id).map_err(wallet_error)?;
    if record.profile != PROFILE {
        return Err(AppError::new(
            "INPUT",
            format!("{id} is a {} account, not an OAuth one", record.profile),
        ));
    }
    let secrets = OAuthSecrets::read(&bytes).map_err(|e| AppError::new("STORE", e))?;
    Ok(Loaded {
        store,
        id,
        record,
        secrets,
    })
}

fn storage_of(record: &ProfileRecord) -> String {
    record.details["storage"]
        .as_str()
        .unwrap_or("keychain")
        .to_owned()
}

/// The engine's client for `loaded`, its exchanges in the inspector under the account's id.
fn engine(core: &Core, loaded: Loaded, events: Option<Arc<dyn Events>>) -> OAuthClient {
    let settings = loaded.secrets.settings(&loaded.id, &loaded.record);
    let inspector = core.client_tagged(loaded.id.as_str()).events();
    let storage: Arc<dyn TokenStorage> = if storage_of(&loaded.record) == "memory" {
        MEMORY.clone()
    } else {
        Arc::new(AccountTokens::new(loaded.store, loaded.id, loaded.record))
    };
    OAuthClient::new(settings, storage).with_events(events.unwrap_or(inspector))
}

fn view(core: &Core, id: &str) -> Result<OAuthAccountView> {
    let loaded = load(core, id)?;
    let record = loaded.record.clone();
    let client = engine(core, loaded, None);
    let tokens = client.stored().map_err(|e| oauth_error(&e))?;
    Ok(OAuthAccountView {
        id: id.to_owned(),
        mode: record.details["mode"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        client_id: record.subject.clone(),
        device_id: record.details["deviceId"].as_str().map(str::to_owned),
        storage: storage_of(&record),
        tokens: tokens.map(|t| OAuthTokenView {
            expires_at_ms: t.access_expires_ms as f64,
            has_refresh_token: t.refresh_token.is_some(),
            scope: t.scope.clone(),
        }),
    })
}

/// The OAuth accounts kept here.
#[tauri::command]
pub fn profile_oauth_accounts(core: State<'_, Arc<Core>>) -> Result<Vec<OAuthAccountView>> {
    crate::profiles::store(&core)?
        .list()
        .map_err(wallet_error)?
        .into_iter()
        .filter(|a| a.profile == PROFILE)
        .map(|a| view(&core, &a.id))
        .collect()
}

/// Which token storages the app's store allows: `memory`, and `keychain` or `file`.
#[tauri::command]
pub fn profile_oauth_storages(core: State<'_, Arc<Core>>) -> Vec<String> {
    ["memory", "keychain", "file"]
        .into_iter()
        .filter(|choice| check_storage(&core, choice).is_ok())
        .map(str::to_owned)
        .collect()
}

/// Registers a client on the app's server and keeps it here: `client-credentials`, or a
/// `device` (a public point-of-sale client with `device_id`), its tokens in `storage`.
#[tauri::command]
pub async fn profile_oauth_register(
    core: State<'_, Arc<Core>>,
    mode: String,
    storage: String,
    device_id: Option<String>,
) -> Result<OAuthAccountView> {
    check_storage(&core, &storage)?;
    let device = match mode.as_str() {
        "client-credentials" => false,
        "device" => true,
        other => {
            return Err(AppError::new(
                "INPUT",
                format!("{other:?} is not client-credentials or device"),
            ));
        }
    };
    let device_id = device.then(|| {
        device_id
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.trim().to_owned())
            .unwrap_or_else(|| "/vendor/acme/serial/1234".to_owned())
    });
    let url = crate::profiles::server_url(&core)?;
    let registration = if device {
        ClientRegistration::device("TokenSim point-of-sale device", "api")
    } else {
        ClientRegistration::confidential("TokenSim client", "api")
    };
    let pc = ProfileClient::new(core.engine_client(), &url);
    let made = register_client(&pc, &registration)
        .await
        .map_err(|e| AppError::from_device(&e))?;
    let client_id = made.client_id.clone();
    let record = ProfileRecord {
        profile: PROFILE.to_owned(),
        server_url: url.trim_end_matches('/').to_owned(),
        subject: client_id.clone(),
        details: json!({
            "mode": if device { "device" } else { "client-credentials" },
            "scope": "api",
            "deviceId": device_id,
            "storage": storage,
        }),
    };
    let secrets = OAuthSecrets {
        client_secret: made.client_secret.as_deref().cloned(),
        tokens: None,
    };
    let bytes = secrets.to_bytes().map_err(|e| AppError::new("STORE", e))?;
    let name = format!(
        "oauth-{}-{}",
        if device { "device" } else { "cc" },
        &client_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(8)
            .collect::<String>()
    );
    let id = crate::profiles::account_id(&name)?;
    crate::profiles::store(&core)?
        .create(&id, &record, &bytes)
        .map_err(wallet_error)?;
    view(&core, id.as_str())
}

fn source_words(source: TokenSource) -> &'static str {
    match source {
        TokenSource::Stored => "from storage (still valid, no request)",
        TokenSource::Refreshed => "by the refresh token (the stored one had expired)",
        TokenSource::ClientCredentials => "by the client credentials grant",
        TokenSource::DeviceAuthorization => "by the device authorization",
    }
}

fn fault_of(fault: Option<String>) -> Result<Option<OAuthFault>> {
    match fault.as_deref().filter(|f| !f.is_empty()) {
        None => Ok(None),
        Some(name) => name
            .parse::<OAuthFault>()
            .map(Some)
            .map_err(|e| AppError::new("INPUT", e)),
    }
}

/// Runs `action` on account `id` (`token`, `call`, `refresh`, `revoke`, `clear`) under the
/// catalogue's `fault`; a refusal is a result in the profile's words, not an error.
#[tauri::command]
pub async fn profile_oauth_action(
    core: State<'_, Arc<Core>>,
    id: String,
    action: String,
    fault: Option<String>,
) -> Result<OAuthResultView> {
    let fault = fault_of(fault)?;
    let client = engine(&core, load(&core, &id)?, None).with_fault(fault);
    let result: std::result::Result<String, OAuthError> = match action.as_str() {
        "token" => client
            .authorize()
            .await
            .map(|a| format!("access token {}", source_words(a.source))),
        "call" => client.call_api().await.map(|a| {
            format!(
                "the API accepted the token {}{}: client {}",
                source_words(a.source),
                if a.refreshed_after_401 {
                    ", after a 401 invalid_token and one refresh"
                } else {
                    ""
                },
                a.body["client_id"].as_str().unwrap_or("?")
            )
        }),
        "refresh" => match client.stored() {
            Ok(Some(tokens)) => client
                .refresh(&tokens)
                .await
                .map(|_| "refreshed: a new access token by the refresh token".to_owned()),
            Ok(None) => Ok("nothing stored to refresh: get a token first".to_owned()),
            Err(e) => Err(e),
        },
        "revoke" => client
            .revoke()
            .await
            .map(|()| "the refresh token is revoked and the storage cleared".to_owned()),
        "clear" => client
            .clear()
            .map(|()| "storage cleared: the next call authenticates again".to_owned()),
        other => {
            return Err(AppError::new(
                "INPUT",
                format!("{other:?} is not token, call, refresh, revoke or clear"),
            ));
        }
    };
    let (ok, summary) = match result {
        Ok(summary) => (true, summary),
        Err(error) => (false, error.to_string()),
    };
    Ok(OAuthResultView {
        ok,
        summary,
        account: view(&core, &id)?,
    })
}

/// Forgets the account here (the server is not told).
#[tauri::command]
pub fn profile_oauth_remove(core: State<'_, Arc<Core>>, id: String) -> Result<()> {
    let loaded = load(&core, &id)?;
    let _ = MEMORY.clear(loaded.id.as_str());
    loaded.store.remove(&loaded.id).map_err(wallet_error)
}

/// Records the device's polls into the flow's view (and forwards every exchange to the
/// inspector). An error answer's `error` code is not secret.
struct PollStates {
    id: String,
    inspector: Arc<dyn Events>,
}

impl Events for PollStates {
    fn exchange(&self, exchange: &Exchange) {
        self.inspector.exchange(exchange);
        if !exchange.label.starts_with("oauth/token device_code") {
            return;
        }
        let body: serde_json::Value =
            serde_json::from_str(&exchange.response_body).unwrap_or_default();
        let state = match (exchange.status, body["error"].as_str()) {
            (Some(200), _) => "approved".to_owned(),
            (Some(_), Some(code)) => code.to_owned(),
            _ => "failed".to_owned(),
        };
        let message = body["error_description"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| exchange.error.clone())
            .unwrap_or_else(|| "the server sent the tokens".to_owned());
        let mut flows = DEVICE_FLOWS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(flow) = flows.get_mut(&self.id) {
            flow.polls += 1.0;
            if state == "slow_down" {
                flow.interval_seconds += 5.0;
            }
            flow.state = state;
            flow.message = message;
        }
    }
    fn warning(&self, warning: &Warning) {
        self.inspector.warning(warning);
    }
}

/// Starts an RFC 8628 device authorization for device account `id`: the user code and the
/// verification page come back at once; the device polls in the background at the server's
/// interval ([`profile_oauth_device_status`] tells how it goes).
#[tauri::command]
pub async fn profile_oauth_device_start(
    core: State<'_, Arc<Core>>,
    id: String,
) -> Result<DeviceFlowView> {
    let loaded = load(&core, &id)?;
    let device_id = loaded.record.details["deviceId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| AppError::new("INPUT", format!("{id} is not a device-flow client")))?;
    let events = Arc::new(PollStates {
        id: id.clone(),
        inspector: core.client_tagged(&id).events(),
    });
    let client = engine(&core, loaded, Some(events));
    let code = client
        .start_device(&device_id)
        .await
        .map_err(|e| oauth_error(&e))?;
    let flow = DeviceFlowView {
        user_code: code.user_code().to_owned(),
        verification_uri: code.verification_uri().to_owned(),
        verification_uri_complete: code.verification_uri_complete().map(str::to_owned),
        interval_seconds: code.interval().as_secs_f64(),
        state: "starting".to_owned(),
        polls: 0.0,
        message: "the device polls the token endpoint at the server's interval".to_owned(),
    };
    DEVICE_FLOWS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), flow.clone());
    tauri::async_runtime::spawn(async move {
        let done = client.finish_device(&code).await;
        let mut flows = DEVICE_FLOWS.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(flow), Err(error)) = (flows.get_mut(&id), done) {
            flow.state = error.code().unwrap_or("failed").to_owned();
            flow.message = error.to_string();
        }
    });
    Ok(flow)
}

/// How device account `id`'s authorization goes, if one was started.
#[tauri::command]
pub fn profile_oauth_device_status(id: String) -> Option<DeviceFlowView> {
    DEVICE_FLOWS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
}

/// The declarations of the OAuth tab, appended to `ui/src/lib/profiles/bindings.ts`.
pub fn typescript_decls() -> Vec<String> {
    vec![
        <OAuthAccountView as TS>::decl(),
        <OAuthTokenView as TS>::decl(),
        <OAuthResultView as TS>::decl(),
        <DeviceFlowView as TS>::decl(),
    ]
}
