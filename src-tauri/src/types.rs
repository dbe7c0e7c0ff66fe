//! The values that cross into the web view, exported to TypeScript by `ts-rs`
//! (`ui/src/lib/bindings.ts`; the `bindings_are_fresh` test fails when that file is stale).
//!
//! Nothing here carries a secret: no key, PIN, PIN-derived key, vault key or token secret.
//! PINs travel only the other way, as command arguments.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokensim_api::ErrorKind;
use ts_rs::TS;

/// An error as the window shows it: what went wrong and what to do about it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    /// A stable code the UI may branch on, e.g. `AUTHENTICATION`, `NO_CAMERA`.
    pub code: String,
    /// The kind of failure, the same the CLI's `--json` prints (`tokensim-api`'s kinds);
    /// the backend always sets it, errors the window makes itself may not.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kind: Option<ErrorKind>,
    /// The explanation, in words for a tester.
    pub message: String,
    /// What to do about it, when there is something to say (the activation doctor's hint).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub hint: Option<String>,
}

/// Where the app's server is and how the sandbox panel reaches its Cloud API.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The server's base URL.
    pub url: String,
    /// Whether it is the sandbox started inside the app.
    pub embedded: bool,
    /// The web console (sandbox only).
    pub console_url: String,
    /// The Cloud API user the sandbox panel uses (`integration`).
    pub cloud_user: String,
    /// Its password: a throwaway credential of a local test server, shown so a tester can
    /// log in to the console or script the Cloud API.
    pub cloud_password: String,
}

/// What the app runs with: the server, the device store and the scanner's sources.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// The server, once it is up.
    pub server: Option<ServerInfo>,
    /// Why there is no server, if there is none.
    pub server_error: Option<String>,
    /// Where device secrets are kept: `keychain`, `encrypted-file` or `memory`.
    pub store: String,
    /// A warning about the store (e.g. no keychain: devices last until the app quits).
    pub store_warning: Option<String>,
    /// The scanner's frame sources and whether each one works here.
    pub sources: Vec<SourceInfo>,
    /// Seconds between polls for new operations.
    pub poll_seconds: u32,
}

/// Where the scanner takes frames from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SourceKind {
    /// The webcam.
    Camera,
    /// The screen (the QR shown by a console in another window).
    Screen,
    /// Image files from the folder named by `TOKENSIM_FRAMES` (tests, recorded frames).
    Folder,
}

/// One frame source and whether it can be used.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// Which source.
    pub kind: SourceKind,
    /// Whether it can deliver frames.
    pub available: bool,
    /// Why not, or what it reads.
    pub detail: String,
}

/// What a scan found.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScanResult {
    /// The decoded text, if a code was found.
    pub text: Option<String>,
    /// `activation`, `offline` or `other`.
    pub kind: String,
    /// The frame as a JPEG data URL (downscaled), for the live preview.
    pub preview: Option<String>,
    /// The code's corners in preview coordinates, for the box around it.
    pub corners: Vec<[f32; 2]>,
    /// Preview width and height.
    pub size: [u32; 2],
    /// The scanned image's width and height (the frame, or the selected region of it).
    pub frame_size: [u32; 2],
    /// Why nothing was found (no code in the frame, source error).
    pub note: Option<String>,
}

/// What the clipboard held: a decoded picture, or text.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Pasted {
    /// The picture, scanned.
    pub image: Option<ScanResult>,
    /// The text.
    pub text: Option<String>,
}

/// A device in the list.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceSummary {
    /// Store id.
    pub id: String,
    /// The name the tester chose.
    pub name: String,
    /// Server URL.
    pub server_url: String,
    /// `3.0` … `3.3`.
    pub version: String,
    /// Last known state (`ACTIVE`, `BLOCKED`, …) or `PENDING` before activation.
    pub state: String,
    /// Pending operations seen at the last poll.
    pub pending: u32,
    /// The armed fault, if any: its catalogue name (`FAULTS`).
    pub fault: Option<String>,
}

/// A device with its counters and keys' public facts.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDetail {
    /// The list entry.
    pub summary: DeviceSummary,
    /// `ACTIVATION_ID`.
    pub activation_id: String,
    /// The 8-digit fingerprint.
    pub fingerprint: String,
    /// Failed PIN attempts and the limit.
    pub failed_attempts: u32,
    /// Attempts allowed.
    pub max_failed_attempts: u32,
    /// Counter reconciliation in words.
    pub counter: String,
    /// Token names held.
    pub tokens: Vec<String>,
    /// Whether a biometry key is enrolled.
    pub biometry: bool,
    /// Whether the server issued a recovery code.
    pub recovery: bool,
    /// The status call's error, when the server could not be asked.
    pub status_error: Option<String>,
}

