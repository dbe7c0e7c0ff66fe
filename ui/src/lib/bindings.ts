// Generated from src-tauri/src/types.rs by ts-rs. Do not edit: run
// `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app bindings` instead.

/** An operation's form data as the mobile API sends it (rendered by OperationCard). */
export type FormData = { title?: string; message?: string; attributes?: Array<Record<string, unknown>> };

export type ErrorKind = "error" | "usage" | "io" | "runtime" | "activation-code" | "activation-signature" | "config" | "network" | "timeout" | "response-dropped" | "response-too-large" | "server-error" | "rejected" | "invalid-response" | "not-active" | "counter-deadlock" | "biometry" | "factor-not-allowed" | "unknown-token" | "vault" | "offline-qr" | "qr-image" | "store" | "fault-not-applicable" | "keychain-unavailable" | "keychain" | "passphrase-needed" | "passphrase-mismatch" | "wrong-passphrase" | "store-damaged" | "store-mismatch" | "not-activated" | "no-device" | "device-not-found" | "ambiguous-device" | "device-exists" | "no-pin" | "no-passphrase" | "no-password" | "bad-path" | "sign-needs-activation-scope" | "signature-invalid" | "diagnose" | "sandbox" | "fleet" | "no-server" | "cloud" | "scan" | "busy" | "wrong-pin" | "cmdtool-file" | "cmdtool-keys" | "snapshot-name" | "snapshot-exists" | "snapshot-not-found";

export type AppError = { 
/**
 * A stable code the UI may branch on, e.g. `AUTHENTICATION`, `NO_CAMERA`.
 */
code: string, 
/**
 * The kind of failure, the same the CLI's `--json` prints (`tokensim-api`'s kinds);
 * the backend always sets it, errors the window makes itself may not.
 */
kind?: ErrorKind, 
/**
 * The explanation, in words for a tester.
 */
message: string, 
/**
 * What to do about it, when there is something to say (the activation doctor's hint).
 */
hint?: string, };

export type ServerInfo = { 
/**
 * The server's base URL.
 */
url: string, 
/**
 * Whether it is the sandbox started inside the app.
 */
embedded: boolean, 
/**
 * The web console (sandbox only).
 */
consoleUrl: string, 
/**
 * The Cloud API user the sandbox panel uses (`integration`).
 */
cloudUser: string, 
/**
 * Its password: a throwaway credential of a local test server, shown so a tester can
 * log in to the console or script the Cloud API.
 */
cloudPassword: string, };

export type AppInfo = { 
/**
 * The server, once it is up.
 */
server: ServerInfo | null, 
/**
 * Why there is no server, if there is none.
 */
serverError: string | null, 
/**
 * Where device secrets are kept: `keychain`, `encrypted-file` or `memory`.
 */
store: string, 
/**
 * A warning about the store (e.g. no keychain: devices last until the app quits).
 */
storeWarning: string | null, 
/**
 * The scanner's frame sources and whether each one works here.
 */
sources: Array<SourceInfo>, 
/**
 * Seconds between polls for new operations.
 */
pollSeconds: number, };

export type SourceKind = "camera" | "screen" | "folder";

export type SourceInfo = { 
/**
 * Which source.
 */
kind: SourceKind, 
/**
 * Whether it can deliver frames.
 */
available: boolean, 
/**
 * Why not, or what it reads.
 */
detail: string, };

export type ScanResult = { 
/**
 * The decoded text, if a code was found.
 */
text: string | null, 
/**
 * `activation`, `offline` or `other`.
 */
kind: string, 
/**
 * The frame as a JPEG data URL (downscaled), for the live preview.
 */
preview: string | null, 
/**
 * The code's corners in preview coordinates, for the box around it.
 */
corners: Array<[number, number]>, 
/**
 * Preview width and height.
 */
size: [number, number], 
/**
 * The scanned image's width and height (the frame, or the selected region of it).
 */
frameSize: [number, number], 
/**
 * Why nothing was found (no code in the frame, source error).
 */
note: string | null, };

