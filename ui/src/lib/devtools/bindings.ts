// Generated from src-tauri/src/devtools.rs by ts-rs. Do not edit: run
// `TOKENSIM_UPDATE_BINDINGS=1 cargo test -p tokensim-app devtools_bindings` instead.

export type DoctorCheck = { 
/**
 * Stable id: `reach`, `tls`, `restful-api`, `protocol-versions`, `clock`,
 * `mobile-token-api`, `push-inbox`, `application`.
 */
id: string, 
/**
 * Title shown.
 */
title: string, 
/**
 * `ok`, `warn`, `fail` or `skipped`.
 */
verdict: string, 
/**
 * What was found.
 */
message: string, 
/**
 * What to do.
 */
hint: string, 
/**
 * Lines of detail (the TLS check's certificate chain).
 */
details: Array<string>, };

export type DoctorReport = { 
/**
 * The server checked.
 */
server: string, 
/**
 * `ok`, `warn` or `fail`.
 */
overall: string, 
/**
 * The checks in order.
 */
checks: Array<DoctorCheck>, 
/**
 * Accepted protocol versions.
 */
acceptedVersions: Array<string>, 
/**
 * Server minus machine clock, ms.
 */
clockOffsetMs: number | null, };

export type SnapshotView = { 
/**
 * Its name.
 */
name: string, 
/**
 * Saved at, Unix ms (as a float: JavaScript numbers).
 */
savedAtMs: number, 
/**
 * The device's counter then.
 */
counter: number, 
/**
 * The last status then, if any.
 */
state: string | null, 
/**
 * Tokens then.
 */
tokens: Array<string>, 
/**
 * Whether biometry was enrolled.
 */
biometry: boolean, };

export type FieldChangeView = { 
/**
 * Field path.
 */
field: string, 
/**
 * Value before, unless secret.
 */
before: string | null, 
/**
 * Value after, unless secret.
 */
after: string | null, 
/**
 * Whether the field is secret.
 */
secret: boolean, 
/**
 * What changed, in words.
 */
note: string, };

export type RestoreView = { 
/**
 * The snapshot restored.
 */
snapshot: string, 
/**
 * `in-sync`, `resync`, `counter-behind`, `blocked`, `not-active`, `unchecked`.
 */
reaction: string, 
/**
 * What the server answered.
 */
answered: string, 
/**
 * What the protocol makes of it.
 */
required: string, 
/**
 * What to do.
 */
hint: string, };

export type CmdToolImported = { 
/**
 * The new device's id.
 */
id: string, 
/**
 * Its fingerprint.
 */
fingerprint: string, 
/**
 * Its counter after the import's vault unlock.
 */
counter: number, };
