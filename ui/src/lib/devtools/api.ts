// Typed wrappers of the device state tool commands (src-tauri/src/devtools.rs): the server
// doctor, snapshots, and Wultra cmd-tool status files. PINs go in; nothing secret comes back.
import { invoke } from "@tauri-apps/api/core";
import type { CmdToolImported, DoctorReport, FieldChangeView, RestoreView, SnapshotView } from "./bindings";

export const devtools = {
  doctor: (url: string | null, mobileSdkConfig: string | null) =>
    invoke<DoctorReport>("doctor_server", { url, mobileSdkConfig }),
  snapshots: (id: string) => invoke<SnapshotView[]>("snapshot_list", { id }),
  saveSnapshot: (id: string, name: string) => invoke<void>("snapshot_save", { id, name }),
  restoreSnapshot: (id: string, name: string) => invoke<RestoreView>("snapshot_restore", { id, name }),
  diffSnapshot: (id: string, name: string, other: string | null) =>
    invoke<FieldChangeView[]>("snapshot_diff", { id, name, other }),
  exportCmdtool: (id: string, path: string) => invoke<void>("export_cmdtool", { id, path }),
  importCmdtool: (path: string, pin: string, name: string) =>
    invoke<CmdToolImported>("import_cmdtool", { path, pin, name }),
};
