//! Decoding benchmark: our pipeline against zxing-cpp (the zxing-cpp project's reader, called
//! in this process) and Debian's `zbarimg`, on the same generated corpus, in one run.
//!
//! 1. Renders the corpus (`corpus::corpus(SEED, replicas)`: every frame size × code size ×
//!    scenario, the known miss causes and frames without a code included) and writes each
//!    frame as a PNG file (a transparent export with its alpha channel) to a temporary folder.
//! 2. Per frame, in memory: zxing-cpp alone (QR only, its default options: try harder,
//!    rotated, inverted, downscaled) on the frame as a reader that drops alpha sees it; our
//!    still-image pipeline (`Decoder::new().decode`); our live scanner (`LiveScanner::scan`,
//!    one scanner over the frames in order, as a camera stream); rqrr and rxing alone.
//! 3. Decodes every PNG file again with `decode_file` (load + decode).
//! 4. Runs `zbarimg --xml -q` once over all the files, and attributes its results per file.
//! 5. Prints what each read (a frame counts as read when the right text came out, or nothing
//!    came out of a frame without a code), wrong texts and false positives, median and p95
//!    time per frame, the ratios against zxing-cpp, per scenario, and the frames missed.
//!
//! `cargo bench -p tokensim-qr`. Environment: `TOKENSIM_QR_REPLICAS` (default 3: 486
//! frames), `TOKENSIM_QR_QUICK=1` (the 72-frame test subset instead), `TOKENSIM_QR_KEEP=1`
//! (keep the PNG folder), `TOKENSIM_QR_STAGES=1` (also each stage alone, with a table of what
//! each stage decides), `TOKENSIM_QR_MATRIX=<file>` (with stages: each stage's result per
//! frame, to work out other stage lists).

use image::GrayImage;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokensim_qr::corpus::{self, Sample};
use tokensim_qr::{Decoded, Decoder, LiveScanner, QrError, Stage};
use zxingcpp::{BarcodeFormat, BarcodeReader, ImageFormat, ImageView};

const SEED: u64 = 0x70C3_5111;

/// One decoder's verdict on one frame.
#[derive(Clone, Copy, Default)]
struct Run {
    /// The right text, or nothing from a frame without a code.
    read: bool,
    /// Text from a frame without a code, or the wrong text.
    wrong: bool,
    time: Duration,
    /// The thread's CPU time: what the decode cost, whatever else the machine ran.
    cpu: Duration,
}

/// The calling thread's CPU time so far.
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// What happened to one frame.
struct Outcome {
    label: String,
    scenario: &'static str,
    frame: String,
    zxing_cpp: Run,
    ours: Run,
    ours_stage: Option<Stage>,
    /// The live scanner over the scene's frames (read within them), and each frame.
    live: Run,
    live_frames: Vec<Run>,
    ours_file: Run,
    rqrr: Run,
    rxing: Run,
    zbar: Run,
    /// Each stage alone (`TOKENSIM_QR_STAGES=1`).
    stages: Vec<Run>,
}

fn verdict(sample: &Sample, text: Option<&str>, time: Duration, cpu: Duration) -> Run {
    let (read, wrong) = match text {
        Some(text) if sample.has_code() && text == sample.text => (true, false),
        Some(_) => (false, true),
        None => (!sample.has_code(), false),
    };
    Run {
        read,
        wrong,
        time,
        cpu,
    }
}

fn timed(
    sample: &Sample,
    decode: impl FnOnce() -> Result<Decoded, QrError>,
) -> (Run, Option<Stage>) {
    let (start, cpu) = (Instant::now(), thread_cpu());
    let result = black_box(decode());
    let (time, cpu) = (start.elapsed(), thread_cpu().saturating_sub(cpu));
    let stage = result.as_ref().ok().map(|d| d.stage);
    let text = result.ok().map(|d| d.text);
    (verdict(sample, text.as_deref(), time, cpu), stage)
}

/// zxing-cpp as an application calls it: default reader options, QR codes only.
fn zxing_cpp(sample: &Sample) -> Run {
    let gray = &sample.image;
    let (start, cpu) = (Instant::now(), thread_cpu());
    let text = ImageView::from_slice(gray.as_raw(), gray.width(), gray.height(), ImageFormat::Lum)
        .ok()
        .and_then(|view| {
            BarcodeReader::new()
                .formats([BarcodeFormat::QRCode])
                .from(view)
                .ok()
        })
        .and_then(|found| found.into_iter().find(|b| b.is_valid()).map(|b| b.text()));
    let (time, cpu) = (start.elapsed(), thread_cpu().saturating_sub(cpu));
    verdict(sample, black_box(text).as_deref(), time, cpu)
}

