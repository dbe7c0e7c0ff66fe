//! The harness: a real sandbox in this process on a random port, a scratch data folder per
//! test (encrypted file store), and the built `tokensim` binary run as a subprocess.

use std::path::Path;
use std::process::{Output, Stdio};

use powerauth::ProtocolVersion;
use sandbox::{Config, Sandbox};
use serde_json::Value;
use tempfile::TempDir;
use tokensim_backend::{Cloud, InitActivation, Rest};

pub const BIN: &str = env!("CARGO_BIN_EXE_tokensim");
pub const PIN: &str = "1234";
pub const PASSPHRASE: &str = "e2e store passphrase";

/// A sandbox and a scratch data folder.
pub struct World {
    pub sandbox: Sandbox,
    pub dir: TempDir,
    pub config: String,
    pub http: reqwest::Client,
}

/// A finished `tokensim` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit code 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        &self.stdout
    }

    /// stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:#?}"))
    }

    /// Asserts a failure with `code` and the JSON error `kind`; returns the error object.
    #[track_caller]
    pub fn failed(&self, code: i32, kind: &str) -> Value {
        assert_eq!(self.code, code, "{self:#?}");
        let error = self.json();
        assert_eq!(error["kind"], kind, "{self:#?}");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert!(
            error["hint"].as_str().is_some_and(|h| !h.is_empty()),
            "{self:#?}"
        );
        error
    }
}

impl World {
    pub async fn start() -> Self {
        // The sandbox's warnings and errors, shown with a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn,sqlx=warn"))
            .with_test_writer()
            .try_init();
        let sandbox = Sandbox::start(Config::in_memory()).await.unwrap();
        let config = sandbox.default_mobile_sdk_config().await.unwrap().unwrap();
        Self {
            sandbox,
            dir: tempfile::tempdir().unwrap(),
            config,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self) -> &str {
        self.sandbox.url()
    }

    /// `tokensim` with the scratch data folder, the store passphrase and the PIN in its
    /// environment, and nothing inherited that could change what it does.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        self.command_in(self.dir.path(), args)
    }

    pub fn command_in(&self, dir: &Path, args: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("TOKENSIM_DATA_DIR", dir)
            .env("TOKENSIM_PASSPHRASE", PASSPHRASE)
            .env("TOKENSIM_PIN", PIN)
            .env(
                "TOKENSIM_CLOUD_PASSWORD",
                &self.sandbox.integration().password,
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        output(self.command(args)).await
    }

    /// Runs with `--json` and expects success; returns stdout as JSON.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut with_json = vec!["--json"];
        with_json.extend_from_slice(args);
        let run = self.run(&with_json).await;
        run.ok();
        run.json()
    }

    /// `tokensim activate` against this world's sandbox and application, then `rest`: the
    /// code's source (`--qr`, `--code`, `--image`) and any other option, global ones included.
    pub fn activate<'a>(&'a self, rest: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["activate", "--server", self.url(), "--config", &self.config];
        args.extend_from_slice(rest);
        args
    }

    /// The sandbox's `/rest/v3`.
    pub fn backend(&self) -> Rest {
        Rest::new(self.http.clone(), self.url())
    }

    /// `/rest/v3` call that must succeed; returns `responseObject`.
    pub async fn rest(&self, path: &str, request: Value) -> Value {
        self.backend()
            .call(path, request)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The Cloud API as the bank's `integration` user.
    pub fn cloud(&self) -> Cloud {
        let integration = self.sandbox.integration();
        Cloud::new(
            self.http.clone(),
            self.url(),
            &integration.username,
            &integration.password,
        )
    }

    /// A new activation for `user`: (activation id, code, signature).
    pub async fn init(&self, user: &str) -> (String, String, String) {
        let init = self
            .backend()
            .init_activation(&InitActivation {
                user_id: user.to_owned(),
                application_id: "tokensim".to_owned(),
                ..InitActivation::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (
            init.activation_id,
            init.activation_code,
            init.activation_signature,
        )
    }

    pub async fn commit(&self, activation_id: &str) {
        self.backend()
            .commit_activation(activation_id)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Activates a device named `name` for `user` through the CLI with the QR payload and
    /// commits it; returns (device id, activation id).
    pub async fn device(
        &self,
        user: &str,
        name: &str,
        version: ProtocolVersion,
    ) -> (String, String) {
        let (activation_id, code, signature) = self.init(user).await;
        let qr = format!("{code}#{signature}");
        let out = self
            .json(&self.activate(&["--qr", &qr, "--name", name, "--version", version.as_str()]))
            .await;
        assert_eq!(out["activationId"], activation_id.as_str());
        self.commit(&activation_id).await;
        (out["id"].as_str().unwrap().to_owned(), activation_id)
    }
}

/// Runs `command` to completion off the async threads (the sandbox runs on them).
pub async fn output(mut command: std::process::Command) -> Run {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    Run::from_output(output)
}

/// A PNG of `text` as a QR code, `module` pixels per module.
pub fn qr_png(text: &str, module: u32) -> Vec<u8> {
    use image::{GrayImage, Luma};
    use qrcode::{Color, QrCode};
    let code = QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let size = (width + 2 * quiet) * module;
    let image = GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = mx >= quiet && my >= quiet && mx < width + quiet && my < width + quiet;
        let dark = inside && colors[((my - quiet) * width + (mx - quiet)) as usize] == Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    });
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).unwrap();
    png.into_inner()
}
