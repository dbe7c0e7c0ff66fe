// The Profiles tabs' shared list state: the rows a tab shows (accounts, transactions), the
// error of the last load or action, and whether an action is running. One instance per tab;
// `load` fetches the rows again, `run` wraps an action (clears the error, sets `busy`, keeps
// the action's error for the ErrorBox).
import { invoke } from "@tauri-apps/api/core";
import { asError } from "../api";
import type { AppError } from "../bindings";
import type { ProfileAccountView } from "./bindings";

export class ProfileList<T> {
  items: T[] = $state([]);
  error: AppError | null = $state(null);
  busy = $state(false);
  readonly #fetch: () => Promise<T[]>;

  constructor(fetch: () => Promise<T[]>) {
    this.#fetch = fetch;
  }

  /** Fetches the rows again; a failure keeps the old rows and shows the error. */
  async load(): Promise<void> {
    try {
      this.items = await this.#fetch();
    } catch (e) {
      this.error = asError(e);
    }
  }

  /** Runs `action` with `busy` set; its error, if any, is shown, not thrown. */
  async run(action: () => Promise<void>): Promise<void> {
    this.error = null;
    this.busy = true;
    try {
      await action();
    } catch (e) {
      this.error = asError(e);
    } finally {
      this.busy = false;
    }
  }
}

/** The accounts of `profile` among `all` (the app's `profile_accounts`). */
export function accountsOf(profile: string, all: ProfileAccountView[]): ProfileAccountView[] {
  return all.filter((a) => a.profile === profile);
}

/**
 * The list of one profile's accounts kept in the app's profile store; `profile` may be a
 * getter (a component's prop, read at each load).
 */
export function profileAccounts(profile: string | (() => string)): ProfileList<ProfileAccountView> {
  const name = typeof profile === "string" ? () => profile : profile;
  return new ProfileList(async () => accountsOf(name(), await invoke<ProfileAccountView[]>("profile_accounts")));
}
