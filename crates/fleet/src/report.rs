//! [`FleetReport`]: what a fleet did and how fast, as data (serde JSON), as a terminal
//! table ([`FleetReport::to_table`]) and as a self-contained HTML page with inline SVG
//! charts ([`FleetReport::to_html`]: no script, no stylesheet or font fetched).

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// [`FleetReport::knowledge_keys`]: the PIN's PBKDF2 ran for every PIN signature.
pub const PBKDF2_PER_SIGNATURE: &str = "PBKDF2 per PIN signature";
/// [`FleetReport::knowledge_keys`]: each device kept its knowledge key unlocked in memory.
pub const KEPT_UNLOCKED: &str = "kept unlocked in memory";

/// The report of one fleet run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FleetReport {
    /// `embedded sandbox` or the server URL.
    pub target: String,
    /// `/rest/v3` or `Cloud API`: how registrations and operations were created.
    pub backend: String,
    /// Devices asked for.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub devices: u64,
    /// Devices working at once.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub concurrency: u64,
    /// Protocol versions, spread over the devices.
    pub versions: Vec<String>,
    /// Operations per device.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub operations_per_device: u64,
    /// Signed requests per device.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub signatures_per_device: u64,
    /// The share of operations rejected.
    pub reject_ratio: f64,
    /// The fault mix as given (`wrong-pin=0.05,…`).
    pub fault_mix: String,
    /// Where devices lived (`memory`, `file`, `keychain`).
    pub store: String,
    /// How PIN signatures got the knowledge key: [`KEPT_UNLOCKED`] (the default) or
    /// [`PBKDF2_PER_SIGNATURE`] (the mobile SDK's way, `--pbkdf2-per-signature`).
    #[serde(default)]
    pub knowledge_keys: String,
    /// Wall time of the scenario (sandbox start excluded), in seconds.
    pub wall_seconds: f64,
    /// Devices activated.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub activated: u64,
    /// Devices that finished their scenario, successfully or not.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub completed: u64,
    /// Activated devices per second of wall time.
    pub devices_per_second: f64,
    /// Approved and rejected operations per second of wall time.
    pub operations_per_second: f64,
    /// HTTP requests the devices and the backend sent.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub requests: u64,
    /// HTTP requests per second.
    pub requests_per_second: f64,
    /// Operations by outcome.
    pub operations: OperationCounts,
    /// Operations by status as the server lists them after the run (`failed` counts any
    /// status other than approved or rejected); `None` when not checked.
    pub server_view: Option<OperationCounts>,
    /// Facemap transactions by final state and their callbacks (`--profile facemap`);
    /// absent from other fleets' JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub transactions: Option<TransactionCounts>,
    /// Latency per step.
    pub steps: Vec<StepLatency>,
    /// Errors by kind.
    pub errors: Vec<ErrorCount>,
    /// Whether each injected fault got the answer the protocol requires.
    pub faults: Vec<FaultVerdict>,
    /// Devices completed over time.
    pub timeline: Vec<TimelinePoint>,
    /// The run was stopped before every device finished (see [`crate::Cancel`]); absent
    /// from the JSON of a run that was not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// The shard this report covers (`--shard K/N`); absent from a whole fleet's report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub shard: Option<crate::Shard>,
    /// Devices of the shard (`devices` is the whole fleet's); absent when not a shard.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub shard_devices: u64,
    /// Shard reports merged into this one (`tokensim fleet merge`); absent when none.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub shards: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// Operations by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct OperationCounts {
    /// Created on the server.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: u64,
    /// Approved by a device (server answered OK).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub approved: u64,
    /// Rejected by a device (server answered OK).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub rejected: u64,
    /// Neither: an error stopped the device.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed: u64,
}

