// A rectangle the user selects on a screenshot, in preview pixels, and its mapping back to
// the captured frame's pixels (what the scanner crops).
import type { Region } from "./bindings";

export type Rect = { x: number; y: number; width: number; height: number };

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** The rectangle spanned by two corners, clamped to a `size` image. */
export function span(a: [number, number], b: [number, number], size: [number, number]): Rect {
  const [ax, ay] = [clamp(a[0], 0, size[0]), clamp(a[1], 0, size[1])];
  const [bx, by] = [clamp(b[0], 0, size[0]), clamp(b[1], 0, size[1])];
  return { x: Math.min(ax, bx), y: Math.min(ay, by), width: Math.abs(bx - ax), height: Math.abs(by - ay) };
}

/** A first selection: the middle third of the image. */
export function initial(size: [number, number]): Rect {
  const side = Math.round(Math.min(size[0], size[1]) / 3);
  return { x: Math.round((size[0] - side) / 2), y: Math.round((size[1] - side) / 2), width: side, height: side };
}

/** Moves `rect` by (dx, dy), keeping it inside the image. */
export function move(rect: Rect, dx: number, dy: number, size: [number, number]): Rect {
  return {
    ...rect,
    x: clamp(rect.x + dx, 0, Math.max(0, size[0] - rect.width)),
    y: clamp(rect.y + dy, 0, Math.max(0, size[1] - rect.height)),
  };
}

/** Grows (or shrinks) `rect` by (dw, dh) from its top-left corner, at least 8 px, inside the image. */
export function resize(rect: Rect, dw: number, dh: number, size: [number, number]): Rect {
  return {
    ...rect,
    width: clamp(rect.width + dw, 8, size[0] - rect.x),
    height: clamp(rect.height + dh, 8, size[1] - rect.y),
  };
}

/** The preview rectangle in the frame's pixels. */
export function toFrame(rect: Rect, size: [number, number], frameSize: [number, number]): Region {
  const sx = frameSize[0] / Math.max(1, size[0]);
  const sy = frameSize[1] / Math.max(1, size[1]);
  const x = clamp(Math.floor(rect.x * sx), 0, frameSize[0]);
  const y = clamp(Math.floor(rect.y * sy), 0, frameSize[1]);
  return {
    x,
    y,
    width: clamp(Math.ceil(rect.width * sx), 0, frameSize[0] - x),
    height: clamp(Math.ceil(rect.height * sy), 0, frameSize[1] - y),
  };
}

/** What a key does to the selection: arrows move it, Shift+arrows resize it (Alt: 1 px steps). */
export function keyStep(rect: Rect, key: string, shift: boolean, fine: boolean, size: [number, number]): Rect | null {
  const step = fine ? 1 : 10;
  const delta: Record<string, [number, number]> = {
    ArrowLeft: [-step, 0],
    ArrowRight: [step, 0],
    ArrowUp: [0, -step],
    ArrowDown: [0, step],
  };
  const d = delta[key];
  if (!d) return null;
  return shift ? resize(rect, d[0], d[1], size) : move(rect, d[0], d[1], size);
}
