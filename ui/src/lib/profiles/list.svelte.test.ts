import { describe, expect, it } from "vitest";
import { flushSync } from "svelte";
import { ProfileList, accountsOf } from "./list.svelte";
import type { ProfileAccountView } from "./bindings";

function account(id: string, profile: string): ProfileAccountView {
  return { id, profile, serverUrl: "http://127.0.0.1:8780", subject: id, details: {} } as ProfileAccountView;
}

describe("ProfileList", () => {
  it("loads the rows, and a failed load keeps them and shows the error", async () => {
    let fail = false;
    const list = new ProfileList(async () => {
      if (fail) throw { code: "STORE", message: "the store is locked", hint: "unlock it" };
      return ["a", "b"];
    });
    expect(list.items).toEqual([]);
    await list.load();
    expect(list.items).toEqual(["a", "b"]);
    expect(list.error).toBeNull();
    fail = true;
    await list.load();
    expect(list.items).toEqual(["a", "b"]);
    expect(list.error).toEqual({ code: "STORE", message: "the store is locked", hint: "unlock it" });
  });

  it("runs an action busy, clears the old error first and keeps the action's error", async () => {
    const list = new ProfileList(async () => [1]);
    list.error = { code: "OLD", message: "before" };
    let busyInside = false;
    await list.run(async () => {
      busyInside = list.busy;
      expect(list.error).toBeNull();
    });
    expect(busyInside).toBe(true);
    expect(list.busy).toBe(false);
    await list.run(async () => {
      throw new Error("the sandbox is not running");
    });
    expect(list.busy).toBe(false);
    expect(list.error).toEqual({ code: "ERROR", message: "the sandbox is not running" });
  });

  it("is reactive: an effect sees each load and each busy change", async () => {
    const list = new ProfileList(async () => ["x"]);
    const seen: string[] = [];
    const stop = $effect.root(() => {
      $effect(() => {
        seen.push(`${list.items.length}${list.busy ? " busy" : ""}`);
      });
    });
    flushSync();
    await list.run(() => list.load());
    flushSync();
    stop();
    expect(seen[0]).toBe("0");
    expect(seen.at(-1)).toBe("1");
  });
});

describe("accountsOf", () => {
  it("keeps one profile's accounts, in the store's order", () => {
    const all = [account("jwt-ann", "jwt"), account("st-bob", "signed-token"), account("st-cy", "signed-token")];
    expect(accountsOf("signed-token", all).map((a) => a.id)).toEqual(["st-bob", "st-cy"]);
    expect(accountsOf("facemap", all)).toEqual([]);
  });
});
