//! # tokensim-app
//!
//! The TokenSim desktop app: a Tauri 2 window (Svelte UI in `ui/`) over the simulated token
//! engine (`tokensim-device`), with the PowerAuth sandbox embedded so a tester can start
//! without any server.
//!
//! The Rust side is a thin command layer ([`commands`]): each command converts its
//! arguments and makes one call into [`core::Core`], which calls the engine. The window
//! never holds a key: PINs go in as arguments, only public facts, operation texts and
//! redacted inspector events come out ([`types`], exported to TypeScript).
//!
//! With no display, [`main`] runs the same flow in the terminal ([`terminal`]).
//!
//! ## Environment
//!
//! - `TOKENSIM_STORE`: `keychain` (default; memory with a warning when there is none),
//!   `file` (with `TOKENSIM_PASSPHRASE`) or `memory`.
//! - `TOKENSIM_DATA_DIR`: where the device store lives (default: the CLI's folder).
//! - `TOKENSIM_SANDBOX`: `file` (default: a SQLite file in the data folder, port
//!   `TOKENSIM_SANDBOX_PORT`, 47300) or `memory` (in memory, random port).
//! - `TOKENSIM_FRAMES`: a folder of images the scanner's "folder" source reads.
//! - `TOKENSIM_POLL_SECONDS`: seconds between operation polls (default 5).
//! - `TOKENSIM_GL`: `off` (default: no GL driver in the app process, see [`render`]) or `on`
//!   (GDK and WebKitGTK render as they would by default).
//!
//! ## What it refuses to do
//!
//! It has no protocol logic of its own, never sends a secret to the web view, and never
//! falls back silently: a missing keychain, camera or display is said in words.
#![warn(unreachable_pub)]

pub mod clipboard;
pub mod commands;
pub mod core;
pub mod devices;
pub mod devtools;
pub mod error;
pub mod fleet;
pub mod frames;
pub mod inbox;
pub mod inspector;
pub mod offline;
pub mod pending;
pub mod profiles;
pub mod profiles_oauth;
pub mod proximity;
pub mod qr_image;
pub mod render;
pub mod scan;
pub mod server;
pub mod terminal;
pub mod types;
pub mod watch;

use crate::commands::PollInterval;
use crate::core::Core;
use crate::devices::{DeviceBook, StoreChoice};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

/// Settings read from the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Device store folder.
    pub store_folder: PathBuf,
    /// Secret backend.
    pub store: StoreChoice,
    /// The sandbox's SQLite file, or `None` for memory.
    pub sandbox_database: Option<PathBuf>,
    /// The sandbox's port (0: any).
    pub sandbox_port: u16,
    /// Poll interval, seconds.
    pub poll_seconds: u32,
}

impl Settings {
    /// From `TOKENSIM_*` variables (see the crate docs).
    pub fn from_env() -> Result<Self, types::AppError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let data_dir = match var("TOKENSIM_DATA_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => dirs::data_dir()
                .map(|d| d.join("tokensim"))
                .ok_or_else(|| {
                    types::AppError::new("STORE", "no user data folder: set TOKENSIM_DATA_DIR")
                })?,
        };
        let store_folder = match var("TOKENSIM_DATA_DIR") {
            Some(_) => data_dir.join("devices"),
            None => {
                tokensim_wallet::default_folder().map_err(|e| types::AppError::new("STORE", e))?
            }
        };
        let store = match var("TOKENSIM_STORE").as_deref() {
            None | Some("keychain") => StoreChoice::Default,
            Some("file") => StoreChoice::File,
            Some("memory") => StoreChoice::Memory,
            Some(other) => {
                return Err(types::AppError::new(
                    "STORE",
                    format!("TOKENSIM_STORE={other}: use keychain, file or memory"),
                ));
            }
        };
        let memory = var("TOKENSIM_SANDBOX").as_deref() == Some("memory");
        Ok(Self {
            store_folder,
            store,
            sandbox_database: (!memory).then(|| data_dir.join("sandbox.db")),
            sandbox_port: if memory {
                0
            } else {
                var("TOKENSIM_SANDBOX_PORT")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(47300)
            },
            poll_seconds: var("TOKENSIM_POLL_SECONDS")
                .and_then(|p| p.parse().ok())
                .unwrap_or(5)
                .clamp(1, 600),
        })
    }
}