/// Facemap transactions (`--profile facemap`) by the final state the fleet checked, and the
/// callbacks the sandbox POSTed to the fleet's receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionCounts {
    /// Ended `PASSED` (a live matching face), as expected.
    pub passed: u64,
    /// Ended `FAILED` (another person), as expected.
    pub failed: u64,
    /// Ended `INVALID` (a spoof), as expected.
    pub invalid: u64,
    /// Ended `EXPIRED` (no capture in time), as expected.
    pub expired: u64,
    /// Ended in another state than their face leads to.
    pub wrong: u64,
    /// Final states whose callback was awaited (0: the target is not on this machine, no
    /// callback URL was given).
    pub callbacks_expected: u64,
    /// Callbacks received.
    pub callbacks_received: u64,
}

impl TransactionCounts {
    /// Counts one transaction that ended `state` as expected.
    pub fn add(&mut self, state: &str) {
        match state {
            "PASSED" => self.passed += 1,
            "FAILED" => self.failed += 1,
            "INVALID" => self.invalid += 1,
            "EXPIRED" => self.expired += 1,
            _ => self.wrong += 1,
        }
    }
}

/// Latency of one step over every device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StepLatency {
    /// The step.
    pub step: String,
    /// How many times it ran.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u64,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Time spent in the step summed over devices, s (where the time goes).
    pub total_seconds: f64,
    /// The latency histogram as `[microseconds, count]` pairs, in a shard's report only
    /// (what `tokensim fleet merge` recomputes percentiles from).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub histogram: Vec<[u64; 2]>,
}

/// Errors of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ErrorCount {
    /// The kind, e.g. `HTTP 401 ERR_AUTHENTICATION/…` or `network`.
    pub kind: String,
    /// How many.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u64,
    /// The first message of this kind.
    pub example: String,
}

/// Verdicts for one fault kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct FaultVerdict {
    /// The fault (`wrong-pin`, …).
    pub fault: String,
    /// Operations that got it.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub injected: u64,
    /// Answers that were what the protocol requires.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub matched: u64,
    /// Answers that were not.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub mismatched: u64,
    /// What the protocol requires (for the first one judged).
    pub required: String,
    /// A few mismatches, in words.
    pub mismatch_examples: Vec<String>,
}

/// Devices completed at a moment of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelinePoint {
    /// Seconds since the start.
    pub seconds: f64,
    /// Devices completed by then.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub completed: u64,
}

impl FleetReport {
    /// Whether every operation ended approved or rejected, no device failed, and every
    /// fault got the required answer.
    pub fn is_clean(&self) -> bool {
        !self.cancelled
            && self.errors.is_empty()
            && self.operations.failed == 0
            && self.faults.iter().all(|f| f.mismatched == 0)
            && self
                .transactions
                .as_ref()
                .is_none_or(|t| t.wrong == 0 && t.callbacks_received == t.callbacks_expected)
            && self.activated
                == if self.shard.is_some() {
                    self.shard_devices
                } else {
                    self.devices
                }
            && self
                .server_view
                .as_ref()
                .is_none_or(|view| *view == self.operations)
    }

