//! The compatibility doctor for a server: "can this token work with that server?", asked
//! before anything is activated. Every [`Check`] has a verdict, a sentence and what to do,
//! like the activation doctor; [`check_server`] runs them all with harmless requests only
//! (a status of a made-up activation, activation requests whose envelope cannot decrypt,
//! unauthenticated calls of the mobile-token API, a temporary key).

use crate::Error;
use crate::client::{Client, Request, envelope};
use crate::keystore::fetch;
use powerauth::config::ApplicationConfig;
use powerauth::ecies::Scope;
use powerauth::encoding::b64;
use powerauth::{KeyPair, ProtocolVersion};
use serde::Serialize;
use serde_json::json;
use std::time::Duration;

use super::tls::{self, EXPIRY_WARNING_DAYS, TlsReport};

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Works.
    Ok,
    /// Works, with something to watch.
    Warn,
    /// Will not work.
    Fail,
    /// Could not be checked (what it needs is missing or failed before).
    Skipped,
}

/// One check: a stable id (the `--json` key), its title, verdict, sentence and hint.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `reach`, `tls`, `restful-api`, `protocol-versions`, `clock`, `mobile-token-api`,
    /// `push-inbox`, `application`.
    pub id: &'static str,
    /// The title shown.
    pub title: &'static str,
    /// The outcome.
    pub verdict: Verdict,
    /// What was found.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// Lines of detail under the sentence (the TLS check's certificate chain), may be empty.
    pub details: Vec<String>,
}

/// Everything the doctor found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerReport {
    /// The server's base URL.
    pub server: String,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// The protocol versions the server accepted.
    pub accepted_versions: Vec<ProtocolVersion>,
    /// Server clock minus this machine's clock, in ms, when measured.
    pub clock_offset_ms: Option<i64>,
    /// The server's version, when it tells (`/rest/v3/status`).
    pub server_version: Option<String>,
    /// Where the clock offset comes from: `temporary-key` (3.3's `iat_ms`, to the
    /// millisecond) or `date-header` (HTTP `Date`, to the second).
    pub clock_source: Option<&'static str>,
    /// The https server's certificate chain and what verification said of it.
    pub tls: Option<TlsReport>,
}

impl ServerReport {
    /// The worst verdict: `Fail` if any check failed, else `Warn` if any warned, else `Ok`.
    pub fn overall(&self) -> Verdict {
        let has = |v: Verdict| self.checks.iter().any(|c| c.verdict == v);
        if has(Verdict::Fail) {
            Verdict::Fail
        } else if has(Verdict::Warn) {
            Verdict::Warn
        } else {
            Verdict::Ok
        }
    }