/// What to activate.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivateRequest {
    /// Device name.
    pub name: String,
    /// `CODE#SIGNATURE` or a bare code.
    pub code: String,
    /// The new PIN (goes in, never comes back).
    pub pin: String,
    /// `3.0` … `3.3`.
    pub version: String,
    /// Enrol simulated biometry at activation.
    pub biometry: bool,
    /// Activation OTP, when the registration asks for one.
    pub otp: Option<String>,
}

/// One step of an activation, explained (made by `tokensim-api`'s activation).
pub use tokensim_api::Step;

/// How an activation went.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ActivationReport {
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The new device, when it worked.
    pub device: Option<DeviceSummary>,
    /// The fingerprint to compare with the server's.
    pub fingerprint: Option<String>,
    /// Why it failed.
    pub error: Option<AppError>,
}

/// An operation as the inbox shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OperationView {
    /// Operation id.
    pub id: String,
    /// Operation type, e.g. `authorize_payment`.
    pub name: String,
    /// The signed data string.
    pub data: String,
    /// `PENDING`, `APPROVED`, …
    pub status: Option<String>,
    /// `1FA`, `2FA`, `ECDSA`.
    pub signature_kind: String,
    /// Allowed 2FA variants.
    pub variants: Vec<String>,
    /// Title, message and attributes, as the server sent them.
    #[ts(type = "FormData | null")]
    pub form_data: Option<Value>,
    /// When it was created, if the server said.
    pub created: Option<String>,
    /// When it expires, if the server said.
    pub expires: Option<String>,
    /// Why its status changed (`statusReason`, e.g. a reject reason).
    pub status_reason: Option<String>,
    /// The screens around the approval (`ui`: `preApprovalScreen`, `postApprovalScreen`,
    /// `flipButtons`, `blockApprovalOnCall`), as the server sent them.
    #[ts(type = "Record<string, unknown> | null")]
    pub ui: Option<Value>,
}

/// How the user approves.
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Approval {
    /// With the PIN (possession + knowledge).
    Pin {
        /// The PIN.
        pin: String,
    },
    /// With simulated biometry (possession + biometry).
    Biometry,
    /// With the device alone (possession): only for operations whose
    /// `allowedSignatureType` is `1FA`.
    Possession,
}

/// A proximity-check OTP the user scanned or typed for an operation (`proximityCheck`).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProximityInput {
    /// The OTP.
    pub otp: String,
    /// `QR_CODE` or `DEEPLINK` (a typed OTP is sent as `QR_CODE`, as the SDK offers no other).
    pub kind: String,
    /// When the app received it (ISO-8601).
    pub timestamp_received: String,
}

/// What a scanned proximity code holds (the SDK's `PACUtils` rules).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProximityRead {
    /// The operation it is for.
    pub operation_id: String,
    /// The OTP, when the code carries one.
    pub otp: Option<String>,
}

/// A new operation found by the background watch, pushed to the window as
/// `operation-arrived` (the window's own notification opens it).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OperationArrived {
    /// The device it is for.
    pub device_id: String,
    /// That device's name.
    pub device_name: String,
    /// The operation.
    pub operation_id: String,
    /// The notification's text, e.g. "Payment 1,250.00 EUR".
    pub title: String,
}

/// An inbox message (the mobile API's `/api/inbox`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InboxMessageView {
    /// Message id.
    pub id: String,
    /// `text` or `html`.
    pub kind: String,
    /// Subject.
    pub subject: String,
    /// Summary.
    pub summary: String,
    /// Whether it was read.
    pub read: bool,
    /// When it was created (ISO-8601).
    pub created: Option<String>,
    /// The body (after opening it).
    pub body: Option<String>,
}

/// The fault catalogue the fault menu lists (`tokensim-device`'s, the CLI's `--fault` set).
pub use tokensim_device::{FaultParameter, FaultSpec};

/// One HTTP exchange in the inspector (secrets already redacted by the engine).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeView {
    /// Sequence number.
    pub seq: u32,
    /// What the engine was doing.
    pub label: String,
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// HTTP status.
    pub status: Option<u16>,
    /// Milliseconds.
    pub elapsed_ms: u32,
    /// Request headers.
    pub request_headers: Vec<[String; 2]>,
    /// Request body.
    pub request_body: String,
    /// Plaintext before ECIES.
    pub request_plaintext: Option<String>,
    /// Response body.
    pub response_body: String,
    /// Decrypted response.
    pub response_plaintext: Option<String>,
    /// Transport error.
    pub error: Option<String>,
    /// Fault applied.
    pub fault: Option<String>,
    /// The device that made it, when known.
    pub device: Option<String>,
    /// When it was sent (milliseconds since the Unix epoch).
    pub at_ms: Option<f64>,
}