/// The binary's entry point: the window, or the terminal flow without a display.
pub fn main() -> ExitCode {
    // Before any thread: glibc's malloc would make up to 8 arenas per core (see
    // `tokensim_memory`), each keeping what its threads freed.
    tokensim_memory::bound_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Before GTK: the app starts itself again once with the settings that keep the GL driver
    // out of its process (see `render`); returns when no restart is needed or it failed.
    if let Err(e) = render::apply() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !display {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        // The terminal demo keeps its device in memory: it is a walkthrough, not a token.
        let book = match DeviceBook::open(
            &std::env::temp_dir().join(format!("tokensim-demo-{}", std::process::id())),
            StoreChoice::Memory,
        ) {
            Ok(book) => book,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        return match Core::new(book) {
            Ok(core) => runtime.block_on(terminal::run(Arc::new(core))),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if let Err(e) = open_display() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    match window(settings) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the display before the window: tao panics ("Failed to initialize gtk backend!") when
/// the display named in `DISPLAY` or `WAYLAND_DISPLAY` does not answer. GTK stays initialised
/// on this (the main) thread, and tao's own `gtk::init` is then a no-op.
#[cfg(target_os = "linux")]
fn open_display() -> Result<(), String> {
    gtk::init().map_err(|_| {
        let named = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
        let display = match (named("WAYLAND_DISPLAY"), named("DISPLAY")) {
            (Some(w), Some(x)) => format!("WAYLAND_DISPLAY={w:?} nor DISPLAY={x:?}"),
            (Some(w), None) => format!("WAYLAND_DISPLAY={w:?}"),
            (None, Some(x)) => format!("DISPLAY={x:?}"),
            (None, None) => "the default display".to_owned(),
        };
        format!(
            "cannot open the window: no display answers at {display}. Start that X server or \
             Wayland compositor (under CI: xvfb-run), or unset DISPLAY and WAYLAND_DISPLAY for \
             the terminal walkthrough"
        )
    })
}

#[cfg(not(target_os = "linux"))]
fn open_display() -> Result<(), String> {
    Ok(())
}

fn window(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let book = DeviceBook::open(&settings.store_folder, settings.store)?;
    let core = Arc::new(Core::new(book)?);
    if let Some(db) = &settings.sandbox_database
        && let Some(folder) = db.parent()
    {
        std::fs::create_dir_all(folder)?;
    }
    let started = {
        let core = core.clone();
        let settings = settings.clone();
        tauri::async_runtime::block_on(async move {
            core.slot
                .start_sandbox(settings.sandbox_database.as_deref(), settings.sandbox_port)
                .await
        })
    };
    if let Err(e) = started {
        tracing::warn!("embedded sandbox: {e}");
    }
    let watched = core.clone();
    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _, _| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(core.clone())
        .manage(Arc::new(scan::Scanner::default()))
        .manage(Arc::new(fleet::FleetRunner::default()))
        .manage(profiles::FacemapState::default())
        .manage(PollInterval(AtomicU32::new(settings.poll_seconds)))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::set_poll_seconds,
            commands::use_embedded_sandbox,
            commands::use_outside_server,
            commands::list_devices,
            commands::scan_frame,
            commands::stop_scan,
            commands::scan_image,
            commands::classify_text,
            commands::activate_device,
            commands::offline_preview,
            commands::sign_offline,
            commands::device_detail,
            commands::rename_device,
            commands::remove_device,
            commands::list_operations,
            commands::operation_history,
            commands::approve_operation,
            commands::reject_operation,
            commands::sign_data,
            commands::unlock_vault,
            commands::change_pin,
            commands::biometry,
            commands::set_fault,
            commands::inspector,
            commands::clear_inspector,
            commands::diagnostics,
            commands::sandbox_registration,
            commands::sandbox_operation,
            commands::sandbox_operation_status,
            clipboard::paste_clipboard,
            proximity::read_proximity,
            inbox::inbox_messages,
            inbox::inbox_open,
            inbox::inbox_read_all,
            fleet::fleet_info,
            fleet::fleet_run,
            fleet::fleet_cancel,
            fleet::fleet_save,
            devtools::doctor_server,
            devtools::snapshot_list,
            devtools::snapshot_save,
            devtools::snapshot_restore,
            devtools::snapshot_diff,
            devtools::export_cmdtool,
            devtools::import_cmdtool,
            profiles::profile_accounts,
            profiles::profile_jwt_enroll,
            profiles::profile_jwt_call,
            profiles::profile_signed_token_enroll,
            profiles::profile_signed_token_call,
            profiles::profile_accesses,
            profiles::profile_facemap_initiate,
            profiles::profile_facemap_capture,
            profiles::profile_facemap_transactions,
            profiles_oauth::profile_oauth_accounts,
            profiles_oauth::profile_oauth_storages,
            profiles_oauth::profile_oauth_register,
            profiles_oauth::profile_oauth_action,
            profiles_oauth::profile_oauth_remove,
            profiles_oauth::profile_oauth_device_start,
            profiles_oauth::profile_oauth_device_status,
        ])
        .setup(move |app| {
            let show = MenuItem::with_id(app, "show", "Show TokenSim", true, None::<&str>)?;
            let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
            let menu = Menu::with_items(app, &[&show, &quit])?;
            let mut tray = TrayIconBuilder::with_id("main")
                .tooltip("TokenSim")
                .menu(&menu)
                .on_menu_event(|app, event| match event.id.as_ref() {
                    "show" => {
                        if let Some(window) = app.get_webview_window("main") {
                            let _ = window.show();
                            let _ = window.set_focus();
                        }
                    }
                    "quit" => app.exit(0),
                    _ => {}
                });
            if let Some(icon) = app.default_window_icon() {
                tray = tray.icon(icon.clone());
            }
            if let Err(e) = tray.build(app) {
                tracing::warn!("no tray icon: {e}");
            }
            // A click on an operation's notification opens it on its device.
            let handle = app.handle().clone();
            let _ = app.notification().on_action(move |performed| {
                let Some(extra) = performed.notification().map(|n| n.extra()) else {
                    return;
                };
                let text = |key: &str| extra.get(key).and_then(|v| v.as_str()).map(str::to_owned);
                if let (Some(device_id), Some(operation_id)) =
                    (text("deviceId"), text("operationId"))
                {
                    if let Some(window) = handle.get_webview_window("main") {
                        let _ = window.unminimize();
                        let _ = window.show();
                        let _ = window.set_focus();
                    }
                    let _ = handle.emit(
                        "open-operation",
                        serde_json::json!({"deviceId": device_id, "operationId": operation_id}),
                    );
                }
            });
            // The inspector updates live.
            let inspector = app.handle().clone();
            watched.timeline.on_change(move || {
                let _ = inspector.emit("inspector-changed", ());
            });
            tauri::async_runtime::spawn(watch::run(app.handle().clone(), watched.clone()));
            Ok(())
        })
        .run(tauri::generate_context!())?;
    tauri::async_runtime::block_on(core.shutdown());
    Ok(())
}
