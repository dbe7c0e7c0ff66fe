import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import PinStep from "./PinStep.svelte";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function render(props: Record<string, unknown>): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(PinStep, { target, props: props as never });
  flushSync();
  return target;
}

describe("PinStep", () => {
  it("focuses the field, and sends nothing without a PIN of four digits", () => {
    const sent: string[][] = [];
    const el = render({ id: "pin", confirmId: "ok", onconfirm: (p: string[]) => sent.push(p), oncancel: () => {} });
    expect(document.activeElement?.id).toBe("pin");
    (el.querySelector("#ok") as HTMLButtonElement).click();
    flushSync();
    expect(sent).toEqual([]);
    expect(el.querySelector("[data-testid=pin-missing]")?.textContent).toBe("Type the PIN first: nothing was sent.");
    const input = el.querySelector("#pin") as HTMLInputElement;
    input.value = "12";
    input.dispatchEvent(new Event("input"));
    (el.querySelector("#ok") as HTMLButtonElement).click();
    flushSync();
    expect(sent).toEqual([]);
    expect(el.querySelector("[data-testid=pin-missing]")?.textContent).toBe("The PIN is at least 4 digits: nothing was sent.");
    input.value = "1357";
    input.dispatchEvent(new Event("input"));
    (el.querySelector("#ok") as HTMLButtonElement).click();
    flushSync();
    expect(sent).toEqual([["1357"]]);
    expect(el.querySelector("[data-testid=pin-missing]")).toBeNull();
  });

  it("asks for every field (current and new PIN)", () => {
    const sent: string[][] = [];
    const el = render({ id: "a", fields: [{ id: "a", label: "Current PIN" }, { id: "b", label: "New PIN" }], confirmId: "ok", onconfirm: (p: string[]) => sent.push(p), oncancel: () => {} });
    const a = el.querySelector("#a") as HTMLInputElement;
    a.value = "1357";
    a.dispatchEvent(new Event("input"));
    (el.querySelector("#ok") as HTMLButtonElement).click();
    flushSync();
    expect(sent).toEqual([]);
    expect(el.querySelector("[data-testid=pin-missing]")?.textContent).toBe("Type the new PIN first: nothing was sent.");
  });
});
