#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod filters;
mod pipeline;
mod zxing;

#[cfg(feature = "corpus")]
pub mod corpus;

pub use error::QrError;
pub use pipeline::{Decoder, Stage};

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
/// Alpha is ignored.
pub fn decode_rgba(width: u32, height: u32, pixels: &[u8]) -> Result<Decoded, QrError> {
    let gray = frame(width, height, pixels, "RGBA", 4, |p| luma(p[0], p[1], p[2]))?;
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

/// Reads PNG or JPEG bytes into an image, guessing the format from the content.
pub fn load(bytes: &[u8]) -> Result<DynamicImage, QrError> {
    Ok(ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(image::ImageError::IoError)?
        .decode()?)
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
