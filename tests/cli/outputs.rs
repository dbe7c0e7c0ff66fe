//! The text and `--json` outputs scripts and people read, pinned as insta snapshots
//! (`tests/cli/snapshots/`), with what changes from run to run (ids, times, ports,
//! signatures, keys, paths) replaced by a mark. A changed output fails here; review it with
//! `cargo insta review` and commit the new snapshot with the change that made it.

use crate::common::World;
use crate::device::payment;
use powerauth::ProtocolVersion;
use std::fmt::Write as _;

/// What changes between runs, and the mark that replaces it.
const FILTERS: &[(&str, &str)] = &[
    (r"http://127\.0\.0\.1:\d+", "[server]"),
    (
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "[uuid]",
    ),
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
        "[time]",
    ),
    (
        r#"\b(pa_application_key|pa_signature|pa_nonce|token_digest|nonce|timestamp)=(\\?)"[^"\\]*\\?""#,
        r#"$1=$2"[…]$2""#,
    ),
    (r#""fetchedAtMs": \d+"#, r#""fetchedAtMs": "[ms]""#),
    (r"\b\d{8}-\d{8}\b", "[offline-signature]"),
    (r"\b\d{4} \d{4} \d{4} \d{4}\b", "[offline-display]"),
    (r#""/tmp/[^"]*""#, r#""[dir]""#),
];

/// One command's text and JSON, as a transcript.
struct Transcript<'w> {
    world: &'w World,
    device: String,
    text: String,
}

