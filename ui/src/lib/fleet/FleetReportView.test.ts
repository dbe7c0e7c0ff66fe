import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import FleetReportView from "./FleetReportView.svelte";
import type { FleetReport } from "./bindings";
import { report } from "./fixtures";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function render(value: FleetReport): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(FleetReportView, { target, props: { report: value } });
  flushSync();
  return target;
}

// A row's cells joined by single spaces (or an element's text).
function text(el: HTMLElement, css: string): string | undefined {
  const found = el.querySelector(css);
  if (!found) return undefined;
  const cells = [...found.querySelectorAll("th, td")];
  const parts = cells.length ? cells.map((c) => c.textContent ?? "") : [found.textContent ?? ""];
  return parts.map((p) => p.replace(/\s+/g, " ").trim()).filter((p) => p).join(" ");
}

describe("FleetReportView", () => {
  it("shows the numbers tokensim fleet prints", () => {
    const el = render(report());
    expect(text(el, "[data-testid=fleet-wall]")).toBe("1.25 s");
    expect(text(el, "[data-testid=fleet-activated]")).toBe("10 of 10");
    expect(text(el, "[data-testid=fleet-ops]")).toBe("fleet 20 16 4 0");
    expect(text(el, "[data-testid=fleet-server-ops]")).toBe("server 20 16 4 0");
    expect(text(el, "[data-step=approve]")).toBe("approve 14 20.25 19.00 30.00 31.00 31.00");
    expect(text(el, "[data-fault=wrong-pin]")).toBe("wrong-pin 2 2 0 HTTP 401");
    expect(text(el, "[data-testid=fleet-no-errors]")).toBe("No errors.");
    expect(text(el, "[data-testid=fleet-knowledge-keys]")).toBe("PBKDF2 per PIN signature");
  });

  it("says when the server agrees and when it does not", () => {
    expect(text(render(report()), "[data-testid=fleet-agreement]")).toMatch(/agrees/);
    unmount(mounted!);
    const el = render(report({ serverView: { created: 20, approved: 15, rejected: 4, failed: 1 } }));
    const verdict = el.querySelector("[data-testid=fleet-agreement]")!;
    expect(verdict.textContent).toMatch(/DISAGREES/);
    expect(verdict.classList.contains("bad")).toBe(true);
  });

  it("lists errors by kind and fault mismatches", () => {
    const el = render(
      report({
        errors: [{ kind: "approve: HTTP 401 ERR_AUTHENTICATION/x", count: 3, example: "refused" }],
        faults: [{ fault: "replay", injected: 2, matched: 1, mismatched: 1, required: "HTTP 400", mismatchExamples: ["required HTTP 400; answered 200"] }],
      }),
    );
    expect(text(el, "[data-testid=fleet-errors] tbody tr")).toBe("approve: HTTP 401 ERR_AUTHENTICATION/x 3 refused");
    expect(el.querySelector("[data-fault=replay] td.bad")?.textContent).toBe("1");
    expect(text(el, ".example")).toBe("required HTTP 400; answered 200");
  });

  it("marks a cancelled run and asks no agreement of it", () => {
    const el = render(report({ cancelled: true, completed: 4, serverView: null }));
    expect(text(el, "[data-testid=fleet-cancelled]")).toBe("Cancelled after 4 of 10 devices.");
    expect(el.querySelector("[data-testid=fleet-agreement]")).toBeNull();
  });
});
