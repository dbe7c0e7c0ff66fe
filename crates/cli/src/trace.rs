//! Where the engine's events go: a [`Recorder`] (fault reports, `diagnose`) and, with
//! `--trace`, stderr: each exchange as text, or as one JSON line with `--json`. Warnings go
//! to stderr unless `--quiet`.

use std::io::Write;
use std::sync::Arc;

use tokensim_device::{Events, Exchange, Recorder, Warning};

use crate::output::json_line;

/// One `--trace --json` line on stderr: an exchange.
#[derive(serde::Serialize)]
struct Traced<'a> {
    trace: &'a Exchange,
}

/// One `--json` warning line on stderr.
#[derive(serde::Serialize)]
struct Warned<'a> {
    warning: &'a Warning,
}

/// The CLI's event sink.
pub(crate) struct Sink {
    /// Everything, for `diagnose` and fault reports.
    pub recorder: Arc<Recorder>,
    /// Print exchanges on stderr.
    pub trace: bool,
    /// As JSON lines instead of text.
    pub json: bool,
    /// No warnings.
    pub quiet: bool,
}

impl Events for Sink {
    fn exchange(&self, exchange: &Exchange) {
        self.recorder.exchange(exchange);
        if !self.trace {
            return;
        }
        let line = self
            .json
            .then(|| json_line(&Traced { trace: exchange }).ok())
            .flatten();
        let text = match line {
            Some(line) => format!("{line}\n"),
            None => exchange_text(exchange),
        };
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    fn warning(&self, warning: &Warning) {
        self.recorder.warning(warning);
        if self.quiet {
            return;
        }
        let line = self
            .json
            .then(|| json_line(&Warned { warning }).ok())
            .flatten();
        let text = match line {
            Some(line) => format!("{line}\n"),
            None => format!("warning: {} ({})\n", warning.message, warning.code),
        };
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// One exchange for a terminal.
pub(crate) fn exchange_text(e: &Exchange) -> String {
    let mut out = format!("> {} {}  [{}]", e.method, e.url, e.label);
    if let Some(fault) = &e.fault {
        out.push_str(&format!("  fault: {fault}"));
    }
    out.push('\n');
    for (name, value) in &e.request_headers {
        out.push_str(&format!(">   {name}: {value}\n"));
    }
    if !e.request_body.is_empty() {
        out.push_str(&format!(">   {}\n", e.request_body));
    }
    if let Some(plain) = &e.request_plaintext {
        out.push_str(&format!(">   decrypted: {plain}\n"));
    }
    match (e.status, &e.error) {
        (Some(status), _) => out.push_str(&format!("< {status}  ({} ms)\n", e.elapsed.as_millis())),
        (None, Some(error)) => out.push_str(&format!(
            "< no answer: {error}  ({} ms)\n",
            e.elapsed.as_millis()
        )),
        (None, None) => out.push_str("< no answer\n"),
    }
    if !e.response_body.is_empty() {
        out.push_str(&format!("<   {}\n", e.response_body));
    }
    if let Some(plain) = &e.response_plaintext {
        out.push_str(&format!("<   decrypted: {plain}\n"));
    }
    out
}
