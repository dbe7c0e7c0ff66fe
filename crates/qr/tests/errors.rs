//! Inputs that hold no readable code: typed errors, never a panic.

use image::{DynamicImage, GrayImage, ImageFormat, Luma};
use proptest::prelude::*;
use std::io::Cursor;
use tokensim_qr::corpus::{self, Scenario};
use tokensim_qr::{QrError, Stage};

fn png(image: &GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    DynamicImage::ImageLuma8(image.clone())
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .expect("encode a PNG");
    bytes
}

/// A clean screenshot sample from the corpus, and its text.
fn screenshot() -> (GrayImage, String) {
    let spec = corpus::quick(1)
        .into_iter()
        .find(|s| s.scenario == Scenario::Screenshot)
        .expect("the quick set has screenshots");
    let sample = spec.render();
    (sample.image, sample.text)
}

#[test]
fn a_blank_frame_is_not_found_and_lists_the_variants_tried() {
    let error = tokensim_qr::decode_gray(640, 480, &vec![200; 640 * 480]).unwrap_err();
    let QrError::NotFound { tried } = &error else {
        panic!("expected NotFound, got {error:?}");
    };
    assert_eq!(tried.first(), Some(&Stage::ZxingCpp));
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "no QR code found in the image (tried {} variants: zxing-cpp, ",
            tried.len()
        )),
        "{message}"
    );
}

#[test]
fn random_noise_is_not_found() {
    let mut state = 0x1234_5678u32;
    let noise = GrayImage::from_fn(320, 240, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        Luma([state as u8])
    });
    let error = tokensim_qr::decode(&DynamicImage::ImageLuma8(noise)).unwrap_err();
    assert!(
        matches!(error, QrError::NotFound { .. } | QrError::Unreadable { .. }),
        "{error:?}"
    );
}

