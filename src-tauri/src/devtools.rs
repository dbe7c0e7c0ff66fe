//! Device state tools in the app: the server doctor (sandbox panel), snapshots with their
//! timeline and restore (device page), and Wultra cmd-tool status files in and out. Each
//! command converts its arguments and makes one call into `tokensim-device` or the wallet;
//! the types here are exported to `ui/src/lib/devtools/bindings.ts`. Nothing secret goes out:
//! diffs carry no secret value, status files are written to the path the tester names.

use crate::core::Core;
use crate::types::AppError;
use powerauth::ProtocolVersion;
use powerauth::config::ApplicationConfig;
use serde::Serialize;
use std::sync::Arc;
use tauri::State;
use tokensim_device::cmdtool::{CmdToolError, StatusFile};
use tokensim_device::doctor::server::check_server;
use tokensim_device::{Profile, Session};
use tokensim_wallet::DeviceId;
use ts_rs::TS;

type Result<T> = std::result::Result<T, AppError>;

/// One doctor check.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    /// Stable id: `reach`, `tls`, `restful-api`, `protocol-versions`, `clock`,
    /// `mobile-token-api`, `push-inbox`, `application`.
    pub id: String,
    /// Title shown.
    pub title: String,
    /// `ok`, `warn`, `fail` or `skipped`.
    pub verdict: String,
    /// What was found.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// Lines of detail (the TLS check's certificate chain).
    pub details: Vec<String>,
}

/// The doctor's report on a server.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    /// The server checked.
    pub server: String,
    /// `ok`, `warn` or `fail`.
    pub overall: String,
    /// The checks in order.
    pub checks: Vec<DoctorCheck>,
    /// Accepted protocol versions.
    pub accepted_versions: Vec<String>,
    /// Server minus machine clock, ms.
    pub clock_offset_ms: Option<i32>,
}

/// A snapshot on the device page's timeline.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotView {
    /// Its name.
    pub name: String,
    /// Saved at, Unix ms (as a float: JavaScript numbers).
    pub saved_at_ms: f64,
    /// The device's counter then.
    pub counter: f64,
    /// The last status then, if any.
    pub state: Option<String>,
    /// Tokens then.
    pub tokens: Vec<String>,
    /// Whether biometry was enrolled.
    pub biometry: bool,
}

/// One changed field (secret fields carry no values).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FieldChangeView {
    /// Field path.
    pub field: String,
    /// Value before, unless secret.
    pub before: Option<String>,
    /// Value after, unless secret.
    pub after: Option<String>,
    /// Whether the field is secret.
    pub secret: bool,
    /// What changed, in words.
    pub note: String,
}

/// What a restore showed: the server's reaction in the fault report's words.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RestoreView {
    /// The snapshot restored.
    pub snapshot: String,
    /// `in-sync`, `resync`, `counter-behind`, `blocked`, `not-active`, `unchecked`.
    pub reaction: String,
    /// What the server answered.
    pub answered: String,
    /// What the protocol makes of it.
    pub required: String,
    /// What to do.
    pub hint: String,
}

/// A device imported from a cmd-tool status file.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CmdToolImported {
    /// The new device's id.
    pub id: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Its counter after the import's vault unlock.
    pub counter: f64,
}

