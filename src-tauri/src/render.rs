//! How the window renders: the GL driver stays out of the app process.
//!
//! On Linux, GDK opens GLX when it opens the X display, and WebKitGTK's UI process opens an
//! EGL display to learn the render node and to import the web process's frames. With Mesa's
//! software driver each of these maps `libLLVM` (about 49 MB with the driver) into the app
//! process, which draws nothing with GL itself. Four settings keep it out:
//!
//! | variable | value | effect |
//! |---|---|---|
//! | `GDK_GL` | `disable` | GDK opens no GLX |
//! | `WEBKIT_DISABLE_DMABUF_RENDERER` | `1` | no EGL import of the web process's frames |
//! | `WEBKIT_WEB_RENDER_DEVICE_FILE` | the first `/dev/dri/renderD*` | WebKit takes the render node from it instead of asking an EGL display |
//! | `WEBKIT_DISABLE_COMPOSITING_MODE` | `1` | the web process paints on the CPU (and needs about 115 MB less) |
//!
//! They must be in the environment before GTK starts, and setting a variable from inside a
//! running process is `unsafe` in Rust 2024, so the app starts itself again once with them
//! (`exec`: the same process id, the same arguments). The web process inherits them.
//!
//! ## What it refuses to do
//!
//! It never overrides a variable the user set (even to an empty value), never starts itself
//! more than once (a marker variable says it already did), and does nothing without a
//! display or with `TOKENSIM_GL=on`, which leaves GDK and WebKitGTK to choose as they would.
//! A failed `exec` is logged and the app goes on with WebKitGTK's defaults.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// `on`: GDK and WebKitGTK render as they would by default (GL in the app process).
pub const OPT_OUT: &str = "TOKENSIM_GL";
/// Set in the environment of the app started again, so it does not start itself a third time.
pub const APPLIED: &str = "TOKENSIM_GL_SETTINGS";

/// The render node WebKit is given when the machine has none (no `/dev/dri`): the web process
/// then finds no GBM device and renders through a surfaceless display, as it does when an EGL
/// display names no render node.
pub const FALLBACK_RENDER_NODE: &str = "/dev/dri/renderD128";

/// The variables this module sets, in the order it sets them.
pub const SETTINGS: [&str; 4] = [
    "GDK_GL",
    "WEBKIT_DISABLE_DMABUF_RENDERER",
    "WEBKIT_WEB_RENDER_DEVICE_FILE",
    "WEBKIT_DISABLE_COMPOSITING_MODE",
];

/// What to do at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Start again with these variables added (names and values).
    Restart(Vec<(&'static str, OsString)>),
    /// Start the window as it is: the reason, for the log.
    Keep(&'static str),
}

/// A `TOKENSIM_GL` value that is neither `on` nor `off`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{OPT_OUT}={0:?}: use on (GL in the app process, WebKitGTK's defaults) or off (the default: no GL driver in the app process)"
)]
pub struct BadOptOut(pub String);

/// The plan for an environment (`var` reads one variable) and the machine's render nodes.
pub fn plan(
    var: impl Fn(&str) -> Option<OsString>,
    render_nodes: &[PathBuf],
) -> Result<Plan, BadOptOut> {
    match var(OPT_OUT)
        .as_deref()
        .map(OsStr::to_string_lossy)
        .as_deref()
    {
        None | Some("") | Some("off") => {}
        Some("on") => return Ok(Plan::Keep("TOKENSIM_GL=on")),
        Some(other) => return Err(BadOptOut(other.to_owned())),
    }
    if var(APPLIED).is_some() {
        return Ok(Plan::Keep("already started with the settings"));
    }
    if var("DISPLAY").is_none() && var("WAYLAND_DISPLAY").is_none() {
        return Ok(Plan::Keep("no display"));
    }
    let node = render_nodes
        .first()
        .map(|p| p.as_os_str().to_owned())
        .unwrap_or_else(|| FALLBACK_RENDER_NODE.into());
    let [gdk_gl, dmabuf, render_device, compositing] = SETTINGS;
    let wanted: [(&'static str, OsString); 4] = [
        (gdk_gl, "disable".into()),
        (dmabuf, "1".into()),
        (render_device, node),
        (compositing, "1".into()),
    ];
    let missing: Vec<_> = wanted
        .into_iter()
        .filter(|(name, _)| var(name).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(Plan::Keep("the settings are already in the environment"));
    }
    Ok(Plan::Restart(missing))
}

/// The machine's DRM render nodes (`renderD128`, …), sorted; empty without `/dev/dri`.
pub fn render_nodes(dri: &Path) -> Vec<PathBuf> {
    let mut nodes: Vec<PathBuf> = std::fs::read_dir(dri)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("renderD"))
        .map(|e| e.path())
        .collect();
    nodes.sort();
    nodes
}

