//! Decoding benchmark: our pipeline against Debian's `zbarimg` on the same generated corpus,
//! in one run.
//!
//! 1. Renders the corpus (`corpus::corpus(SEED, replicas)`), decodes every frame in memory
//!    with the full pipeline and with each stage alone, and writes it as PNG to a temporary
//!    folder.
//! 2. Decodes every PNG file again (load + decode), which is what `zbarimg` does.
//! 3. Runs `zbarimg --xml -q` once over all the files, and attributes its results per file.
//! 4. Prints success rates (overall, per scenario, frame size, code size), time per frame,
//!    the ratios, each stage's effect, and the frames each decoder missed.
//!
//! `cargo bench -p tokensim-qr`. Environment: `TOKENSIM_QR_REPLICAS` (default 3: 324
//! frames), `TOKENSIM_QR_QUICK=1` (the 48-frame test subset instead), `TOKENSIM_QR_KEEP=1`
//! (keep the PNG folder), `TOKENSIM_QR_MATRIX=<file>` (each stage's result per frame, to
//! work out other stage lists).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokensim_qr::corpus::{self, Sample, Spec};
use tokensim_qr::{Decoder, Stage};

const SEED: u64 = 0x70C3_5111;
/// Where the rxing stage sits in `Stage::ALL`.
const ZXING: usize = 1;

/// What happened to one frame.
struct Outcome {
    label: String,
    scenario: &'static str,
    frame: String,
    code_size: String,
    /// Full pipeline, frame in memory: the stage that decoded it (correct text only).
    ours: Option<Stage>,
    ours_time: Duration,
    /// Full pipeline from the PNG file.
    ours_file: bool,
    ours_file_time: Duration,
    /// Each stage alone: decoded correctly, and how long it took.
    stages: Vec<(bool, Duration)>,
    zbar: bool,
}