/// A unit enum's serde name (`ok`, `resync`...).
fn text(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn wallet_error(error: tokensim_wallet::Error) -> AppError {
    let code = match &error {
        tokensim_wallet::Error::SnapshotExists { .. } => "SNAPSHOT_EXISTS",
        tokensim_wallet::Error::SnapshotNotFound { .. } => "SNAPSHOT_NOT_FOUND",
        tokensim_wallet::Error::SnapshotName { .. } => "INPUT",
        _ => "STORE",
    };
    AppError::new(code, error)
}

fn device_id(id: &str) -> Result<DeviceId> {
    DeviceId::parse(id).map_err(|e| AppError::new("STORE", e))
}

/// Runs the server doctor against `url` (default: the app's server) with the mobile SDK
/// configuration given (default: the app's server's application when `url` is its URL).
#[tauri::command]
pub async fn doctor_server(
    core: State<'_, Arc<Core>>,
    url: Option<String>,
    mobile_sdk_config: Option<String>,
) -> Result<DoctorReport> {
    let server = core.server();
    let url = match (url.filter(|u| !u.trim().is_empty()), &server) {
        (Some(url), _) => url.trim().to_owned(),
        (None, Some(server)) => server.info.url.clone(),
        (None, None) => {
            return Err(AppError::new(
                "NO_SERVER",
                "no server to check: give its URL",
            ));
        }
    };
    let application = match mobile_sdk_config.filter(|c| !c.trim().is_empty()) {
        Some(config) => Some(
            ApplicationConfig::from_mobile_sdk_config(config.trim())
                .map_err(|e| AppError::new("CONFIG", e))?,
        ),
        None => server
            .as_ref()
            .filter(|s| s.info.url == url)
            .map(|s| s.application.clone()),
    };
    let report = check_server(core.engine_client(), &url, application.as_ref()).await;
    Ok(DoctorReport {
        server: report.server.clone(),
        overall: text(&report.overall()),
        checks: report
            .checks
            .iter()
            .map(|c| DoctorCheck {
                id: c.id.to_owned(),
                title: c.title.to_owned(),
                verdict: text(&c.verdict),
                message: c.message.clone(),
                hint: c.hint.clone(),
                details: c.details.clone(),
            })
            .collect(),
        accepted_versions: report
            .accepted_versions
            .iter()
            .map(|v| v.as_str().to_owned())
            .collect(),
        clock_offset_ms: report
            .clock_offset_ms
            .map(|ms| ms.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
    })
}

/// The device's snapshots, oldest first.
#[tauri::command]
pub fn snapshot_list(core: State<'_, Arc<Core>>, id: String) -> Result<Vec<SnapshotView>> {
    let snapshots = core
        .book
        .wallet()
        .snapshots(&device_id(&id)?)
        .map_err(wallet_error)?;
    Ok(snapshots
        .list()
        .map_err(wallet_error)?
        .into_iter()
        .map(|s| SnapshotView {
            name: s.name,
            saved_at_ms: s.saved_at_ms as f64,
            counter: s.counter as f64,
            state: s.state,
            tokens: s.tokens,
            biometry: s.biometry,
        })
        .collect())
}

/// Saves the device's whole state as `name`.
#[tauri::command]
pub async fn snapshot_save(core: State<'_, Arc<Core>>, id: String, name: String) -> Result<()> {
    let lock = core.book.lock(&id);
    let _guard = lock.lock().await;
    core.book
        .wallet()
        .snapshots(&device_id(&id)?)
        .and_then(|s| s.save(name.trim(), now_ms(), false))
        .map(drop)
        .map_err(wallet_error)
}

/// Puts the device back to snapshot `name`, then fetches the status: the server's reaction.
#[tauri::command]
pub async fn snapshot_restore(
    core: State<'_, Arc<Core>>,
    id: String,
    name: String,
) -> Result<RestoreView> {
    let lock = core.book.lock(&id);
    let _guard = lock.lock().await;
    let lease = core.book.lease(&id).await?;
    core.book
        .wallet()
        .snapshots(&device_id(&id)?)
        .and_then(|s| s.restore(&name, &lease))
        .map_err(wallet_error)?;
    let mut device = core.book.load_active(&id)?;
    let mut persist = core.book.persister(&id)?;
    let client = core.engine_client().clone();
    let report = Session::new(&client, &mut device, &mut persist)
        .check_restored()
        .await;
    core.book.save(&id, &device)?;
    let report = report.map_err(|e| AppError::from_device(&e))?;
    Ok(RestoreView {
        snapshot: name,
        reaction: text(&report.reaction),
        answered: report.answered,
        required: report.required,
        hint: report.hint,
    })
}

/// What changed from snapshot `name` to `other` (default: the device now).
#[tauri::command]
pub fn snapshot_diff(
    core: State<'_, Arc<Core>>,
    id: String,
    name: String,
    other: Option<String>,
) -> Result<Vec<FieldChangeView>> {
    let changes = core
        .book
        .wallet()
        .snapshots(&device_id(&id)?)
        .and_then(|s| s.diff(&name, other.as_deref()))
        .map_err(wallet_error)?;
    Ok(changes
        .into_iter()
        .map(|c| FieldChangeView {
            field: c.field,
            before: c.before,
            after: c.after,
            secret: c.secret,
            note: c.note,
        })
        .collect())
}

/// Writes the device as a cmd-tool status file at `path` (0600, atomically).
#[tauri::command]
pub fn export_cmdtool(core: State<'_, Arc<Core>>, id: String, path: String) -> Result<()> {
    let device = core.book.load_active(&id)?;
    let text = zeroize::Zeroizing::new(StatusFile::from_device(&device).to_json());
    let path = std::path::PathBuf::from(path.trim());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| AppError::new("INPUT", "give the status file's path"))?;
    let temporary = path.with_file_name(format!(".{name}.tmp"));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        AppError::new("IO", format!("cannot write {}: {e}", path.display()))
    })
}

/// Adds the device in the cmd-tool status file at `path` for the app's server, or `url`
/// with `mobile_sdk_config`: one vault unlock, the PIN checked offline.
#[tauri::command]
pub async fn import_cmdtool(
    core: State<'_, Arc<Core>>,
    path: String,
    pin: String,
    name: String,
) -> Result<CmdToolImported> {
    let server = core
        .server()
        .ok_or_else(|| AppError::new("NO_SERVER", "choose a server first (sandbox panel)"))?;
    let bytes = std::fs::read(path.trim())
        .map_err(|e| AppError::new("IO", format!("cannot read {}: {e}", path.trim())))?;
    let file = StatusFile::parse(&bytes).map_err(|e| cmdtool_error(&e))?;
    let name = if name.trim().is_empty() {
        "cmd-tool device".to_owned()
    } else {
        name.trim().to_owned()
    };
    let profile = Profile::new(
        name,
        &server.info.url,
        server.application,
        ProtocolVersion::V3_3,
    );
    let device = tokensim_device::cmdtool::import(core.engine_client(), &file, profile, &pin)
        .await
        .map_err(|e| cmdtool_error(&e))?;
    let id = core.book.add(&device)?;
    Ok(CmdToolImported {
        id,
        fingerprint: device.fingerprint.clone(),
        counter: device.counter as f64,
    })
}

fn cmdtool_error(error: &CmdToolError) -> AppError {
    match error {
        CmdToolError::Device(e) => AppError::from_device(e),
        CmdToolError::WrongPin => AppError::new("WRONG_PIN", error),
        _ => AppError::new("CMDTOOL_FILE", error),
    }
}

/// The declarations of `ui/src/lib/devtools/bindings.ts`.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/devtools.rs by ts-rs. Do not edit: run\n\
         // `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app devtools_bindings` instead.\n",
    );
    for decl in [
        <DoctorCheck as TS>::decl(),
        <DoctorReport as TS>::decl(),
        <SnapshotView as TS>::decl(),
        <FieldChangeView as TS>::decl(),
        <RestoreView as TS>::decl(),
        <CmdToolImported as TS>::decl(),
    ] {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn devtools_bindings_are_fresh() {
        crate::types::assert_bindings_fresh(
            "devtools/bindings.ts",
            &super::typescript(),
            "devtools_bindings",
        );
    }
}
