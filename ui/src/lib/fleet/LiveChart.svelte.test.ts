import { afterEach, describe, expect, it } from "vitest";
import { flushSync, mount, unmount } from "svelte";
import LiveChart from "./LiveChart.svelte";
import type { FleetTick } from "./bindings";
import { tick } from "./fixtures";

let mounted: Record<string, unknown> | null = null;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = null;
  document.body.innerHTML = "";
});

function render(ticks: FleetTick[]) {
  const target = document.createElement("div");
  document.body.appendChild(target);
  const props = $state({ ticks });
  mounted = mount(LiveChart, { target, props });
  flushSync();
  return { target, props };
}

describe("LiveChart", () => {
  it("draws nothing but axes before the first tick", () => {
    const { target } = render([]);
    expect(target.querySelectorAll("polyline")).toHaveLength(0);
    expect(target.querySelectorAll("svg")).toHaveLength(2);
  });

  it("draws throughput and one latency line per step, with a legend", () => {
    const { target } = render([tick(0.25, 1, 4, [["activation", 2, 40]]), tick(0.5, 3, 8, [["activation", 1, 50], ["approve", 2, 20]])]);
    const lines = [...target.querySelectorAll("polyline")].map((p) => p.getAttribute("data-series"));
    expect(lines).toEqual(["devices/s", "activation", "approve"]);
    expect(target.querySelector(".legend")?.textContent).toContain("approve");
    // The throughput peak (8) sits on the top of a 10 devices/s axis.
    expect(target.querySelector(".throughput text")?.textContent).toBe("10");
  });

  it("updates as ticks arrive", () => {
    const { target, props } = render([tick(0.25, 1, 4, [])]);
    const before = target.querySelector(".throughput polyline")?.getAttribute("points");
    props.ticks = [...props.ticks, tick(0.5, 2, 4, [["status", 1, 5]])];
    flushSync();
    const after = target.querySelector(".throughput polyline")?.getAttribute("points");
    expect(after).not.toBe(before);
    expect(after?.split(" ")).toHaveLength(2);
    expect(target.querySelector("[data-testid=fleet-chart]")?.getAttribute("data-ticks")).toBe("2");
    expect(target.querySelectorAll(".latency polyline")).toHaveLength(1);
  });
});