impl Transcript<'_> {
    /// `tokensim ARGS` and `tokensim --json ARGS` on the device (`args` and `json_args`
    /// differ for commands that change state: each form gets its own object).
    async fn both(&mut self, args: &[&str], json_args: &[&str]) {
        self.one(false, args).await;
        self.one(true, json_args).await;
    }

    async fn one(&mut self, json: bool, args: &[&str]) {
        let device = self.device.clone();
        let mut all = vec!["--device", device.as_str()];
        all.extend_from_slice(args);
        let command = self.world.command(&[]);
        self.record(json, command, &all, args, &[]).await;
    }

    /// Runs `command` with `args` (and `--json` first when `json`), and writes it as
    /// `$ tokensim SHOWN` with its output: JSON pretty-printed with the values of
    /// `volatile` keys replaced by a mark.
    async fn record(
        &mut self,
        json: bool,
        mut command: std::process::Command,
        args: &[&str],
        shown: &[&str],
        volatile: &[&str],
    ) {
        if json {
            command.arg("--json");
        }
        command.args(args);
        let run = crate::common::output(command).await;
        let shown = shown.join(" ");
        let flag = if json { "--json " } else { "" };
        let _ = writeln!(self.text, "$ tokensim {flag}{shown}   (exit {})", run.code);
        if json {
            let mut value: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"));
            redact(&mut value, volatile);
            let _ = writeln!(
                self.text,
                "{}",
                serde_json::to_string_pretty(&value).unwrap()
            );
        } else {
            self.text.push_str(&run.stdout);
            if run.code != 0 {
                self.text.push_str(&run.stderr);
            }
        }
        self.text.push('\n');
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_device_commands() {
    let world = World::start().await;
    let user = "snapshots";
    let (device, _) = world.device(user, "phone", ProtocolVersion::V3_3).await;
    let mut t = Transcript {
        world: &world,
        device,
        text: String::new(),
    };
    t.both(&["status"], &["status"]).await;
    let sign = [
        "sign",
        "--method",
        "post",
        "--uri-id",
        "/pa/test",
        "--body",
        "{}",
        "--factors",
        "possession,knowledge",
        "--verify",
    ];
    t.both(&sign, &sign).await;
    let data = ["sign-data", "--data", "I agree", "--verify"];
    t.both(&data, &data).await;

    t.both(&["tokens", "list"], &["tokens", "list"]).await;
    t.both(
        &["tokens", "create", "--name", "one"],
        &["tokens", "create", "--name", "two"],
    )
    .await;
    t.both(&["tokens", "list"], &["tokens", "list"]).await;
    t.both(&["tokens", "header", "one"], &["tokens", "header", "one"])
        .await;
    t.both(&["tokens", "remove", "one"], &["tokens", "remove", "two"])
        .await;

    let first = payment(&world, user).await;
    let second = payment(&world, user).await;
    let third = payment(&world, user).await;
    let fourth = payment(&world, user).await;
    t.one(true, &["ops", "list"]).await;
    t.both(&["ops", "show", &first], &["ops", "show", &first])
        .await;
    t.both(&["ops", "approve", &first], &["ops", "approve", &second])
        .await;
    t.both(
        &["ops", "reject", &third, "--reason", "INCORRECT_DATA"],
        &["ops", "reject", &fourth, "--reason", "INCORRECT_DATA"],
    )
    .await;
    t.both(&["ops", "list"], &["ops", "list"]).await;

    let vault = ["vault", "unlock", "--factors", "possession,knowledge"];
    t.both(&vault, &vault).await;
    t.both(&["pin", "verify"], &["pin", "verify"]).await;
    t.both(&["biometry", "enroll"], &["biometry", "enroll"])
        .await;
    t.both(
        &["biometry", "change", "--enrollment", "face-2"],
        &["biometry", "change", "--enrollment", "face-3"],
    )
    .await;
    t.both(&["biometry", "remove"], &["biometry", "remove"])
        .await;
    t.both(&["push", "register"], &["push", "register"]).await;
    t.both(&["inbox", "list"], &["inbox", "list"]).await;
    // A failure: its kind, message, hint and exit code.
    t.both(
        &["tokens", "header", "missing"],
        &["tokens", "header", "missing"],
    )
    .await;
    t.one(true, &["remove"]).await;

    let mut settings = insta::Settings::clone_current();
    for (pattern, mark) in FILTERS {
        settings.add_filter(pattern, *mark);
    }
    settings.bind(|| insta::assert_snapshot!("device_commands", t.text));
}

/// Marks for what changes between runs in the commands below, besides [`FILTERS`]: keys
/// (Base64), fingerprints, durations and the store folder.
const MORE_FILTERS: &[(&str, &str)] = &[
    // Before [`FILTERS`]: a path inside a longer text keeps the text.
    (r"/tmp/[^\s\x22]*", "[dir]"),
    (r"[A-Za-z0-9+/]{40,}={0,2}", "[base64]"),
    (r"(fingerprint:\s+)\d{8}", "${1}[fingerprint]"),
    (r"\(saved [^,]+, counter", "(saved [time], counter"),
    (r"(?m)^([a-zA-Z]+\s+)\d{10,13}$", "${1}[ms]"),
    (
        r#"(\\?"[a-zA-Z]*(ExpiresAt|ExpiresMs|AtMs)\\?":\s*)\d+"#,
        "${1}[ms]",
    ),
    (r"expires at \d+", "expires at [s]"),
    (r"expires in \d+ s", "expires in [n] s"),
    (r"within \d+(\.\d+)? ?(ms|s)\b", "within [duration]"),
    (r"\d+ exchanges\)", "[n] exchanges)"),
    (r"API secret \S+", "API secret [secret]"),
    // The sandbox's own logins, its offline codes, the fleet's rates and timings.
    (
        r"(?m)^(  (admin|integration):\s+\S+ / )\S+$",
        "${1}[password]",
    ),
    (r"\b\d{4}-\d{4}-\d{4}-\d{4}\b", "[offline-display]"),
    (
        r"Wall time \d+(\.\d+)? s: (\d+) activated \([\d.]+ devices/s\), [\d.]+ operations/s, (\d+) requests \([\d.]+/s\)",
        "Wall time [s]: $2 activated ([rate] devices/s), [rate] operations/s, $3 requests ([rate]/s)",
    ),
    (r"(?m)(\s+\d+\.\d+){6}$", "   [timings]"),
    (r"(?m)^\d{13} ", "[ms] "),
    (r"\d+ sign calls", "[n] sign calls"),
];

/// Replaces the value of every key named in `volatile`, anywhere in `value`, with a mark
/// (what changes from run to run: times, durations, keys, fingerprints, secrets).
fn redact(value: &mut serde_json::Value, volatile: &[&str]) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if volatile.contains(&key.as_str()) && !v.is_null() {
                    *v = Value::String(format!("[{key}]"));
                } else {
                    redact(v, volatile);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| redact(v, volatile)),
        _ => {}
    }
}

