import { describe, expect, it, afterEach } from "vitest";
import { mount, unmount, flushSync } from "svelte";
import ErrorBox from "./ErrorBox.svelte";
import { asError } from "./api";

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
    expect(el.querySelector(".error-message")?.textContent).toBe("Wrong PIN or factor: 4 of 5 attempts left");
  });

  it("says plainly there is no camera", () => {
    const el = render({ error: { code: "NO_CAMERA", message: "no camera found" } });
    expect(el.querySelector(".error-title")?.textContent).toBe("No camera");
  });

  it("an unknown code still shows the message", () => {
    const el = render({ error: { code: "WHATEVER", message: "disk full" } });
    expect(el.querySelector(".error-title")?.textContent).toBe("Something went wrong");
    expect(el.textContent).toContain("disk full");
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
    expect(el.querySelector("[data-testid=error-hint]")?.textContent).toContain("check the code for typos");
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
