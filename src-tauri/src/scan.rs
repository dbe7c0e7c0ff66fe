//! The scanner: frames from a [`FrameSource`], decoded by `tokensim-qr`, with a small
//! preview and the code's corners for the box drawn around it.

use crate::frames::{self, FrameSource};
use crate::types::{AppError, ScanResult, SourceKind};
use base64::Engine as _;
use image::GrayImage;
use powerauth::activation_code::QrPayload;
use std::sync::Mutex;

/// The open source, kept between frames (opening a camera takes a while).
#[derive(Default)]
pub struct Scanner {
    open: Mutex<Option<(SourceKind, Box<dyn FrameSource>)>>,
}

impl Scanner {
    /// Takes one frame from `kind` and looks for a QR code in it.
    pub fn scan(&self, kind: SourceKind) -> Result<ScanResult, AppError> {
        let mut open = crate::core::lock(&self.open);
        if open.as_ref().is_none_or(|(k, _)| *k != kind) {
            *open = Some((kind, frames::open(kind)?));
        }
        let frame = match open.as_mut() {
            Some((_, source)) => source.next_frame(),
            None => Err(AppError::new("NO_SOURCE", "no frame source")),
        };
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) if e.code == "NO_FRAME" => {
                return Ok(ScanResult {
                    text: None,
                    kind: "none".to_owned(),
                    preview: None,
                    corners: Vec::new(),
                    size: [0, 0],
                    note: Some(e.message),
                });
            }
            Err(e) => {
                *open = None;
                return Err(e);
            }
        };
        Ok(scan_gray(&frame))
    }

    /// Closes the open source (the camera light goes off).
    pub fn stop(&self) {
        *crate::core::lock(&self.open) = None;
    }
}

/// Decodes an image file's bytes (file picker, drag and drop, clipboard image).
pub fn scan_bytes(bytes: &[u8]) -> Result<ScanResult, AppError> {
    let image = tokensim_qr::load(bytes).map_err(|e| {
        AppError::new(
            "IMAGE",
            format!("this is not an image TokenSim can read: {e}"),
        )
    })?;
    Ok(scan_gray(&image.to_luma8()))
}

/// Classifies pasted or decoded text.
pub fn classify(text: &str) -> String {
    match QrPayload::parse(text.trim()) {
        Ok(QrPayload::Activation(_)) => "activation",
        Ok(QrPayload::Recovery(_)) => "recovery",
        Err(_) if text.lines().count() >= 4 => "offline",
        Err(_) => "other",
    }
    .to_owned()
}

fn scan_gray(frame: &GrayImage) -> ScanResult {
    const PREVIEW_WIDTH: u32 = 480;
    let scale = if frame.width() > PREVIEW_WIDTH {
        PREVIEW_WIDTH as f32 / frame.width() as f32
    } else {
        1.0
    };
    let preview_image = if scale < 1.0 {
        image::imageops::thumbnail(
            frame,
            PREVIEW_WIDTH,
            ((frame.height() as f32 * scale).round() as u32).max(1),
        )
    } else {
        frame.clone()
    };
    let mut jpeg = Vec::new();
    let preview = image::DynamicImage::ImageLuma8(preview_image.clone())
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .ok()
        .map(|()| {
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&jpeg)
            )
        });
    let size = [preview_image.width(), preview_image.height()];
    match tokensim_qr::Decoder::new().decode_luma(frame) {
        Ok(decoded) => ScanResult {
            kind: classify(&decoded.text),
            corners: decoded
                .corners
                .iter()
                .map(|p| [p.x * scale, p.y * scale])
                .collect(),
            text: Some(decoded.text),
            preview,
            size,
            note: None,
        },
        Err(e) => ScanResult {
            text: None,
            kind: "none".to_owned(),
            preview,
            corners: Vec::new(),
            size,
            note: Some(e.to_string()),
        },
    }
}
