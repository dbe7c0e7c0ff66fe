// What outlives a page: the Sandbox panel's registration (its QR code stays when the
// tester goes to Add device to scan it) and the last operation it created.
import type { Registration } from "./bindings";

export const sandboxState: { registration: Registration | null; created: string; user: string } = $state({
  registration: null,
  created: "",
  user: "tester",
});
