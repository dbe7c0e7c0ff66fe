import { describe, expect, it, afterEach } from "vitest";
import { mount, unmount, flushSync } from "svelte";
import ErrorBox from "./ErrorBox.svelte";
import { asError } from "./api";
import { plain } from "./words";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function render(props: Record<string, unknown>): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(ErrorBox, { target, props: props as never });
  flushSync();
  return target;
}

describe("ErrorBox", () => {
  it("shows nothing without an error", () => {
    expect(render({ error: null }).querySelector("[role=alert]")).toBeNull();
  });

  it("titles a refused signature and keeps the engine's words", () => {
    const el = render({ error: { code: "AUTHENTICATION", message: "Wrong PIN or factor: 4 of 5 attempts left" } });
    expect(el.querySelector(".error-title")?.textContent).toBe("The server refused the signature");
    expect(el.querySelector(".error-message")?.textContent).toBe("Wrong PIN or factor: 4 of 5 attempts left.");
  });

  it("says plainly there is no camera", () => {
    const el = render({ error: { code: "NO_CAMERA", message: "no camera found" } });
    expect(el.querySelector(".error-title")?.textContent).toBe("No camera");
  });

  it("an unknown code still shows the message", () => {
    const el = render({ error: { code: "WHATEVER", message: "disk full" } });
    // Never the generic "Something went wrong": a title that says what did not happen.
    expect(el.querySelector(".error-title")?.textContent).toBe("TokenSim could not finish this");
    expect(el.querySelector(".error-message")?.textContent).toBe("Disk full.");
  });

  it("shows the activation doctor's sentence and hint", () => {
    const el = render({
      error: {
        code: "ACTIVATION",
        message: "the activation code's checksum doesn't match: a character was mistyped or two were swapped",
        hint: "check the code for typos",
      },
    });
    expect(el.querySelector(".error-title")?.textContent).toBe("The activation cannot work");
    expect(el.querySelector(".error-message")?.textContent).toContain("checksum doesn't match");
    expect(el.querySelector("[data-testid=error-hint]")?.textContent).toContain("Check the code for typos.");
    expect(el.querySelector(".error-message")?.textContent).toMatch(/^The activation code's checksum/);
  });

  it("has no hint line without a hint", () => {
    const el = render({ error: { code: "INPUT", message: "x" } });
    expect(el.querySelector("[data-testid=error-hint]")).toBeNull();
  });

  it("can be dismissed", () => {
    let dismissed = false;
    const el = render({ error: { code: "INPUT", message: "x" }, ondismiss: () => (dismissed = true) });
    (el.querySelector("button") as HTMLButtonElement).click();
    expect(dismissed).toBe(true);
  });
});

describe("plain words", () => {
  it("drops HTTP codes and protocol codes the server answered with", () => {
    expect(plain("the vault did not open: the server answered HTTP 400 ERR_SECURE_VAULT/POWER_AUTH_SECURE_VAULT_INVALID: the vault did not open: wrong PIN (it counts as a failed attempt)")).toBe(
      "The vault did not open: wrong PIN (it counts as a failed attempt).",
    );
    expect(plain("creating a registration: the Cloud API answered 400 Bad Request: {\"code\":\"ERROR\"}")).toBe("Creating a registration: the Cloud API refused it.");
    expect(plain("Sent the key. HTTP 400 in 12 ms.")).not.toMatch(/HTTP|400/);
  });
  it("keeps one copy of a doubled clause", () => {
    expect(plain("No QR code found in the image (no QR code found in the image (tried 10 variants))")).toBe("No QR code found in the image (tried 10 variants).");
  });
  it("starts with a capital letter and ends with a full stop", () => {
    expect(plain("the PIN must be at least 4 digits")).toBe("The PIN must be at least 4 digits.");
  });
  it("every code the app sends has a title of its own", () => {
    for (const code of ["CAMERA", "CLIENT", "CLIPBOARD", "CLOUD", "CONFIG", "DEVICE", "FLEET", "IMAGE", "NO_FRAME", "NO_SOURCE", "QR", "SANDBOX", "SCAN", "NO_QR"]) {
      const el = render({ error: { code, message: "x" } });
      expect(el.querySelector(".error-title")?.textContent, code).not.toBe("TokenSim could not finish this");
      if (mounted) unmount(mounted);
      mounted = null;
    }
  });
});

describe("asError", () => {
  it("keeps a command error", () => {
    expect(asError({ code: "STORE", message: "locked" })).toEqual({ code: "STORE", message: "locked" });
  });
  it("keeps a hint", () => {
    expect(asError({ code: "ACTIVATION", message: "m", hint: "h" })).toEqual({ code: "ACTIVATION", message: "m", hint: "h" });
  });
  it("wraps anything else", () => {
    expect(asError("boom")).toEqual({ code: "ERROR", message: "boom" });
    expect(asError(new Error("bad"))).toEqual({ code: "ERROR", message: "bad" });
  });
});