    /// Whether every error was the server out of reach (`network`, `timeout`): the run
    /// says nothing about the server's behaviour, so the CLI exits 1 (error), not 3.
    pub fn failed_on_network_only(&self) -> bool {
        !self.errors.is_empty()
            && self
                .errors
                .iter()
                .all(|e| e.kind == "network" || e.kind == "timeout")
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as text tables for a terminal.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Fleet: {} devices ({}), {} at once, {} operation(s) and {} signature(s) each, against {} via {}, store {}",
            self.devices,
            self.versions.join(", "),
            self.concurrency,
            self.operations_per_device,
            self.signatures_per_device,
            self.target,
            self.backend,
            self.store
        );
        if let Some(shard) = self.shard {
            let _ = writeln!(
                out,
                "Shard {shard}: {} of the {} devices",
                self.shard_devices, self.devices
            );
        }
        if self.shards > 0 {
            let _ = writeln!(out, "Merged from {} shard reports", self.shards);
        }
        if !self.knowledge_keys.is_empty() {
            let _ = writeln!(out, "Knowledge keys: {}", self.knowledge_keys);
        }
        let _ = writeln!(
            out,
            "Wall time {:.2} s: {} activated ({:.1} devices/s), {:.1} operations/s, {} requests ({:.0}/s)",
            self.wall_seconds,
            self.activated,
            self.devices_per_second,
            self.operations_per_second,
            self.requests,
            self.requests_per_second
        );
        if self.cancelled {
            let _ = writeln!(
                out,
                "CANCELLED: stopped after {} of {} devices",
                self.completed, self.devices
            );
        }
        let o = &self.operations;
        let _ = writeln!(
            out,
            "Operations: {} created, {} approved, {} rejected, {} failed\n",
            o.created, o.approved, o.rejected, o.failed
        );
        if let Some(v) = &self.server_view {
            let verdict = if v == o { "agrees" } else { "DISAGREES" };
            let _ = writeln!(
                out,
                "The server {verdict}: {} operations, {} approved, {} rejected, {} in another state\n",
                v.created, v.approved, v.rejected, v.failed
            );
        }
        if let Some(t) = &self.transactions {
            let _ = writeln!(
                out,
                "Facemap transactions: {} PASSED, {} FAILED, {} INVALID, {} EXPIRED, {} in a wrong state; callbacks {} of {}\n",
                t.passed,
                t.failed,
                t.invalid,
                t.expired,
                t.wrong,
                t.callbacks_received,
                t.callbacks_expected
            );
        }
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "step", "count", "mean ms", "p50 ms", "p95 ms", "p99 ms", "max ms", "total s"
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "{:<26} {:>7} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                s.step, s.count, s.mean_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms, s.total_seconds
            );
        }
        if !self.faults.is_empty() {
            let _ = writeln!(
                out,
                "\n{:<14} {:>8} {:>8} {:>10}  required",
                "fault", "injected", "matched", "mismatched"
            );
            for f in &self.faults {
                let _ = writeln!(
                    out,
                    "{:<14} {:>8} {:>8} {:>10}  {}",
                    f.fault, f.injected, f.matched, f.mismatched, f.required
                );
                for example in &f.mismatch_examples {
                    let _ = writeln!(out, "{:<14} mismatch: {example}", "");
                }
            }
        }
        if self.errors.is_empty() {
            let _ = writeln!(out, "\nNo errors.");
        } else {
            let _ = writeln!(out, "\n{:>7}  error kind (first message)", "count");
            for e in &self.errors {
                let _ = writeln!(out, "{:>7}  {} ({})", e.count, e.kind, e.example);
            }
        }
        out
    }

    /// A self-contained HTML page: the summary, a latency chart per step (p50/p95/p99),
    /// the completion timeline, errors and fault verdicts. Inline SVG and CSS only.
    pub fn to_html(&self) -> String {
        let mut page = String::new();
        let _ = write!(
            page,
            r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>TokenSim fleet report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:60rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccd;padding:.25rem .6rem;text-align:right}}