/// Asserts `text` as snapshot `name` with every filter on.
fn assert_transcript(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    for (pattern, mark) in MORE_FILTERS.iter().chain(FILTERS) {
        settings.add_filter(pattern, *mark);
    }
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// What changes in a device's record and a diagnose bundle.
const DEVICE_VOLATILE: &[&str] = &[
    "applicationKey",
    "fingerprint",
    "savedAtMs",
    "statusFetchedAtMs",
    "fetchedAtMs",
    "ctrByte",
    "temporaryKeys",
    "elapsed",
    "requestBody",
    "requestHeaders",
    "responseBody",
    "responseHeaders",
    "requestPlaintext",
    "responsePlaintext",
    "exchanges",
    "tokensim",
    "os",
    "arch",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_store_commands() {
    let world = World::start().await;
    let (device, _) = world
        .device("store-snapshots", "phone", ProtocolVersion::V3_3)
        .await;
    let mut t = Transcript {
        world: &world,
        device: device.clone(),
        text: String::new(),
    };
    let v = DEVICE_VOLATILE;
    for json in [false, true] {
        t.record(
            json,
            world.command(&[]),
            &["devices", "list"],
            &["devices", "list"],
            v,
        )
        .await;
    }
    for json in [false, true] {
        let args = ["--device", &device, "devices", "show"];
        t.record(json, world.command(&[]), &args, &["devices", "show"], v)
            .await;
    }
    for (json, name) in [(false, "Phone one"), (true, "Phone two")] {
        let args = ["--device", &device, "devices", "rename", name];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["devices", "rename", name],
            v,
        )
        .await;
    }
    for (json, name) in [(false, "before"), (true, "before-json")] {
        let args = ["snapshot", "save", &device, name];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["snapshot", "save", "DEVICE", name],
            v,
        )
        .await;
    }
    world
        .json(&["--device", &device, "tokens", "create", "--name", "later"])
        .await;
    for json in [false, true] {
        let args = ["snapshot", "list", &device];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["snapshot", "list", "DEVICE"],
            v,
        )
        .await;
    }
    for json in [false, true] {
        let args = ["snapshot", "diff", &device, "before"];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["snapshot", "diff", "DEVICE", "before"],
            v,
        )
        .await;
    }
    for json in [false, true] {
        let args = ["snapshot", "restore", &device, "before", "--no-check"];
        let shown = ["snapshot", "restore", "DEVICE", "before", "--no-check"];
        t.record(json, world.command(&[]), &args, &shown, v).await;
    }
    for (json, name) in [(false, "before"), (true, "before-json")] {
        let args = ["snapshot", "remove", &device, name];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["snapshot", "remove", "DEVICE", name],
            v,
        )
        .await;
    }

    // diagnose: what it prints, and the bundle it writes.
    let bundle = world.dir.path().join("bundle.json");
    let out = bundle.display().to_string();
    for json in [false, true] {
        let args = ["--device", &device, "diagnose", "--out", &out];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["diagnose", "--out", "bundle.json"],
            v,
        )
        .await;
    }
    let mut written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    redact(&mut written, v);
    let _ = writeln!(
        t.text,
        "bundle.json:\n{}\n",
        serde_json::to_string_pretty(&written).unwrap()
    );

    // Export and import, the cmd-tool's status file.
    let exported = world.dir.path().join("phone.bundle");
    let exported = exported.display().to_string();
    for json in [false, true] {
        let mut command = world.command(&[]);
        command.env("TOKENSIM_BUNDLE_PASSPHRASE", "bundle passphrase");
        let args = ["--device", &device, "devices", "export", "--out", &exported];
        t.record(
            json,
            command,
            &args,
            &["devices", "export", "--out", "phone.bundle"],
            v,
        )
        .await;
    }
    for (json, name) in [(false, "imported-one"), (true, "imported-two")] {
        let mut command = world.command(&[]);
        command.env("TOKENSIM_BUNDLE_PASSPHRASE", "bundle passphrase");
        let args = ["devices", "import", &exported, "--name", name];
        t.record(
            json,
            command,
            &args,
            &["devices", "import", "phone.bundle", "--name", name],
            v,
        )
        .await;
    }
    let status = world.dir.path().join("status.json");
    let status = status.display().to_string();
    for json in [false, true] {
        let args = ["devices", "export-cmdtool", &device, &status];
        let shown = ["devices", "export-cmdtool", "DEVICE", "status.json"];
        t.record(json, world.command(&[]), &args, &shown, v).await;
    }
    // The cmd-tool's file back in (the import unlocks the vault once on the server).
    let url = world.url().to_owned();
    for (json, name) in [(false, "cmdtool-one"), (true, "cmdtool-two")] {
        let args = [
            "devices",
            "import-cmdtool",
            &status,
            "--config",
            &world.config,
            "--server",
            &url,
            "--name",
            name,
        ];
        let shown = [
            "devices",
            "import-cmdtool",
            "status.json",
            "--config",
            "CONFIG",
            "--server",
            "URL",
            "--name",
            name,
        ];
        t.record(json, world.command(&[]), &args, &shown, v).await;
    }
    for json in [false, true] {
        let args = ["--device", "imported-one", "devices", "remove-local"];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["--device", "imported-one", "devices", "remove-local"],
            v,
        )
        .await;
        // Gone: the second form fails with the store's error.
    }

    // Completions: the script itself is clap's; its first line and size are enough.
    let run = world.run(&["--json", "completions", "bash"]).await;
    let mut value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let script = value["script"].as_str().unwrap().to_owned();
    assert!(script.lines().count() > 100, "a whole script: {script}");
    assert!(script.contains("tokensim"), "{script}");
    value["script"] =
        serde_json::Value::String(format!("{} …", script.lines().next().unwrap_or_default()));
    let _ = writeln!(
        t.text,
        "$ tokensim --json completions bash   (exit {})\n{}\n",
        run.code,
        serde_json::to_string_pretty(&value).unwrap()
    );

    assert_transcript("store_commands", &t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_server_commands() {
    let world = World::start().await;
    let (device, _) = world
        .device("server-snapshots", "phone", ProtocolVersion::V3_3)
        .await;
    let mut t = Transcript {
        world: &world,
        device: device.clone(),
        text: String::new(),
    };
    let url = world.url().to_owned();
    let config = world.config.clone();
    // Durations and rates of the fleet, the doctor's measured clock offset.
    let v: &[&str] = &[
        "clockOffsetMs",
        "devicesPerSecond",
        "operationsPerSecond",
        "requestsPerSecond",
        "maxMs",
        "meanMs",
        "p50Ms",
        "p95Ms",
        "p99Ms",
        "totalSeconds",
        "timeline",
        "wallSeconds",
        "responseBase64",
    ];
    for json in [false, true] {
        let args = ["doctor", "--server", &url, "--config", &config];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["doctor", "--server", "URL", "--config", "CONFIG"],
            v,
        )
        .await;
    }
    for json in [false, true] {
        let args = [
            "--device",
            &device,
            "ecies",
            "--scope",
            "application",
            "--path",
            "/exchange/v3/application",
            "--data",
            r#"{"data":"snapshot"}"#,
        ];
        t.record(json, world.command(&[]), &args, &args[2..], v)
            .await;
    }
    let args = [
        "fleet",
        "--server",
        &url,
        "--config",
        &config,
        "--devices",
        "2",
        "--concurrency",
        "1",
        "--versions",
        "3.3",
        "--operations",
        "1",
        "--reject-ratio",
        "0",
    ];
    let shown = [
        "fleet",
        "--server",
        "URL",
        "--config",
        "CONFIG",
        "--devices",
        "2",
        "--concurrency",
        "1",
        "--versions",
        "3.3",
        "--operations",
        "1",
        "--reject-ratio",
        "0",
    ];
    t.record(true, world.command(&[]), &args, &shown, v).await;
    // activate, plain and under a fault (the report instead of the device).
    let fault_v: &[&str] = &["exchanges", "fingerprint", "clockOffsetMs"];
    for (json, name) in [(false, "Activated one"), (true, "Activated two")] {
        let (_, code, signature) = world.init("activate-snapshots").await;
        let qr = format!("{code}#{signature}");
        let args = world.activate(&["--qr", &qr, "--name", name]);
        let shown = [
            "activate",
            "--server",
            "URL",
            "--config",
            "CONFIG",
            "--qr",
            "CODE#SIGNATURE",
            "--name",
            name,
        ];
        t.record(json, world.command(&[]), &args, &shown, fault_v)
            .await;
    }
    for json in [false, true] {
        let (_, code, signature) = world.init("activate-snapshots").await;
        let qr = format!("{code}#{signature}");
        let args = world.activate(&["--fault", "corrupted-mac", "--qr", &qr]);
        let shown = [
            "activate",
            "--server",
            "URL",
            "--config",
            "CONFIG",
            "--fault",
            "corrupted-mac",
            "--qr",
            "CODE#SIGNATURE",
        ];
        t.record(json, world.command(&[]), &args, &shown, fault_v)
            .await;
    }
    for json in [false, true] {
        let args = [
            "--device",
            &device,
            "--fault",
            "wrong-pin",
            "vault",
            "unlock",
        ];
        let shown = ["--fault", "wrong-pin", "vault", "unlock"];
        t.record(json, world.command(&[]), &args, &shown, fault_v)
            .await;
    }

    // The sandbox's first line: where it runs and its logins (the passwords are its own).
    let mut child = world
        .command(&["--json", "sandbox", "--port", "0"])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let mut running: serde_json::Value = serde_json::from_str(&line).unwrap();
    redact(&mut running, &["password", "mobileSdkConfig"]);
    let _ = writeln!(
        t.text,
        "$ tokensim --json sandbox --port 0   (first line)\n{}\n",
        serde_json::to_string_pretty(&running).unwrap()
    );
    assert_transcript("server_commands", &t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_profile_commands() {
    let (world, _clock) = crate::profile_jwt::world_on_test_clock().await;
    let mut t = Transcript {
        world: &world,
        device: String::new(),
        text: String::new(),
    };
    let url = world.url().to_owned();
    let v: &[&str] = &[
        "jwtExpiresAt",
        "tokenExpiresAt",
        "accessExpiresMs",
        "expiresIn",
        "expiresAt",
        "projectId",
        "deviceId",
        "clientId",
        "instanceId",
        "signCalls",
    ];
    let with_password = || {
        let mut command = world.command(&[]);
        command.env("TOKENSIM_PROFILE_PASSWORD", "app server password");
        command
    };
    for json in [false, true] {
        t.record(
            json,
            world.command(&[]),
            &["profile", "list"],
            &["profile", "list"],
            v,
        )
        .await;
    }
    for (json, user) in [(false, "ann"), (true, "bob")] {
        let args = ["profile", "jwt", "enroll", "--server", &url, "--user", user];
        let shown = [
            "profile", "jwt", "enroll", "--server", "URL", "--user", user,
        ];
        t.record(json, with_password(), &args, &shown, v).await;
    }
    for json in [false, true] {
        for action in ["call", "refresh", "show"] {
            let args = ["--device", "jwt-bob", "profile", "jwt", action];
            t.record(json, world.command(&[]), &args, &args, v).await;
        }
    }
    for (json, user) in [(false, "cat"), (true, "dan")] {
        let args = [
            "profile",
            "signed-token",
            "enroll",
            "--server",
            &url,
            "--user",
            user,
        ];
        let shown = [
            "profile",
            "signed-token",
            "enroll",
            "--server",
            "URL",
            "--user",
            user,
        ];
        t.record(json, world.command(&[]), &args, &shown, v).await;
    }
    for json in [false, true] {
        for action in ["attach", "refresh", "show"] {
            let args = [
                "--device",
                "signed-token-dan",
                "profile",
                "signed-token",
                action,
            ];
            t.record(json, world.command(&[]), &args, &args, v).await;
        }
    }
    for json in [false, true] {
        let name = if json { "oauth-json" } else { "oauth-text" };
        let args = [
            "profile", "oauth", "register", "--server", &url, "--name", name,
        ];
        let shown = [
            "profile", "oauth", "register", "--server", "URL", "--name", name,
        ];
        t.record(json, world.command(&[]), &args, &shown, v).await;
        for action in ["token", "call", "show", "clear"] {
            let args = ["--device", name, "profile", "oauth", action];
            t.record(json, world.command(&[]), &args, &args, v).await;
        }
    }
    for (json, device, profile) in [
        (false, "jwt-ann", "jwt"),
        (true, "jwt-bob", "jwt"),
        (false, "signed-token-cat", "signed-token"),
        (true, "signed-token-dan", "signed-token"),
        (false, "oauth-text", "oauth"),
        (true, "oauth-json", "oauth"),
    ] {
        let args = ["--device", device, "profile", profile, "remove"];
        t.record(json, world.command(&[]), &args, &args, v).await;
    }
    for json in [false, true] {
        let mut command = world.command(&[]);
        command.env("TOKENSIM_ADMIN_PASSWORD", &world.sandbox.admin().password);
        let args = ["profile", "facemap", "credentials", "--url", &url];
        let shown = ["profile", "facemap", "credentials", "--url", "URL"];
        t.record(json, command, &args, &shown, &["apiToken", "apiSecret"])
            .await;
    }
    assert_transcript("profile_commands", &t.text);
}

/// `tokensim [--json] --device DEVICE push listen --count 1`, with one push sent through the
/// cloud API once the listener says it listens.
async fn listen_for_one_push(t: &mut Transcript<'_>, json: bool, user: &str, title: &str) {
    let device = t.device.clone();
    let mut args = vec!["--device", device.as_str()];
    if json {
        args.insert(0, "--json");
    }
    args.extend_from_slice(&["push", "listen", "--count", "1", "--wait", "30"]);
    let mut listener = t.world.command(&args).spawn().unwrap();
    let stderr = listener.stderr.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut line).map(|_| line)
    });
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), line)
        .await
        .expect("the listener connects")
        .unwrap()
        .unwrap();
    assert!(line.contains("listening for pushes"), "{line}");
    t.world
        .cloud()
        .send_push(user, None, title, "A payment waits for you.")
        .await
        .unwrap();
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tokio::task::spawn_blocking(move || listener.wait_with_output()),
    )
    .await
    .expect("the listener ends after one push")
    .unwrap()
    .unwrap();
    let flag = if json { "--json " } else { "" };
    let code = output.status.code().unwrap_or(-1);
    let _ = writeln!(
        t.text,
        "$ tokensim {flag}push listen --count 1 --wait 30   (exit {code})"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    if json {
        let mut value: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
        redact(&mut value, &["timestampCreated"]);
        let _ = writeln!(t.text, "{}", serde_json::to_string_pretty(&value).unwrap());
    } else {
        t.text.push_str(&stdout);
    }
    t.text.push('\n');
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_remaining_device_commands() {
    let world = World::start().await;
    let user = "more-snapshots";
    let (device, activation_id) = world.device(user, "phone", ProtocolVersion::V3_3).await;
    let mut t = Transcript {
        world: &world,
        device: device.clone(),
        text: String::new(),
    };
    let v: &[&str] = &[
        "nonce",
        "fetchedAtMs",
        "statusFetchedAtMs",
        "timestampCreated",
    ];
    t.both(&["status", "--sync"], &["status", "--sync"]).await;

    // pin change: 1234 to 5678 in text, back in JSON.
    for (json, old, new) in [(false, "1234", "5678"), (true, "5678", "1234")] {
        let mut command = world.command(&[]);
        command
            .env("TOKENSIM_PIN", old)
            .env("TOKENSIM_NEW_PIN", new);
        let args = ["--device", device.as_str(), "pin", "change"];
        t.record(json, command, &args, &["pin", "change"], v).await;
    }

    // ops claim: an operation without a user becomes this device's user's.
    for json in [false, true] {
        let op = crate::claim_and_proximity::rest_operation(
            &world,
            serde_json::json!({
                "applications": ["tokensim"],
                "templateName": "login",
                "parameters": {},
            }),
        )
        .await;
        let args = ["--device", device.as_str(), "ops", "claim", &op];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["ops", "claim", "OPERATION"],
            v,
        )
        .await;
        world
            .json(&["--device", &device, "ops", "approve", &op])
            .await;
    }
    t.both(&["ops", "history"], &["ops", "history"]).await;

    // offline: an offline QR of the server, signed; its payload is random each run.
    let data = powerauth::offline::operation_qr_data(
        "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6",
        "Payment",
        "Pay 100 CZK",
        "A1*A100CZK*Q238400856/0300**D20190629",
        powerauth::offline::QrFlags::parse("B"),
    );
    for json in [false, true] {
        let offline = world
            .rest(
                "/rest/v3/signature/offline/personalized/create",
                serde_json::json!({"activationId": activation_id, "data": data}),
            )
            .await;
        let payload = offline["offlineData"].as_str().unwrap().to_owned();
        let args = [
            "--device",
            device.as_str(),
            "offline",
            "--payload",
            &payload,
        ];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["offline", "--payload", "PAYLOAD"],
            v,
        )
        .await;
    }

    // push listen and inbox read.
    t.one(true, &["push", "register"]).await;
    listen_for_one_push(&mut t, false, user, "Payment waiting").await;
    listen_for_one_push(&mut t, true, user, "Another payment waiting").await;
    for (json, subject) in [(false, "Welcome"), (true, "Welcome again")] {
        world
            .cloud()
            .post_inbox_message(user, "text", subject, "Welcome", "Welcome aboard.")
            .await
            .unwrap();
        let list = world
            .json(&["--device", &device, "inbox", "list", "--unread"])
            .await;
        let id = list["messages"][0]["id"].as_str().unwrap().to_owned();
        let args = ["--device", device.as_str(), "inbox", "read", &id];
        t.record(
            json,
            world.command(&[]),
            &args,
            &["inbox", "read", "MESSAGE"],
            v,
        )
        .await;
    }
    assert_transcript("remaining_device_commands", &t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_the_remaining_profile_commands() {
    let (world, clock) = crate::profile_jwt::world_on_test_clock().await;
    let mut t = Transcript {
        world: &world,
        device: String::new(),
        text: String::new(),
    };
    let url = world.url().to_owned();
    let v: &[&str] = &[
        "jwtExpiresAt",
        "tokenExpiresAt",
        "accessExpiresMs",
        "expiresIn",
        "expiresAt",
        "projectId",
        "deviceId",
        "clientId",
        "instanceId",
        "signCalls",
        "userCode",
        "at",
        "atMs",
    ];
    // signed-token: the project setting and the access history.
    world
        .json(&[
            "profile",
            "signed-token",
            "enroll",
            "--server",
            &url,
            "--user",
            "eve",
        ])
        .await;
    world.json(&["profile", "signed-token", "attach"]).await;
    for (json, required) in [(false, "false"), (true, "true")] {
        let args = [
            "profile",
            "signed-token",
            "project",
            "--require-signed",
            required,
        ];
        t.record(json, world.command(&[]), &args, &args, v).await;
        if !json {
            // Optional now: an unsigned attach is accepted, and shows in the history (a
            // second later: accesses of the same millisecond have no fixed order).
            clock.advance(1_000);
            world
                .json(&["profile", "signed-token", "attach", "--unsigned"])
                .await;
        }
    }
    for json in [false, true] {
        let args = ["profile", "signed-token", "history"];
        t.record(json, world.command(&[]), &args, &args, v).await;
    }

    // oauth: the device flow, approved through the sandbox, then revoke.
    for json in [false, true] {
        let name = if json { "tv-json" } else { "tv-text" };
        world
            .json(&[
                "profile",
                "oauth",
                "register",
                "--server",
                &url,
                "--name",
                name,
                "--device-flow",
                "--device-id",
                "/vendor/acme/serial/1234",
            ])
            .await;
        for action in [&["device", "--approve"][..], &["revoke"][..]] {
            let args = [&["--device", name, "profile", "oauth"][..], action].concat();
            t.record(json, world.command(&[]), &args, &args, v).await;
        }
    }

    // The jwt profile's api-key mode.
    for (json, name) in [(false, "kiosk-text"), (true, "kiosk-json")] {
        let args = [
            "profile", "api-key", "enroll", "--server", &url, "--name", name,
        ];
        let shown = [
            "profile", "api-key", "enroll", "--server", "URL", "--name", name,
        ];
        t.record(json, world.command(&[]), &args, &shown, v).await;
        let args = ["--device", name, "profile", "api-key", "call"];
        t.record(json, world.command(&[]), &args, &args, v).await;
    }
    assert_transcript("remaining_profile_commands", &t.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_of_fleet_and_sandbox_in_text() {
    let world = World::start().await;
    let mut t = Transcript {
        world: &world,
        device: String::new(),
        text: String::new(),
    };
    let url = world.url().to_owned();
    let config = world.config.clone();
    let args = [
        "fleet",
        "--server",
        &url,
        "--config",
        &config,
        "--devices",
        "2",
        "--concurrency",
        "1",
        "--versions",
        "3.3",
        "--operations",
        "1",
        "--reject-ratio",
        "0",
    ];
    let mut shown = args;
    shown[2] = "URL";
    shown[4] = "CONFIG";
    t.record(false, world.command(&[]), &args, &shown, &[])
        .await;

    // The sandbox's first lines in text: where it runs and its logins.
    let mut child = world.command(&["sandbox", "--port", "0"]).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut text = String::new();
        for _ in 0..40 {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0 {
                break;
            }
            let last = line.trim().is_empty();
            text.push_str(&line);
            if last && !text.trim().is_empty() {
                break;
            }
        }
        text
    })
    .await
    .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let _ = writeln!(
        t.text,
        "$ tokensim sandbox --port 0   (first lines)\n{lines}"
    );
    assert_transcript("fleet_and_sandbox_text", &t.text);
}
