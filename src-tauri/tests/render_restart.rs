//! The app's start-up restart with the settings that keep the GL driver out of its process
//! (`tokensim_app::render`), on the real binary: it starts itself again once, with its
//! arguments, keeps a user's own value, and `TOKENSIM_GL` turns it off or is refused.
//!
//! The display named here has no X server, so the app ends after the restart with an error
//! saying so (not tao's panic); what it logged before that (at debug level) is checked too.
#![cfg(target_os = "linux")]

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(extra_env: &[(&str, &str)]) -> (Output, String) {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tokensim-app"));
    command
        .args(["first", "two words"])
        .env("DISPLAY", ":4242")
        .env_remove("WAYLAND_DISPLAY")
        .env("TOKENSIM_STORE", "memory")
        .env("TOKENSIM_SANDBOX", "memory")
        .env("TOKENSIM_DATA_DIR", data.path())
        .env("RUST_LOG", "tokensim_app::render=debug")
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in [
        "GDK_GL",
        "WEBKIT_DISABLE_DMABUF_RENDERER",
        "WEBKIT_WEB_RENDER_DEVICE_FILE",
        "WEBKIT_DISABLE_COMPOSITING_MODE",
        "TOKENSIM_GL",
        "TOKENSIM_GL_SETTINGS",
    ] {
        command.env_remove(name);
    }
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the app did not end within 60 s (a restart loop?)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, log)
}

#[test]
fn the_app_starts_itself_again_once_with_its_arguments_and_the_users_own_value() {
    let (_, log) = run(&[("GDK_GL", "gles")]);
    let kept: Vec<_> = log
        .lines()
        .filter(|l| l.contains("window rendering as it is"))
        .collect();
    assert_eq!(kept.len(), 1, "{log}");
    let line = kept[0];
    assert!(line.contains("already started with the settings"), "{line}");
    assert!(line.contains(r#"args=["first", "two words"]"#), "{line}");
    assert!(line.contains(r#"("GDK_GL", Some("gles"))"#), "{line}");
    assert!(
        line.contains(r#"("WEBKIT_DISABLE_DMABUF_RENDERER", Some("1"))"#),
        "{line}"
    );
    assert!(
        line.contains(r#"("WEBKIT_DISABLE_COMPOSITING_MODE", Some("1"))"#),
        "{line}"
    );
    assert!(
        line.contains(r#"("WEBKIT_WEB_RENDER_DEVICE_FILE", Some("/dev/dri/renderD"#),
        "{line}"
    );
}

#[test]
fn tokensim_gl_on_keeps_webkitgtks_defaults() {
    let (_, log) = run(&[("TOKENSIM_GL", "on")]);
    let line = log
        .lines()
        .find(|l| l.contains("window rendering as it is"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(line.contains("TOKENSIM_GL=on"), "{line}");
    assert!(line.contains(r#"("GDK_GL", None)"#), "{line}");
    assert!(
        line.contains(r#"("WEBKIT_DISABLE_COMPOSITING_MODE", None)"#),
        "{line}"
    );
}

#[test]
fn a_bad_tokensim_gl_is_refused_with_what_to_use() {
    let (output, log) = run(&[("TOKENSIM_GL", "maybe")]);
    assert!(!output.status.success());
    assert!(
        log.contains(r#"error: TOKENSIM_GL="maybe": use on"#),
        "{log}"
    );
}

#[test]
fn a_display_that_does_not_answer_is_an_error_in_words_not_a_panic() {
    let (output, log) = run(&[]);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        log.contains(r#"error: cannot open the window: no display answers at DISPLAY=":4242""#),
        "{log}"
    );
    assert!(log.contains("unset DISPLAY and WAYLAND_DISPLAY"), "{log}");
}
