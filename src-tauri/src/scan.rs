//! The scanner: frames from a [`FrameSource`], decoded by `tokensim-qr`, with a small
//! preview and the code's corners for the box drawn around it. Live frames (camera, the
//! whole screen) go through the qr crate's [`LiveScanner`], which keeps each frame within a
//! time budget and spreads its variants over consecutive frames; still pictures (a file, the
//! clipboard, a region the user drew on the screen) get the whole [`tokensim_qr::Decoder`].

use crate::frames::{self, FrameSource};
use crate::types::{AppError, Region, ScanResult, SourceKind};
use base64::Engine as _;
use image::GrayImage;
use powerauth::activation_code::QrPayload;
use std::sync::{Arc, Mutex};
use tokensim_qr::{Decoded, LiveScanner, QrError};

/// The open source, kept between frames (opening a camera takes a while), with the live
/// scanner reading its frames.
#[derive(Default)]
pub struct Scanner {
    open: Mutex<Option<Open>>,
}

/// A source kept open, and the live scanner reading its frames.
type Open = (SourceKind, Box<dyn FrameSource>, LiveScanner);

impl Scanner {
    /// Takes one frame from `kind` and looks for a QR code in it, or only in `region` of it
    /// (a rectangle the user drew on a screenshot); the preview is `preview_width` wide at most.
    pub fn scan(
        &self,
        kind: SourceKind,
        region: Option<Region>,
        preview_width: u32,
    ) -> Result<ScanResult, AppError> {
        let mut open = crate::core::lock(&self.open);
        if open.as_ref().is_none_or(|(k, ..)| *k != kind) {
            *open = Some((kind, frames::open(kind)?, LiveScanner::new()));
        }
        let Some((_, source, live)) = open.as_mut() else {
            return Err(AppError::new("NO_SOURCE", "no frame source"));
        };
        let read = read_frame(source.as_mut(), live, region, preview_width);
        // A source that failed is opened again next time; a region off the frame is the
        // user's to fix, and keeps the source.
        if read.as_ref().is_err_and(|e| e.code != "REGION") {
            *open = None;
        }
        read
    }

    /// [`Scanner::scan`] on a blocking thread (a frame's decoding takes milliseconds); the
    /// preview is `preview_width` wide (64–1920, [`PREVIEW_WIDTH`] when not given).
    pub async fn scan_frame(
        self: Arc<Self>,
        kind: SourceKind,
        region: Option<Region>,
        preview_width: Option<u32>,
    ) -> Result<ScanResult, AppError> {
        let width = preview_width.unwrap_or(PREVIEW_WIDTH).clamp(64, 1920);
        tauri::async_runtime::spawn_blocking(move || self.scan(kind, region, width))
            .await
            .map_err(|e| AppError::new("SCAN", e))?
    }

    /// Closes the open source (the camera light goes off) and gives the pages of the
    /// frames' buffers back to the system.
    pub fn stop(&self) {
        *crate::core::lock(&self.open) = None;
        tokensim_memory::release();
    }
}

/// [`scan_bytes`] on a blocking thread; the image's bytes and the decoder's variants are
/// freed before it returns, and their pages given back to the system.
pub async fn scan_image(bytes: Vec<u8>) -> Result<ScanResult, AppError> {
    tauri::async_runtime::spawn_blocking(move || {
        let result = scan_bytes(&bytes);
        drop(bytes);
        tokensim_memory::release();
        result
    })
    .await
    .map_err(|e| AppError::new("SCAN", e))?
}

