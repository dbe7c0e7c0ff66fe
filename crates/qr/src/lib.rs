#![doc = include_str!("../README.md")]
#![warn(unreachable_pub)]
#![forbid(unsafe_code)]

mod error;
mod filters;
mod pipeline;
mod zxing;
mod zxingcpp;

#[cfg(feature = "corpus")]
pub mod corpus;

pub use error::QrError;
pub use pipeline::{Decoder, LiveScanner, Stage};

use image::{DynamicImage, GrayImage, ImageReader};
use std::io::Cursor;
use std::path::Path;

/// The text of a QR code and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The code's content, as UTF-8 text.
    pub text: String,
    /// The code's corners in the input image's pixel coordinates: top-left, top-right,
    /// bottom-right, bottom-left as the code reads (not as the image shows it), for a preview
    /// box.
    pub corners: [Point; 4],
    /// The pipeline stage whose variant of the image decoded.
    pub stage: Stage,
}

/// A position in image pixel coordinates, origin at the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Pixels from the left edge.
    pub x: f32,
    /// Pixels from the top edge.
    pub y: f32,
}

/// Finds and reads the first QR code in `image` with every pipeline stage ([`Decoder::new`]).
pub fn decode(image: &DynamicImage) -> Result<Decoded, QrError> {
    Decoder::new().decode(image)
}

/// [`decode`] for a camera frame of 8-bit gray pixels, row-major, no padding.
pub fn decode_gray(width: u32, height: u32, pixels: &[u8]) -> Result<Decoded, QrError> {
    let gray = frame(width, height, pixels, "gray", 1, |p| p[0])?;
    Decoder::new().decode_luma(&gray)
}

/// [`decode`] for a camera frame of 8-bit RGB pixels, row-major, no padding.
pub fn decode_rgb(width: u32, height: u32, pixels: &[u8]) -> Result<Decoded, QrError> {
    let gray = frame(width, height, pixels, "RGB", 3, |p| luma(p[0], p[1], p[2]))?;
    Decoder::new().decode_luma(&gray)
}

/// [`decode`] for a camera frame or screenshot of 8-bit RGBA pixels, row-major, no padding.
/// Transparent pixels are composited onto white, as a viewer shows them.
pub fn decode_rgba(width: u32, height: u32, pixels: &[u8]) -> Result<Decoded, QrError> {
    let gray = frame(width, height, pixels, "RGBA", 4, |p| {
        over_white(luma(p[0], p[1], p[2]), p[3])
    })?;
    Decoder::new().decode_luma(&gray)
}

/// [`decode`] for the bytes of a PNG or JPEG file (a pasted image, a downloaded screenshot).
pub fn decode_bytes(bytes: &[u8]) -> Result<Decoded, QrError> {
    decode(&load(bytes)?)
}

/// [`decode`] for a PNG or JPEG file on disk.
pub fn decode_file(path: impl AsRef<Path>) -> Result<Decoded, QrError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| QrError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_bytes(&bytes)
}

/// Reads PNG or JPEG bytes into an image, guessing the format from the content. An image
/// with an alpha channel comes back composited onto white, as a viewer shows it: a
/// transparent export's light modules are often transparent black, which would read as dark.
pub fn load(bytes: &[u8]) -> Result<DynamicImage, QrError> {
    let image = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(image::ImageError::IoError)?
        .decode()?;
    Ok(if image.color().has_alpha() {
        DynamicImage::ImageLuma8(to_gray(&image))
    } else {
        image
    })
}

/// The 8-bit gray form of `image` that the decoder reads, transparent pixels composited
/// onto white.
pub fn to_gray(image: &DynamicImage) -> GrayImage {
    match image {
        DynamicImage::ImageLuma8(gray) => gray.clone(),
        other if other.color().has_alpha() => {
            let rgba = other.to_rgba8();
            let pixels = rgba
                .pixels()
                .map(|p| over_white(luma(p[0], p[1], p[2]), p[3]))
                .collect();
            GrayImage::from_raw(rgba.width(), rgba.height(), pixels)
                .unwrap_or_else(|| GrayImage::new(0, 0))
        }
        other => other.to_luma8(),
    }
}

/// A gray level of opacity `alpha` over a white background.
fn over_white(level: u8, alpha: u8) -> u8 {
    let (level, alpha) = (u32::from(level), u32::from(alpha));
    ((level * alpha + 255 * (255 - alpha) + 127) / 255) as u8
}

/// ITU-R BT.601 luma, the weighting cameras use, in integer arithmetic.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b) + 500) / 1000) as u8
}

/// Converts a raw frame of `channels` bytes per pixel to gray, checking its size first.
fn frame(
    width: u32,
    height: u32,
    pixels: &[u8],
    format: &'static str,
    channels: u64,
    to_gray: impl Fn(&[u8]) -> u8,
) -> Result<GrayImage, QrError> {
    let expected = u64::from(width) * u64::from(height) * channels;
    if expected != pixels.len() as u64 {
        return Err(QrError::BufferSize {
            width,
            height,
            format,
            expected,
            actual: pixels.len(),
        });
    }
    let gray = pixels
        .chunks_exact(channels as usize)
        .map(to_gray)
        .collect();
    GrayImage::from_raw(width, height, gray).ok_or(QrError::Empty { width, height })
}
