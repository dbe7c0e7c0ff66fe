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
    let stdout = child.stdout.take().unwrap();
    // Read through the last line: a reader that hung up earlier would make the binary's
    // next print fail with a broken pipe.
    let mut lines: Vec<String> = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let last = line.starts_with("Press Ctrl-C");
        lines.push(line);
        if last {
            break;
        }
    }
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