export type Pasted = { 
/**
 * The picture, scanned.
 */
image: ScanResult | null, 
/**
 * The text.
 */
text: string | null, };

export type DeviceSummary = { 
/**
 * Store id.
 */
id: string, 
/**
 * The name the tester chose.
 */
name: string, 
/**
 * Server URL.
 */
serverUrl: string, 
/**
 * `3.0` … `3.3`.
 */
version: string, 
/**
 * Last known state (`ACTIVE`, `BLOCKED`, …) or `PENDING` before activation.
 */
state: string, 
/**
 * Pending operations seen at the last poll.
 */
pending: number, 
/**
 * The armed fault, if any: its catalogue name (`FAULTS`).
 */
fault: string | null, };

export type DeviceDetail = { 
/**
 * The list entry.
 */
summary: DeviceSummary, 
/**
 * `ACTIVATION_ID`.
 */
activationId: string, 
/**
 * The 8-digit fingerprint.
 */
fingerprint: string, 
/**
 * Failed PIN attempts and the limit.
 */
failedAttempts: number, 
/**
 * Attempts allowed.
 */
maxFailedAttempts: number, 
/**
 * Counter reconciliation in words.
 */
counter: string, 
/**
 * Token names held.
 */
tokens: Array<string>, 
/**
 * Whether a biometry key is enrolled.
 */
biometry: boolean, 
/**
 * Whether the server issued a recovery code.
 */
recovery: boolean, 
/**
 * The status call's error, when the server could not be asked.
 */
statusError: string | null, };

export type ActivateRequest = { 
/**
 * Device name.
 */
name: string, 
/**
 * `CODE#SIGNATURE` or a bare code.
 */
code: string, 
/**
 * The new PIN (goes in, never comes back).
 */
pin: string, 
/**
 * `3.0` … `3.3`.
 */
version: string, 
/**
 * Enrol simulated biometry at activation.
 */
biometry: boolean, 
/**
 * Activation OTP, when the registration asks for one.
 */
otp: string | null, };

export type Step = { 
/**
 * What was done.
 */
title: string, 
/**
 * Why, or what came back.
 */
detail: string, 
/**
 * `done` or `failed`.
 */
outcome: string, };

export type ActivationReport = { 
/**
 * The steps, in order.
 */
steps: Array<Step>, 
/**
 * The new device, when it worked.
 */
device: DeviceSummary | null, 
/**
 * The fingerprint to compare with the server's.
 */
fingerprint: string | null, 
/**
 * Why it failed.
 */
error: AppError | null, };

export type OperationView = { 
/**
 * Operation id.
 */
id: string, 
/**
 * Operation type, e.g. `authorize_payment`.
 */
name: string, 
/**
 * The signed data string.
 */
data: string, 
/**
 * `PENDING`, `APPROVED`, …
 */
status: string | null, 
/**
 * `1FA`, `2FA`, `ECDSA`.
 */
signatureKind: string, 
/**
 * Allowed 2FA variants.
 */
variants: Array<string>, 
/**
 * Title, message and attributes, as the server sent them.
 */
formData: FormData | null, 
/**
 * When it was created, if the server said.
 */
created: string | null, 
/**
 * When it expires, if the server said.
 */
expires: string | null, 
/**
 * Why its status changed (`statusReason`, e.g. a reject reason).
 */
statusReason: string | null, 
/**
 * The screens around the approval (`ui`: `preApprovalScreen`, `postApprovalScreen`,
 * `flipButtons`, `blockApprovalOnCall`), as the server sent them.
 */
ui: Record<string, unknown> | null, };

export type Approval = { "kind": "pin", 
/**
 * The PIN.
 */
pin: string, } | { "kind": "biometry" } | { "kind": "possession" };

export type ProximityInput = { 
/**
 * The OTP.
 */
otp: string, 
/**
 * `QR_CODE` or `DEEPLINK` (a typed OTP is sent as `QR_CODE`, as the SDK offers no other).
 */
kind: string, 
/**
 * When the app received it (ISO-8601).
 */
timestampReceived: string, };

