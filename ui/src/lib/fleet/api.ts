// Typed wrappers of the fleet panel's Tauri commands (src-tauri/src/fleet.rs). Nothing
// secret crosses: the request is counts and shares, the answers are counts and timings.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type { FleetInfo, FleetOutcome, FleetRequest, FleetTick } from "./bindings";

export const fleetApi = {
  info: () => invoke<FleetInfo>("fleet_info"),
  run: (request: FleetRequest) => invoke<FleetOutcome>("fleet_run", { request }),
  cancel: () => invoke<boolean>("fleet_cancel"),
  save: (format: "html" | "json", folder: string) => invoke<string>("fleet_save", { format, folder }),
  onProgress: (handler: (tick: FleetTick) => void): Promise<UnlistenFn> =>
    listen<FleetTick>("fleet-progress", (event) => handler(event.payload)),
};
