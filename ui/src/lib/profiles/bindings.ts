// Generated from src-tauri/src/profiles.rs by ts-rs. Do not edit: run
// `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app profiles_bindings` instead.

export type ProfileSpec = { 
/**
 * The name `tokensim profile NAME` and `--profile NAME` take, e.g. `jwt`.
 */
name: string, 
/**
 * A short label for a tab, e.g. `Device JWT`.
 */
label: string, 
/**
 * The sandbox's path prefix of its vendor server.
 */
prefix: string, 
/**
 * What it is, in a tester's words.
 */
description: string, };

export type ProfileAccountView = { 
/**
 * The id it is kept under.
 */
id: string, 
/**
 * Its profile (`jwt`, `api-key`…).
 */
profile: string, 
/**
 * The server.
 */
serverUrl: string, 
/**
 * Who it is there (device id, user).
 */
subject: string, };

export type ProfileCallView = { 
/**
 * Whether the vendor accepted the call (for a fault: whether the answer was the one
 * required).
 */
ok: boolean, 
/**
 * What happened, in words.
 */
summary: string, 
/**
 * With a fault: what the protocol requires.
 */
required: string | null, };

export type AccessView = { 
/**
 * The profile.
 */
profile: string, 
/**
 * The project.
 */
projectId: string, 
/**
 * The user or device id.
 */
subject: string, 
/**
 * The call.
 */
call: string, 
/**
 * How it was authenticated.
 */
credential: string, 
/**
 * Whether it carried a signed token.
 */
signed: boolean, 
/**
 * Whether it was accepted.
 */
accepted: boolean, 
/**
 * The refusal's code.
 */
reason: string | null, 
/**
 * When, Unix ms.
 */
atMs: number, };

export type Face = "live" | "spoof" | "different-person" | "timeout";

export type TransactionView = { 
/**
 * `authenticationTransactionReference`.
 */
reference: string, 
/**
 * The enrollment it is compared with.
 */
enrollment: string, 
/**
 * The bank's reference for the user.
 */
userReference: string | null, 
/**
 * `CREATED`, `STARTED`, `PASSED`, `FAILED`, `INVALID` or `EXPIRED`, as the bank's
 * server retrieves it now.
 */
state: string, 
/**
 * The face the device showed, if it performed the capture (`live`…).
 */
face: Face | null, 
/**
 * When it expires (Unix ms by the sandbox's clock as the device last heard it).
 */
expiresMs: number, 
/**
 * The newer transaction for the same enrollment that ended this one `EXPIRED`.
 */
supersededBy: string | null, 
/**
 * The state the bank's callback URL received, if the callback came.
 */
callback: string | null, };

export type FacemapCaptureView = { 
/**
 * The transaction as the bank's server retrieves it after the capture.
 */
transaction: TransactionView, 
/**
 * What happened.
 */
result: ProfileCallView, };

export type OAuthAccountView = { 
/**
 * The id it is kept under.
 */
id: string, 
/**
 * `client-credentials` or `device`.
 */
mode: string, 
/**
 * The client id.
 */
clientId: string, 
/**
 * The device id (device mode).
 */
deviceId: string | null, 
/**
 * Where its tokens live: `memory`, `keychain` or `file`.
 */
storage: string, 
/**
 * The stored tokens, if any.
 */
tokens: OAuthTokenView | null, };

export type OAuthTokenView = { 
/**
 * When the access token expires, Unix ms.
 */
expiresAtMs: number, 
/**
 * Whether a refresh token is stored.
 */
hasRefreshToken: boolean, 
/**
 * The granted scope.
 */
scope: string, };

export type OAuthResultView = { 
/**
 * Whether it worked (with a fault: whether the answer was the one the protocol
 * requires).
 */
ok: boolean, 
/**
 * What happened, in the profile's words.
 */
summary: string, 
/**
 * The account afterwards.
 */
account: OAuthAccountView, };

export type DeviceFlowView = { 
/**
 * The code the person types on the verification page.
 */
userCode: string, 
/**
 * The verification page.
 */
verificationUri: string, 
/**
 * The page with the code filled in (in its fragment, never sent to the server).
 */
verificationUriComplete: string | null, 
/**
 * The polling interval the server asks for, seconds (grows with each `slow_down`).
 */
intervalSeconds: number, 
/**
 * `starting`, `authorization_pending`, `slow_down`, `approved`, `access_denied`,
 * `expired_token` or `failed`.
 */
state: string, 
/**
 * Polls sent so far.
 */
polls: number, 
/**
 * The last answer, in words.
 */
message: string, };

/** The device profiles beside PowerAuth, one tab each (tokensim-device's catalogue). */
export const PROFILES: ProfileSpec[] = [{"name":"jwt","label":"Device JWT","prefix":"/profiles/jwt","description":"The app server logs the user in and gets a JWT for this device id from the vendor (POST /gen-jwt); the device keeps it and sends Authorization: Bearer on every call."},{"name":"signed-token","label":"Signed device tokens","prefix":"/profiles/signed-token","description":"Attach and identify calls carry an HS256 token {\"user\": ID} signed with the project's API secret, from the app server (self-signed, or the vendor's counted sign endpoint); the project decides whether tokens are required."},{"name":"api-key","label":"Mobile API key","prefix":"/profiles/jwt","description":"The mobile API key configured in the app is sent on every call (X-Api-Key), with the device id."},{"name":"facemap","label":"Face authentication","prefix":"/profiles/facemap","description":"The bank's server starts a face authentication transaction with the enrollment's stored facemap (multipart, Basic auth with the API token and secret); the device performs the face capture; the final state (PASSED, FAILED, INVALID or EXPIRED) goes to the bank's callback URL."},{"name":"oauth","label":"OAuth 2.0","prefix":"/oauth2","description":"Client credentials (an access token living 20 minutes, reused until it expires, then refreshed; the refresh token can be revoked) or RFC 8628 device authorization for a point-of-sale device, approved by the user on the sandbox's verification page. Tokens kept in memory, the keychain or a file."}];
