//! Diagnose: one redacted bundle for a bug report, the same from the CLI (`tokensim
//! diagnose`, over the exchanges its last commands kept) and the desktop app (the
//! inspector's "Export diagnostics", over the session's exchanges).
//!
//! The bundle holds public facts only: versions, the store's backend, the devices' summaries
//! and non-secret records, and exchanges the engine already redacted (signature values,
//! token digests, keys, `ctrData`, live activation codes). It never holds a Cloud API
//! password or a PIN.

use powerauth::ProtocolVersion;
use serde::Serialize;
use serde_json::Value;
use tokensim_device::{DeviceRecord, Exchange, Warning};
use tokensim_wallet::{BackendKind, DeviceSummary, Wallet};

use crate::{Class, Error, ErrorKind, Result};

/// The bundle's `format`.
pub const DIAGNOSE_FORMAT: &str = "tokensim-diagnose";
/// The bundle's `formatVersion`: 2 since the CLI and the app write one shape.
pub const DIAGNOSE_FORMAT_VERSION: u32 = 2;

/// What goes into a bundle besides the wallet.
#[derive(Debug, Clone, Default)]
pub struct DiagnoseRequest<'a> {
    /// Who writes it: `tokensim` (the CLI) or `tokensim-app`.
    pub made_by: &'static str,
    /// The device the report is about (`--device`); without one, the only device.
    pub device: Option<&'a str>,
    /// The server the app runs or talks to (the CLI has none of its own).
    pub server: Option<ServerFacts>,
    /// The redacted exchanges, oldest first, as the engine serialises an [`Exchange`].
    pub exchanges: Vec<Value>,
    /// Warnings the engine raised (counter drift...).
    pub warnings: Vec<Warning>,
}

/// The server a bundle mentions: where, and whether the app embeds it. No credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerFacts {
    /// Its base URL.
    pub url: String,
    /// Whether it is the app's embedded sandbox.
    pub embedded: bool,
}

/// A diagnose bundle (`tokensim-diagnose`, version 2).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// Always `tokensim-diagnose`.
    pub format: &'static str,
    /// [`DIAGNOSE_FORMAT_VERSION`].
    pub format_version: u32,
    /// TokenSim's version.
    pub tokensim: &'static str,
    /// `tokensim` (the CLI) or `tokensim-app`.
    pub made_by: &'static str,
    /// The operating system, e.g. `linux`.
    pub os: &'static str,
    /// The CPU architecture, e.g. `x86_64`.
    pub arch: &'static str,
    /// The protocol versions this build speaks.
    pub protocol_versions: Vec<&'static str>,
    /// Where the device secrets live.
    pub store: BackendKind,
    /// The server, when the writer knows one.
    pub server: Option<ServerFacts>,
    /// Every device's summary.
    pub devices: Vec<DeviceSummary>,
    /// The device the report is about, or why none was picked.
    pub device: Focus,
    /// The redacted exchanges, oldest first.
    pub exchanges: Vec<Value>,
    /// The engine's warnings.
    pub warnings: Vec<Warning>,
    /// What the bundle leaves out.
    pub note: &'static str,
}

/// The device a bundle is about.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Focus {
    /// The device: its summary and non-secret record.
    Device {
        /// Its summary.
        summary: Box<DeviceSummary>,
        /// Its non-secret record.
        record: Box<DeviceRecord>,
    },
    /// No device picked, and why (none, or several and no `--device`).
    Unresolved {
        /// The wallet's explanation.
        unresolved: String,
    },
}

/// The note every bundle carries.
const NOTE: &str =
    "secrets are redacted: signatures, token digests, keys and ctrData never enter this file";

/// Builds the bundle over `wallet`.
pub fn diagnose(wallet: &Wallet, request: DiagnoseRequest<'_>) -> Result<Diagnosis> {
    let devices = wallet.list()?;
    let device = match wallet.resolve(request.device) {
        Ok(id) => Focus::Device {
            summary: Box::new(wallet.summary(&id)?),
            record: Box::new(wallet.record(&id)?),
        },
        Err(e) => Focus::Unresolved {
            unresolved: e.to_string(),
        },
    };
    Ok(Diagnosis {
        format: DIAGNOSE_FORMAT,
        format_version: DIAGNOSE_FORMAT_VERSION,
        tokensim: env!("CARGO_PKG_VERSION"),
        made_by: request.made_by,
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        protocol_versions: ProtocolVersion::ALL.iter().map(|v| v.as_str()).collect(),
        store: wallet.backend(),
        server: request.server,
        devices,
        device,
        exchanges: request.exchanges,
        warnings: request.warnings,
        note: NOTE,
    })
}

/// `exchanges` as the bundle holds them.
pub fn exchange_values(exchanges: &[Exchange]) -> Vec<Value> {
    exchanges
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect()
}

impl Diagnosis {
    /// The bundle as pretty JSON, the form written to a file.
    pub fn to_pretty_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| {
            Error::new(
                Class::Error,
                ErrorKind::Diagnose,
                format!("cannot encode the bundle: {e}"),
            )
        })
    }
}
