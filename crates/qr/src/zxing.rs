//! The `rxing` stage: ZXing's QR reader (C++ port, trying harder and the inverted image).

use crate::Point;
use crate::pipeline::Attempt;
use image::GrayImage;
use rxing::{BarcodeFormat, DecodeHints, Exceptions};

/// Runs rxing over `gray`. A panic inside rxing counts as nothing found: its detector has
/// not been fuzzed like ours, and a frame must never take the application down.
pub(crate) fn attempt(gray: &GrayImage) -> Attempt {
    let (width, height) = gray.dimensions();
    let luma = gray.as_raw().clone();
    let result = std::panic::catch_unwind(move || {
        let mut hints = DecodeHints {
            TryHarder: Some(true),
            AlsoInverted: Some(true),
            ..DecodeHints::default()
        };
        rxing::helpers::detect_in_luma_with_hints(
            luma,
            width,
            height,
            Some(BarcodeFormat::QR_CODE),
            &mut hints,
        )
    });
    match result {
        Ok(Ok(found)) => {
            let points: Vec<Point> = found
                .getPoints()
                .iter()
                .map(|p| Point { x: p.x, y: p.y })
                .collect();
            Attempt::Decoded {
                text: found.getText().to_string(),
                corners: corners(&points),
            }
        }
        Ok(Err(Exceptions::ChecksumException(_) | Exceptions::FormatException(_))) => {
            Attempt::Located
        }
        Ok(Err(_)) | Err(_) => Attempt::Nothing,
    }
}

/// The code's four corners from rxing's points: the C++ port reports the four corners;
/// from three finder centres (bottom-left, top-left, top-right) the fourth is completed as a
/// parallelogram.
fn corners(points: &[Point]) -> [Point; 4] {
    match points {
        [a, b, c, d, ..] => [*a, *b, *c, *d],
        [bottom_left, top_left, top_right] => {
            let bottom_right = Point {
                x: top_right.x + bottom_left.x - top_left.x,
                y: top_right.y + bottom_left.y - top_left.y,
            };
            [*top_left, *top_right, bottom_right, *bottom_left]
        }
        _ => [Point { x: 0.0, y: 0.0 }; 4],
    }
}
