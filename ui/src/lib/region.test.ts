import { describe, expect, it } from "vitest";
import { initial, keyStep, move, resize, span, toFrame } from "./region";

const size: [number, number] = [960, 540];

describe("region", () => {
  it("spans two corners in any order, clamped to the image", () => {
    expect(span([100, 50], [20, 10], size)).toEqual({ x: 20, y: 10, width: 80, height: 40 });
    expect(span([-30, 500], [2000, 600], size)).toEqual({ x: 0, y: 500, width: 960, height: 40 });
  });

  it("starts in the middle third", () => {
    expect(initial(size)).toEqual({ x: 390, y: 180, width: 180, height: 180 });
  });

  it("moves and resizes inside the image", () => {
    const r = { x: 900, y: 500, width: 50, height: 30 };
    expect(move(r, 100, 100, size)).toEqual({ x: 910, y: 510, width: 50, height: 30 });
    expect(move(r, -1000, 0, size).x).toBe(0);
    expect(resize(r, 100, 100, size)).toEqual({ x: 900, y: 500, width: 60, height: 40 });
    expect(resize(r, -100, -100, size)).toEqual({ x: 900, y: 500, width: 8, height: 8 });
  });

  it("maps preview pixels to frame pixels, covering the selection", () => {
    // A 960-wide preview of a 1920×1080 screen: twice the size.
    expect(toFrame({ x: 10.4, y: 20, width: 100.2, height: 50 }, size, [1920, 1080])).toEqual({ x: 20, y: 40, width: 201, height: 100 });
    // Never past the frame's edge.
    expect(toFrame({ x: 950, y: 530, width: 10, height: 10 }, size, [1920, 1080])).toEqual({ x: 1900, y: 1060, width: 20, height: 20 });
  });

  it("arrows move, Shift+arrows resize, Alt takes 1 px steps, other keys do nothing", () => {
    const r = { x: 100, y: 100, width: 50, height: 50 };
    expect(keyStep(r, "ArrowRight", false, false, size)).toEqual({ ...r, x: 110 });
    expect(keyStep(r, "ArrowUp", false, true, size)).toEqual({ ...r, y: 99 });
    expect(keyStep(r, "ArrowDown", true, false, size)).toEqual({ ...r, height: 60 });
    expect(keyStep(r, "a", false, false, size)).toBeNull();
  });
});
