//! QR code images (PNG, JPEG) to text with `rqrr`: the image as is, then a grayscale
//! contrast stretch, then inverted (dark-mode codes), then a couple of downscales (large
//! photos), first success wins.

use image::GrayImage;
use image::imageops::FilterType;
use std::path::Path;

/// Why no QR text came out of an image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrImageError {
    /// The file could not be read.
    #[error("cannot read the image file {path}: {detail}")]
    Read {
        /// The path.
        path: String,
        /// What the OS said.
        detail: String,
    },
    /// The bytes are not a PNG or JPEG image, or are truncated.
    #[error("the image cannot be decoded ({0}): use a PNG or JPEG file")]
    Decode(String),
    /// No QR code was found or decoded in any attempt.
    #[error(
        "no QR code found in the image (tried as is, contrast-stretched, inverted and downscaled): crop it closer, make it sharper, or type the code instead"
    )]
    NotFound,
    /// A QR code was found but its text is not UTF-8.
    #[error("the QR code does not hold text")]
    NotText,
}

/// Decodes the QR code in the image file at `path`.
pub fn decode_file(path: &Path) -> Result<String, QrImageError> {
    let bytes = std::fs::read(path).map_err(|e| QrImageError::Read {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    decode_bytes(&bytes)
}

/// Decodes the QR code in PNG or JPEG bytes.
pub fn decode_bytes(bytes: &[u8]) -> Result<String, QrImageError> {
    let image = image::load_from_memory(bytes).map_err(|e| QrImageError::Decode(e.to_string()))?;
    decode_gray(&image.to_luma8())
}

/// Decodes the QR code in a grayscale image, trying the variants in turn.
pub fn decode_gray(gray: &GrayImage) -> Result<String, QrImageError> {
    let stretched = contrast_stretch(gray);
    let mut inverted = stretched.clone();
    image::imageops::invert(&mut inverted);
    let mut saw_binary = false;
    for candidate in [gray, &stretched, &inverted] {
        match try_decode(candidate) {
            Attempt::Text(text) => return Ok(text),
            Attempt::Binary => saw_binary = true,
            Attempt::Nothing => {}
        }
    }
    for divisor in [2, 4] {
        let (w, h) = (gray.width() / divisor, gray.height() / divisor);
        if w < 21 || h < 21 {
            break;
        }
        for base in [&stretched, &inverted] {
            let small = image::imageops::resize(base, w, h, FilterType::Triangle);
            match try_decode(&small) {
                Attempt::Text(text) => return Ok(text),
                Attempt::Binary => saw_binary = true,
                Attempt::Nothing => {}
            }
        }
    }
    Err(if saw_binary {
        QrImageError::NotText
    } else {
        QrImageError::NotFound
    })
}

enum Attempt {
    Text(String),
    Binary,
    Nothing,
}

fn try_decode(gray: &GrayImage) -> Attempt {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(
        gray.width() as usize,
        gray.height() as usize,
        |x, y| gray.get_pixel(x as u32, y as u32).0[0],
    );
    let mut binary = false;
    for grid in prepared.detect_grids() {
        let mut bytes = Vec::new();
        if grid.decode_to(&mut bytes).is_ok() {
            match String::from_utf8(bytes) {
                Ok(text) => return Attempt::Text(text),
                Err(_) => binary = true,
            }
        }
    }
    if binary {
        Attempt::Binary
    } else {
        Attempt::Nothing
    }
}

/// Stretches the 2nd–98th percentile of gray levels over 0–255.
fn contrast_stretch(gray: &GrayImage) -> GrayImage {
    let mut histogram = [0u64; 256];
    for p in gray.pixels() {
        histogram[usize::from(p.0[0])] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let level_at = |fraction: u64| {
        let target = total * fraction / 100;
        let mut seen = 0;
        for (level, count) in histogram.iter().enumerate() {
            seen += count;
            if seen > target {
                return level as i32;
            }
        }
        255
    };
    let (low, high) = (level_at(2), level_at(98));
    let span = (high - low).max(1);
    let mut out = gray.clone();
    for p in out.pixels_mut() {
        let v = (i32::from(p.0[0]) - low) * 255 / span;
        p.0[0] = v.clamp(0, 255) as u8;
    }
    out
}
