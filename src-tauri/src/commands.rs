//! The Tauri commands: each converts its arguments and makes one call into [`Core`] (and
//! through it into `tokensim-device`). PINs come in; nothing secret goes out.

use crate::core::Core;
use crate::scan::{Scanner, classify};
use crate::types::{
    ActivateRequest, ActivationReport, AppError, AppInfo, Approval, DeviceDetail, DeviceSummary,
    ExchangeView, OfflinePreview, OfflineSigned, OperationView, ProximityInput, Region,
    Registration, ScanResult, ServerInfo, SignedData, SourceKind,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tauri::State;

type Result<T> = std::result::Result<T, AppError>;

/// Seconds between operation polls, shared with the watcher.
pub struct PollInterval(pub AtomicU32);

impl PollInterval {
    /// Sets the interval, kept within 2–600 s; returns the one in force.
    fn set(&self, seconds: u32) -> u32 {
        let seconds = seconds.clamp(2, 600);
        self.0.store(seconds, Ordering::Relaxed);
        seconds
    }
}

/// What the app runs with.
#[tauri::command]
pub fn app_info(core: State<'_, Arc<Core>>, poll: State<'_, PollInterval>) -> AppInfo {
    core.info(poll.0.load(Ordering::Relaxed))
}

/// Sets the operation poll interval (2–600 s).
#[tauri::command]
pub fn set_poll_seconds(poll: State<'_, PollInterval>, seconds: u32) -> u32 {
    poll.set(seconds)
}

/// Restarts the embedded sandbox (in memory, random port).
#[tauri::command]
pub async fn use_embedded_sandbox(core: State<'_, Arc<Core>>) -> Result<ServerInfo> {
    core.slot.start_sandbox(None, 0).await
}

/// Uses an outside server.
#[tauri::command]
pub async fn use_outside_server(
    core: State<'_, Arc<Core>>,
    url: String,
    mobile_sdk_config: String,
    cloud_user: String,
    cloud_password: String,
) -> Result<ServerInfo> {
    core.slot
        .use_outside(&url, &mobile_sdk_config, &cloud_user, &cloud_password)
        .await
}

/// The device list.
#[tauri::command]
pub fn list_devices(core: State<'_, Arc<Core>>) -> Result<Vec<DeviceSummary>> {
    core.devices()
}

/// One frame from a source, decoded.
#[tauri::command]
pub async fn scan_frame(
    scanner: State<'_, Arc<Scanner>>,
    source: SourceKind,
    region: Option<Region>,
    preview_width: Option<u32>,
) -> Result<ScanResult> {
    (*scanner)
        .clone()
        .scan_frame(source, region, preview_width)
        .await
}

/// Stops scanning (closes the camera).
#[tauri::command]
pub fn stop_scan(scanner: State<'_, Arc<Scanner>>) {
    scanner.stop();
}

/// Decodes an image (file, drop, clipboard).
#[tauri::command]
pub async fn scan_image(bytes: Vec<u8>) -> Result<ScanResult> {
    crate::scan::scan_image(bytes).await
}

/// What pasted text is: `activation`, `recovery`, `offline` or `other`.
#[tauri::command]
pub fn classify_text(text: String) -> String {
    classify(&text)
}

/// Reads an offline operation's QR for device `id` (verified, not signed).
#[tauri::command]
pub fn offline_preview(
    core: State<'_, Arc<Core>>,
    id: String,
    text: String,
) -> Result<OfflinePreview> {
    core.offline_preview(&id, &text)
}

/// Signs an offline operation's QR: the code the user types into the web page.
#[tauri::command]
pub async fn sign_offline(
    core: State<'_, Arc<Core>>,
    id: String,
    text: String,
    approval: Approval,
) -> Result<OfflineSigned> {
    core.sign_offline(&id, &text, approval).await
}

/// Activates a device.
#[tauri::command]
pub async fn activate_device(
    core: State<'_, Arc<Core>>,
    request: ActivateRequest,
) -> Result<ActivationReport> {
    Ok(core.activate(request).await)
}

/// A device's status and public facts.
#[tauri::command]
pub async fn device_detail(core: State<'_, Arc<Core>>, id: String) -> Result<DeviceDetail> {
    core.detail(&id).await
}

/// Renames a device.
#[tauri::command]
pub fn rename_device(core: State<'_, Arc<Core>>, id: String, name: String) -> Result<()> {
    core.rename(&id, &name)
}

/// Removes a device (on the server too unless `local_only`).
#[tauri::command]
pub async fn remove_device(
    core: State<'_, Arc<Core>>,
    id: String,
    pin: Option<String>,
    local_only: bool,
) -> Result<()> {
    core.remove(&id, pin.as_deref(), local_only).await
}

/// Pending operations.
#[tauri::command]
pub async fn list_operations(core: State<'_, Arc<Core>>, id: String) -> Result<Vec<OperationView>> {
    core.operations(&id).await
}

/// Operation history.
#[tauri::command]
pub async fn operation_history(
    core: State<'_, Arc<Core>>,
    id: String,
    pin: String,
) -> Result<Vec<OperationView>> {
    core.history(&id, &pin).await
}

/// Approves an operation.
#[tauri::command]
pub async fn approve_operation(
    core: State<'_, Arc<Core>>,
    id: String,
    operation_id: String,
    approval: Approval,
    proximity: Option<ProximityInput>,
) -> Result<()> {
    core.approve(&id, &operation_id, approval, proximity).await
}

/// Rejects an operation.
#[tauri::command]
pub async fn reject_operation(
    core: State<'_, Arc<Core>>,
    id: String,
    operation_id: String,
    reason: String,
) -> Result<()> {
    core.reject(&id, &operation_id, &reason).await
}

/// Signs data; returns the header.
#[tauri::command]
pub async fn sign_data(
    core: State<'_, Arc<Core>>,
    id: String,
    data: Vec<u8>,
    uri_id: String,
    approval: Approval,
    possession_only: bool,
) -> Result<SignedData> {
    core.sign_data(&id, &data, &uri_id, approval, possession_only)
        .await
}

/// Unlocks the vault with the PIN (proves the PIN; the key stays in the app).
#[tauri::command]
pub async fn unlock_vault(core: State<'_, Arc<Core>>, id: String, pin: String) -> Result<()> {
    core.unlock_vault(&id, &pin).await
}

/// Changes the PIN.
#[tauri::command]
pub async fn change_pin(
    core: State<'_, Arc<Core>>,
    id: String,
    old_pin: String,
    new_pin: String,
) -> Result<()> {
    core.change_pin(&id, &old_pin, &new_pin).await
}

/// Biometry lifecycle: `enroll` (with the PIN), `change-enrollment`, `remove`.
#[tauri::command]
pub async fn biometry(
    core: State<'_, Arc<Core>>,
    id: String,
    action: String,
    pin: Option<String>,
) -> Result<()> {
    core.biometry(&id, &action, pin.as_deref()).await
}

/// Arms (or disarms) a fault of the catalogue, by name, for the device's next call.
#[tauri::command]
pub fn set_fault(core: State<'_, Arc<Core>>, id: String, fault: Option<String>) -> Result<()> {
    core.set_fault(&id, fault.as_deref())
}

/// The inspector timeline.
#[tauri::command]
pub fn inspector(core: State<'_, Arc<Core>>) -> Vec<ExchangeView> {
    core.exchanges()
}

/// Clears the inspector.
#[tauri::command]
pub fn clear_inspector(core: State<'_, Arc<Core>>) {
    core.timeline.clear();
}

/// The diagnostics bundle (JSON).
#[tauri::command]
pub fn diagnostics(core: State<'_, Arc<Core>>) -> Result<String> {
    core.diagnostics()
}

/// Sandbox panel: a registration with its QR code.
#[tauri::command]
pub async fn sandbox_registration(
    core: State<'_, Arc<Core>>,
    user: String,
) -> Result<Registration> {
    core.new_registration(&user).await
}

/// Sandbox panel: a login or payment operation for a device's user.
#[tauri::command]
pub async fn sandbox_operation(
    core: State<'_, Arc<Core>>,
    id: String,
    template: String,
) -> Result<String> {
    core.new_operation(&id, &template).await
}

/// Sandbox panel: an operation's status as the bank sees it.
#[tauri::command]
pub async fn sandbox_operation_status(
    core: State<'_, Arc<Core>>,
    operation_id: String,
) -> Result<String> {
    core.operation_status(&operation_id).await
}
