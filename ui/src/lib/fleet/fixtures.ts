// Test data shaped like what the fleet commands send (see src-tauri/src/fleet.rs).
import type { FleetReport, FleetTick } from "./bindings";

export function tick(seconds: number, completed: number, devicesPerSecond: number, steps: [string, number, number][]): FleetTick {
  return {
    run: 1,
    seconds,
    devices: 10,
    completed,
    activated: completed,
    devicesPerSecond,
    steps: steps.map(([step, count, meanMs]) => ({ step, count, failed: 0, meanMs, maxMs: meanMs * 2 })),
    failedSteps: 0,
  };
}

export function report(overrides: Partial<FleetReport> = {}): FleetReport {
  return {
    target: "embedded sandbox",
    backend: "/rest/v3",
    devices: 10,
    concurrency: 4,
    versions: ["3.3"],
    operationsPerDevice: 2,
    signaturesPerDevice: 1,
    rejectRatio: 0.2,
    faultMix: "wrong-pin=0.1",
    store: "memory",
    knowledgeKeys: "PBKDF2 per PIN signature",
    wallSeconds: 1.25,
    activated: 10,
    completed: 10,
    devicesPerSecond: 8,
    operationsPerSecond: 16,
    requests: 120,
    requestsPerSecond: 96,
    operations: { created: 20, approved: 16, rejected: 4, failed: 0 },
    serverView: { created: 20, approved: 16, rejected: 4, failed: 0 },
    steps: [
      { step: "activation", count: 10, meanMs: 40.5, p50Ms: 39, p95Ms: 60, p99Ms: 61, maxMs: 61, totalSeconds: 0.405 },
      { step: "approve", count: 14, meanMs: 20.25, p50Ms: 19, p95Ms: 30, p99Ms: 31, maxMs: 31, totalSeconds: 0.28 },
    ],
    errors: [],
    faults: [{ fault: "wrong-pin", injected: 2, matched: 2, mismatched: 0, required: "HTTP 401", mismatchExamples: [] }],
    timeline: [],
    ...overrides,
  };
}