fn main() {
    let replicas = std::env::var("TOKENSIM_QR_REPLICAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let specs = if std::env::var_os("TOKENSIM_QR_QUICK").is_some() {
        corpus::quick(SEED)
    } else {
        corpus::corpus(SEED, replicas)
    };
    let folder = std::env::temp_dir().join(format!("tokensim-qr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("create the corpus folder");
    println!(
        "corpus: {} frames, PNG files in {}",
        specs.len(),
        folder.display()
    );

    let full = Decoder::new();
    assert_eq!(Stage::ALL[ZXING], Stage::Zxing);
    let singles: Vec<Decoder> = Stage::ALL
        .iter()
        .map(|s| Decoder::with_stages(&[*s]))
        .collect();
    let mut outcomes = Vec::new();
    let mut expected = Vec::new();
    for spec in &specs {
        let sample = spec.render();
        let path = folder.join(format!("frame-{:04}.png", spec.index));
        sample.image.save(&path).expect("write a PNG");
        outcomes.push(measure(spec, &sample, &full, &singles));
        expected.push((path, sample.text));
    }
    for ((path, text), outcome) in expected.iter().zip(&mut outcomes) {
        let start = Instant::now();
        let result = black_box(tokensim_qr::decode_file(path));
        outcome.ours_file_time = start.elapsed();
        outcome.ours_file = result.is_ok_and(|d| &d.text == text);
    }
    let paths: Vec<&Path> = expected.iter().map(|(p, _)| p.as_path()).collect();
    let (zbar_results, zbar_time) = run_zbar(&paths);
    for ((path, text), outcome) in expected.iter().zip(&mut outcomes) {
        outcome.zbar = zbar_results
            .get(path)
            .is_some_and(|found| found.iter().any(|t| t == text));
    }
    report(&outcomes, zbar_time);
    if let Some(path) = std::env::var_os("TOKENSIM_QR_MATRIX") {
        // One line per frame: label, then per stage alone "1"/"0" and milliseconds.
        let lines: Vec<String> = outcomes
            .iter()
            .map(|o| {
                let stages: Vec<String> = o
                    .stages
                    .iter()
                    .map(|(ok, time)| format!("{}:{:.2}", u8::from(*ok), ms(*time)))
                    .collect();
                format!("{}\t{}\t{}", o.label, u8::from(o.zbar), stages.join(" "))
            })
            .collect();
        std::fs::write(path, lines.join("\n")).expect("write the matrix");
    }
    if std::env::var_os("TOKENSIM_QR_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&folder);
    }
}

fn measure(spec: &Spec, sample: &Sample, full: &Decoder, singles: &[Decoder]) -> Outcome {
    let correct = |result: Result<tokensim_qr::Decoded, _>| match result {
        Ok(decoded) if decoded.text == sample.text => Some(decoded.stage),
        _ => None,
    };
    let start = Instant::now();
    let result = black_box(full.decode_luma(&sample.image));
    let ours_time = start.elapsed();
    let stages = singles
        .iter()
        .map(|decoder| {
            let start = Instant::now();
            let ok = correct(black_box(decoder.decode_luma(&sample.image))).is_some();
            (ok, start.elapsed())
        })
        .collect();
    let (width, height) = spec.frame.dimensions();
    Outcome {
        label: sample.label(),
        scenario: spec.scenario.name(),
        frame: format!("{width}x{height}"),
        code_size: format!("{:?}", spec.code_size).to_lowercase(),
        ours: correct(result),
        ours_time,
        ours_file: false,
        ours_file_time: Duration::ZERO,
        stages,
        zbar: false,
    }
}

/// Runs one `zbarimg` over every file; returns the texts found per file and the wall time.
fn run_zbar(paths: &[&Path]) -> (BTreeMap<PathBuf, Vec<String>>, Option<Duration>) {
    let start = Instant::now();
    let output = Command::new("zbarimg")
        .args(["--nodbus", "--xml", "-q", "-Sdisable", "-Sqrcode.enable"])
        .args(paths)
        .output();
    let elapsed = start.elapsed();
    match output {
        // zbarimg exits 4 when some image had no symbol; the XML is still complete.
        Ok(output) if output.status.success() || output.status.code() == Some(4) => {
            let xml = String::from_utf8_lossy(&output.stdout);
            (parse_zbar_xml(&xml), Some(elapsed))
        }
        Ok(output) => {
            eprintln!(
                "zbarimg failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            (BTreeMap::new(), None)
        }
        Err(error) => {
            eprintln!("zbarimg could not run ({error}); install zbar-tools (`make deps`)");
            (BTreeMap::new(), None)
        }
    }
}

/// Texts per `<source href='...'>` in zbarimg's XML (`<data><![CDATA[...]]></data>`).
fn parse_zbar_xml(xml: &str) -> BTreeMap<PathBuf, Vec<String>> {
    let mut found = BTreeMap::new();
    for source in xml.split("<source href='").skip(1) {
        let Some((href, body)) = source.split_once('\'') else {
            continue;
        };
        let texts = body
            .split("<data><![CDATA[")
            .skip(1)
            .filter_map(|data| {
                data.split_once("]]></data>")
                    .map(|(text, _)| text.to_string())
            })
            .collect();
        found.insert(PathBuf::from(href), texts);
    }
    found
}

fn percent(count: usize, total: usize) -> f64 {
    100.0 * count as f64 / total.max(1) as f64
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

fn report(outcomes: &[Outcome], zbar_time: Option<Duration>) {
    let n = outcomes.len();
    let ours = outcomes.iter().filter(|o| o.ours.is_some()).count();
    let ours_file = outcomes.iter().filter(|o| o.ours_file).count();
    let zbar = outcomes.iter().filter(|o| o.zbar).count();
    let rqrr = outcomes.iter().filter(|o| o.stages[0].0).count();
    let zxing = outcomes.iter().filter(|o| o.stages[ZXING].0).count();
    let total = |f: fn(&Outcome) -> Duration| outcomes.iter().map(f).sum::<Duration>();
    let mem_mean = ms(total(|o| o.ours_time)) / n as f64;
    let file_mean = ms(total(|o| o.ours_file_time)) / n as f64;
    let rqrr_mean = ms(total(|o| o.stages[0].1)) / n as f64;
    let zxing_mean = ms(total(|o| o.stages[ZXING].1)) / n as f64;
    let zbar_mean = zbar_time.map(|t| ms(t) / n as f64);

    println!("\n== Overall ({n} frames)");
    println!(
        "{:<34} {:>9} {:>12} {:>12}",
        "decoder", "decoded", "mean ms/fr", "median ms/fr"
    );
    let row = |name: &str, count: usize, mean: f64, median: Option<f64>| {
        let median = median.map_or("-".to_string(), |m| format!("{m:.1}"));
        println!(
            "{name:<34} {:>8.1}% {mean:>12.1} {median:>12}",
            percent(count, n)
        );
    };
    row(
        "rqrr alone (as-is stage)",
        rqrr,
        rqrr_mean,
        Some(ms(median(outcomes.iter().map(|o| o.stages[0].1).collect()))),
    );
    row(
        "rxing alone (ZXing stage)",
        zxing,
        zxing_mean,
        Some(ms(median(
            outcomes.iter().map(|o| o.stages[ZXING].1).collect(),
        ))),
    );
    row(
        "ours, frame in memory",
        ours,
        mem_mean,
        Some(ms(median(outcomes.iter().map(|o| o.ours_time).collect()))),
    );
    row(
        "ours, from PNG file",
        ours_file,
        file_mean,
        Some(ms(median(
            outcomes.iter().map(|o| o.ours_file_time).collect(),
        ))),
    );
    match zbar_mean {
        Some(mean) => {
            row("zbarimg, one process, all files", zbar, mean, None);
            println!(
                "ratio ours/zbar: decoded {:.3}, time per frame {:.2} (from file) / {:.2} (in memory)",
                ours_file as f64 / zbar.max(1) as f64,
                file_mean / mean,
                mem_mean / mean
            );
        }
        None => println!("zbarimg: not run"),
    }

    for (title, key) in [
        (
            "scenario",
            (|o: &Outcome| o.scenario.to_string()) as fn(&Outcome) -> String,
        ),
        ("frame", |o: &Outcome| o.frame.clone()),
        ("code size", |o: &Outcome| o.code_size.clone()),
    ] {
        println!("\n== Per {title}");
        println!(
            "{:<20} {:>5} {:>8} {:>8} {:>8} {:>8} {:>10}",
            title, "n", "rqrr", "rxing", "ours", "zbar", "ours ms"
        );
        let mut groups: Vec<String> = outcomes.iter().map(key).collect();
        groups.dedup();
        let mut seen = Vec::new();
        for group in groups {
            if seen.contains(&group) {
                continue;
            }
            let members: Vec<&Outcome> = outcomes.iter().filter(|o| key(o) == group).collect();
            let m = members.len();
            let count = |f: &dyn Fn(&Outcome) -> bool| members.iter().filter(|o| f(o)).count();
            println!(
                "{group:<20} {m:>5} {:>7.1}% {:>7.1}% {:>7.1}% {:>7.1}% {:>10.1}",
                percent(count(&|o| o.stages[0].0), m),
                percent(count(&|o| o.stages[ZXING].0), m),
                percent(count(&|o| o.ours.is_some()), m),
                percent(count(&|o| o.zbar), m),
                ms(median(members.iter().map(|o| o.ours_time).collect()))
            );
            seen.push(group);
        }
    }

    println!("\n== Stages (the default pipeline's first, in its order)");
    println!(
        "{:<20} {:>10} {:>12} {:>14} {:>12}",
        "stage", "alone", "alone ms", "decided here", "only here"
    );
    for (i, stage) in Stage::ALL.iter().enumerate() {
        let alone = outcomes.iter().filter(|o| o.stages[i].0).count();
        let time = ms(median(outcomes.iter().map(|o| o.stages[i].1).collect()));
        let here = outcomes.iter().filter(|o| o.ours == Some(*stage)).count();
        let only = outcomes
            .iter()
            .filter(|o| o.stages[i].0 && o.stages.iter().filter(|s| s.0).count() == 1)
            .count();
        println!(
            "{:<20} {:>9.1}% {alone_ms:>12.1} {here:>14} {only:>12}",
            stage.to_string(),
            percent(alone, n),
            alone_ms = time
        );
    }

    println!("\n== Missed by ours");
    for o in outcomes.iter().filter(|o| o.ours.is_none()) {
        println!(
            "  {} (zbar: {})",
            o.label,
            if o.zbar { "decoded" } else { "missed" }
        );
    }
    println!("\n== Missed by zbar");
    for o in outcomes.iter().filter(|o| !o.zbar) {
        println!("  {}", o.label);
    }
}
