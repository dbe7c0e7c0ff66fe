//! The holes a security probe found (issue 19), each pinned: credentials checks that cannot
//! exhaust memory or tell user names apart, NUL characters, browsers and foreign hosts,
//! contention, idle connections, errors in each API's JSON shape, the database's file
//! modes, flags, signals and remote binding.

use crate::common::{TestServer, error_parts, read};
use crate::device::{Device, activate, post_with_authorization};
use futures_util::future::join_all;
use powerauth::ProtocolVersion;
use powerauth::signature::SignatureType;
use reqwest::{Method, StatusCode};
use sandbox::Config;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Basic authentication

#[tokio::test]
async fn an_unknown_user_costs_the_same_argon2_check_as_a_wrong_password() {
    let server = TestServer::start().await;
    let logins = &server.sandbox.state().logins;
    let before = logins.checks_run();
    let mut answers = Vec::new();
    for credentials in [("admin", "wrong"), ("nobody", "wrong")] {
        let response = server
            .cloud(Method::GET, "/admin/users", Some(credentials))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{credentials:?}: {body}");
        answers.push(error_parts(&body));
    }
    // The same answer for both: nothing tells which user exists.
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        logins.checks_run() - before,
        2,
        "one Argon2 check for the wrong password and one for the unknown user"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argon2_checks_queue_instead_of_running_all_at_once() {
    let server = TestServer::start().await;
    let logins = &server.sandbox.state().logins;
    let attempts = (0..24).map(|i| {
        let request = server.cloud(
            Method::GET,
            "/admin/users",
            Some((if i % 2 == 0 { "admin" } else { "nobody" }, "wrong")),
        );
        async move { request.send().await.unwrap().status() }
    });
    for status in join_all(attempts).await {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(
        logins.peak_checks() <= sandbox::cloud::auth::CONCURRENT_CHECKS,
        "{} Argon2 checks ran at once",
        logins.peak_checks()
    );
}

/// The figure of the issue: 96 clients sending wrong passwords grew the server to 4.8 GB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninety_six_clients_with_wrong_passwords_keep_the_sandbox_under_200_mb() {
    let (mut child, url) = spawn_sandbox(&["--in-memory", "--bind", "127.0.0.1:0"]);
    let client = reqwest::Client::new();
    let attempts = (0..96).map(|i| {
        let client = client.clone();
        let url = url.clone();
        async move {
            for _ in 0..2 {
                let user = if i % 2 == 0 { "admin" } else { "nobody" };
                let status = client
                    .get(format!("{url}/powerauth-cloud/admin/users"))
                    .basic_auth(user, Some("wrong"))
                    .send()
                    .await
                    .unwrap()
                    .status();
                assert_eq!(status, StatusCode::UNAUTHORIZED);
            }
        }
    });
    join_all(attempts).await;
    let peak_kb = peak_rss_kb(child.id());
    stop(&mut child);
    assert!(
        peak_kb <= 200 * 1024,
        "the sandbox peaked at {} MB",
        peak_kb / 1024
    );
}

/// The highest resident memory of a process so far, in KiB (`VmHWM`).
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

// ---------------------------------------------------------------------------------------
// NUL characters

#[tokio::test]
async fn a_nul_character_in_any_string_field_is_a_clean_400() {
    let server = TestServer::start().await;
    let nul = "a\u{0}b";
    for (path, request) in [
        (
            "/rest/v3/activation/init",
            json!({"userId": nul, "applicationId": "tokensim"}),
        ),
        (
            "/rest/v3/operation/list",
            json!({"userId": nul, "applications": ["tokensim"]}),
        ),
        ("/rest/v3/recovery/lookup", json!({"recoveryCode": nul})),
        (
            "/rest/v3/activation/init",
            json!({"userId": "alice", "applicationId": "tokensim", "activationOtp": nul}),
        ),
    ] {
        let (status, body) = server.rest(path, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {request}: {body}");
        assert_eq!(error_parts(&body).0, "ERR0024", "{path}: {body}");
    }
    let (status, body) = server
        .rest(
            "/pa/v3/activation/status",
            json!({"activationId": nul, "challenge": "AAAAAAAAAAAAAAAAAAAAAA=="}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    error_parts(&body);

    let response = server
        .cloud(
            Method::POST,
            "/v2/registrations",
            Some(server.integration()),
        )
        .json(&json!({"userId": nul}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    error_parts(&body);

    let response = server
        .cloud(Method::GET, "/admin/users", Some(("ad\u{0}min", "x")))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    error_parts(&body);

    // The text "\u0000" (an escaped backslash) is an ordinary string.
    let (status, body) = server
        .rest(
            "/rest/v3/activation/init",
            json!({"userId": "a\\u0000b", "applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---------------------------------------------------------------------------------------
// Browsers and foreign hosts

#[tokio::test]
async fn a_web_page_cannot_drive_the_sandbox() {
    let server = TestServer::start().await;
    let init = r#"{"requestObject":{"userId":"mallory","applicationId":"tokensim"}}"#;
    // A text/plain POST is what a page may send anywhere without a preflight.
    let response = server
        .client
        .post(server.url("/rest/v3/activation/init"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(init)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(error_parts(&body).0, "ERR0024");

    // From a foreign origin, even with the right content type.
    let response = server
        .client
        .post(server.url("/rest/v3/activation/init"))
        .header("content-type", "application/json")
        .header("origin", "http://evil.example")
        .body(init)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_parts(&body).0, "ERR0024");

    // DNS rebinding: the page's own name in Host.
    let response = server
        .client
        .post(server.url("/rest/v3/activation/init"))
        .header("content-type", "application/json")
        .header("host", "attacker.example")
        .body(init)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The Cloud API takes no forms.
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = server
            .cloud(
                Method::POST,
                "/v2/registrations",
                Some(server.integration()),
            )
            .header("content-type", content_type)
            .body("userId=mallory")
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}: {body}"
        );
        error_parts(&body);
    }

    // None of it created anything.
    let list = server
        .rest_ok(
            "/rest/v3/activation/list",
            json!({"userId": "mallory", "applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(list["activations"], json!([]), "{list}");

    // The sandbox's own pages (web console, Swagger UI) call it from its own origin.
    let own = server.sandbox.url().to_owned();
    let response = server
        .cloud(Method::GET, "/admin/users", Some(server.admin()))
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = server
        .client
        .post(server.url("/rest/v3/activation/init"))
        .header("content-type", "application/json")
        .header(
            "host",
            format!("localhost:{}", server.sandbox.address().port()),
        )
        .body(init)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// Contention

/// 32 clients signing with one activation at once (issue: 20 % of them got 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_sharing_one_activation_never_get_a_500() {
    let config = Config {
        look_ahead: 64,
        max_failed_attempts: 64,
        ..Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    let mut device: Device = activate(&server, ProtocolVersion::V3_3).await;
    const BODY: &str = r#"{"requestObject":{"reason":"SHARED"}}"#;
    let mut five_hundreds = 0;
    let mut accepted = 0;
    for _round in 0..4 {
        let headers: Vec<String> = (0..32)
            .map(|_| {
                device.sign(
                    "POST",
                    "/pa/signature/validate",
                    BODY.as_bytes(),
                    SignatureType::Possession,
                )
            })
            .collect();
        let answers = join_all(headers.iter().map(|header| {
            post_with_authorization(&server, "/pa/v3/signature/validate", header, BODY)
        }))
        .await;
        for (status, body) in answers {
            if status.is_server_error() {
                five_hundreds += 1;
                eprintln!("{status}: {body}");
            }
            if status == StatusCode::OK {
                accepted += 1;
            }
        }
    }
    assert_eq!(five_hundreds, 0);
    assert!(accepted > 0);
}

// ---------------------------------------------------------------------------------------
// Idle and half-sent connections

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed() {
    let config = Config {
        header_timeout: Duration::from_millis(500),
        ..Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    let address = server.sandbox.address();
    let closes_within = |mut stream: std::net::TcpStream| {
        tokio::task::spawn_blocking(move || {
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let started = Instant::now();
            let mut sink = Vec::new();
            // Ends at EOF (or a reset) when the server closes; a timeout error if it never does.
            let result = stream.read_to_end(&mut sink);
            assert!(
                !matches!(&result, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut),
                "the connection stayed open for 10 s"
            );
            started.elapsed()
        })
    };
    // Never sends a byte.
    let idle = std::net::TcpStream::connect(address).unwrap();
    // Sends half a request.
    let mut half = std::net::TcpStream::connect(address).unwrap();
    half.write_all(b"POST /pa/v3/status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")
        .unwrap();
    // Finishes a request, then keeps the connection idle.
    let mut kept = std::net::TcpStream::connect(address).unwrap();
    kept.write_all(b"GET /powerauth-cloud/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    for stream in [idle, half, kept] {
        let elapsed = closes_within(stream).await.unwrap();
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Errors in each API's JSON shape

#[tokio::test]
async fn framework_rejections_are_json_in_each_apis_shape() {
    let server = TestServer::start().await;
    // /rest/v3: PowerAuth Server's ERR0024, whatever refused the request.
    let unknown = server.post("/rest/v3/no/such/endpoint", &json!({})).await;
    let wrong_method = read(
        server
            .client
            .get(server.url("/rest/v3/status"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let too_large = server
        .post_raw("/rest/v3/activation/init", vec![b' '; 300 * 1024])
        .await;
    for (what, (status, body), expected) in [
        ("unknown path", unknown, StatusCode::NOT_FOUND),
        ("wrong method", wrong_method, StatusCode::METHOD_NOT_ALLOWED),
        ("too large", too_large, StatusCode::PAYLOAD_TOO_LARGE),
    ] {
        assert_eq!(status, expected, "{what}: {body}");
        assert_eq!(error_parts(&body).0, "ERR0024", "{what}: {body}");
    }
    // A WebSocket endpoint called without an upgrade: the common shape, not plain text.
    let response = server
        .cloud(Method::GET, "/v2/push/ws", Some(server.integration()))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert!(status.is_client_error(), "{status}");
    error_parts(&body);
}

// ---------------------------------------------------------------------------------------
// The database file

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.db");
    let config = Config {
        database_url: Config::sqlite_url(&path),
        ..Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    // A write, so the write-ahead log and its index exist.
    server
        .rest_ok(
            "/rest/v3/activation/init",
            json!({"userId": "alice", "applicationId": "tokensim"}),
        )
        .await;
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("sandbox.db{suffix}"));
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}: {mode:o}", file.display());
    }
}

#[cfg(unix)]
#[test]
fn the_binary_makes_the_database_folder_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("made/here/sandbox.db");
    let (mut child, _) =
        spawn_sandbox(&["--db-file", db.to_str().unwrap(), "--bind", "127.0.0.1:0"]);
    stop(&mut child);
    let folder = std::fs::metadata(db.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(folder & 0o777, 0o700, "{folder:o}");
    let file = std::fs::metadata(&db).unwrap().permissions().mode();
    assert_eq!(file & 0o777, 0o600, "{file:o}");
}

// ---------------------------------------------------------------------------------------
// Flags, signals, remote binding

#[test]
fn out_of_range_flags_are_refused_with_the_range() {
    for (flag, value) in [
        ("--look-ahead", "0"),
        ("--look-ahead", "65"),
        ("--look-ahead", "100000"),
        ("--max-failed-attempts", "0"),
        ("--max-failed-attempts", "65"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
            .args(["--in-memory", "--bind", "127.0.0.1:0", flag, value])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(&format!("{flag} must be between 1 and 64")),
            "{flag} {value}: {stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_sandbox_gracefully() {
    let (mut child, _) = spawn_sandbox(&["--in-memory", "--bind", "127.0.0.1:0"]);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_non_loopback_address_needs_allow_remote() {
    let output = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args(["--in-memory", "--bind", "0.0.0.0:0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

#[tokio::test]
async fn with_allow_remote_rest_needs_credentials_and_any_host_is_served() {
    let config = Config {
        bind: "0.0.0.0:0".parse().unwrap(),
        allow_remote: true,
        ..Config::in_memory()
    };
    let server = TestServer::start_with(config).await;
    let url = format!(
        "http://127.0.0.1:{}/rest/v3/status",
        server.sandbox.address().port()
    );
    let body = r#"{"requestObject":{}}"#;
    let post = || {
        server
            .client
            .post(&url)
            .header("content-type", "application/json")
            .header("host", "sandbox.example:8780")
            .body(body)
    };
    let (status, answer) = read(post().send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    error_parts(&answer);
    let (user, _) = server.integration();
    let (status, _) = read(post().basic_auth(user, Some("wrong")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (user, password) in [server.integration(), server.admin()] {
        let (status, answer) = read(
            post()
                .basic_auth(user, Some(password))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{user}: {answer}");
    }
    // The RESTful API stays as a device calls it (its signatures are its credentials).
    let (status, answer) = read(
        server
            .client
            .post(format!(
                "http://127.0.0.1:{}/pa/v3/status",
                server.sandbox.address().port()
            ))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

// ---------------------------------------------------------------------------------------

/// Starts the binary with `args`; returns it and its URL once it listens.
fn spawn_sandbox(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("PowerAuth sandbox listening on ")
        .unwrap_or_else(|| panic!("first line names the URL: {first:?}"))
        .to_owned();
    // Keep reading the banner in the background so the pipe never fills.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, url)
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