/// Applies the plan for this process: returns only if the app goes on as it is (no restart
/// needed, or the restart failed, which is logged). `Err` for a bad `TOKENSIM_GL`.
#[cfg(target_os = "linux")]
pub fn apply() -> Result<(), BadOptOut> {
    use std::os::unix::process::CommandExt;
    let plan = plan(
        |name| std::env::var_os(name),
        &render_nodes(Path::new("/dev/dri")),
    )?;
    let added = match plan {
        Plan::Keep(why) => {
            tracing::debug!(
                args = ?std::env::args_os().skip(1).collect::<Vec<_>>(),
                settings = ?SETTINGS.map(|name| (name, std::env::var_os(name))),
                "window rendering as it is: {why}"
            );
            return Ok(());
        }
        Plan::Restart(added) => added,
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::warn!(
                "cannot find the app's own binary to start it without GL ({e}); the GL driver stays in the app process"
            );
            return Ok(());
        }
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(&exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command.args(args).env(APPLIED, "1");
    for (name, value) in &added {
        command.env(name, value);
    }
    // Only returns on failure.
    let e = command.exec();
    tracing::warn!(
        "cannot start {} again without GL ({e}); the GL driver stays in the app process",
        exe.display()
    );
    Ok(())
}

/// Other systems: nothing to do.
#[cfg(not(target_os = "linux"))]
pub fn apply() -> Result<(), BadOptOut> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn names(plan: &Plan) -> Vec<&'static str> {
        match plan {
            Plan::Restart(added) => added.iter().map(|(n, _)| *n).collect(),
            Plan::Keep(_) => vec![],
        }
    }

    #[test]
    fn a_display_gets_all_four_settings_with_the_first_render_node() {
        let nodes = [
            PathBuf::from("/dev/dri/renderD128"),
            PathBuf::from("/dev/dri/renderD129"),
        ];
        let plan = plan(env(&[("DISPLAY", ":1")]), &nodes).unwrap();
        assert_eq!(
            plan,
            Plan::Restart(vec![
                ("GDK_GL", "disable".into()),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", "1".into()),
                (
                    "WEBKIT_WEB_RENDER_DEVICE_FILE",
                    "/dev/dri/renderD128".into()
                ),
                ("WEBKIT_DISABLE_COMPOSITING_MODE", "1".into()),
            ])
        );
    }

    #[test]
    fn a_machine_without_render_nodes_names_the_fallback() {
        let Plan::Restart(added) = plan(env(&[("WAYLAND_DISPLAY", "wayland-0")]), &[]).unwrap()
        else {
            panic!("no restart");
        };
        assert!(added.contains(&("WEBKIT_WEB_RENDER_DEVICE_FILE", FALLBACK_RENDER_NODE.into())));
    }

    #[test]
    fn the_users_own_values_are_kept() {
        let plan = plan(
            env(&[
                ("DISPLAY", ":1"),
                ("GDK_GL", "gles"),
                ("WEBKIT_DISABLE_COMPOSITING_MODE", ""),
            ]),
            &[],
        )
        .unwrap();
        assert_eq!(
            names(&plan),
            [
                "WEBKIT_DISABLE_DMABUF_RENDERER",
                "WEBKIT_WEB_RENDER_DEVICE_FILE"
            ]
        );
    }

    #[test]
    fn no_restart_when_all_are_set_after_a_restart_without_display_or_when_turned_off() {
        let all = [
            ("DISPLAY", ":1"),
            ("GDK_GL", "disable"),
            ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
            ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/dri/renderD128"),
            ("WEBKIT_DISABLE_COMPOSITING_MODE", "1"),
        ];
        assert!(matches!(plan(env(&all), &[]), Ok(Plan::Keep(_))));
        // The marker stops a loop even if something removed a variable in between.
        assert!(matches!(
            plan(env(&[("DISPLAY", ":1"), (APPLIED, "1")]), &[]),
            Ok(Plan::Keep(_))
        ));
        assert!(matches!(plan(env(&[]), &[]), Ok(Plan::Keep("no display"))));
        assert!(matches!(
            plan(env(&[("DISPLAY", ":1"), (OPT_OUT, "on")]), &[]),
            Ok(Plan::Keep(_))
        ));
        assert!(matches!(
            plan(env(&[("DISPLAY", ":1"), (OPT_OUT, "off")]), &[]),
            Ok(Plan::Restart(_))
        ));
    }

    #[test]
    fn a_bad_opt_out_value_says_what_to_use() {
        let error = plan(env(&[("DISPLAY", ":1"), (OPT_OUT, "yes")]), &[]).unwrap_err();
        assert_eq!(error, BadOptOut("yes".into()));
        assert!(error.to_string().contains("use on"), "{error}");
    }

    #[test]
    fn render_nodes_are_listed_sorted_and_only_render_nodes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["renderD129", "card0", "renderD128", "by-path"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(
            render_nodes(dir.path()),
            [dir.path().join("renderD128"), dir.path().join("renderD129")]
        );
        assert!(render_nodes(&dir.path().join("missing")).is_empty());
    }
}