/// The next frame of `source` read by `live`, or `region` of it read as a still picture. A
/// source with no frame yet is an empty result with a note, not an error.
fn read_frame(
    source: &mut dyn FrameSource,
    live: &mut LiveScanner,
    region: Option<Region>,
    preview_width: u32,
) -> Result<ScanResult, AppError> {
    let frame = match source.next_frame() {
        Ok(frame) => frame,
        Err(e) if e.code == "NO_FRAME" => {
            return Ok(ScanResult {
                text: None,
                kind: "none".to_owned(),
                preview: None,
                corners: Vec::new(),
                size: [0, 0],
                frame_size: [0, 0],
                note: Some(e.message),
            });
        }
        Err(e) => return Err(e),
    };
    match region {
        // A region the user drew is a still picture they chose: the whole pipeline (a code
        // cut close to the selection's edge needs its quiet-zone padding).
        Some(region) => Ok(scan_gray(&crop(&frame, region)?, preview_width, &mut still)),
        None => Ok(scan_gray(&frame, preview_width, &mut |gray| {
            live.scan(gray)
        })),
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
    Ok(scan_gray(&image.to_luma8(), PREVIEW_WIDTH, &mut still))
}

/// The whole pipeline, for a still image.
fn still(gray: &GrayImage) -> Result<Decoded, QrError> {
    tokensim_qr::Decoder::new().decode_luma(gray)
}

/// The live preview's width at most, in pixels.
pub const PREVIEW_WIDTH: u32 = 480;

/// `region` of `frame`, clamped to the frame; an error when nothing of it is inside.
pub fn crop(frame: &GrayImage, region: Region) -> Result<GrayImage, AppError> {
    let x = region.x.min(frame.width());
    let y = region.y.min(frame.height());
    let width = region.width.min(frame.width() - x);
    let height = region.height.min(frame.height() - y);
    if width < 8 || height < 8 {
        return Err(AppError::new(
            "REGION",
            format!(
                "the selected region ({}×{} at {},{}) is not inside the {}×{} frame: select the QR code again",
                region.width,
                region.height,
                region.x,
                region.y,
                frame.width(),
                frame.height()
            ),
        ));
    }
    Ok(image::imageops::crop_imm(frame, x, y, width, height).to_image())
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

fn scan_gray(
    frame: &GrayImage,
    preview_width: u32,
    read: &mut dyn FnMut(&GrayImage) -> Result<Decoded, QrError>,
) -> ScanResult {
    let preview_width = preview_width.max(64);
    let scale = if frame.width() > preview_width {
        preview_width as f32 / frame.width() as f32
    } else {
        1.0
    };
    let preview_image = if scale < 1.0 {
        image::imageops::thumbnail(
            frame,
            preview_width,
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
    let frame_size = [frame.width(), frame.height()];
    match read(frame) {
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
            frame_size,
            note: None,
        },
        Err(e) => ScanResult {
            text: None,
            kind: "none".to_owned(),
            preview,
            corners: Vec::new(),
            size,
            frame_size,
            note: Some(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frames::{FolderFrames, FrameSource};

    fn qr(text: &str) -> GrayImage {
        let png = crate::qr_image::qr_png(text).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.trim_start_matches("data:image/png;base64,"))
            .unwrap();
        tokensim_qr::load(&bytes).unwrap().to_luma8()
    }

    /// A "screenshot": a grey 1280×720 desktop with two QR codes on it.
    fn screenshot() -> GrayImage {
        let mut screen = GrayImage::from_pixel(1280, 720, image::Luma([200]));
        image::imageops::overlay(&mut screen, &qr("LEFT-CODE"), 40, 200);
        image::imageops::overlay(&mut screen, &qr("RIGHT-CODE"), 840, 300);
        screen
    }

    #[test]
    fn a_region_of_a_screenshot_decodes_the_code_inside_it_and_stays_selected() {
        let folder = tempfile::tempdir().unwrap();
        screenshot().save(folder.path().join("screen.png")).unwrap();
        let mut source = FolderFrames::new(folder.path());
        let right = Region {
            x: 820,
            y: 280,
            width: 380,
            height: 380,
        };
        let left = Region {
            x: 20,
            y: 180,
            width: 380,
            height: 380,
        };
        for _ in 0..2 {
            let frame = source.next_frame().unwrap();
            let found = scan_gray(&crop(&frame, right).unwrap(), PREVIEW_WIDTH, &mut still);
            assert_eq!(
                found.text.as_deref(),
                Some("RIGHT-CODE"),
                "{:?}",
                found.note
            );
            assert_eq!(found.frame_size, [380, 380]);
            assert_eq!(found.corners.len(), 4);
            let found = scan_gray(&crop(&frame, left).unwrap(), PREVIEW_WIDTH, &mut still);
            assert_eq!(found.text.as_deref(), Some("LEFT-CODE"));
        }
        // A region with no code in it finds nothing, and says so.
        let frame = source.next_frame().unwrap();
        let empty = Region {
            x: 500,
            y: 0,
            width: 200,
            height: 150,
        };
        let nothing = scan_gray(&crop(&frame, empty).unwrap(), PREVIEW_WIDTH, &mut still);
        assert!(nothing.text.is_none());
        assert!(nothing.note.is_some());
    }

    /// The live path: whole frames of a recorded source read by the live scanner, which
    /// finds a code on a clean frame in its first stage, frame after frame.
    #[test]
    fn live_frames_go_through_the_live_scanner() {
        let folder = tempfile::tempdir().unwrap();
        let mut screen = GrayImage::from_pixel(1280, 720, image::Luma([200]));
        image::imageops::overlay(&mut screen, &qr("LIVE-CODE"), 500, 200);
        screen.save(folder.path().join("screen.png")).unwrap();
        let mut source = FolderFrames::new(folder.path());
        let mut live = LiveScanner::new();
        for _ in 0..3 {
            let found = read_frame(&mut source, &mut live, None, PREVIEW_WIDTH).unwrap();
            assert_eq!(found.text.as_deref(), Some("LIVE-CODE"), "{:?}", found.note);
        }
        // A drawn region is read as a still picture.
        let region = Region {
            x: 480,
            y: 180,
            width: 400,
            height: 400,
        };
        let found = read_frame(&mut source, &mut live, Some(region), PREVIEW_WIDTH).unwrap();
        assert_eq!(found.text.as_deref(), Some("LIVE-CODE"), "{:?}", found.note);
        let empty = Region {
            x: 0,
            y: 0,
            width: 200,
            height: 150,
        };
        let nothing = read_frame(&mut source, &mut live, Some(empty), PREVIEW_WIDTH).unwrap();
        assert!(nothing.text.is_none() && nothing.note.is_some());
    }

    #[test]
    fn a_region_outside_the_frame_is_refused_and_one_across_its_edge_is_clamped() {
        let frame = screenshot();
        let outside = Region {
            x: 2000,
            y: 10,
            width: 100,
            height: 100,
        };
        let error = crop(&frame, outside).unwrap_err();
        assert_eq!(error.code, "REGION");
        assert!(error.message.contains("1280×720"), "{}", error.message);
        let across = Region {
            x: 1200,
            y: 700,
            width: 500,
            height: 500,
        };
        let clamped = crop(&frame, across).unwrap();
        assert_eq!(clamped.dimensions(), (80, 20));
    }

    #[test]
    fn a_large_preview_keeps_the_frame_size_for_mapping_a_selection_back() {
        let found = scan_gray(&screenshot(), 960, &mut still);
        assert_eq!(found.size, [960, 540]);
        assert_eq!(found.frame_size, [1280, 720]);
        assert!(found.text.is_some());
    }
}