/// The frames a camera delivers while one scene is in view that the live scanner gets:
/// a sixth of a second at 30 frames a second.
const LIVE_FRAMES: usize = 5;

/// The live scanner on `LIVE_FRAMES` consecutive frames of one scene: read when a frame
/// gave the right text (or no frame gave any text without a code), wrong when any frame gave
/// a wrong one; the time is the first frame's, the slowest frame's is returned beside it.
fn live_scene(sample: &Sample, live: &mut LiveScanner, gray: &GrayImage) -> (Run, Vec<Run>) {
    let frames: Vec<Run> = (0..LIVE_FRAMES)
        .map(|_| timed(sample, || live.scan(gray)).0)
        .collect();
    let first_read = frames.iter().position(|r| r.read && sample.has_code());
    let scene = Run {
        read: if sample.has_code() {
            first_read.is_some()
        } else {
            frames.iter().all(|r| r.read)
        },
        wrong: frames.iter().any(|r| r.wrong),
        time: frames[0].time,
        cpu: frames[0].cpu,
    };
    (scene, frames)
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
    let with_stages = std::env::var_os("TOKENSIM_QR_STAGES").is_some();
    let folder = std::env::temp_dir().join(format!("tokensim-qr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("create the corpus folder");
    println!(
        "corpus: {} frames, PNG files in {}",
        specs.len(),
        folder.display()
    );

    let full = Decoder::new();
    let rqrr = Decoder::with_stages(&[Stage::AsIs]);
    let rxing = Decoder::with_stages(&[Stage::Zxing]);
    let singles: Vec<Decoder> = Stage::ALL
        .iter()
        .map(|s| Decoder::with_stages(&[*s]))
        .collect();
    let mut live = LiveScanner::new();
    let mut outcomes = Vec::new();
    let mut samples = Vec::new();
    for spec in &specs {
        let sample = spec.render();
        let path = folder.join(format!("frame-{:04}.png", spec.index));
        sample.input().save(&path).expect("write a PNG");
        let input = sample.input();
        let (ours, ours_stage) = timed(&sample, || full.decode(&input));
        let gray = tokensim_qr::to_gray(&input);
        let (live_run, live_frames) = live_scene(&sample, &mut live, &gray);
        let (frame_w, frame_h) = spec.frame.dimensions();
        outcomes.push(Outcome {
            label: sample.label(),
            scenario: spec.scenario.name(),
            frame: format!("{frame_w}x{frame_h}"),
            zxing_cpp: zxing_cpp(&sample),
            ours,
            ours_stage,
            live: live_run,
            live_frames,
            ours_file: Run::default(),
            rqrr: timed(&sample, || rqrr.decode(&input)).0,
            rxing: timed(&sample, || rxing.decode(&input)).0,
            zbar: Run::default(),
            stages: if with_stages {
                singles
                    .iter()
                    .map(|d| timed(&sample, || d.decode(&input)).0)
                    .collect()
            } else {
                Vec::new()
            },
        });
        samples.push((path, sample));
    }
    for ((path, sample), outcome) in samples.iter().zip(&mut outcomes) {
        outcome.ours_file = timed(sample, || tokensim_qr::decode_file(path)).0;
    }
    let paths: Vec<&Path> = samples.iter().map(|(p, _)| p.as_path()).collect();
    let (zbar_results, zbar_time) = run_zbar(&paths);
    for ((path, sample), outcome) in samples.iter().zip(&mut outcomes) {
        let found = zbar_results.get(path).and_then(|texts| {
            texts
                .iter()
                .find(|t| **t == sample.text)
                .or(texts.first())
                .cloned()
        });
        outcome.zbar = verdict(sample, found.as_deref(), Duration::ZERO, Duration::ZERO);
    }
    report(&outcomes, zbar_time.is_some(), with_stages);
    if let Some(path) = std::env::var_os("TOKENSIM_QR_MATRIX").filter(|_| with_stages) {
        // One line per frame: label, zbar, then per stage alone "1"/"0" and milliseconds.
        let lines: Vec<String> = outcomes
            .iter()
            .map(|o| {
                let stages: Vec<String> = o
                    .stages
                    .iter()
                    .map(|r| format!("{}:{:.2}", u8::from(r.read), ms(r.time)))
                    .collect();
                format!(
                    "{}\t{}\t{}",
                    o.label,
                    u8::from(o.zbar.read),
                    stages.join(" ")
                )
            })
            .collect();
        std::fs::write(path, lines.join("\n")).expect("write the matrix");
    }
    if std::env::var_os("TOKENSIM_QR_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&folder);
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

/// The `q` quantile (0..1) of `times`, nearest rank.
fn quantile(mut times: Vec<Duration>, q: f64) -> Duration {
    times.sort();
    let rank = ((q * times.len() as f64).ceil() as usize).saturating_sub(1);
    times.get(rank).copied().unwrap_or_default()
}

fn report(outcomes: &[Outcome], zbar_ran: bool, with_stages: bool) {
    let n = outcomes.len();
    let negatives = outcomes.iter().filter(|o| o.scenario == "no code").count();
    println!("\n== Overall ({n} frames, {negatives} without a code)");
    println!(
        "{:<36} {:>6} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "decoder",
        "read",
        "read %",
        "wrong",
        "median ms",
        "p95 ms",
        "mean ms",
        "cpu med",
        "cpu p95"
    );
    type Pick = fn(&Outcome) -> Run;
    let decoders: [(&str, Pick, bool); 7] = [
        ("zxing-cpp alone (reference)", |o| o.zxing_cpp, true),
        ("ours, still image (decode)", |o| o.ours, true),
        ("ours, live camera (LiveScanner)", |o| o.live, true),
        ("ours, from PNG file (decode_file)", |o| o.ours_file, true),
        ("rqrr alone (as-is stage)", |o| o.rqrr, true),
        ("rxing alone (ZXing stage)", |o| o.rxing, true),
        ("zbarimg, one process, all files", |o| o.zbar, false),
    ];
    struct Stats {
        read: usize,
        wrong: usize,
        median: Duration,
        p95: Duration,
        mean: Duration,
        cpu_median: Duration,
        cpu_p95: Duration,
    }
    let summarise = |runs: &[Run]| {
        let times: Vec<Duration> = runs.iter().map(|r| r.time).collect();
        let cpu: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
        Stats {
            read: runs.iter().filter(|r| r.read).count(),
            wrong: runs.iter().filter(|r| r.wrong).count(),
            median: quantile(times.clone(), 0.5),
            p95: quantile(times.clone(), 0.95),
            mean: times.iter().sum::<Duration>() / runs.len().max(1) as u32,
            cpu_median: quantile(cpu.clone(), 0.5),
            cpu_p95: quantile(cpu, 0.95),
        }
    };
    let stats = |pick: Pick| summarise(&outcomes.iter().map(pick).collect::<Vec<_>>());
    // The live scanner's times are per frame, over every frame it was given.
    let live_frames: Vec<Run> = outcomes
        .iter()
        .flat_map(|o| o.live_frames.iter().copied())
        .collect();
    for (name, pick, timed) in decoders {
        if !timed && !zbar_ran {
            println!("{name:<36} not run");
            continue;
        }
        let mut row = stats(pick);
        if name.contains("LiveScanner") {
            let frames = summarise(&live_frames);
            (row.median, row.p95, row.mean) = (frames.median, frames.p95, frames.mean);
            (row.cpu_median, row.cpu_p95) = (frames.cpu_median, frames.cpu_p95);
        }
        let time = |d: Duration| {
            if timed {
                format!("{:.1}", ms(d))
            } else {
                "-".to_string()
            }
        };
        println!(
            "{name:<36} {:>6} {:>7.1}% {:>6} {:>10} {:>8} {:>8} {:>8} {:>8}",
            row.read,
            percent(row.read, n),
            row.wrong,
            time(row.median),
            time(row.p95),
            time(row.mean),
            time(row.cpu_median),
            time(row.cpu_p95)
        );
    }
    let reference = stats(|o| o.zxing_cpp);
    let ours = stats(|o| o.ours);
    let ratio = |a: Duration, b: Duration| ms(a) / ms(b).max(1e-9);
    println!(
        "ratio ours/zxing-cpp (still image): median {:.2}, p95 {:.2} (CPU time: median {:.2}, p95 {:.2})",
        ratio(ours.median, reference.median),
        ratio(ours.p95, reference.p95),
        ratio(ours.cpu_median, reference.cpu_median),
        ratio(ours.cpu_p95, reference.cpu_p95)
    );
    let live = summarise(&live_frames);
    println!(
        "ratio ours/zxing-cpp (live camera, per frame): median {:.2}, p95 {:.2} (CPU time: median {:.2}, p95 {:.2})",
        ratio(live.median, reference.median),
        ratio(live.p95, reference.p95),
        ratio(live.cpu_median, reference.cpu_median),
        ratio(live.cpu_p95, reference.cpu_p95)
    );
    println!(
        "live camera: a scene reads when one of its {LIVE_FRAMES} consecutive frames gives the right text"
    );
    println!("\n== Frames without a code, per frame (live scanner: every frame it was given)");
    println!(
        "{:<12} {:<26} {:>7} {:>10} {:>8} {:>10} {:>8}",
        "frame", "decoder", "frames", "median ms", "max ms", "cpu med", "cpu max"
    );
    let mut sizes: Vec<&String> = outcomes.iter().map(|o| &o.frame).collect();
    sizes.dedup();
    for size in sizes {
        let empty: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.scenario == "no code" && &o.frame == size)
            .collect();
        let rows: [(&str, Vec<Run>); 3] = [
            (
                "live scanner",
                empty.iter().flat_map(|o| o.live_frames.clone()).collect(),
            ),
            (
                "zxing-cpp alone",
                empty.iter().map(|o| o.zxing_cpp).collect(),
            ),
            ("ours, still image", empty.iter().map(|o| o.ours).collect()),
        ];
        for (name, runs) in rows {
            let times: Vec<Duration> = runs.iter().map(|r| r.time).collect();
            let cpu: Vec<Duration> = runs.iter().map(|r| r.cpu).collect();
            println!(
                "{size:<12} {name:<26} {:>7} {:>10.1} {:>8.1} {:>10.1} {:>8.1}",
                runs.len(),
                ms(quantile(times.clone(), 0.5)),
                ms(times.iter().max().copied().unwrap_or_default()),
                ms(quantile(cpu.clone(), 0.5)),
                ms(cpu.iter().max().copied().unwrap_or_default()),
            );
        }
    }

    for (title, key) in [
        (
            "scenario",
            (|o: &Outcome| o.scenario.to_string()) as fn(&Outcome) -> String,
        ),
        ("frame", |o: &Outcome| o.frame.clone()),
    ] {
        println!("\n== Per {title}");
        println!(
            "{:<20} {:>5} {:>10} {:>8} {:>8} {:>8} {:>8} {:>10} {:>10}",
            title, "n", "zxing-cpp", "ours", "live", "rqrr", "zbar", "ours ms", "zxcpp ms"
        );
        let mut seen: Vec<String> = Vec::new();
        for group in outcomes.iter().map(key) {
            if seen.contains(&group) {
                continue;
            }
            let members: Vec<&Outcome> = outcomes.iter().filter(|o| key(o) == group).collect();
            let m = members.len();
            let count = |f: Pick| members.iter().filter(|o| f(o).read).count();
            let med = |f: Pick| ms(quantile(members.iter().map(|o| f(o).time).collect(), 0.5));
            println!(
                "{group:<20} {m:>5} {:>9.1}% {:>7.1}% {:>7.1}% {:>7.1}% {:>7.1}% {:>10.1} {:>10.1}",
                percent(count(|o| o.zxing_cpp), m),
                percent(count(|o| o.ours), m),
                percent(count(|o| o.live), m),
                percent(count(|o| o.rqrr), m),
                percent(count(|o| o.zbar), m),
                med(|o| o.ours),
                med(|o| o.zxing_cpp),
            );
            seen.push(group);
        }
    }

    println!("\n== Stages that decided (still image)");
    for stage in Stage::ALL {
        let here = outcomes
            .iter()
            .filter(|o| o.ours.read && o.ours_stage == Some(stage))
            .count();
        if here > 0 {
            println!("{:<24} {here:>5}", stage.to_string());
        }
    }
    if with_stages {
        println!("\n== Each stage alone");
        println!(
            "{:<24} {:>10} {:>12} {:>12}",
            "stage", "alone", "median ms", "only here"
        );
        for (i, stage) in Stage::ALL.iter().enumerate() {
            let alone = outcomes.iter().filter(|o| o.stages[i].read).count();
            let time = ms(quantile(
                outcomes.iter().map(|o| o.stages[i].time).collect(),
                0.5,
            ));
            let only = outcomes
                .iter()
                .filter(|o| {
                    o.scenario != "no code"
                        && o.stages[i].read
                        && o.stages.iter().filter(|s| s.read).count() == 1
                })
                .count();
            println!(
                "{:<24} {:>9.1}% {time:>12.1} {only:>12}",
                stage.to_string(),
                percent(alone, n),
            );
        }
    }

    println!("\n== Missed or wrong, ours (still image)");
    for o in outcomes.iter().filter(|o| !o.ours.read) {
        println!(
            "  {}{} (zxing-cpp: {}, zbar: {})",
            o.label,
            if o.ours.wrong { " WRONG" } else { "" },
            if o.zxing_cpp.read { "read" } else { "missed" },
            if o.zbar.read { "read" } else { "missed" }
        );
    }
    println!("\n== Missed by zxing-cpp alone");
    for o in outcomes.iter().filter(|o| !o.zxing_cpp.read) {
        println!("  {}", o.label);
    }
}
