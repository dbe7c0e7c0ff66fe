//! The decoder against the quick subset of the generated corpus (48 frames at 640×480 and
//! 1280×720). The full comparison with zbar is the benchmark: `cargo bench -p tokensim-qr`.

use tokensim_qr::corpus::{self, Scenario};
use tokensim_qr::{Decoder, Stage};

/// The floor for the quick set: 69 of 72 frames read (a frame without a code reads when
/// nothing comes out of it).
const QUICK_FLOOR_PERCENT: usize = 95;

#[test]
fn the_quick_corpus_decodes_above_the_floor_and_nothing_comes_out_of_an_empty_frame() {
    let decoder = Decoder::new();
    let specs = corpus::quick(0x70C3_5111);
    assert_eq!(specs.len(), 72);
    let mut missed = Vec::new();
    for spec in &specs {
        let sample = spec.render();
        match decoder.decode(&sample.input()) {
            Ok(decoded) => {
                assert!(
                    sample.has_code(),
                    "false positive from {}: {:?}",
                    sample.label(),
                    decoded.text
                );
                assert_eq!(
                    decoded.text,
                    sample.text,
                    "wrong text from {}",
                    sample.label()
                );
            }
            Err(_) if !sample.has_code() => {}
            Err(error) => {
                assert_ne!(
                    spec.scenario,
                    Scenario::Screenshot,
                    "{}: {error}",
                    sample.label()
                );
                missed.push(format!("{}: {error}", sample.label()));
            }
        }
    }
    let read = specs.len() - missed.len();
    assert!(
        read * 100 >= QUICK_FLOOR_PERCENT * specs.len(),
        "read {read} of {}, missed:\n{}",
        specs.len(),
        missed.join("\n")
    );
}

#[test]
fn the_corpus_is_deterministic_and_labelled() {
    let specs = corpus::corpus(7, 1);
    assert_eq!(specs.len(), 3 * 3 * Scenario::ALL.len());
    assert_eq!(specs, corpus::corpus(7, 1));
    assert_ne!(specs[5].seed, corpus::corpus(8, 1)[5].seed);
    let glare = specs
        .iter()
        .find(|s| s.scenario == Scenario::GlareAtAnAngle)
        .unwrap();
    let (first, second) = (glare.render(), glare.render());
    assert_eq!(first.image, second.image);
    assert_eq!(first.text, second.text);
    assert_eq!(first.image.dimensions(), (640, 480));
    let label = first.label();
    assert!(
        label.contains("glare +") && label.contains("tilt"),
        "{label}"
    );
}

/// The known miss causes are in the corpus with the parameters they are named for.
#[test]
fn the_miss_causes_are_rendered_as_named() {
    let specs = corpus::corpus(11, 1);
    let render = |scenario: Scenario| -> Vec<corpus::Sample> {
        specs
            .iter()
            .filter(|s| s.scenario == scenario && s.frame == corpus::FrameSize::Vga)
            .map(|s| s.render())
            .collect()
    };
    for sample in render(Scenario::TinyModules) {
        assert!((1.0..1.6).contains(&sample.module_px), "{}", sample.label());
    }
    for sample in render(Scenario::SmallBlurred) {
        assert!((2.4..5.8).contains(&sample.module_px), "{}", sample.label());
    }
    for sample in render(Scenario::GlareHighEc) {
        assert_eq!(sample.modules, 81, "{}", sample.label());
        assert!(sample.label().contains("glare +"), "{}", sample.label());
    }
    for sample in render(Scenario::MotionBlur) {
        assert!(sample.label().contains("motion "), "{}", sample.label());
    }
    for sample in render(Scenario::TransparentExport) {
        assert!(sample.alpha.is_some() && sample.input().color().has_alpha());
    }
    for sample in render(Scenario::NoCode) {
        assert!(!sample.has_code() && sample.text.is_empty());
    }
}

/// A stage list without the zxing-cpp stages still reads the frames zxing-cpp reads: rqrr
/// and rxing remain the fallbacks, and every stage of the default list is reached.
#[test]
fn the_fallback_stages_read_without_zxing_cpp() {
    let fallbacks: Vec<Stage> = Stage::DEFAULT
        .iter()
        .copied()
        .filter(|s| !s.to_string().starts_with("zxing-cpp"))
        .collect();
    let decoder = Decoder::with_stages(&fallbacks);
    let specs = corpus::quick(0x70C3_5111);
    let read = specs
        .iter()
        .filter(|s| s.scenario == Scenario::Screenshot || s.scenario == Scenario::Rotation)
        .filter(|s| {
            let sample = s.render();
            decoder
                .decode(&sample.input())
                .is_ok_and(|d| d.text == sample.text)
        })
        .count();
    assert!(read >= 6, "{read}");
}
