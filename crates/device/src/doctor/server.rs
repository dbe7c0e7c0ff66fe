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
            for (id, title) in [
                ("tls", "TLS certificate"),
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
    report.checks.push(if url.starts_with("https://") {
        check("tls", "TLS certificate", Verdict::Ok, "the certificate is valid for this host and chains to a trusted root (the connection was verified)", "nothing")
    } else {
        check("tls", "TLS certificate", Verdict::Warn, "plain HTTP: requests travel unencrypted (ECIES still protects payloads, not headers or tokens)", "fine for a local sandbox; use https:// for any shared or real server")
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

    // Clock offset, from the temporary key's iat_ms (the server's clock, in ms).
    let offset = temporary
        .as_ref()
        .ok()
        .map(|key| key.issued_at_ms as i64 - ((before + after) / 2) as i64);
    report.clock_offset_ms = offset;
    report.checks.push(match offset {
        None => check("clock", "Clock offset", Verdict::Skipped, "not measured: the server issued no 3.3 temporary key (its iat_ms is the server's clock)", "compare the machine's clock with the server's by other means if tokens or 3.2+ encryption fail"),
        Some(ms) => clock_check(ms),
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
        (Some(_), _) if !keystore_exists => check("application", "Application (mobile SDK configuration)", Verdict::Skipped, "not checked: only 3.3 servers answer a harmless request signed with the master key", "activate once to check the configuration"),
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

/// The clock check for `offset_ms` = server − machine.
pub fn clock_check(offset_ms: i64) -> Check {
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
    } else if -offset_ms > ECIES_FUTURE_MS {
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
    } else if abs < 1_000 {
        check(
            "clock",
            title,
            Verdict::Ok,
            format!("this machine's clock agrees with the server's (within {abs} ms)"),
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
