//! Each zxing-cpp variant stage reads the generated frames it is there for, which zxing-cpp
//! alone misses; frames without a code give nothing, in the still-image pipeline and in the
//! live scanner. Frames come from the seeded generator, never from stored files.

use image::GrayImage;
use std::time::Duration;
use tokensim_qr::corpus::{self, FrameSize, Sample, Scenario};
use tokensim_qr::{Decoder, LiveScanner, QrError, Stage};

/// The seed of these tests' frames (the benchmark uses another).
const SEED: u64 = 0x5EED_0020;

/// Two replicas of `scenario` at the given frame sizes, every code size.
fn samples(scenario: Scenario, frames: &[FrameSize]) -> Vec<Sample> {
    corpus::corpus(SEED, 2)
        .into_iter()
        .filter(|s| s.scenario == scenario && frames.contains(&s.frame))
        .map(|s| s.render())
        .collect()
}

const LIVE_SIZES: [FrameSize; 2] = [FrameSize::Vga, FrameSize::Hd];

/// How many of `samples` the stages read, with the right text; a wrong text fails the test.
fn reads(stages: &[Stage], samples: &[Sample]) -> usize {
    let decoder = Decoder::with_stages(stages);
    samples
        .iter()
        .filter(|sample| match decoder.decode(&sample.input()) {
            Ok(decoded) => {
                assert_eq!(
                    decoded.text,
                    sample.text,
                    "wrong text from {}",
                    sample.label()
                );
                true
            }
            Err(_) => false,
        })
        .count()
}

/// `stage` alone reads at least `at_least` of the scenario's frames, and together with
/// zxing-cpp more than zxing-cpp alone.
fn check_stage(stage: Stage, scenario: Scenario, frames: &[FrameSize], at_least: usize) {
    let samples = samples(scenario, frames);
    let alone = reads(&[Stage::ZxingCpp], &samples);
    let with_stage = reads(&[stage], &samples);
    let together = reads(&[Stage::ZxingCpp, stage], &samples);
    eprintln!(
        "{stage} on {}: zxing-cpp alone {alone}, the stage {with_stage}, both {together} of {}",
        scenario.name(),
        samples.len()
    );
    assert!(with_stage >= at_least, "{stage} read {with_stage}");
    assert!(
        together > alone,
        "{stage} adds nothing to zxing-cpp ({alone})"
    );
}

#[test]
fn the_regions_stage_reads_codes_of_one_to_two_pixels_per_module() {
    // 640×480 only: the enlargement is slow in a debug build (6 frames).
    check_stage(
        Stage::ZxingCppRegions,
        Scenario::TinyModules,
        &[FrameSize::Vga],
        4,
    );
}

#[test]
fn the_sharpened_stage_reads_small_blurred_codes() {
    check_stage(
        Stage::ZxingCppSharpened,
        Scenario::SmallBlurred,
        &LIVE_SIZES,
        10,
    );
}

#[test]
fn the_normalised_stage_reads_dim_noisy_screens() {
    check_stage(
        Stage::ZxingCppNormalised,
        Scenario::DimScreen,
        &LIVE_SIZES,
        7,
    );
}

/// Text-only screens and mosaics of module-sized blocks (no finder patterns), at every frame
/// size: nothing comes out of the still-image pipeline, of any new stage alone, or of the
/// live scanner over several frames with a budget that lets every live stage run.
#[test]
fn frames_without_a_code_give_no_result() {
    let empty = samples(Scenario::NoCode, &FrameSize::ALL);
    assert_eq!(empty.len(), 18);
    let decoder = Decoder::new();
    let mut live = LiveScanner::with_budget(Duration::from_secs(60));
    for sample in &empty {
        let input = sample.input();
        let error = decoder.decode(&input).unwrap_err();
        assert!(
            matches!(error, QrError::NotFound { .. } | QrError::Unreadable { .. }),
            "{}: {error:?}",
            sample.label()
        );
        for stage in [
            Stage::ZxingCppRegions,
            Stage::ZxingCppSharpened,
            Stage::ZxingCppNormalised,
            Stage::ZxingCppQuick,
        ] {
            let found = Decoder::with_stages(&[stage]).decode(&input);
            assert!(found.is_err(), "{stage} on {}: {found:?}", sample.label());
        }
        let gray: GrayImage = tokensim_qr::to_gray(&input);
        for _ in 0..2 {
            let found = live.scan(&gray);
            assert!(found.is_err(), "live on {}: {found:?}", sample.label());
        }
    }
}

/// The live scanner reads a code that only a live stage reads (a dim screen zxing-cpp's
/// quick look misses) within a few consecutive frames, with the default budget if the
/// machine is fast enough and always with a generous one.
#[test]
fn the_live_scanner_reads_what_its_stages_read_over_consecutive_frames() {
    let dim = samples(Scenario::DimScreen, &[FrameSize::Vga]);
    let quick = Decoder::with_stages(&[Stage::ZxingCppQuick]);
    let hard: Vec<&Sample> = dim
        .iter()
        .filter(|s| quick.decode(&s.input()).is_err())
        .collect();
    assert!(!hard.is_empty(), "the quick look reads every dim screen");
    let mut read = 0;
    for sample in &hard {
        let mut live = LiveScanner::with_budget(Duration::from_secs(60));
        let gray = tokensim_qr::to_gray(&sample.input());
        if (0..Stage::LIVE.len()).any(|_| live.scan(&gray).is_ok_and(|d| d.text == sample.text)) {
            read += 1;
        }
    }
    assert!(read > 0, "none of {} read", hard.len());
}