    /// The check `id`.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// The clock offset within which nothing is noticed.
pub const CLOCK_QUIET_MS: i64 = 5_000;
/// An ECIES timestamp more than this far in the server's future is refused (3.2+).
pub const ECIES_FUTURE_MS: i64 = 60_000;
/// A token timestamp more than this far in the server's future is refused.
pub const TOKEN_FUTURE_MS: i64 = 1_800_000;
/// A token timestamp more than this far in the server's past is refused.
pub const TOKEN_PAST_MS: i64 = 7_200_000;

fn check(
    id: &'static str,
    title: &'static str,
    verdict: Verdict,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Check {
    Check {
        id,
        title,
        verdict,
        message: message.into(),
        hint: hint.into(),
        details: Vec::new(),
    }
}

/// What a probe got back: an HTTP status and the PowerAuth error code (the body of a
/// success), or no answer.
enum Answer {
    Status(u16, String),
    Unreachable(String),
}

async fn probe(
    client: &Client,
    url: &str,
    label: &'static str,
    path: &str,
    body: serde_json::Value,
    headers: Vec<(String, String)>,
) -> Answer {
    let mut request = Request::post(label, path, envelope::request_body(&body));
    request.headers.extend(headers);
    match client.execute(url, request).await {
        // Error statuses may come back as a reply: read their PowerAuth code.
        Ok(reply) if reply.status >= 400 => {
            let code = serde_json::from_slice::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|v| {
                    v.pointer("/responseObject/code")?
                        .as_str()
                        .map(str::to_owned)
                })
                .unwrap_or_default();
            Answer::Status(reply.status, code)
        }
        Ok(reply) => Answer::Status(
            reply.status,
            String::from_utf8_lossy(&reply.body).into_owned(),
        ),
        Err(Error::Server { status, code, .. }) => Answer::Status(status, code),
        Err(e @ (Error::Network { .. } | Error::Timeout { .. })) => {
            Answer::Unreachable(e.to_string())
        }
        Err(e) => Answer::Status(0, e.to_string()),
    }
}

/// Runs every check against `server_url`; `application` (the mobile SDK configuration)
/// enables the application check.
pub async fn check_server(
    client: &Client,
    server_url: &str,
    application: Option<&ApplicationConfig>,
) -> ServerReport {
    let url = server_url.trim_end_matches('/').to_owned();
    let mut report = ServerReport {
        server: url.clone(),
        checks: Vec::new(),
        accepted_versions: Vec::new(),
        clock_offset_ms: None,
        server_version: None,
        clock_source: None,
        tls: None,
    };

    // The certificate, by a handshake of its own that describes what it refuses.
    let tls = if url.starts_with("https://") {
        Some(inspect_tls(client, &url).await)
    } else {
        None
    };

    // Reachability, and the RESTful API through a status of an activation that does not exist.
    let status_body = json!({"activationId": "00000000-0000-4000-8000-000000000000", "challenge": b64([0u8; 16])});
    let status = probe(
        client,
        &url,
        "doctor: activation/status",
        "/pa/v3/activation/status",
        status_body,
        vec![],
    )
    .await;
    match &status {
        Answer::Unreachable(why) => {
            report.checks.push(check("reach", "Reach the server", Verdict::Fail, why.clone(), "check the URL (scheme, host, port), that the server runs, and any proxy or VPN in between"));
            if let Some(Ok(found)) = &tls {
                report.checks.push(tls_check(found));
                report.tls = Some(found.clone());
            } else {
                report.checks.push(check(
                    "tls",
                    "TLS certificate",
                    Verdict::Skipped,
                    "not checked: the server cannot be reached",
                    "fix the reachability first",
                ));
            }
            for (id, title) in [
                ("restful-api", "PowerAuth RESTful API (/pa/v3)"),
                ("protocol-versions", "Protocol versions"),
                ("clock", "Clock offset"),
                ("mobile-token-api", "Mobile-token API (/api)"),
                ("push-inbox", "Push and inbox"),
                ("application", "Application (mobile SDK configuration)"),
            ] {
                report.checks.push(check(
                    id,
                    title,
                    Verdict::Skipped,
                    "not checked: the server cannot be reached",
                    "fix the reachability first",
                ));
            }
            return report;
        }
        Answer::Status(code, _) => report.checks.push(check(
            "reach",
            "Reach the server",
            Verdict::Ok,
            format!("{url} answers (HTTP {code})"),
            "nothing",
        )),
    }
    report.checks.push(match &tls {
        Some(Ok(found)) => {
            report.tls = Some(found.clone());
            tls_check(found)
        }
        // The requests went through, but the doctor's own handshake did not.
        Some(Err(why)) => check("tls", "TLS certificate", Verdict::Warn, format!("the connection was verified, but the certificate could not be read: {why}"), "nothing, unless requests fail; then check a proxy that intercepts TLS"),
        None => check("tls", "TLS certificate", Verdict::Warn, "plain HTTP: requests travel unencrypted (ECIES still protects payloads, not headers or tokens)", "fine for a local sandbox; use https:// for any shared or real server"),
    });
    let (restful_ok, restful) = match &status {
        Answer::Status(200, body) if body.contains("\"encryptedStatusBlob\"") => (
            true,
            check(
                "restful-api",
                "PowerAuth RESTful API (/pa/v3)",
                Verdict::Ok,
                "/pa/v3/activation/status answers a made-up activation with a status blob, as PowerAuth does (REMOVED, to hide which ids exist)",
                "nothing",
            ),
        ),
        Answer::Status(400, code) if code == "ERR_ACTIVATION" => (
            true,
            check(
                "restful-api",
                "PowerAuth RESTful API (/pa/v3)",
                Verdict::Ok,
                "/pa/v3/activation/status answers a made-up activation with 400 ERR_ACTIVATION",
                "nothing",
            ),
        ),
        Answer::Status(404, _) => (
            false,
            check(
                "restful-api",
                "PowerAuth RESTful API (/pa/v3)",
                Verdict::Fail,
                "/pa/v3/activation/status does not exist here (HTTP 404)",
                "give the base URL under which /pa/v3 lives (often with a context path, e.g. https://host/enrollment-server)",
            ),
        ),
        Answer::Status(code, what) => (
            false,
            check(
                "restful-api",
                "PowerAuth RESTful API (/pa/v3)",
                Verdict::Fail,
                format!(
                    "/pa/v3/activation/status answered HTTP {code} {}, not what PowerAuth answers",
                    what.chars().take(80).collect::<String>()
                ),
                "check that the URL points at a PowerAuth RESTful integration (enrollment server), not a gateway or login page",
            ),
        ),
        Answer::Unreachable(_) => unreachable!("returned above"),
    };
    report.checks.push(restful);
    if let Ok(reply) = client
        .execute(
            &url,
            Request::post(
                "doctor: server status",
                "/rest/v3/status",
                envelope::request_body(&json!({})),
            ),
        )
        .await
        && let Ok(object) = envelope::response_object(&reply, "status")
    {
        report.server_version = object
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
    }

    // The temporary key (3.3): protocol, clock, application in one harmless call.
    let app = application.cloned().unwrap_or_else(|| {
        ApplicationConfig::make(KeyPair::make(client.rng()).public, client.rng())
    });
    let before = client.now_ms();
    let temporary = fetch(
        client,
        &url,
        &app,
        Scope::Application,
        &app.master_server_public_key,
    )
    .await;
    let after = client.now_ms();
    let keystore_exists = match &temporary {
        Ok(_) => true,
        Err(Error::Server { status: 404, .. }) => false,
        Err(Error::Server { code, .. }) => code == "ERR_TEMPORARY_KEY" || code.is_empty(),
        Err(Error::InvalidResponse { .. }) => true,
        Err(_) => false,
    };

    // Protocol versions: activation requests that cannot decrypt.
    for version in ProtocolVersion::ALL {
        let accepted = if version == ProtocolVersion::V3_3 {
            keystore_exists && version_probe(client, &url, &app, version).await
        } else {
            version_probe(client, &url, &app, version).await
        };
        if accepted {
            report.accepted_versions.push(version);
        }
    }
    let list = |v: &[ProtocolVersion]| v.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ");
    report.checks.push(match report.accepted_versions.len() {
        _ if !restful_ok => check(
            "protocol-versions",
            "Protocol versions",
            Verdict::Skipped,
            "not probed: no PowerAuth RESTful API answered",
            "fix the URL first",
        ),
        0 => check(
            "protocol-versions",
            "Protocol versions",
            Verdict::Fail,
            "the server refused every version 3.0–3.3",
            "this server speaks no PowerAuth 3 version TokenSim knows",
        ),
        4 => check(
            "protocol-versions",
            "Protocol versions",
            Verdict::Ok,
            "the server accepts 3.0, 3.1, 3.2 and 3.3",
            "nothing",
        ),
        _ => check(
            "protocol-versions",
            "Protocol versions",
            Verdict::Warn,
            format!(
                "the server accepts {} only",
                list(&report.accepted_versions)
            ),
            format!(
                "activate with --version {}",
                report
                    .accepted_versions
                    .last()
                    .map_or("3.3", |v| v.as_str())
            ),
        ),
    });

    // Clock offset, from the temporary key's iat_ms (the server's clock, in ms), else from
    // the HTTP Date header (to the second).
    let encrypts_with_time = report
        .accepted_versions
        .iter()
        .any(|v| *v >= ProtocolVersion::V3_2);
    let from_key = temporary
        .as_ref()
        .ok()
        .map(|key| key.issued_at_ms as i64 - ((before + after) / 2) as i64);
    let (offset, source) = match from_key {
        Some(ms) => (Some(ms), Some("temporary-key")),
        None => match date_offset(client, &url).await {
            Some(ms) => (Some(ms), Some("date-header")),
            None => (None, None),
        },
    };
    report.clock_offset_ms = offset;
    report.clock_source = source;
    report.checks.push(match (offset, source) {
        (Some(ms), Some("date-header")) => {
            let mut c = clock_check_for(ms, encrypts_with_time, 1_000);
            c.message.push_str(" (from the HTTP Date header, to the second: the server issues no 3.3 temporary key, whose iat_ms would give the millisecond)");
            c
        }
        (Some(ms), _) => clock_check_for(ms, encrypts_with_time, 0),
        (None, _) => check("clock", "Clock offset", Verdict::Skipped, "not measured: the server issued no 3.3 temporary key (its iat_ms is the server's clock) and sent no HTTP Date header", "compare the machine's clock with the server's by other means if tokens or 3.2+ encryption fail"),
    });

    // The mobile-token API, push and inbox: unauthenticated calls, 401/400 when they exist.
    let exists = |answer: &Answer| matches!(answer, Answer::Status(code, _) if *code != 404 && *code != 405 && *code != 0);
    let operations = probe(
        client,
        &url,
        "doctor: operation/list",
        "/api/auth/token/app/operation/list",
        json!({}),
        vec![],
    )
    .await;
    report.checks.push(if exists(&operations) {
        check("mobile-token-api", "Mobile-token API (/api)", Verdict::Ok, "/api/auth/token/app/operation/list exists (it refused a call without a token)", "nothing")
    } else {
        check("mobile-token-api", "Mobile-token API (/api)", Verdict::Fail, "/api/auth/token/app/operation/list does not exist here: a plain PowerAuth server, no operations to approve", "point at the enrollment server with the mobile-token API, or use only activation, signatures and tokens")
    });
    let push = exists(
        &probe(
            client,
            &url,
            "doctor: push/register",
            "/api/push/device/register",
            json!({}),
            vec![],
        )
        .await,
    );
    let inbox = exists(
        &probe(
            client,
            &url,
            "doctor: inbox/count",
            "/api/inbox/count",
            json!({}),
            vec![],
        )
        .await,
    );
    report.checks.push(match (push, inbox) {
        (true, true) => check(
            "push-inbox",
            "Push and inbox",
            Verdict::Ok,
            "/api/push/device/register and /api/inbox/count exist",
            "nothing",
        ),
        (false, false) => check(
            "push-inbox",
            "Push and inbox",
            Verdict::Warn,
            "neither /api/push/device/register nor /api/inbox/count exists",
            "push registration and the inbox will fail; everything else works",
        ),
        (true, false) => check(
            "push-inbox",
            "Push and inbox",
            Verdict::Warn,
            "push registration exists, the inbox (/api/inbox/count) does not",
            "the inbox commands will fail",
        ),
        (false, true) => check(
            "push-inbox",
            "Push and inbox",
            Verdict::Warn,
            "the inbox exists, push registration (/api/push/device/register) does not",
            "push registration will fail",
        ),
    });

    // The application.
    report.checks.push(match (application, &temporary) {
        (None, _) => check("application", "Application (mobile SDK configuration)", Verdict::Skipped, "no mobile SDK configuration given", "pass --config to check it against the server"),
        (Some(_), Ok(_)) => check("application", "Application (mobile SDK configuration)", Verdict::Ok, "the server knows the application key and signed a temporary key with the configuration's master public key", "nothing"),
        (Some(_), Err(Error::InvalidResponse { detail, .. })) if detail.contains("signature") => check("application", "Application (mobile SDK configuration)", Verdict::Fail, "the server knows the application key, but its answer is not signed by the configuration's master public key: the configuration's master key is another application's or another server's", "copy the mobileSdkConfig of this server's application again (the admin console or /rest/v3/application/detail shows it)"),
        (Some(_), Err(Error::Server { code, .. })) if code == "ERR_TEMPORARY_KEY" => check("application", "Application (mobile SDK configuration)", Verdict::Fail, "the server refused a temporary key for this application key and secret: it does not know the application, or the version is unsupported", "copy the mobileSdkConfig of this server's application again"),
        (Some(_), _) if !keystore_exists => check("application", "Application (mobile SDK configuration)", Verdict::Skipped, "not checked: the server issues no 3.3 temporary keys, the only harmless request whose answer is signed with the master key; before 3.3 a request with a wrong application key or master key is refused in the same words as one with the right keys (ERR_ACTIVATION)", "activate once to check the configuration"),
        (Some(_), Err(e)) => check("application", "Application (mobile SDK configuration)", Verdict::Fail, format!("the temporary key request failed: {e}"), "copy the mobileSdkConfig of this server's application again"),
    });
    report
}

/// Whether the server accepts `version` on `/pa/v3/activation/create`: the envelope is
/// well formed for the version but cannot decrypt, so an accepting server answers 400
/// `ERR_ACTIVATION` and one refusing the version refuses the header first.
async fn version_probe(
    client: &Client,
    url: &str,
    application: &ApplicationConfig,
    version: ProtocolVersion,
) -> bool {
    let ephemeral = KeyPair::make(client.rng());
    let mut envelope = json!({
        "ephemeralPublicKey": b64(ephemeral.public.to_compressed()),
        "encryptedData": b64([7u8; 32]),
        "mac": b64([7u8; 32]),
    });
    if version >= ProtocolVersion::V3_1 {
        envelope["nonce"] = b64([7u8; 16]).into();
    }
    if version >= ProtocolVersion::V3_2 {
        envelope["timestamp"] = client.now_ms().into();
    }
    if version >= ProtocolVersion::V3_3 {
        envelope["temporaryKeyId"] = "00000000-0000-4000-8000-000000000000".into();
    }
    let body = json!({"type": "CODE", "activationData": envelope});
    let header = format!(
        "PowerAuth version=\"{}\", application_key=\"{}\"",
        version.as_str(),
        application.application_key.to_b64()
    );
    matches!(
        probe(client, url, "doctor: version probe", "/pa/v3/activation/create", body, vec![(powerauth::ecies::ENCRYPTION_HEADER_NAME.to_owned(), header)]).await,
        Answer::Status(400, code) if code == "ERR_ACTIVATION"
    )
}

/// The TLS check from what the doctor's handshake saw.
pub fn tls_check(found: &TlsReport) -> Check {
    let title = "TLS certificate";
    let mut details = Vec::new();
    for (n, cert) in found.chain.iter().enumerate() {
        let role = if n == 0 { "server" } else { "chain" };
        details.push(format!(
            "{role}: {} — issued by {}; valid {} to {} ({}){}",
            cert.subject,
            cert.issuer,
            utc_date(cert.not_before_ms),
            utc_date(cert.not_after_ms),
            days(cert.days_left),
            if cert.names.is_empty() {
                String::new()
            } else {
                format!("; names {}", cert.names.join(", "))
            }
        ));
    }
    if let (Some(protocol), Some(suite)) = (&found.protocol, &found.cipher_suite) {
        details.push(format!("connection: {protocol}, {suite}"));
    }
    let leaf = found.chain.first();
    let mut c = match (&found.problem, leaf) {
        (Some(problem), _) => {
            let hint = match found.problem_kind {
                Some("untrusted") => {
                    "if the server uses a private certificate authority, give its certificate with --ca-cert FILE (PEM); otherwise install a certificate from a trusted authority on the server"
                }
                Some("wrong-host") => {
                    "use the host name the certificate names, or have a certificate issued for this one"
                }
                Some("expired") => {
                    "renew the server's certificate (or set this machine's clock right if it is wrong)"
                }
                Some("not-yet-valid") => {
                    "check this machine's clock, or wait until the certificate's start date"
                }
                _ => "check the server's certificate chain",
            };
            check("tls", title, Verdict::Fail, problem.clone(), hint)
        }
        (None, Some(l)) if l.days_left < EXPIRY_WARNING_DAYS => check(
            "tls",
            title,
            Verdict::Warn,
            format!(
                "trusted and for {}, but the certificate expires on {} ({})",
                found.host,
                utc_date(l.not_after_ms),
                days(l.days_left)
            ),
            "renew the certificate before it expires: every request fails after that",
        ),
        (None, Some(l)) => check(
            "tls",
            title,
            Verdict::Ok,
            format!(
                "trusted and for {}; {} issued by {}, valid until {} ({})",
                found.host,
                l.subject,
                l.issuer,
                utc_date(l.not_after_ms),
                days(l.days_left)
            ),
            "nothing",
        ),
        (None, None) => check(
            "tls",
            title,
            Verdict::Fail,
            "the server sent no certificate",
            "check the server's TLS set-up",
        ),
    };
    c.details = details;
    c
}

fn days(left: i64) -> String {
    match left {
        n if n < 0 => format!("expired {} day(s) ago", -n),
        0 => "expires within a day".to_owned(),
        n => format!("{n} day(s) left"),
    }
}

/// `YYYY-MM-DD` of Unix ms, UTC.
fn utc_date(ms: i64) -> String {
    // Civil from days (Howard Hinnant's algorithm).
    let z = ms.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

async fn inspect_tls(client: &Client, url: &str) -> Result<TlsReport, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("{url:?} names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    tls::inspect(
        &host,
        port,
        &client.config().extra_roots,
        client.now_ms(),
        client.config().connect_timeout.max(Duration::from_secs(1)),
    )
    .await
}

/// Server − machine from the `Date` header of a harmless request, in ms: the header has
/// whole seconds, so the server's time is taken as the middle of its second.
async fn date_offset(client: &Client, url: &str) -> Option<i64> {
    let before = client.now_ms();
    let reply = client
        .execute(
            url,
            Request::post(
                "doctor: Date header",
                "/pa/v3/activation/status",
                envelope::request_body(&json!({"activationId": "00000000-0000-4000-8000-000000000000", "challenge": b64([0u8; 16])})),
            ),
        )
        .await
        .ok()?;
    let after = client.now_ms();
    let date = reply
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("date"))?;
    let at = httpdate::parse_http_date(&date.1).ok()?;
    let server_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64 + 500;
    Some(server_ms - ((before + after) / 2) as i64)
}