export type ProximityRead = { 
/**
 * The operation it is for.
 */
operationId: string, 
/**
 * The OTP, when the code carries one.
 */
otp: string | null, };

export type OperationArrived = { 
/**
 * The device it is for.
 */
deviceId: string, 
/**
 * That device's name.
 */
deviceName: string, 
/**
 * The operation.
 */
operationId: string, 
/**
 * The notification's text, e.g. "Payment 1,250.00 EUR".
 */
title: string, };

export type InboxMessageView = { 
/**
 * Message id.
 */
id: string, 
/**
 * `text` or `html`.
 */
kind: string, 
/**
 * Subject.
 */
subject: string, 
/**
 * Summary.
 */
summary: string, 
/**
 * Whether it was read.
 */
read: boolean, 
/**
 * When it was created (ISO-8601).
 */
created: string | null, 
/**
 * The body (after opening it).
 */
body: string | null, };

export type FaultParameter = { 
/**
 * What it counts: `ms` or `steps`.
 */
unit: string, 
/**
 * The value when none is given.
 */
default: number, 
/**
 * Whether it may be negative (a clock behind instead of ahead).
 */
signed: boolean, };

export type FaultSpec = { 
/**
 * The name `--fault` and the app take, e.g. `wrong-pin`.
 */
name: string, 
/**
 * A short label for a menu, e.g. `Wrong PIN`.
 */
label: string, 
/**
 * Other names accepted for it.
 */
aliases: Array<string>, 
/**
 * Its parameter, if it takes one.
 */
parameter: FaultParameter | null, 
/**
 * Whether only a call that carries the PIN can have it.
 */
needsPin: boolean, 
/**
 * The profiles whose calls it applies to: `powerauth`, or a device profile's name
 * (`crate::profiles::PROFILES`: `jwt`, `api-key`…).
 */
profiles: Array<string>, 
/**
 * What it does, in a tester's words.
 */
description: string, };

export type ExchangeView = { 
/**
 * Sequence number.
 */
seq: number, 
/**
 * What the engine was doing.
 */
label: string, 
/**
 * Method.
 */
method: string, 
/**
 * URL.
 */
url: string, 
/**
 * HTTP status.
 */
status: number | null, 
/**
 * Milliseconds.
 */
elapsedMs: number, 
/**
 * Request headers.
 */
requestHeaders: Array<[string, string]>, 
/**
 * Request body.
 */
requestBody: string, 
/**
 * Plaintext before ECIES.
 */
requestPlaintext: string | null, 
/**
 * Response body.
 */
responseBody: string, 
/**
 * Decrypted response.
 */
responsePlaintext: string | null, 
/**
 * Transport error.
 */
error: string | null, 
/**
 * Fault applied.
 */
fault: string | null, 
/**
 * The device that made it, when known.
 */
device: string | null, 
/**
 * When it was sent (milliseconds since the Unix epoch).
 */
atMs: number | null, };

export type Registration = { 
/**
 * Activation id.
 */
activationId: string, 
/**
 * The user.
 */
userId: string, 
/**
 * `CODE#SIGNATURE`.
 */
qrText: string, 
/**
 * The QR code as a PNG data URL.
 */
qrPng: string, };

export type SignedData = { 
/**
 * `X-PowerAuth-Authorization`.
 */
headerName: string, 
/**
 * Its value (a one-time signature: useless once the counter moved on).
 */
headerValue: string, };

export type PendingCounts = { 
/**
 * Device id → pending operations.
 */
devices: Array<[string, number]>, 
/**
 * The total.
 */
total: number, };

export type OfflinePreview = { 
/**
 * The operation, rendered like an online one (title, message, attributes from the
 * operation data string).
 */
operation: OperationView, 
/**
 * Whether the QR lets simulated biometry sign it instead of the PIN.
 */
biometryAllowed: boolean, 
/**
 * `personalized` (for one activation) or `non-personalized`.
 */
kind: string, };