th:first-child,td:first-child{{text-align:left}}.bad{{color:#b00020}}.good{{color:#0a7d32}}
svg text{{font-size:11px;font-family:system-ui,sans-serif}}
</style></head><body>
<h1>TokenSim fleet report</h1>
<p>{} devices ({}), {} at once, {} operation(s) and {} signature(s) each, against {} via {}, store {}; knowledge keys: {}.</p>
<p><b>{:.2} s</b> wall time: {} activated (<b>{:.1} devices/s</b>), {:.1} operations/s, {} HTTP requests ({:.0}/s).</p>
<p>Operations: {} created, {} approved, {} rejected, <span class="{}">{} failed</span>.</p>
"#,
            self.devices,
            escape(&self.versions.join(", ")),
            self.concurrency,
            self.operations_per_device,
            self.signatures_per_device,
            escape(&self.target),
            escape(&self.backend),
            escape(&self.store),
            escape(&self.knowledge_keys),
            self.wall_seconds,
            self.activated,
            self.devices_per_second,
            self.operations_per_second,
            self.requests,
            self.requests_per_second,
            self.operations.created,
            self.operations.approved,
            self.operations.rejected,
            if self.operations.failed == 0 {
                "good"
            } else {
                "bad"
            },
            self.operations.failed,
        );
        if self.cancelled {
            let _ = writeln!(
                page,
                "<p class=\"bad\"><b>Cancelled</b>: stopped after {} of {} devices.</p>",
                self.completed, self.devices
            );
        }
        page.push_str("<h2>Latency per step</h2>\n");
        page.push_str(&latency_chart(&self.steps));
        page.push_str("<table><tr><th>step</th><th>count</th><th>mean ms</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>total s</th></tr>\n");
        for s in &self.steps {
            let _ = writeln!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                escape(&s.step),
                s.count,
                s.mean_ms,
                s.p50_ms,
                s.p95_ms,
                s.p99_ms,
                s.max_ms,
                s.total_seconds
            );
        }
        page.push_str("</table>\n<h2>Devices completed over time</h2>\n");
        page.push_str(&timeline_chart(&self.timeline, self.devices));
        page.push_str("<h2>Faults</h2>\n");
        if self.faults.is_empty() {
            page.push_str("<p>No fault injected.</p>\n");
        } else {
            page.push_str(&fault_chart(&self.faults));
            page.push_str("<table><tr><th>fault</th><th>injected</th><th>matched</th><th>mismatched</th><th>the protocol requires</th></tr>\n");
            for f in &self.faults {
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td class=\"good\">{}</td><td class=\"{}\">{}</td><td style=\"text-align:left\">{}{}</td></tr>",
                    escape(&f.fault),
                    f.injected,
                    f.matched,
                    if f.mismatched == 0 { "good" } else { "bad" },
                    f.mismatched,
                    escape(&f.required),
                    f.mismatch_examples
                        .iter()
                        .map(|e| format!("<br><span class=\"bad\">{}</span>", escape(e)))
                        .collect::<String>()
                );
            }
            page.push_str("</table>\n");
        }
        page.push_str("<h2>Errors</h2>\n");
        if self.errors.is_empty() {
            page.push_str("<p class=\"good\">No errors.</p>\n");
        } else {
            page.push_str("<table><tr><th>kind</th><th>count</th><th>first message</th></tr>\n");
            for e in &self.errors {
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                    escape(&e.kind),
                    e.count,
                    escape(&e.example)
                );
            }
            page.push_str("</table>\n");
        }
        page.push_str("</body></html>\n");
        page
    }
}

/// HTML-escapes text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const COLOURS: [&str; 3] = ["#4c78a8", "#f58518", "#e45756"];