/// The clock check for `offset_ms` = server − machine, on a server that speaks 3.2+.
pub fn clock_check(offset_ms: i64) -> Check {
    clock_check_for(offset_ms, true, 0)
}

/// The clock check for `offset_ms` = server − machine, measured to within `resolution_ms`;
/// `encrypts_with_time` when the server accepts 3.2+ (ECIES timestamps, 60 s window).
pub fn clock_check_for(offset_ms: i64, encrypts_with_time: bool, resolution_ms: i64) -> Check {
    let secs = offset_ms as f64 / 1000.0;
    let (side, abs) = if offset_ms >= 0 {
        ("behind", offset_ms)
    } else {
        ("ahead of", -offset_ms)
    };
    let said = format!(
        "this machine's clock is {:.1} s {side} the server's",
        secs.abs()
    );
    let title = "Clock offset";
    // Device timestamps land in the server's future when the machine is ahead (offset < 0).
    if -offset_ms > TOKEN_FUTURE_MS || offset_ms > TOKEN_PAST_MS {
        check(
            "clock",
            title,
            Verdict::Fail,
            format!(
                "{said}: beyond the token window (2 h in the past, 30 min in the future), so every token and 3.2+ encrypted request is refused"
            ),
            "set the machine's clock (or the server's) right, e.g. with NTP",
        )
    } else if encrypts_with_time && -offset_ms > ECIES_FUTURE_MS {
        check(
            "clock",
            title,
            Verdict::Fail,
            format!(
                "{said}: 3.2+ encrypted requests stamped more than 60 s in the server's future are refused"
            ),
            "set the machine's clock right (NTP), or speak 3.0/3.1",
        )
    } else if abs > CLOCK_QUIET_MS {
        check(
            "clock",
            title,
            Verdict::Warn,
            format!("{said}: within the windows signatures and tokens tolerate, but drifting"),
            "set the clock right before it leaves the windows (60 s for encryption, 30 min for tokens)",
        )
    } else if abs < 1_000 || abs <= resolution_ms {
        check(
            "clock",
            title,
            Verdict::Ok,
            format!(
                "this machine's clock agrees with the server's (within {} ms)",
                abs.max(resolution_ms)
            ),
            "nothing",
        )
    } else {
        check("clock", title, Verdict::Ok, said, "nothing")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_windows() {
        assert_eq!(clock_check(1_200).verdict, Verdict::Ok);
        assert_eq!(clock_check(-20_000).verdict, Verdict::Warn);
        assert_eq!(clock_check(20_000).verdict, Verdict::Warn);
        assert_eq!(clock_check(-61_000).verdict, Verdict::Fail);
        assert_eq!(clock_check(3_600_000).verdict, Verdict::Warn);
        assert_eq!(clock_check(7_300_000).verdict, Verdict::Fail);
        assert!(clock_check(-61_000).message.contains("ahead of"));
    }
}
