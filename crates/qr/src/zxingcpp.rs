//! The zxing-cpp stage: the zxing-cpp project's own reader (C++, through its Rust wrapper),
//! the pipeline's fast first stage. It binarises locally, tries harder, the inverted frame,
//! rotations and downscaled copies itself, and reads a 640×480 frame in a few milliseconds.

use crate::Point;
use crate::pipeline::Attempt;
use image::GrayImage;
use zxingcpp::{BarcodeError, BarcodeFormat, BarcodeReader, Binarizer, ImageFormat, ImageView};

/// How zxing-cpp is asked to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effort {
    /// Trying harder (every row scanned), inverted, rotated and downscaled copies: the
    /// still-image first stage.
    Full,
    /// Every few rows only, the inverted frame too (dark mode; it reuses the binarised
    /// frame), no rotated or downscaled copies: a live frame's quick look, a few times
    /// cheaper than [`Effort::Full`].
    Quick,
    /// Trying harder on a filtered variant of the frame, without the inverted, rotated and
    /// downscaled copies the first stage has already tried: about half of [`Effort::Full`].
    Variant,
    /// [`Effort::Variant`] on an image already centred on level 128 (a normalised frame):
    /// a fixed threshold instead of zxing-cpp's local one.
    Threshold,
}

/// Runs zxing-cpp over `gray`, QR codes only. A code whose grid was sampled but whose error
/// correction failed (a checksum error), or whose content is not text, counts as
/// [`Attempt::Located`]; a mere format error does not (random textures give those), so a
/// frame without a code does not send the pipeline into its fallbacks.
pub(crate) fn attempt(gray: &GrayImage) -> Attempt {
    attempt_with(gray, Effort::Full)
}

/// [`attempt`] with the given effort.
pub(crate) fn attempt_with(gray: &GrayImage, effort: Effort) -> Attempt {
    let (width, height) = gray.dimensions();
    let Ok(view) = ImageView::from_slice(gray.as_raw(), width, height, ImageFormat::Lum) else {
        return Attempt::Nothing;
    };
    let full = effort == Effort::Full;
    let reader = BarcodeReader::new()
        .formats([BarcodeFormat::QRCode])
        .try_harder(effort != Effort::Quick)
        .try_invert(full || effort == Effort::Quick)
        .try_rotate(full)
        .try_downscale(full)
        .binarizer(if effort == Effort::Threshold {
            Binarizer::FixedThreshold
        } else {
            Binarizer::LocalAverage
        })
        .return_errors(true)
        .max_number_of_symbols(4);
    let Ok(found) = reader.from(view) else {
        return Attempt::Nothing;
    };
    let mut located = false;
    for barcode in found {
        if !barcode.is_valid() {
            located |= matches!(barcode.error(), BarcodeError::Checksum(_));
            continue;
        }
        // Activation codes and offline operations are text; binary content is not ours.
        let Ok(text) = String::from_utf8(barcode.bytes()) else {
            located = true;
            continue;
        };
        let position = barcode.position();
        let corners = [
            position.top_left,
            position.top_right,
            position.bottom_right,
            position.bottom_left,
        ]
        .map(|p| Point {
            x: p.x as f32,
            y: p.y as f32,
        });
        return Attempt::Decoded { text, corners };
    }
    if located {
        Attempt::Located
    } else {
        Attempt::Nothing
    }
}
