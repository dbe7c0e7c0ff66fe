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
        let mut all = Vec::new();
        if json {
            all.push("--json");
        }
        all.extend(["--device", self.device.as_str()]);
        all.extend_from_slice(args);
        let run = self.world.run(&all).await;
        let shown = args.join(" ");
        let flag = if json { "--json " } else { "" };
        let _ = writeln!(self.text, "$ tokensim {flag}{shown}   (exit {})", run.code);
        if json {
            let value: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"));
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
