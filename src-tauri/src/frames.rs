//! Where the scanner's frames come from, behind one interface: [`FrameSource::next_frame`]
//! returns a grayscale image. The webcam (nokhwa) and the screen (xcap) are the real
//! sources; [`FolderFrames`] reads image files, which is how tests (and recorded frames)
//! feed the same scanner.

use crate::types::{AppError, SourceInfo, SourceKind};
use image::GrayImage;
use std::path::{Path, PathBuf};

/// The environment variable naming a folder (or one file) of frames for [`FolderFrames`].
pub const FRAMES_ENV: &str = "TOKENSIM_FRAMES";

/// A source of camera-like frames.
pub trait FrameSource: Send {
    /// The next frame, in grayscale.
    fn next_frame(&mut self) -> Result<GrayImage, AppError>;
}

/// Opens the source of `kind`.
pub fn open(kind: SourceKind) -> Result<Box<dyn FrameSource>, AppError> {
    match kind {
        SourceKind::Folder => Ok(Box::new(FolderFrames::from_env()?)),
        SourceKind::Screen => screen::open(),
        SourceKind::Camera => camera::open(),
    }
}

/// What each source can do on this machine, for the scanner's menu.
pub fn sources() -> Vec<SourceInfo> {
    let folder = std::env::var_os(FRAMES_ENV).map(PathBuf::from);
    vec![
        camera::info(),
        screen::info(),
        SourceInfo {
            kind: SourceKind::Folder,
            available: folder.is_some(),
            detail: match folder {
                Some(path) => format!("image files in {}", path.display()),
                None => format!("set {FRAMES_ENV} to a folder of frames"),
            },
        },
    ]
}

/// Frames from image files: the newest image in a folder on each call, or one file.
pub struct FolderFrames {
    path: PathBuf,
}

impl FolderFrames {
    /// Frames from `path` (a folder or a file).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Frames from the folder named by `TOKENSIM_FRAMES`.
    pub fn from_env() -> Result<Self, AppError> {
        std::env::var_os(FRAMES_ENV).map(Self::new).ok_or_else(|| {
            AppError::new(
                "NO_SOURCE",
                format!("no frame folder: set {FRAMES_ENV} to a folder of images"),
            )
        })
    }

    fn newest(&self) -> Result<PathBuf, AppError> {
        if self.path.is_file() {
            return Ok(self.path.clone());
        }
        let entries = std::fs::read_dir(&self.path).map_err(|e| {
            AppError::new(
                "NO_SOURCE",
                format!("cannot read {}: {e}", self.path.display()),
            )
        })?;
        entries
            .filter_map(Result::ok)
            .filter(|e| is_image(&e.path()))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .max()
            .map(|(_, path)| path)
            .ok_or_else(|| {
                AppError::new(
                    "NO_FRAME",
                    format!("no image in {} yet", self.path.display()),
                )
            })
    }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

impl FrameSource for FolderFrames {
    fn next_frame(&mut self) -> Result<GrayImage, AppError> {
        let path = self.newest()?;
        let bytes = std::fs::read(&path).map_err(|e| {
            AppError::new("NO_FRAME", format!("cannot read {}: {e}", path.display()))
        })?;
        let image = tokensim_qr::load(&bytes)
            .map_err(|e| AppError::new("NO_FRAME", format!("{}: {e}", path.display())))?;
        Ok(image.to_luma8())
    }
}

#[cfg(feature = "screen")]
mod screen {
    use super::FrameSource;
    use crate::types::{AppError, SourceInfo, SourceKind};
    use image::GrayImage;

    /// The primary monitor, whole.
    struct Screen;

    pub(super) fn open() -> Result<Box<dyn FrameSource>, AppError> {
        Ok(Box::new(Screen))
    }

    pub(super) fn info() -> SourceInfo {
        let display =
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
        SourceInfo {
            kind: SourceKind::Screen,
            available: display,
            detail: if display {
                "the screen: show the QR code in another window".to_owned()
            } else {
                "no display to capture".to_owned()
            },
        }
    }

    fn capture() -> Result<GrayImage, String> {
        let monitors = xcap::Monitor::all().map_err(|e| e.to_string())?;
        let monitor = monitors
            .iter()
            .find(|m| m.is_primary().unwrap_or(false))
            .or(monitors.first())
            .ok_or("no monitor found")?;
        let image = monitor.capture_image().map_err(|e| e.to_string())?;
        Ok(image::DynamicImage::ImageRgba8(image).to_luma8())
    }

    impl FrameSource for Screen {
        fn next_frame(&mut self) -> Result<GrayImage, AppError> {
            // An X connection fails now and then on its first capture: one retry.
            capture()
                .or_else(|_| capture())
                .map_err(|e| AppError::new("SCREEN", format!("cannot capture the screen: {e}")))
        }
    }
}

#[cfg(not(feature = "screen"))]
mod screen {
    use super::FrameSource;
    use crate::types::{AppError, SourceInfo, SourceKind};

    pub fn open() -> Result<Box<dyn FrameSource>, AppError> {
        Err(AppError::new(
            "SCREEN",
            "this build has no screen capture (feature `screen`)",
        ))
    }

    pub fn info() -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Screen,
            available: false,
            detail: "built without screen capture".to_owned(),
        }
    }
}

#[cfg(feature = "camera")]
mod camera {
    use super::FrameSource;
    use crate::types::{AppError, SourceInfo, SourceKind};
    use image::GrayImage;
    use nokhwa::pixel_format::LumaFormat;
    use nokhwa::utils::{ApiBackend, CameraIndex, RequestedFormat, RequestedFormatType};

