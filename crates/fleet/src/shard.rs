//! Fleets beyond one process: `--shard K/N` runs a deterministic slice of the device
//! indices, and [`merge`] combines the shards' JSON reports into one report, percentiles
//! recomputed from the shards' latency histograms.

use crate::report::{ErrorCount, FaultVerdict, FleetReport, OperationCounts, TimelinePoint};
use crate::{Error, Result};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Shard `index` (1-based) of `count`: the devices `[(K-1)·D/N, K·D/N)` of a fleet of `D`.
/// The shards of one `N` cover every device once, and user names, protocol versions,
/// faults and rejections follow the global device index, so `N` shards against one server
/// do what one fleet of `D` devices would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// K, from 1.
    pub index: u32,
    /// N.
    pub count: u32,
}

impl Shard {
    /// The device indices this shard runs, out of `devices`.
    pub fn range(self, devices: u32) -> Range<usize> {
        let bound = |k: u32| (u64::from(k) * u64::from(devices) / u64::from(self.count)) as usize;
        bound(self.index - 1)..bound(self.index)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// A step's latencies as recorded values: `[microseconds, count]` pairs of the histogram's
/// non-empty buckets, enough to merge shards and recompute their percentiles.
pub(crate) fn histogram_pairs(histogram: &Histogram<u64>) -> Vec<[u64; 2]> {
    histogram
        .iter_recorded()
        .map(|v| [v.value_iterated_to(), v.count_at_value()])
        .collect()
}

fn histogram_of(pairs: &[[u64; 2]]) -> Histogram<u64> {
    let mut histogram =
        Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
    for [value, count] in pairs {
        histogram.saturating_record_n(*value, *count);
    }
    histogram
}

/// One report from the shards' reports: counts added, latency percentiles recomputed from
/// the merged histograms, wall time the longest shard's (shards run at the same time), the
/// timeline the sum of the shards' timelines. Refuses reports of different fleets (devices,
/// shard count, versions, operations), a shard twice, or a shard report without its
/// histograms.
pub fn merge(reports: &[FleetReport]) -> Result<FleetReport> {
    let first = reports
        .first()
        .ok_or_else(|| Error::Options("fleet merge needs at least one shard report".to_owned()))?;
    let count = first.shard.map_or(1, |s| s.count);
    let mut seen = BTreeMap::new();
    for report in reports {
        let shard = report.shard.ok_or_else(|| {
            Error::Options("a report to merge was not written by a `--shard K/N` run".to_owned())
        })?;
        let same = shard.count == count
            && report.devices == first.devices
            && report.versions == first.versions
            && report.operations_per_device == first.operations_per_device
            && report.signatures_per_device == first.signatures_per_device
            && report.fault_mix == first.fault_mix;
        if !same {
            return Err(Error::Options(format!(
                "shard {shard} is of another fleet than shard {}: merge the shards of one run",
                first.shard.map_or_else(String::new, |s| s.to_string())
            )));
        }
        if seen.insert(shard.index, ()).is_some() {
            return Err(Error::Options(format!("shard {shard} is there twice")));
        }
    }
    let mut merged = FleetReport {
        shard: None,
        shards: reports.len() as u64,
        wall_seconds: reports.iter().map(|r| r.wall_seconds).fold(0.0, f64::max),
        activated: reports.iter().map(|r| r.activated).sum(),
        completed: reports.iter().map(|r| r.completed).sum(),
        requests: reports.iter().map(|r| r.requests).sum(),
        cancelled: reports.iter().any(|r| r.cancelled),
        operations: sum_counts(reports.iter().map(|r| Some(&r.operations))).unwrap_or_default(),
        server_view: if reports.iter().all(|r| r.server_view.is_some()) {
            sum_counts(reports.iter().map(|r| r.server_view.as_ref()))
        } else {
            None
        },
        ..first.clone()
    };
    // Shards that did not cover the fleet leave their devices out of `devices`.
    merged.devices = if seen.len() as u32 == count {
        first.devices
    } else {
        reports.iter().map(|r| r.shard_devices).sum()
    };
    merged.shard_devices = 0;
    let seconds = merged.wall_seconds.max(1e-9);
    let finished = merged.operations.approved + merged.operations.rejected;
    merged.devices_per_second = round(merged.activated as f64 / seconds);
    merged.operations_per_second = round(finished as f64 / seconds);
    merged.requests_per_second = round(merged.requests as f64 / seconds);
    merged.steps = merge_steps(reports)?;
    merged.errors = merge_errors(reports);
    merged.faults = merge_faults(reports);
    merged.timeline = merge_timelines(reports);
    Ok(merged)
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn sum_counts<'a>(
    counts: impl Iterator<Item = Option<&'a OperationCounts>>,
) -> Option<OperationCounts> {
    let mut total = OperationCounts::default();
    for c in counts {
        let c = c?;
        total.created += c.created;
        total.approved += c.approved;
        total.rejected += c.rejected;
        total.failed += c.failed;
    }
    Some(total)
}

fn merge_steps(reports: &[FleetReport]) -> Result<Vec<crate::report::StepLatency>> {
    let mut order: Vec<String> = Vec::new();
    let mut histograms: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    for report in reports {
        for step in &report.steps {
            if step.count > 0 && step.histogram.is_empty() {
                return Err(Error::Options(format!(
                    "the report of shard {} has no latency histogram for {}",
                    report.shard.map_or_else(String::new, |s| s.to_string()),
                    step.step
                )));
            }
            if !order.contains(&step.step) {
                order.push(step.step.clone());
            }
            let merged = histograms
                .entry(step.step.clone())
                .or_insert_with(|| histogram_of(&[]));
            merged
                .add(histogram_of(&step.histogram))
                .map_err(|e| Error::Options(format!("histograms do not add up: {e}")))?;
        }
    }
    Ok(order
        .into_iter()
        .filter_map(|step| {
            let h = histograms.remove(&step)?;
            Some(crate::metrics::latency(step, &h, false))
        })
        .collect())
}

fn merge_errors(reports: &[FleetReport]) -> Vec<ErrorCount> {
    let mut errors: BTreeMap<String, ErrorCount> = BTreeMap::new();
    for error in reports.iter().flat_map(|r| &r.errors) {
        errors
            .entry(error.kind.clone())
            .and_modify(|e| e.count += error.count)
            .or_insert_with(|| error.clone());
    }
    errors.into_values().collect()
}

fn merge_faults(reports: &[FleetReport]) -> Vec<FaultVerdict> {
    let mut faults: BTreeMap<String, FaultVerdict> = BTreeMap::new();
    for fault in reports.iter().flat_map(|r| &r.faults) {
        faults
            .entry(fault.fault.clone())
            .and_modify(|f| {
                f.injected += fault.injected;
                f.matched += fault.matched;
                f.mismatched += fault.mismatched;
                for example in &fault.mismatch_examples {
                    if f.mismatch_examples.len() < 3 {
                        f.mismatch_examples.push(example.clone());
                    }
                }
            })
            .or_insert_with(|| fault.clone());
    }
    faults.into_values().collect()
}

/// Devices completed over time, all shards together: at each shard's points, the sum of
/// every shard's count by then (a shard's count holds between its points).
fn merge_timelines(reports: &[FleetReport]) -> Vec<TimelinePoint> {
    let mut moments: Vec<f64> = reports
        .iter()
        .flat_map(|r| r.timeline.iter().map(|p| p.seconds))
        .collect();
    moments.sort_by(f64::total_cmp);
    moments.dedup();
    moments
        .into_iter()
        .map(|seconds| TimelinePoint {
            seconds,
            completed: reports
                .iter()
                .map(|r| {
                    r.timeline
                        .iter()
                        .take_while(|p| p.seconds <= seconds)
                        .last()
                        .map_or(0, |p| p.completed)
                })
                .sum(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_device_once() {
        for (devices, count) in [(1000, 4), (10, 3), (7, 7), (3, 5)] {
            let mut covered = Vec::new();
            for index in 1..=count {
                covered.extend(Shard { index, count }.range(devices));
            }
            assert_eq!(covered, (0..devices as usize).collect::<Vec<_>>());
        }
        assert_eq!(Shard { index: 2, count: 4 }.range(1000), 250..500);
    }

    #[test]
    fn shards_parse_and_print() {
        let shard: Shard = "2/4".parse().unwrap();
        assert_eq!(shard, Shard { index: 2, count: 4 });
        assert_eq!(shard.to_string(), "2/4");
        for bad in ["0/4", "5/4", "2", "a/b", "1/0", ""] {
            let error = bad.parse::<Shard>().unwrap_err();
            assert!(error.contains("K/N"), "{error}");
        }
    }
}
