import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import RegionSelect from "./RegionSelect.svelte";
import type { Region } from "./bindings";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function render(onselect: (r: Region) => void, oncancel = () => {}) {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(RegionSelect, {
    target,
    props: { preview: "data:image/png;base64,", size: [960, 540], frameSize: [1920, 1080], onselect, oncancel },
  });
  flushSync();
  return target;
}

function key(el: Element, key: string, extra: KeyboardEventInit = {}) {
  el.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...extra }));
  flushSync();
}

describe("RegionSelect", () => {
  it("is keyboard accessible: focusable, arrows move, Shift+arrows resize, Enter selects in frame pixels", () => {
    let selected: Region | null = null;
    const el = render((r) => (selected = r));
    const surface = el.querySelector("[data-testid=region-surface]") as HTMLElement;
    expect(surface.tabIndex).toBe(0);
    expect(surface.getAttribute("aria-describedby")).toBe("region-help");
    // Starts at the middle third: 180×180 at 390,180 in the preview.
    expect(el.querySelector("[data-testid=region-size]")?.textContent).toBe("360×360 at 780,360");
    key(surface, "ArrowRight");
    key(surface, "ArrowDown", { shiftKey: true });
    expect(el.querySelector("[data-testid=region-size]")?.textContent).toBe("360×380 at 800,360");
    key(surface, "Enter");
    expect(selected).toEqual({ x: 800, y: 360, width: 360, height: 380 });
  });

  it("a drag draws the rectangle", () => {
    let selected: Region | null = null;
    const el = render((r) => (selected = r));
    const surface = el.querySelector("[data-testid=region-surface]") as HTMLElement;
    // jsdom lays nothing out: give the surface the preview's size on screen.
    surface.getBoundingClientRect = () => ({ left: 0, top: 0, width: 960, height: 540, right: 960, bottom: 540, x: 0, y: 0, toJSON() {} });
    const pointer = (type: string, x: number, y: number) => {
      const event = new MouseEvent(type, { clientX: x, clientY: y, bubbles: true });
      Object.defineProperty(event, "pointerId", { value: 1 });
      surface.dispatchEvent(event);
      flushSync();
    };
    pointer("pointerdown", 600, 100);
    pointer("pointermove", 700, 200);
    pointer("pointerup", 800, 300);
    (el.querySelector("#region-confirm") as HTMLButtonElement).click();
    expect(selected).toEqual({ x: 1200, y: 200, width: 400, height: 400 });
  });

  it("a click without a drag keeps the selection (and focuses the surface)", () => {
    let selected: Region | null = null;
    const el = render((r) => (selected = r));
    const surface = el.querySelector("[data-testid=region-surface]") as HTMLElement;
    surface.getBoundingClientRect = () => ({ left: 0, top: 0, width: 960, height: 540, right: 960, bottom: 540, x: 0, y: 0, toJSON() {} });
    for (const type of ["pointerdown", "pointerup"]) {
      const event = new MouseEvent(type, { clientX: 480, clientY: 270, bubbles: true });
      Object.defineProperty(event, "pointerId", { value: 1 });
      surface.dispatchEvent(event);
      flushSync();
    }
    expect(document.activeElement).toBe(surface);
    key(surface, "Enter");
    expect(selected).toEqual({ x: 780, y: 360, width: 360, height: 360 });
  });

  it("Escape and Cancel cancel", () => {
    let cancelled = 0;
    const el = render(() => {}, () => cancelled++);
    key(el.querySelector("[data-testid=region-surface]")!, "Escape");
    (el.querySelector("#region-cancel") as HTMLButtonElement).click();
    expect(cancelled).toBe(2);
  });

  it("the keyboard never shrinks the selection below 8 preview pixels", () => {
    let selected: Region | null = null;
    const el = render((r) => (selected = r));
    const surface = el.querySelector("[data-testid=region-surface]") as HTMLElement;
    for (let i = 0; i < 30; i++) key(surface, "ArrowLeft", { shiftKey: true });
    expect(el.querySelector("[data-testid=region-size]")?.textContent).toBe("16×360 at 780,360");
    key(surface, "Enter");
    expect(selected).toEqual({ x: 780, y: 360, width: 16, height: 360 });
  });
});