/// A registration the sandbox panel created.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// Activation id.
    pub activation_id: String,
    /// The user.
    pub user_id: String,
    /// `CODE#SIGNATURE`.
    pub qr_text: String,
    /// The QR code as a PNG data URL.
    pub qr_png: String,
}

/// The header a "sign data" produced.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignedData {
    /// `X-PowerAuth-Authorization`.
    pub header_name: String,
    /// Its value (a one-time signature: useless once the counter moved on).
    pub header_value: String,
}

/// Pending operations per device, pushed to the window as `operations-changed`.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PendingCounts {
    /// Device id → pending operations.
    pub devices: Vec<(String, u32)>,
    /// The total.
    pub total: u32,
}

/// An offline operation's QR, read but not signed yet: what the inbox would show.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflinePreview {
    /// The operation, rendered like an online one (title, message, attributes from the
    /// operation data string).
    pub operation: OperationView,
    /// Whether the QR lets simulated biometry sign it instead of the PIN.
    pub biometry_allowed: bool,
    /// `personalized` (for one activation) or `non-personalized`.
    pub kind: String,
}

/// The offline signature the user types into the web page.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflineSigned {
    /// Operation id from the QR.
    pub operation_id: String,
    /// As the backend expects it (`NNNNNNNN-NNNNNNNN`).
    pub signature: String,
    /// Grouped by four for retyping.
    pub display: String,
}

/// A rectangle of a frame, in the frame's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// Every exported declaration, in order, as the bindings file holds them.
pub fn typescript() -> String {
    let mut out = String::from(
        "// Generated from src-tauri/src/types.rs by ts-rs. Do not edit: run\n\
         // `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app bindings` instead.\n\n\
         /** An operation's form data as the mobile API sends it (rendered by OperationCard). */\n\
         export type FormData = { title?: string; message?: string; attributes?: Array<Record<string, unknown>> };\n",
    );
    for decl in [
        <ErrorKind as TS>::decl(),
        <AppError as TS>::decl(),
        <ServerInfo as TS>::decl(),
        <AppInfo as TS>::decl(),
        <SourceKind as TS>::decl(),
        <SourceInfo as TS>::decl(),
        <ScanResult as TS>::decl(),
        <Pasted as TS>::decl(),
        <DeviceSummary as TS>::decl(),
        <DeviceDetail as TS>::decl(),
        <ActivateRequest as TS>::decl(),
        <Step as TS>::decl(),
        <ActivationReport as TS>::decl(),
        <OperationView as TS>::decl(),
        <Approval as TS>::decl(),
        <ProximityInput as TS>::decl(),
        <ProximityRead as TS>::decl(),
        <OperationArrived as TS>::decl(),
        <InboxMessageView as TS>::decl(),
        <FaultParameter as TS>::decl(),
        <FaultSpec as TS>::decl(),
        <ExchangeView as TS>::decl(),
        <Registration as TS>::decl(),
        <SignedData as TS>::decl(),
        <PendingCounts as TS>::decl(),
        <OfflinePreview as TS>::decl(),
        <OfflineSigned as TS>::decl(),
        <Region as TS>::decl(),
    ] {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out.push_str(&format!(
        "\n/** Every fault the engine can inject, with its default parameter (tokensim-device's catalogue). */\nexport const FAULTS: FaultSpec[] = {};\n",
        serde_json::to_string(tokensim_device::CATALOGUE).unwrap_or_else(|_| "[]".to_owned())
    ));
    out
}

/// Checks that the UI's generated file `ui/src/lib/<file>` holds `expected`, or rewrites it
/// when `TOKENSIM_UPDATE_BINDINGS` is set; `test` names the test that does it.
#[cfg(test)]
pub(crate) fn assert_bindings_fresh(file: &str, expected: &str, test: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/src/lib")
        .join(file);
    if std::env::var_os("TOKENSIM_UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, expected).expect("write the bindings");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "ui/src/lib/{file} is stale: run `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app {test}`"
    );
}

#[cfg(test)]
mod tests {
    /// The UI's copy of these types must match: regenerate with
    /// `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app bindings`.
    #[test]
    fn bindings_are_fresh() {
        super::assert_bindings_fresh("bindings.ts", &super::typescript(), "bindings");
    }
}
