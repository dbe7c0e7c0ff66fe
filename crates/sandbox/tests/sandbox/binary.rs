//! The `tokensim-sandbox` binary: starts, prints its URL and credentials, serves, stops.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_prints_a_working_url_and_credentials() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args([
            "--in-memory",
            "--bind",
            "127.0.0.1:0",
            "--admin-password",
            "s3cret-admin",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // The reader stays open while the server runs: a sandbox whose stdout closed must keep
    // serving anyway (it does), but the test should not depend on that.
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let lines: Vec<String> = stdout.by_ref().take(7).map(|line| line.unwrap()).collect();
    let url = lines[0]
        .strip_prefix("PowerAuth sandbox listening on ")
        .unwrap_or_else(|| panic!("first line names the URL: {lines:?}"))
        .to_owned();
    assert!(
        lines.iter().any(|l| l.contains("admin / s3cret-admin")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("integration:")),
        "{lines:?}"
    );

    let response = reqwest::Client::new()
        .get(format!("{url}/powerauth-cloud/admin/users"))
        .basic_auth("admin", Some("s3cret-admin"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdout);
    assert_eq!(status, reqwest::StatusCode::OK);
}

#[test]
fn bad_arguments_fail_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args([
            "--database-url",
            "postgres://127.0.0.1:1/nothing",
            "--bind",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tokensim-sandbox:"), "{stderr}");
}

#[tokio::test]
async fn the_binary_keeps_serving_when_nobody_reads_its_banner() {
    // A free port, so the URL is known without reading stdout.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokensim-sandbox"))
        .args(["--in-memory", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // Close the pipe's read end before the sandbox has started: its banner meets a broken pipe.
    drop(child.stdout.take());
    let url = format!("http://127.0.0.1:{port}/pa/v3/status");
    let mut answered = false;
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if reqwest::Client::new().post(&url).send().await.is_ok() {
            answered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let exited = child.try_wait().unwrap();
    child.kill().ok();
    child.wait().unwrap();
    assert_eq!(
        exited, None,
        "the sandbox exited when its stdout was closed"
    );
    assert!(answered, "the sandbox did not answer on {url}");
}