/// Horizontal grouped bars: p50, p95, p99 per step.
fn latency_chart(steps: &[StepLatency]) -> String {
    let (label_w, plot_w, row_h) = (190.0, 520.0, 42.0);
    let height = 40.0 + row_h * steps.len() as f64;
    let max = steps
        .iter()
        .map(|s| s.p99_ms)
        .fold(0.0_f64, f64::max)
        .max(0.001);
    let mut svg = format!(
        r#"<svg class="chart latency" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" role="img" aria-label="latency per step, p50 p95 p99 in ms">
"#,
        w = label_w + plot_w + 80.0
    );
    for (i, name) in ["p50", "p95", "p99"].iter().enumerate() {
        let x = label_w + i as f64 * 70.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{}"/><text x="{}" y="13">{name}</text>"#,
            COLOURS[i],
            x + 14.0
        );
    }
    for (row, s) in steps.iter().enumerate() {
        let y = 28.0 + row as f64 * row_h;
        let _ = writeln!(
            svg,
            r#"<text x="0" y="{}">{}</text>"#,
            y + 18.0,
            escape(&s.step)
        );
        for (i, value) in [s.p50_ms, s.p95_ms, s.p99_ms].iter().enumerate() {
            let width = (value / max * plot_w).max(1.0);
            let by = y + i as f64 * 11.0;
            let _ = writeln!(
                svg,
                r#"<rect x="{label_w}" y="{by}" width="{width:.1}" height="10" fill="{}"><title>{} {}: {value:.2} ms</title></rect><text x="{:.1}" y="{:.1}">{value:.1}</text>"#,
                COLOURS[i],
                escape(&s.step),
                ["p50", "p95", "p99"][i],
                label_w + width + 4.0,
                by + 9.0
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// A line of devices completed over time.
fn timeline_chart(points: &[TimelinePoint], devices: u64) -> String {
    let (w, h, left, bottom) = (640.0, 220.0, 50.0, 30.0);
    let max_x = points.last().map(|p| p.seconds).unwrap_or(1.0).max(0.001);
    let max_y = devices.max(1) as f64;
    let x = |s: f64| left + s / max_x * (w - left - 10.0);
    let y = |c: u64| (h - bottom) - c as f64 / max_y * (h - bottom - 10.0);
    let path: Vec<String> = points
        .iter()
        .map(|p| format!("{:.1},{:.1}", x(p.seconds), y(p.completed)))
        .collect();
    format!(
        r##"<svg class="chart timeline" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="devices completed over time">
<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/><line x1="{left}" y1="10" x2="{left}" y2="{base}" stroke="#888"/>
<polyline fill="none" stroke="#4c78a8" stroke-width="2" points="{points}"/>
<text x="{left}" y="{label_y}">0 s</text><text x="{right_label}" y="{label_y}">{max_x:.2} s</text>
<text x="4" y="18">{devices}</text><text x="4" y="{base}">0</text>
</svg>
"##,
        base = h - bottom,
        right = w - 10.0,
        points = path.join(" "),
        label_y = h - bottom + 16.0,
        right_label = w - 60.0,
    )
}

/// Stacked bars: matched and mismatched per fault.
fn fault_chart(faults: &[FaultVerdict]) -> String {
    let (label_w, plot_w, row_h) = (120.0, 420.0, 22.0);
    let height = 10.0 + row_h * faults.len() as f64;
    let max = faults.iter().map(|f| f.injected).max().unwrap_or(1).max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart faults" xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="fault verdicts">
"#,
        label_w + plot_w + 120.0
    );
    for (row, f) in faults.iter().enumerate() {
        let y = 5.0 + row as f64 * row_h;
        let good = f.matched as f64 / max * plot_w;
        let bad = f.mismatched as f64 / max * plot_w;
        let _ = writeln!(
            svg,
            r##"<text x="0" y="{ty}">{name}</text><rect x="{label_w}" y="{y}" width="{good:.1}" height="16" fill="#0a7d32"><title>matched {m}</title></rect><rect x="{bx:.1}" y="{y}" width="{bad:.1}" height="16" fill="#b00020"><title>mismatched {mm}</title></rect><text x="{tx:.1}" y="{ty}">{m} / {i} as required</text>"##,
            ty = y + 12.0,
            name = escape(&f.fault),
            bx = label_w + good,
            tx = label_w + good + bad + 6.0,
            m = f.matched,
            mm = f.mismatched,
            i = f.injected,
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_the_server_said() {
        let report = FleetReport {
            errors: vec![ErrorCount {
                kind: "other".into(),
                count: 1,
                example: "<script>alert(1)</script>".into(),
            }],
            ..FleetReport::default()
        };
        let html = report.to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }

    #[test]
    fn a_run_whose_every_error_is_the_network_failed_on_the_network_only() {
        let errors = |kinds: &[&str]| FleetReport {
            errors: kinds
                .iter()
                .map(|kind| ErrorCount {
                    kind: (*kind).into(),
                    count: 3,
                    example: String::new(),
                })
                .collect(),
            ..FleetReport::default()
        };
        assert!(errors(&["network"]).failed_on_network_only());
        assert!(errors(&["network", "timeout"]).failed_on_network_only());
        assert!(!errors(&["network", "HTTP 401 ERR_AUTHENTICATION/x"]).failed_on_network_only());
        assert!(!errors(&[]).failed_on_network_only());
    }
}