#[test]
fn a_code_with_its_middle_painted_over_is_found_but_unreadable() {
    let (mut image, _) = screenshot();
    // Find the code's extent (the dark pixels away from the header bar) and cover its
    // centre third: the finder patterns stay, the data is gone.
    let (width, height) = image.dimensions();
    let dark: Vec<(u32, u32)> = (height / 8..height)
        .flat_map(|y| (0..width).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0[0] < 60)
        .collect();
    let (x0, x1) = (
        dark.iter().map(|p| p.0).min().unwrap(),
        dark.iter().map(|p| p.0).max().unwrap(),
    );
    let (y0, y1) = (
        dark.iter().map(|p| p.1).min().unwrap(),
        dark.iter().map(|p| p.1).max().unwrap(),
    );
    let (w, h) = (x1 - x0, y1 - y0);
    for y in y0 + h / 4..y1 - h / 4 {
        for x in x0 + w / 4..x1 - w / 4 {
            image.put_pixel(x, y, Luma([if (x / 3 + y / 5) % 2 == 0 { 0 } else { 255 }]));
        }
    }
    let error = tokensim_qr::decode(&DynamicImage::ImageLuma8(image)).unwrap_err();
    assert!(matches!(error, QrError::Unreadable { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "a QR code was found but could not be read (damaged)"
    );
}

#[test]
fn a_screenshot_decodes_from_every_input_form() {
    let (image, text) = screenshot();
    let (width, height) = image.dimensions();
    let decoded = tokensim_qr::decode_gray(width, height, image.as_raw()).unwrap();
    assert_eq!(decoded.text, text);
    assert_eq!(decoded.stage, Stage::ZxingCpp);
    // The corners frame the code: inside the image, spread over more than 100 pixels.
    for corner in decoded.corners {
        assert!(
            (0.0..width as f32).contains(&corner.x) && (0.0..height as f32).contains(&corner.y),
            "{corner:?}"
        );
    }
    let span = (decoded.corners[0].x - decoded.corners[2].x)
        .abs()
        .max((decoded.corners[0].y - decoded.corners[2].y).abs());
    assert!(span > 100.0, "{:?}", decoded.corners);

    let rgba: Vec<u8> = image
        .as_raw()
        .iter()
        .flat_map(|&v| [v, v, v, 255])
        .collect();
    assert_eq!(
        tokensim_qr::decode_rgba(width, height, &rgba).unwrap().text,
        text
    );
    let rgb: Vec<u8> = image.as_raw().iter().flat_map(|&v| [v, v, v]).collect();
    assert_eq!(
        tokensim_qr::decode_rgb(width, height, &rgb).unwrap().text,
        text
    );
    let bytes = png(&image);
    assert_eq!(tokensim_qr::decode_bytes(&bytes).unwrap().text, text);
    let path = std::env::temp_dir().join(format!("tokensim-qr-test-{}.png", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let from_file = tokensim_qr::decode_file(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!(from_file.unwrap().text, text);
}

/// A transparent export whose light modules are transparent black: a reader that drops
/// alpha sees a black square; composited onto white, as a viewer shows it, it reads.
#[test]
fn a_transparent_export_decodes_composited_onto_white() {
    let spec = corpus::quick(1)
        .into_iter()
        .find(|s| s.scenario == Scenario::TransparentExport)
        .expect("the quick set has a transparent export");
    let sample = spec.render();
    assert!(
        sample.image.pixels().all(|p| p.0[0] == 0),
        "without alpha the export is all dark"
    );
    assert!(
        tokensim_qr::decode_gray(
            sample.image.width(),
            sample.image.height(),
            sample.image.as_raw()
        )
        .is_err()
    );
    let mut bytes = Vec::new();
    sample
        .input()
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    assert_eq!(tokensim_qr::decode_bytes(&bytes).unwrap().text, sample.text);
    assert!(!tokensim_qr::load(&bytes).unwrap().color().has_alpha());
    assert_eq!(
        tokensim_qr::decode(&sample.input()).unwrap().text,
        sample.text
    );
    let rgba = sample.input().to_rgba8();
    let (width, height) = rgba.dimensions();
    assert_eq!(
        tokensim_qr::decode_rgba(width, height, rgba.as_raw())
            .unwrap()
            .text,
        sample.text
    );
}

/// The live scanner takes a quick look at every frame, then the live stages in turn, as
/// many as the frame's budget allows, and reads a code the first frame it sees it.
#[test]
fn the_live_scanner_looks_quickly_then_tries_the_stages_in_turn() {
    // A budget no stage can exceed: the quick look, then every live stage, each frame.
    let mut generous = tokensim_qr::LiveScanner::with_budget(std::time::Duration::from_secs(60));
    let blank = GrayImage::from_pixel(640, 480, Luma([200]));
    let error = generous.scan(&blank).unwrap_err();
    let QrError::NotFound { tried } = error else {
        panic!("expected NotFound, got {error:?}");
    };
    assert_eq!(tried[0], Stage::ZxingCppQuick);
    assert_eq!(&tried[1..], &Stage::LIVE);
    // No budget at all: the quick look only.
    let mut none = tokensim_qr::LiveScanner::with_budget(std::time::Duration::ZERO);
    let QrError::NotFound { tried } = none.scan(&blank).unwrap_err() else {
        panic!("expected NotFound");
    };
    assert_eq!(tried, [Stage::ZxingCppQuick]);
    // The default budget: the quick look first, then stages in their turn, never one twice.
    let mut scanner = tokensim_qr::LiveScanner::new();
    for _ in 0..Stage::LIVE.len() * 2 {
        let error = scanner.scan(&blank).unwrap_err();
        let QrError::NotFound { tried } = error else {
            panic!("expected NotFound, got {error:?}");
        };
        assert_eq!(tried[0], Stage::ZxingCppQuick);
        assert!(
            tried[1..].iter().all(|s| Stage::LIVE.contains(s)),
            "{tried:?}"
        );
        let mut once = tried.clone();
        once.dedup();
        assert_eq!(once.len(), tried.len(), "{tried:?}");
    }
    let (image, text) = screenshot();
    assert_eq!(scanner.scan(&image).unwrap().text, text);
    assert!(matches!(
        scanner.scan(&GrayImage::new(0, 0)),
        Err(QrError::Empty { .. })
    ));
}

#[test]
fn a_truncated_png_is_an_image_error() {
    let (image, _) = screenshot();
    let bytes = png(&image);
    let error = tokensim_qr::decode_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(matches!(error, QrError::Image(_)), "{error:?}");
}

#[test]
fn other_bad_inputs_have_their_own_errors() {
    let error = tokensim_qr::decode_rgba(10, 10, &[0; 399]).unwrap_err();
    assert!(
        matches!(
            error,
            QrError::BufferSize {
                expected: 400,
                actual: 399,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "a 10×10 RGBA frame needs 400 bytes, the buffer holds 399"
    );
    let error = tokensim_qr::decode_gray(0, 480, &[]).unwrap_err();
    assert!(
        matches!(
            error,
            QrError::Empty {
                width: 0,
                height: 480
            }
        ),
        "{error:?}"
    );
    let error = tokensim_qr::decode_bytes(b"GIF89a not supported").unwrap_err();
    assert!(matches!(error, QrError::Image(_)), "{error:?}");
    let error = tokensim_qr::decode_file("/nonexistent/frame.png").unwrap_err();
    assert!(matches!(error, QrError::Io { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("could not read /nonexistent/frame.png: "),
        "{error}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes, and random bytes behind a PNG or JPEG signature, never panic the loader.
    #[test]
    fn random_bytes_never_panic_the_loader(
        prefix in prop::sample::select(vec![&b""[..], b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0"]),
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let bytes = [prefix, &body[..]].concat();
        let _ = tokensim_qr::decode_bytes(&bytes);
    }

    /// A valid PNG with bytes flipped decodes, fails with a typed error, or finds no code.
    #[test]
    fn corrupted_pngs_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let image = GrayImage::from_fn(48, 32, |x, y| Luma([((x * 7 + y * 13) % 256) as u8]));
        let mut bytes = png(&image);
        for (index, value) in flips {
            let at = index.index(bytes.len());
            bytes[at] ^= value;
        }
        let _ = tokensim_qr::decode_bytes(&bytes);
    }

    /// Small random gray frames of any size never panic the pipeline.
    #[test]
    fn random_small_frames_never_panic(width in 0u32..40, height in 0u32..40, seed in any::<u8>()) {
        let pixels: Vec<u8> = (0..width * height).map(|i| (i as u8).wrapping_mul(seed) ^ seed).collect();
        let _ = tokensim_qr::decode_gray(width, height, &pixels);
    }
}

#[test]
fn corners_from_the_rxing_stage_frame_the_code() {
    let spec = corpus::quick(1)
        .into_iter()
        .find(|s| s.scenario == Scenario::Inverted && s.code_size == corpus::CodeSize::Large)
        .expect("the quick set has a large inverted code");
    let sample = spec.render();
    let decoded = tokensim_qr::Decoder::with_stages(&[Stage::Zxing])
        .decode_luma(&sample.image)
        .unwrap();
    assert_eq!(decoded.text, sample.text);
    let (width, height) = sample.image.dimensions();
    for corner in decoded.corners {
        assert!(
            (0.0..width as f32).contains(&corner.x) && (0.0..height as f32).contains(&corner.y),
            "{corner:?}"
        );
    }
    // A large code spans about 0.65 of the frame height: its diagonal is longer than half of it.
    let [a, _, c, _] = decoded.corners;
    let diagonal = ((a.x - c.x).powi(2) + (a.y - c.y).powi(2)).sqrt();
    assert!(diagonal > 0.5 * height as f32, "{:?}", decoded.corners);
}
