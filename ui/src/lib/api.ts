// Typed wrappers of the Tauri commands (src-tauri/src/commands.rs). PINs go in; nothing
// secret comes back.
import { invoke } from "@tauri-apps/api/core";
import type {
  ActivateRequest,
  ActivationReport,
  AppError,
  AppInfo,
  Approval,
  DeviceDetail,
  DeviceSummary,
  ErrorKind,
  ExchangeView,
  InboxMessageView,
  OfflinePreview,
  OfflineSigned,
  OperationView,
  Pasted,
  ProximityInput,
  ProximityRead,
  Region,
  Registration,
  ScanResult,
  ServerInfo,
  SignedData,
  SourceKind,
} from "./bindings";

export const api = {
  appInfo: () => invoke<AppInfo>("app_info"),
  setPollSeconds: (seconds: number) => invoke<number>("set_poll_seconds", { seconds }),
  useEmbeddedSandbox: () => invoke<ServerInfo>("use_embedded_sandbox"),
  useOutsideServer: (url: string, mobileSdkConfig: string, cloudUser: string, cloudPassword: string) =>
    invoke<ServerInfo>("use_outside_server", { url, mobileSdkConfig, cloudUser, cloudPassword }),
  devices: () => invoke<DeviceSummary[]>("list_devices"),
  scanFrame: (source: SourceKind, region: Region | null = null, previewWidth: number | null = null) =>
    invoke<ScanResult>("scan_frame", { source, region, previewWidth }),
  stopScan: () => invoke<void>("stop_scan"),
  scanImage: (bytes: Uint8Array) => invoke<ScanResult>("scan_image", { bytes: Array.from(bytes) }),
  classifyText: (text: string) => invoke<string>("classify_text", { text }),
  offlinePreview: (id: string, text: string) => invoke<OfflinePreview>("offline_preview", { id, text }),
  signOffline: (id: string, text: string, approval: Approval) =>
    invoke<OfflineSigned>("sign_offline", { id, text, approval }),
  activate: (request: ActivateRequest) => invoke<ActivationReport>("activate_device", { request }),
  detail: (id: string) => invoke<DeviceDetail>("device_detail", { id }),
  rename: (id: string, name: string) => invoke<void>("rename_device", { id, name }),
  remove: (id: string, pin: string | null, localOnly: boolean) =>
    invoke<void>("remove_device", { id, pin, localOnly }),
  operations: (id: string) => invoke<OperationView[]>("list_operations", { id }),
  history: (id: string, pin: string) => guardPin({ kind: "pin", pin }) ?? invoke<OperationView[]>("operation_history", { id, pin }),
  approve: (id: string, operationId: string, approval: Approval, proximity: ProximityInput | null = null) =>
    guardPin(approval) ?? invoke<void>("approve_operation", { id, operationId, approval, proximity }),
  reject: (id: string, operationId: string, reason: string) =>
    invoke<void>("reject_operation", { id, operationId, reason }),
  signData: (id: string, data: Uint8Array, uriId: string, approval: Approval, possessionOnly: boolean) =>
    invoke<SignedData>("sign_data", { id, data: Array.from(data), uriId, approval, possessionOnly }),
  unlockVault: (id: string, pin: string) => guardPin({ kind: "pin", pin }) ?? invoke<void>("unlock_vault", { id, pin }),
  changePin: (id: string, oldPin: string, newPin: string) => invoke<void>("change_pin", { id, oldPin, newPin }),
  biometry: (id: string, action: "enroll" | "change-enrollment" | "remove", pin: string | null) =>
    invoke<void>("biometry", { id, action, pin }),
  setFault: (id: string, fault: string | null) => invoke<void>("set_fault", { id, fault }),
  inspector: () => invoke<ExchangeView[]>("inspector"),
  clearInspector: () => invoke<void>("clear_inspector"),
  diagnostics: () => invoke<string>("diagnostics"),
  newRegistration: (user: string) => invoke<Registration>("sandbox_registration", { user }),
  newOperation: (id: string, template: "login" | "payment") =>
    invoke<string>("sandbox_operation", { id, template }),
  pasteClipboard: () => invoke<Pasted>("paste_clipboard"),
  readProximity: (text: string) => invoke<ProximityRead>("read_proximity", { text }),
  inboxMessages: (id: string) => invoke<InboxMessageView[]>("inbox_messages", { id }),
  inboxOpen: (id: string, messageId: string) => invoke<InboxMessageView>("inbox_open", { id, messageId }),
  inboxReadAll: (id: string) => invoke<void>("inbox_read_all", { id }),
  operationStatus: (operationId: string) => invoke<string>("sandbox_operation_status", { operationId }),
};

/** A PIN approval without a PIN of 4+ digits is refused here: nothing is sent. */
function guardPin(approval: Approval): Promise<never> | null {
  if (approval.kind !== "pin") return null;
  if (/^\d{4,}$/.test(approval.pin)) return null;
  return Promise.reject({
    code: "INPUT",
    message: approval.pin ? "A PIN is at least 4 digits: nothing was sent." : "Type the PIN first: nothing was sent.",
  });
}

/** Any thrown value as an AppError the ErrorBox can show. */
export function asError(error: unknown): AppError {
  if (error && typeof error === "object" && "message" in error) {
    const e = error as { code?: unknown; kind?: unknown; message: unknown; hint?: unknown };
    const code = typeof e.code === "string" ? e.code : "ERROR";
    const out: AppError = { code, message: String(e.message) };
    if (typeof e.hint === "string") out.hint = e.hint;
    // The backend's kind (the CLI's --json kind), passed through for the UI to branch on.
    if (typeof e.kind === "string") out.kind = e.kind as ErrorKind;
    return out;
  }
  return { code: "ERROR", message: String(error) };
}
