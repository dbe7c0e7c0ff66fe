import { afterEach, describe, expect, it, vi } from "vitest";
import { flushSync, mount, tick, unmount } from "svelte";

// The commands answer as src-tauri/src/devtools.rs does; the test checks what a tester sees.
const answers: Record<string, unknown> = {};
const calls: [string, unknown][] = [];
vi.mock("@tauri-apps/api/core", () => ({
  invoke: async (command: string, args: unknown) => {
    calls.push([command, args]);
    const answer = answers[command];
    if (answer instanceof Error) throw { code: "SNAPSHOT_NOT_FOUND", message: answer.message };
    return answer;
  },
}));

import ServerDoctor from "./ServerDoctor.svelte";
import DeviceTimeline from "./DeviceTimeline.svelte";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
  calls.length = 0;
});

function render(component: never, props: Record<string, unknown>): HTMLElement {
  const target = document.createElement("div");
  document.body.appendChild(target);
  mounted = mount(component, { target, props: props as never });
  flushSync();
  return target;
}

async function settle() {
  for (let i = 0; i < 5; i++) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  flushSync();
}

describe("ServerDoctor", () => {
  it("lists every check with what to do for those not ok", async () => {
    answers.doctor_server = {
      server: "http://127.0.0.1:8780",
      overall: "fail",
      acceptedVersions: ["3.1"],
      clockOffsetMs: null,
      checks: [
        { id: "reach", title: "Reach the server", verdict: "ok", message: "answers", hint: "nothing", details: [] },
        {
          id: "tls",
          title: "TLS certificate",
          verdict: "warn",
          message: "trusted and for bank.example, but the certificate expires on 2026-12-17 (10 day(s) left)",
          hint: "renew the certificate before it expires",
          details: ["server: CN=bank.example — issued by CN=Bank CA; valid 2025-12-01 to 2026-12-17 (10 day(s) left)", "chain: CN=Bank CA — issued by CN=Bank CA"],
        },
        { id: "mobile-token-api", title: "Mobile-token API (/api)", verdict: "fail", message: "does not exist here", hint: "point at the enrollment server", details: [] },
      ],
    };
    const el = render(ServerDoctor as never, {});
    (el.querySelector("#doctor-url") as HTMLInputElement).value = "http://127.0.0.1:8780";
    el.querySelector("#doctor-url")!.dispatchEvent(new Event("input"));
    (el.querySelector("#doctor-run") as HTMLButtonElement).click();
    await settle();
    expect(calls.at(-1)).toEqual(["doctor_server", { url: "http://127.0.0.1:8780", mobileSdkConfig: null }]);
    expect(el.querySelector("#doctor-overall")?.textContent).toContain("cannot work");
    const failed = el.querySelector('[data-check="mobile-token-api"]')!;
    expect(failed.className).toContain("verdict-fail");
    expect(failed.textContent).toContain("What to do: point at the enrollment server");
    expect(el.querySelector('[data-check="reach"]')!.textContent).not.toContain("What to do");
    // The certificate chain, a line per certificate, under the TLS check.
    const chain = [...el.querySelectorAll('[data-check="tls"] .details li')].map((li) => li.textContent);
    expect(chain).toHaveLength(2);
    expect(chain[0]).toContain("issued by CN=Bank CA");
  });
});

describe("DeviceTimeline", () => {
  it("shows the timeline, the server's reaction to a restore and a redacted diff", async () => {
    answers.snapshot_list = [
      { name: "fresh", savedAtMs: 1_796_649_615_000, counter: 1, state: "ACTIVE", tokens: [], biometry: false },
    ];
    answers.snapshot_restore = {
      snapshot: "fresh",
      reaction: "resync",
      answered: "status ACTIVE with 0 of 5 failed attempts (device counter adopted the server's (3 steps))",
      required: "the server's counter was 3 steps ahead",
      hint: "nothing: the device signs again",
    };
    answers.snapshot_diff = [
      { field: "activation.counter", before: "1", after: "4", secret: false, note: "changed" },
      { field: "secrets.activation.ctrData", before: null, after: null, secret: true, note: "moved 3 steps forward" },
    ];
    const el = render(DeviceTimeline as never, { deviceId: "phone", onchanged: () => {} });
    await settle();
    expect(el.querySelector("#snapshot-timeline")?.textContent).toContain("fresh");
    (el.querySelector('[data-testid="snapshot-restore"]') as HTMLButtonElement).click();
    await settle();
    const report = el.querySelector("#restore-report")!;
    expect(report.className).toContain("reaction-resync");
    expect(report.textContent).toContain("adopted the server's (3 steps)");
    (Array.from(el.querySelectorAll("button")).find((b) => b.textContent === "Diff with now") as HTMLButtonElement).click();
    await settle();
    const diff = el.querySelector("#snapshot-diff")!.textContent!;
    expect(diff).toContain("activation.counter");
    expect(diff).toContain("<redacted> moved 3 steps forward");
  });
});