export type OfflineSigned = { 
/**
 * Operation id from the QR.
 */
operationId: string, 
/**
 * As the backend expects it (`NNNNNNNN-NNNNNNNN`).
 */
signature: string, 
/**
 * Grouped by four for retyping.
 */
display: string, };

export type Region = { 
/**
 * Left edge.
 */
x: number, 
/**
 * Top edge.
 */
y: number, 
/**
 * Width.
 */
width: number, 
/**
 * Height.
 */
height: number, };

/** Every fault the engine can inject, with its default parameter (tokensim-device's catalogue). */
export const FAULTS: FaultSpec[] = [{"name":"wrong-pin","label":"Wrong PIN","aliases":[],"parameter":null,"needsPin":true,"profiles":["powerauth"],"description":"Sign the knowledge factor with a key unlocked from a wrong PIN: the server must refuse and count a failed attempt."},{"name":"replay","label":"Replay the signature","aliases":["replay-signature"],"parameter":null,"needsPin":false,"profiles":["powerauth","jwt","api-key","signed-token","facemap","oauth"],"description":"Send a signed request, then the identical bytes and header again: the replay must be refused (facemap: the capture of a transaction it has just finished, sent again; oauth: a spent device code, or the revoked refresh token, presented again: the server must answer invalid_grant)."},{"name":"clock-skew","label":"Clock ahead","aliases":[],"parameter":{"unit":"ms","default":600000,"signed":true},"needsPin":false,"profiles":["powerauth","jwt","api-key","signed-token","facemap","oauth"],"description":"Shift the device clock (token, ECIES and face capture timestamps) by this many ms; negative: behind (oauth: the device judges its token's expiry by the shifted clock, the server by its own)."},{"name":"stale-counter","label":"Counter ahead","aliases":[],"parameter":{"unit":"steps","default":25,"signed":false},"needsPin":false,"profiles":["powerauth"],"description":"Sign with a counter this many steps ahead: accepted within the server's look-ahead window, refused beyond it."},{"name":"corrupted-mac","label":"Corrupt the ECIES MAC","aliases":["corrupt-mac"],"parameter":null,"needsPin":false,"profiles":["powerauth"],"description":"Flip a bit of the ECIES request MAC: the server must refuse before decrypting."},{"name":"dropped-response","label":"Drop the response","aliases":["drop-response"],"parameter":null,"needsPin":false,"profiles":["powerauth"],"description":"Send the request, then discard the response: the device stays usable and the counters in sync."},{"name":"slow-network","label":"Slow network","aliases":[],"parameter":{"unit":"ms","default":1500,"signed":false},"needsPin":false,"profiles":["powerauth","jwt","api-key","signed-token"],"description":"Delay the request by this many ms (a timeout when it exceeds the client's). Not on oauth: its requests go through the oauth2 crate's own HTTP client, which this fault does not reach."},{"name":"expired-token","label":"Expired token","aliases":["expired-jwt"],"parameter":null,"needsPin":false,"profiles":["jwt","signed-token","facemap","oauth"],"description":"Get a token that is already past its expiry and send it without refreshing: the server must refuse it as expired (facemap: capture an expired transaction, superseded by a newer one when still open; oauth: the stored access token is sent without the device's expiry check; past its expiry on the sandbox's clock the API answers 401 invalid_token, then the device refreshes once)."},{"name":"wrong-secret","label":"Wrong secret","aliases":["wrong-key"],"parameter":null,"needsPin":false,"profiles":["jwt","api-key","signed-token","facemap","oauth"],"description":"Authenticate with a secret that is not the project's (a token signed with another key, a wrong API key, a wrong API secret in Basic auth, a wrong OAuth client secret): the server must refuse."},{"name":"server-down","label":"Server down","aliases":[],"parameter":null,"needsPin":false,"profiles":["jwt","api-key","signed-token","facemap","oauth"],"description":"Send the call to a port nobody listens on: a network error, and the stored token and device stay as they were."}];
