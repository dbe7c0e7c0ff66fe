// Generated from src-tauri/src/fleet.rs by ts-rs. Do not edit: run
// `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app fleet_bindings` instead.

export type FleetTarget = "fresh" | "appServer";

export type FaultShares = { 
/**
 * Approve with a wrong PIN first.
 */
wrongPin: number, 
/**
 * Send the approval twice.
 */
replay: number, 
/**
 * List operations with the device clock an hour ahead.
 */
clockSkew: number, 
/**
 * Approve with the counter some steps ahead.
 */
staleCounter: number, };

export type FleetRequest = { 
/**
 * Where the devices go.
 */
target: FleetTarget, 
/**
 * How many devices.
 */
devices: number, 
/**
 * How many work at once.
 */
concurrency: number, 
/**
 * Protocol versions, spread over the devices (`3.0` … `3.3`).
 */
versions: Array<string>, 
/**
 * Payment operations per device.
 */
operations: number, 
/**
 * Signed requests per device before its operations.
 */
signatures: number, 
/**
 * The share of operations rejected, 0 to 1.
 */
rejectRatio: number, 
/**
 * The fault mix.
 */
faults: FaultShares, 
/**
 * The application id on the app's server (ignored by a fresh sandbox).
 */
appId: string, 
/**
 * Run the PIN's PBKDF2 for every PIN signature, as the mobile SDK does, instead of
 * keeping each device's knowledge key unlocked in memory (`tokensim fleet
 * --pbkdf2-per-signature`; the same requests on the wire either way).
 */
pbkdf2PerSignature: boolean, };

export type StepTick = { 
/**
 * The step, as the report names it.
 */
step: string, 
/**
 * How many finished (successfully or not).
 */
count: number, 
/**
 * How many of them failed.
 */
failed: number, 
/**
 * Their mean latency, ms.
 */
meanMs: number, 
/**
 * The slowest, ms.
 */
maxMs: number, };

export type FleetTick = { 
/**
 * Which run (the number [`fleet_run`] returns with its report).
 */
run: number, 
/**
 * Seconds since the first device started.
 */
seconds: number, 
/**
 * Devices in the fleet.
 */
devices: number, 
/**
 * Devices done so far.
 */
completed: number, 
/**
 * Devices activated so far.
 */
activated: number, 
/**
 * Devices finished per second within this tick.
 */
devicesPerSecond: number, 
/**
 * Steps finished within this tick.
 */
steps: Array<StepTick>, 
/**
 * Steps failed so far.
 */
failedSteps: number, };

export type FleetInfo = { 
/**
 * The app's server, when there is one.
 */
appServer: string | null, 
/**
 * Whether that server is the app's embedded sandbox.
 */
appServerEmbedded: boolean, 
/**
 * Where reports are saved unless the tester says otherwise.
 */
defaultFolder: string, 
/**
 * Whether a fleet is running now.
 */
running: boolean, 
/**
 * The form's first values: `tokensim fleet`'s defaults ([`FleetRequest::from_plan`]
 * of [`FleetPlan::default`]).
 */
defaults: FleetRequest, };

export type FleetOutcome = { 
/**
 * Which run.
 */
run: number, 
/**
 * Users on the server are `PREFIX-0`, `PREFIX-1`, … (`None` for a fresh sandbox,
 * which is gone once the run ends).
 */
userPrefix: string | null, 
/**
 * The report, as `tokensim fleet --json` prints it.
 */
report: FleetReport, };

export type FleetReport = { 
/**
 * `embedded sandbox` or the server URL.
 */
target: string, 
/**
 * `/rest/v3` or `Cloud API`: how registrations and operations were created.
 */
backend: string, 
/**
 * Devices asked for.
 */
devices: number, 
/**
 * Devices working at once.
 */
concurrency: number, 
/**
 * Protocol versions, spread over the devices.
 */
versions: Array<string>, 
/**
 * Operations per device.
 */
operationsPerDevice: number, 
/**
 * Signed requests per device.
 */
signaturesPerDevice: number, 
/**
 * The share of operations rejected.
 */
rejectRatio: number, 
/**
 * The fault mix as given (`wrong-pin=0.05,…`).
 */
faultMix: string, 
/**
 * Where devices lived (`memory`, `file`, `keychain`).
 */
store: string, 
/**
 * How PIN signatures got the knowledge key: [`KEPT_UNLOCKED`] (the default) or
 * [`PBKDF2_PER_SIGNATURE`] (the mobile SDK's way, `--pbkdf2-per-signature`).
 */
knowledgeKeys: string, 
/**
 * Wall time of the scenario (sandbox start excluded), in seconds.
 */
wallSeconds: number, 
/**
 * Devices activated.
 */
activated: number, 
/**
 * Devices that finished their scenario, successfully or not.
 */
completed: number, 
/**
 * Activated devices per second of wall time.
 */
devicesPerSecond: number, 
/**
 * Approved and rejected operations per second of wall time.
 */
operationsPerSecond: number, 
/**
 * HTTP requests the devices and the backend sent.
 */
requests: number, 
/**
 * HTTP requests per second.
 */
requestsPerSecond: number, 
/**
 * Operations by outcome.
 */
operations: OperationCounts, 
/**
 * Operations by status as the server lists them after the run (`failed` counts any
 * status other than approved or rejected); `None` when not checked.
 */
serverView: OperationCounts | null, 
/**
 * Latency per step.
 */
steps: Array<StepLatency>, 
/**
 * Errors by kind.
 */
errors: Array<ErrorCount>, 
/**
 * Whether each injected fault got the answer the protocol requires.
 */
faults: Array<FaultVerdict>, 
/**
 * Devices completed over time.
 */
timeline: Array<TimelinePoint>, 
/**
 * The run was stopped before every device finished (see [`crate::Cancel`]); absent
 * from the JSON of a run that was not.
 */
cancelled?: boolean, };

export type OperationCounts = { 
/**
 * Created on the server.
 */
created: number, 
/**
 * Approved by a device (server answered OK).
 */
approved: number, 
/**
 * Rejected by a device (server answered OK).
 */
rejected: number, 
/**
 * Neither: an error stopped the device.
 */
failed: number, };

export type StepLatency = { 
/**
 * The step.
 */
step: string, 
/**
 * How many times it ran.
 */
count: number, 
/**
 * Mean, ms.
 */
meanMs: number, 
/**
 * Median, ms.
 */
p50Ms: number, 
/**
 * 95th percentile, ms.
 */
p95Ms: number, 
/**
 * 99th percentile, ms.
 */
p99Ms: number, 
/**
 * Slowest, ms.
 */
maxMs: number, 
/**
 * Time spent in the step summed over devices, s (where the time goes).
 */
totalSeconds: number, };

export type ErrorCount = { 
/**
 * The kind, e.g. `HTTP 401 ERR_AUTHENTICATION/…` or `network`.
 */
kind: string, 
/**
 * How many.
 */
count: number, 
/**
 * The first message of this kind.
 */
example: string, };

export type FaultVerdict = { 
/**
 * The fault (`wrong-pin`, …).
 */
fault: string, 
/**
 * Operations that got it.
 */
injected: number, 
/**
 * Answers that were what the protocol requires.
 */
matched: number, 
/**
 * Answers that were not.
 */
mismatched: number, 
/**
 * What the protocol requires (for the first one judged).
 */
required: string, 
/**
 * A few mismatches, in words.
 */
mismatchExamples: Array<string>, };

export type TimelinePoint = { 
/**
 * Seconds since the start.
 */
seconds: number, 
/**
 * Devices completed by then.
 */
completed: number, };