    type Reply = std::sync::mpsc::Sender<Result<GrayImage, AppError>>;

    /// The camera lives on its own thread (nokhwa's `Camera` is not `Send`); each frame is
    /// asked for over a channel. Dropping this closes the channel, which ends the thread and
    /// closes the camera.
    struct Webcam(std::sync::mpsc::Sender<Reply>);

    fn cameras() -> Vec<nokhwa::utils::CameraInfo> {
        nokhwa::query(ApiBackend::Auto).unwrap_or_default()
    }

    pub(super) fn info() -> SourceInfo {
        match cameras().first() {
            Some(camera) => SourceInfo {
                kind: SourceKind::Camera,
                available: true,
                detail: camera.human_name(),
            },
            None => SourceInfo {
                kind: SourceKind::Camera,
                available: false,
                detail: "no camera found".to_owned(),
            },
        }
    }

    fn start() -> Result<nokhwa::Camera, AppError> {
        let first = cameras()
            .into_iter()
            .next()
            .ok_or_else(|| AppError::new("NO_CAMERA", "no camera found"))?;
        let format =
            RequestedFormat::new::<LumaFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
        let index: CameraIndex = first.index().clone();
        let mut camera = nokhwa::Camera::new(index, format)
            .map_err(|e| AppError::new("NO_CAMERA", format!("cannot open the camera: {e}")))?;
        camera
            .open_stream()
            .map_err(|e| AppError::new("NO_CAMERA", format!("cannot start the camera: {e}")))?;
        Ok(camera)
    }

    fn grab(camera: &mut nokhwa::Camera) -> Result<GrayImage, AppError> {
        let frame = camera
            .frame()
            .map_err(|e| AppError::new("CAMERA", format!("the camera gave no frame: {e}")))?;
        let decoded = frame
            .decode_image::<LumaFormat>()
            .map_err(|e| AppError::new("CAMERA", format!("cannot decode the frame: {e}")))?;
        GrayImage::from_raw(decoded.width(), decoded.height(), decoded.into_raw())
            .ok_or_else(|| AppError::new("CAMERA", "the camera frame has the wrong size"))
    }

    pub(super) fn open() -> Result<Box<dyn FrameSource>, AppError> {
        let (opened_tx, opened_rx) = std::sync::mpsc::channel();
        let (requests, incoming) = std::sync::mpsc::channel::<Reply>();
        std::thread::spawn(move || {
            let mut camera = match start() {
                Ok(camera) => {
                    let _ = opened_tx.send(Ok(()));
                    camera
                }
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                    return;
                }
            };
            while let Ok(reply) = incoming.recv() {
                let _ = reply.send(grab(&mut camera));
            }
        });
        opened_rx
            .recv()
            .map_err(|_| AppError::new("NO_CAMERA", "the camera thread stopped"))??;
        Ok(Box::new(Webcam(requests)))
    }

    impl FrameSource for Webcam {
        fn next_frame(&mut self) -> Result<GrayImage, AppError> {
            let (reply, answer) = std::sync::mpsc::channel();
            self.0
                .send(reply)
                .map_err(|_| AppError::new("CAMERA", "the camera thread stopped"))?;
            answer
                .recv()
                .map_err(|_| AppError::new("CAMERA", "the camera thread stopped"))?
        }
    }
}

#[cfg(not(feature = "camera"))]
mod camera {
    use super::FrameSource;
    use crate::types::{AppError, SourceInfo, SourceKind};

    pub fn open() -> Result<Box<dyn FrameSource>, AppError> {
        Err(AppError::new(
            "NO_CAMERA",
            "no camera found (built without camera support)",
        ))
    }

    pub fn info() -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Camera,
            available: false,
            detail: "no camera found (built without camera support)".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_frames_read_the_newest_image_and_explain_an_empty_folder() {
        let folder = tempfile::tempdir().unwrap();
        let mut source = FolderFrames::new(folder.path());
        let error = source.next_frame().unwrap_err();
        assert_eq!(error.code, "NO_FRAME", "{error:?}");
        let png = crate::qr_image::qr_png("hello").unwrap();
        let bytes = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            png.trim_start_matches("data:image/png;base64,"),
        )
        .unwrap();
        std::fs::write(folder.path().join("a.png"), &bytes).unwrap();
        std::fs::write(folder.path().join("notes.txt"), b"not an image").unwrap();
        let frame = source.next_frame().unwrap();
        assert!(frame.width() >= 320);
        assert_eq!(
            tokensim_device::qr_image::decode_gray(&frame).unwrap(),
            "hello"
        );
    }

    #[test]
    fn without_a_video_device_the_camera_says_so_and_other_sources_still_work() {
        let has_video_device = std::fs::read_dir("/dev")
            .map(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("video"))
            })
            .unwrap_or(false);
        let info = camera::info();
        if has_video_device && cfg!(feature = "camera") {
            // A machine with a camera: the source names it.
            assert!(info.available, "{info:?}");
            return;
        }
        assert!(!info.available, "{info:?}");
        assert!(info.detail.starts_with("no camera found"), "{info:?}");
        let error = camera::open().err().expect("no camera to open");
        assert_eq!(error.code, "NO_CAMERA", "{error:?}");
        assert!(error.message.contains("no camera found"), "{error:?}");
        // The folder source is unaffected.
        let folder = tempfile::tempdir().unwrap();
        let mut source = FolderFrames::new(folder.path());
        assert_eq!(source.next_frame().unwrap_err().code, "NO_FRAME");
    }
}
