//! QR code images (PNG, JPEG, gray frames) to text, through `tokensim-qr`'s pipeline
//! (rqrr with binarisation, inversion and scaling stages, ZXing's reader as a fallback).
//! This module only maps its errors into words for the activation flow.

use image::GrayImage;
use std::path::Path;
use tokensim_qr::QrError;

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
        "no QR code found in the image (tried as is, binarised, inverted, sharpened and scaled): crop it closer, make it sharper, or type the code instead"
    )]
    NotFound,
    /// A code was located but could not be read: glare, blur, damage, or binary content.
    #[error(
        "a QR code was found but could not be read (damaged, blurred or not text): take a sharper picture or type the code instead"
    )]
    NotText,
}

impl From<QrError> for QrImageError {
    fn from(error: QrError) -> Self {
        match error {
            QrError::Io { path, source } => QrImageError::Read {
                path: path.display().to_string(),
                detail: source.to_string(),
            },
            QrError::Image(e) => QrImageError::Decode(e.to_string()),
            QrError::Unreadable { .. } => QrImageError::NotText,
            _ => QrImageError::NotFound,
        }
    }
}

/// Decodes the QR code in the image file at `path`.
pub fn decode_file(path: &Path) -> Result<String, QrImageError> {
    Ok(tokensim_qr::decode_file(path)?.text)
}

/// Decodes the QR code in PNG or JPEG bytes.
pub fn decode_bytes(bytes: &[u8]) -> Result<String, QrImageError> {
    Ok(tokensim_qr::decode_bytes(bytes)?.text)
}

/// Decodes the QR code in a grayscale image.
pub fn decode_gray(gray: &GrayImage) -> Result<String, QrImageError> {
    Ok(tokensim_qr::decode_gray(gray.width(), gray.height(), gray.as_raw())?.text)
}
