// The live chart's data: a fleet's progress ticks (one a quarter second) turned into
// series, and series into SVG polyline points. Pure functions, so Vitest can check them.
import type { FleetTick } from "./bindings";

/** A named line: [seconds, value] points in time order. */
export type Series = { name: string; points: [number, number][] };

/** Devices finished per second, tick by tick. */
export function throughput(ticks: FleetTick[]): Series {
  return { name: "devices/s", points: ticks.map((t) => [t.seconds, t.devicesPerSecond]) };
}

/** Mean latency per step, tick by tick (a step appears from its first tick on). */
export function latency(ticks: FleetTick[]): Series[] {
  const byStep = new Map<string, [number, number][]>();
  for (const tick of ticks) {
    for (const step of tick.steps) {
      if (step.count === 0) continue;
      let points = byStep.get(step.step);
      if (!points) byStep.set(step.step, (points = []));
      points.push([tick.seconds, step.meanMs]);
    }
  }
  return [...byStep].map(([name, points]) => ({ name, points }));
}

/** A round upper bound for an axis: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceMax(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/** The series' points scaled into a width × height box (y grows downwards). */
export function polyline(points: [number, number][], xMax: number, yMax: number, width: number, height: number): string {
  const x = (v: number) => (xMax > 0 ? (v / xMax) * width : 0);
  const y = (v: number) => height - (yMax > 0 ? (Math.min(v, yMax) / yMax) * height : 0);
  return points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
}

/** The largest value of any point, or 0. */
export function maxValue(series: Series[]): number {
  return series.reduce((m, s) => s.points.reduce((n, [, v]) => Math.max(n, v), m), 0);
}

/** The last tick's time, or 0. */
export function lastSeconds(ticks: FleetTick[]): number {
  return ticks.length ? ticks[ticks.length - 1].seconds : 0;
}
