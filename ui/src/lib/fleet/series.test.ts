import { describe, expect, it } from "vitest";
import { latency, maxValue, niceMax, polyline, throughput } from "./series";
import { tick } from "./fixtures";

describe("series", () => {
  const ticks = [
    tick(0.25, 1, 4, [["activation", 2, 40]]),
    tick(0.5, 3, 8, [["activation", 1, 50], ["approve", 2, 20]]),
    tick(0.75, 3, 0, []),
  ];

  it("throughput has one point per tick", () => {
    expect(throughput(ticks).points).toEqual([[0.25, 4], [0.5, 8], [0.75, 0]]);
  });

  it("latency has a line per step, from the step's first tick", () => {
    expect(latency(ticks)).toEqual([
      { name: "activation", points: [[0.25, 40], [0.5, 50]] },
      { name: "approve", points: [[0.5, 20]] },
    ]);
    expect(maxValue(latency(ticks))).toBe(50);
  });

  it("axis bounds are round and never below the value", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(50)).toBe(50);
    expect(niceMax(51)).toBe(100);
    expect(niceMax(0.12)).toBe(0.2);
    expect(niceMax(Number.NaN)).toBe(1);
  });

  it("points scale into the box with y downwards, clamped at the top", () => {
    expect(polyline([[0, 0], [5, 10], [10, 40]], 10, 20, 100, 50)).toBe("0.0,50.0 50.0,25.0 100.0,0.0");
  });
});
