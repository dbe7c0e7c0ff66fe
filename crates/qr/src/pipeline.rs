//! The preprocessing pipeline around rqrr: variants of the frame tried in order, stopping at
//! the first that decodes.

use crate::filters::{self, Bitmap};
use crate::zxingcpp::Effort;
use crate::{Decoded, Point, QrError, zxing, zxingcpp};
use image::{DynamicImage, GrayImage};
use std::fmt;
use std::time::{Duration, Instant};

/// One variant of the frame that the pipeline hands to rqrr, or a run of rxing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// zxing-cpp (the zxing-cpp project's C++ reader) on the gray frame, trying harder,
    /// inverted, rotated and downscaled: the fast first stage.
    ZxingCpp,
    /// zxing-cpp on the frame doubled (bilinear): small modules on dim screens; frames whose
    /// longer side is at most 1280 pixels. Four times the pixels: a fallback.
    ZxingCppUpscaled,
    /// zxing-cpp on the frame Gaussian-smoothed (σ 1 px): sensor noise on small modules.
    ZxingCppDenoised,
    /// zxing-cpp on the frame sharpened (unsharp mask σ 2 px, amount 1.5): defocus and
    /// motion blur.
    ZxingCppSharpened,
    /// The gray frame as given; rqrr binarises it with its own row-wise moving average.
    AsIs,
    /// ZXing's QR reader (the `rxing` port) on the gray frame, trying harder and trying the
    /// inverted frame too.
    Zxing,
    /// ZXing's reader on the frame Gaussian-smoothed (σ 1 px): noisy, dim screens.
    ZxingDenoised,
    /// Gray levels reversed, for dark-mode codes (light modules on a dark screen).
    Inverted,
    /// The 1st..99th percentile of gray levels stretched to 0..255 (dim or washed-out screens).
    ContrastStretched,
    /// Unsharp mask (σ 2 px, amount 1.5) against a defocused camera.
    Sharpened,
    /// Binarised against local block thresholds, after ZXing's hybrid binariser (uneven light,
    /// glare, low contrast).
    AdaptiveThreshold,
    /// Binarised at Otsu's global threshold.
    OtsuThreshold,
    /// Gaussian-smoothed (σ 1 px) against sensor noise.
    Denoised,
    /// Gaussian-smoothed (σ 1 px), then binarised against local block thresholds.
    DenoisedAdaptive,
    /// Binarised against local block thresholds, then light and dark swapped (dark mode).
    InvertedAdaptive,
    /// Halved by 2×2 averaging, Gaussian-smoothed (σ 1 px), then binarised against local
    /// block thresholds: noisy dim screens seen large.
    DownscaledAdaptive,
    /// Halved in both directions by 2×2 averaging (large noisy frames); frames whose shorter
    /// side is at least 480 pixels only.
    Downscaled,
    /// Doubled in both directions, bilinear (codes with small modules); frames whose longer
    /// side is at most 1280 pixels only.
    Upscaled,
    /// ZXing's reader on the frame smoothed (σ 1 px) and contrast-stretched (1st..99th
    /// percentile to 0..255): dim, noisy screens whose modules differ by 40–60 levels.
    ZxingStretched,
    /// Doubled (bilinear), then binarised against local block thresholds: small modules
    /// (about 2.5 pixels) on dim screens; frames whose longer side is at most 1280 pixels.
    UpscaledAdaptive,
    /// ZXing's reader on the frame doubled (bilinear): small modules, rotated or dark mode;
    /// frames whose longer side is at most 1280 pixels.
    ZxingUpscaled,
    /// zxing-cpp on the areas dense with level changes both across and down (where a code
    /// of 1–2 pixels per module would be), each cut out and enlarged 3× with cubic
    /// interpolation (3×, then 4×): tiny modules in a screenshot, at any frame size.
    ZxingCppRegions,
    /// zxing-cpp on the frame smoothed (σ 1 px) and locally contrast-normalised (each pixel
    /// against the mean and spread of the 25×25 around it), binarised at the middle level:
    /// dim, noisy screens and uneven light. Frames of 1000 lines or more are halved first.
    ZxingCppNormalised,
    /// zxing-cpp looking quickly (every few rows, no rotated, inverted or downscaled copy):
    /// a live frame's first look.
    ZxingCppQuick,
}

impl Stage {
    /// The stages [`Decoder::new`] tries, in order: chosen on the benchmark corpus, where
    /// the stages left out decoded no frame that these miss.
    ///
    /// zxing-cpp reads most frames in a few milliseconds; zxing-cpp on enlarged code-like
    /// regions (tiny modules), on the sharpened frame (blur) and on the normalised frame (dim,
    /// noisy screens) come next. zxing-cpp on the doubled frame and the rqrr and rxing stages
    /// after them ([`Stage::is_fallback`]) run only when a stage located a code whose error
    /// correction failed, so a frame without a code costs zxing-cpp and its three variants,
    /// not every stage. zxing-cpp on the smoothed frame decided no frame of the benchmark
    /// corpus that these miss; the [`LiveScanner`] tries it on consecutive frames.
    pub const DEFAULT: [Stage; 16] = [
        Stage::ZxingCpp,
        Stage::ZxingCppRegions,
        Stage::ZxingCppSharpened,
        Stage::ZxingCppNormalised,
        Stage::ZxingCppUpscaled,
        Stage::AsIs,
        Stage::Zxing,
        Stage::AdaptiveThreshold,
        Stage::DenoisedAdaptive,
        Stage::Sharpened,
        Stage::Inverted,
        Stage::ZxingDenoised,
        Stage::DownscaledAdaptive,
        Stage::ZxingStretched,
        Stage::UpscaledAdaptive,
        Stage::ZxingUpscaled,
    ];

    /// The stages a [`LiveScanner`] tries after its quick look ([`Stage::ZxingCppQuick`]),
    /// in turn over consecutive frames, as many a frame as the frame's time budget allows.
    pub const LIVE: [Stage; 4] = [
        Stage::ZxingCpp,
        Stage::ZxingCppSharpened,
        Stage::ZxingCppDenoised,
        Stage::ZxingCppNormalised,
    ];

    /// Every stage, for measurement: the default ones first, in their order.
    pub const ALL: [Stage; 24] = [
        Stage::ZxingCpp,
        Stage::ZxingCppUpscaled,
        Stage::ZxingCppDenoised,
        Stage::ZxingCppSharpened,
        Stage::AsIs,
        Stage::Zxing,
        Stage::AdaptiveThreshold,
        Stage::DenoisedAdaptive,
        Stage::Sharpened,
        Stage::Inverted,
        Stage::ZxingDenoised,
        Stage::DownscaledAdaptive,
        Stage::ZxingStretched,
        Stage::UpscaledAdaptive,
        Stage::ZxingUpscaled,
        Stage::OtsuThreshold,
        Stage::InvertedAdaptive,
        Stage::ContrastStretched,
        Stage::Denoised,
        Stage::Downscaled,
        Stage::Upscaled,
        Stage::ZxingCppRegions,
        Stage::ZxingCppNormalised,
        Stage::ZxingCppQuick,
    ];

    /// Whether this is an rqrr, rxing or doubled-frame stage, which [`Decoder::new`] runs
    /// only after some stage located a code it could not read.
    pub fn is_fallback(self) -> bool {
        !matches!(
            self,
            Stage::ZxingCpp
                | Stage::ZxingCppDenoised
                | Stage::ZxingCppSharpened
                | Stage::ZxingCppRegions
                | Stage::ZxingCppNormalised
                | Stage::ZxingCppQuick
        )
    }

    /// Runs this stage over `gray`, or `None` when the stage does not apply to its size.
    fn run(self, gray: &GrayImage) -> Option<Attempt> {
        let (width, height) = gray.dimensions();
        let small = width.max(height) <= 1280;
        let attempt = match self {
            Stage::ZxingCpp => zxingcpp::attempt(gray),
            Stage::ZxingCppDenoised => {
                zxingcpp::attempt_with(&filters::gaussian_blur(gray, 1.0), Effort::Variant)
            }
            Stage::ZxingCppSharpened => {
                zxingcpp::attempt_with(&filters::sharpen(gray, 2.0, 1.5), Effort::Variant)
            }
            Stage::ZxingCppUpscaled if small => {
                halved(zxingcpp::attempt(&filters::upscale_double(gray)))
            }
            Stage::Zxing => zxing::attempt(gray),
            Stage::ZxingDenoised => zxing::attempt(&filters::gaussian_blur(gray, 1.0)),
            Stage::ZxingStretched => zxing::attempt(&filters::stretch_contrast(
                &filters::gaussian_blur(gray, 1.0),
            )),
            Stage::ZxingUpscaled if small => halved(zxing::attempt(&filters::upscale_double(gray))),
            Stage::ZxingCppUpscaled | Stage::ZxingUpscaled => return None,
            Stage::ZxingCppQuick => zxingcpp::attempt_with(gray, Effort::Quick),
            // Frames of 1000 lines or more are halved first (2×2 means, which also halve
            // the noise): their modules stay over two pixels, and the stage costs a quarter.
            Stage::ZxingCppNormalised if width.min(height) >= 1000 => {
                let half = filters::downscale_half(gray);
                let normalised =
                    filters::normalise_local(&filters::gaussian_blur(&half, 1.0), 6, 6.0);
                doubled(zxingcpp::attempt_with(&normalised, Effort::Threshold))
            }
            Stage::ZxingCppNormalised => zxingcpp::attempt_with(
                &filters::normalise_local(&filters::gaussian_blur(gray, 1.0), 12, 6.0),
                Effort::Threshold,
            ),
            Stage::ZxingCppRegions => regions(gray),
            other => attempt(other.prepare(gray)?),
        };
        Some(attempt)
    }

    /// This stage's variant of `gray` for rqrr, or `None` when the stage does not apply to
    /// its size or is not an rqrr stage.
    fn prepare(self, gray: &GrayImage) -> Option<Variant> {
        let (width, height) = gray.dimensions();
        let variant = match self {
            Stage::AsIs => Variant::gray(gray.clone()),
            Stage::Inverted => Variant::gray(filters::invert(gray)),
            Stage::ContrastStretched => Variant::gray(filters::stretch_contrast(gray)),
            Stage::Sharpened => Variant::gray(filters::sharpen(gray, 2.0, 1.5)),
            Stage::AdaptiveThreshold => Variant::bitmap(filters::binarize_blocks(gray)),
            Stage::OtsuThreshold => Variant::bitmap(filters::binarize_otsu(gray)),
            Stage::Denoised => Variant::gray(filters::gaussian_blur(gray, 1.0)),
            Stage::DenoisedAdaptive => {
                Variant::bitmap(filters::binarize_blocks(&filters::gaussian_blur(gray, 1.0)))
            }
            Stage::InvertedAdaptive => {
                let mut bitmap = filters::binarize_blocks(gray);
                bitmap.dark.iter_mut().for_each(|d| *d = !*d);
                Variant::bitmap(bitmap)
            }
            Stage::DownscaledAdaptive if width.min(height) >= 480 => {
                let smoothed = filters::gaussian_blur(&filters::downscale_half(gray), 1.0);
                Variant {
                    image: Image::Bitmap(filters::binarize_blocks(&smoothed)),
                    scale: 0.5,
                }
            }
            Stage::Downscaled if width.min(height) >= 480 => Variant {
                image: Image::Gray(filters::downscale_half(gray)),
                scale: 0.5,
            },
            Stage::Upscaled if width.max(height) <= 1280 => Variant {
                image: Image::Gray(filters::upscale_double(gray)),
                scale: 2.0,
            },
            Stage::UpscaledAdaptive if width.max(height) <= 1280 => Variant {
                image: Image::Bitmap(filters::binarize_blocks(&filters::upscale_double(gray))),
                scale: 2.0,
            },
            _ => return None,
        };
        Some(variant)
    }
}

/// zxing-cpp over each area of `gray` where a code of small modules may be, enlarged 3×
/// and, when that reads nothing, 4× (which of the two lands module centres on pixels
/// depends on the module pitch).
fn regions(gray: &GrayImage) -> Attempt {
    /// Level changes that count: above sensor noise, below a screenshot's module contrast.
    const STEP: u8 = 24;
    /// The largest module pitch the regions are for, in pixels.
    const PITCH: u32 = 3;
    /// The most regions tried, largest first.
    const LIMIT: usize = 3;
    /// The largest region side, in pixels: a version 40 code at 2 pixels per module with
    /// its quiet zone is under 400 pixels; a larger dense area is a photo or a mosaic.
    const MAX_SIDE: u32 = 400;
    let mut outcome = Attempt::Nothing;
    let found = filters::code_regions(gray, STEP, PITCH, LIMIT);
    for region in found
        .into_iter()
        .filter(|r| r.width.max(r.height) <= MAX_SIDE)
    {
        let crop = filters::crop(gray, region);
        for zoom in [3u32, 4] {
            match zxingcpp::attempt(&filters::upscale_cubic(&crop, zoom)) {
                Attempt::Decoded { text, corners } => {
                    let corners = corners.map(|p| Point {
                        x: region.x as f32 + p.x / zoom as f32,
                        y: region.y as f32 + p.y / zoom as f32,
                    });
                    return Attempt::Decoded { text, corners };
                }
                Attempt::Located => outcome = Attempt::Located,
                Attempt::Nothing => {}
            }
        }
    }
    outcome
}

/// Maps a result on a halved frame back to the frame's coordinates.
fn doubled(attempt: Attempt) -> Attempt {
    match attempt {
        Attempt::Decoded { text, corners } => Attempt::Decoded {
            text,
            corners: corners.map(|p| Point {
                x: p.x * 2.0,
                y: p.y * 2.0,
            }),
        },
        other => other,
    }
}

/// Maps a result on a doubled frame back to the frame's coordinates.
fn halved(attempt: Attempt) -> Attempt {
    match attempt {
        Attempt::Decoded { text, corners } => Attempt::Decoded {
            text,
            corners: corners.map(|p| Point {
                x: p.x / 2.0,
                y: p.y / 2.0,
            }),
        },
        other => other,
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::ZxingCpp => "zxing-cpp",
            Stage::ZxingCppUpscaled => "zxing-cpp upscaled",
            Stage::ZxingCppDenoised => "zxing-cpp denoised",
            Stage::ZxingCppSharpened => "zxing-cpp sharpened",
            Stage::AsIs => "as-is",
            Stage::Zxing => "ZXing (rxing)",
            Stage::ZxingDenoised => "ZXing denoised",
            Stage::Inverted => "inverted",
            Stage::ContrastStretched => "contrast-stretched",
            Stage::Sharpened => "sharpened",
            Stage::AdaptiveThreshold => "adaptive threshold",
            Stage::OtsuThreshold => "Otsu threshold",
            Stage::Denoised => "denoised",
            Stage::DenoisedAdaptive => "denoised adaptive",
            Stage::InvertedAdaptive => "inverted adaptive",
            Stage::DownscaledAdaptive => "downscaled adaptive",
            Stage::Downscaled => "downscaled",
            Stage::Upscaled => "upscaled",
            Stage::ZxingStretched => "ZXing stretched",
            Stage::UpscaledAdaptive => "upscaled adaptive",
            Stage::ZxingUpscaled => "ZXing upscaled",
            Stage::ZxingCppRegions => "zxing-cpp regions enlarged",
            Stage::ZxingCppNormalised => "zxing-cpp normalised",
            Stage::ZxingCppQuick => "zxing-cpp quick",
        })
    }
}

/// A frame variant: gray for rqrr to binarise, or already binarised; `scale` maps original
/// pixel coordinates to the variant's.
struct Variant {
    image: Image,
    scale: f32,
}

enum Image {
    Gray(GrayImage),
    Bitmap(Bitmap),
}

impl Variant {
    fn gray(image: GrayImage) -> Self {
        Self {
            image: Image::Gray(image),
            scale: 1.0,
        }
    }

    fn bitmap(bitmap: Bitmap) -> Self {
        Self {
            image: Image::Bitmap(bitmap),
            scale: 1.0,
        }
    }
}

/// What one variant gave.
pub(crate) enum Attempt {
    Decoded {
        text: String,
        corners: [Point; 4],
    },
    /// Finder patterns formed a grid, but no grid decoded.
    Located,
    Nothing,
}

/// Runs rqrr's detector and decoder over one variant.
fn attempt(variant: Variant) -> Attempt {
    let mut prepared = match variant.image {
        Image::Gray(gray) => rqrr::PreparedImage::prepare_from_greyscale(
            gray.width() as usize,
            gray.height() as usize,
            |x, y| {
                let index = y * gray.width() as usize + x;
                gray.as_raw().get(index).copied().unwrap_or(u8::MAX)
            },
        ),
        Image::Bitmap(bitmap) => rqrr::PreparedImage::prepare_from_bitmap(
            bitmap.width as usize,
            bitmap.height as usize,
            |x, y| bitmap.is_dark(x, y),
        ),
    };
    let grids = prepared.detect_grids();
    if grids.is_empty() {
        return Attempt::Nothing;
    }
    for grid in &grids {
        if let Ok((_, text)) = grid.decode() {
            let corners = grid.bounds.map(|p| Point {
                x: p.x as f32 / variant.scale,
                y: p.y as f32 / variant.scale,
            });
            return Attempt::Decoded { text, corners };
        }
    }
    Attempt::Located
}

/// Decodes QR codes with a chosen list of pipeline stages. [`Decoder::new`] uses them all;
/// the benchmark builds one decoder per stage to measure each stage's effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoder {
    stages: Vec<Stage>,
    budget: Option<Duration>,
    fallbacks_on_evidence: bool,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder trying the stages of [`Stage::DEFAULT`], in that order; the fallback
    /// stages only once a code was located and not read.
    pub fn new() -> Self {
        Self {
            fallbacks_on_evidence: true,
            ..Self::with_stages(&Stage::DEFAULT)
        }
    }

    /// A decoder trying exactly `stages`, in that order.
    pub fn with_stages(stages: &[Stage]) -> Self {
        Self {
            stages: stages.to_vec(),
            budget: None,
            fallbacks_on_evidence: false,
        }
    }

    /// This decoder, starting no further stage once `budget` has passed since a decode
    /// began (the stage under way finishes). Without a budget every stage may run.
    pub fn with_budget(mut self, budget: Duration) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The stages this decoder tries, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Finds and reads the first QR code in `image`, trying each stage until one decodes.
    /// Transparent pixels are composited onto white first, as a viewer shows them.
    pub fn decode(&self, image: &DynamicImage) -> Result<Decoded, QrError> {
        match image {
            DynamicImage::ImageLuma8(gray) => self.decode_luma(gray),
            other => self.decode_luma(&crate::to_gray(other)),
        }
    }

    /// [`Decoder::decode`] for an 8-bit gray image, the form every input is converted to.
    pub fn decode_luma(&self, gray: &GrayImage) -> Result<Decoded, QrError> {
        check_size(gray)?;
        let started = Instant::now();
        let mut tried = Vec::with_capacity(self.stages.len());
        let mut located = false;
        for &stage in &self.stages {
            if self
                .budget
                .is_some_and(|budget| started.elapsed() >= budget)
                && !tried.is_empty()
            {
                break;
            }
            if self.fallbacks_on_evidence && stage.is_fallback() && !located {
                continue;
            }
            if let Some(decoded) = try_stage(stage, gray, &mut tried, &mut located) {
                return Ok(decoded);
            }
        }
        Err(failure(tried, located))
    }
}

fn check_size(gray: &GrayImage) -> Result<(), QrError> {
    let (width, height) = gray.dimensions();
    if width == 0 || height == 0 {
        return Err(QrError::Empty { width, height });
    }
    Ok(())
}

/// Runs `stage` when it applies, noting it in `tried` and whether it located a code.
fn try_stage(
    stage: Stage,
    gray: &GrayImage,
    tried: &mut Vec<Stage>,
    located: &mut bool,
) -> Option<Decoded> {
    let outcome = stage.run(gray)?;
    tried.push(stage);
    match outcome {
        Attempt::Decoded { text, corners } => Some(Decoded {
            text,
            corners,
            stage,
        }),
        Attempt::Located => {
            *located = true;
            None
        }
        Attempt::Nothing => None,
    }
}

fn failure(tried: Vec<Stage>, located: bool) -> QrError {
    if located {
        QrError::Unreadable { tried }
    } else {
        QrError::NotFound { tried }
    }
}

/// The time a frame has cost so far: the scanning thread's CPU time where the system
/// reports it per thread (Linux, macOS), else wall time. Other processes on a loaded machine
/// slow the wall clock, not the work a frame does.
struct Stopwatch {
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    cpu: Duration,
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    wall: Instant,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            #[cfg(any(target_os = "linux", target_os = "macos"))]
            cpu: thread_cpu(),
            #[cfg(not(any(target_os = "linux", target_os = "macos")))]
            wall: Instant::now(),
        }
    }

    #[cfg(any(target_os = "linux", target_os = "macos"))]
    fn elapsed(&self) -> Duration {
        thread_cpu().saturating_sub(self.cpu)
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    fn elapsed(&self) -> Duration {
        self.wall.elapsed()
    }
}

/// The calling thread's CPU time so far.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn thread_cpu() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Reads a stream of camera frames within a time budget per frame, so that a preview stays
/// live while no code is in view. Each frame gets a quick look ([`Stage::ZxingCppQuick`]:
/// zxing-cpp scanning every few rows, about a third of its full effort); then the stages of
/// [`Stage::LIVE`] follow in turn, across consecutive frames, each only when its expected
/// time fits in what is left of the frame's budget. A stage's expected time is what it took
/// last, as a multiple of that frame's quick look, so the scanner adapts to the frame size
/// and the machine's speed. Time is the scanning thread's CPU time where the system gives
/// it (Linux, macOS; wall time elsewhere), so other load on the machine does not change what
/// a frame tries. A frame with no code costs the quick look and what fits after
/// it; a code in view is read by the first frame whose stage reads it. The heavy stages of
/// [`Decoder::new`] are for still images (files, screenshots, the clipboard).
#[derive(Debug, Clone)]
pub struct LiveScanner {
    budget: Duration,
    /// The index in [`Stage::LIVE`] of the stage whose turn is next.
    next: usize,
    /// Each live stage's last time as a multiple of its frame's quick look.
    cost: [f32; Stage::LIVE.len()],
}

impl Default for LiveScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveScanner {
    /// The budget a frame gets by default: 10 ms, a third of a 30 fps camera's frame time.
    pub const BUDGET: Duration = Duration::from_millis(10);

    /// What each live stage costs, as a multiple of the quick look, before the scanner has
    /// timed it: measured on 640×480 and 1280×720 frames without a code.
    const PRIOR_COST: [f32; Stage::LIVE.len()] = [2.5, 3.5, 1.5, 8.0];

    /// What a stage's expected time is multiplied by before it is held against the budget.
    const MARGIN: f32 = 1.15;

    /// A scanner with the default budget.
    pub fn new() -> Self {
        Self::with_budget(Self::BUDGET)
    }

    /// A scanner that starts a stage only when its expected time fits in what is left of
    /// `budget` for the frame.
    pub fn with_budget(budget: Duration) -> Self {
        Self {
            budget,
            next: 0,
            cost: Self::PRIOR_COST,
        }
    }

    /// Reads the code in one camera frame, if the stages this frame's budget allows find it.
    pub fn scan(&mut self, gray: &GrayImage) -> Result<Decoded, QrError> {
        check_size(gray)?;
        let started = Stopwatch::start();
        let (mut tried, mut located) = (Vec::with_capacity(3), false);
        if let Some(decoded) = try_stage(Stage::ZxingCppQuick, gray, &mut tried, &mut located) {
            return Ok(decoded);
        }
        let quick = started.elapsed().max(Duration::from_micros(50));
        let first = self.next;
        for turn in 0..Stage::LIVE.len() {
            let index = (first + turn) % Stage::LIVE.len();
            // A stage's time varies from frame to frame: keep a tenth of the budget in hand,
            // so one slower than its last time still ends within the budget.
            let expected = quick.mul_f32(self.cost[index] * Self::MARGIN);
            if started.elapsed() + expected > self.budget {
                continue;
            }
            let stage_started = Stopwatch::start();
            let found = try_stage(Stage::LIVE[index], gray, &mut tried, &mut located);
            let took = stage_started.elapsed().as_secs_f32() / quick.as_secs_f32();
            // Up at once, down by halves: a slow frame is expected again.
            self.cost[index] = took.max((self.cost[index] + took) / 2.0);
            self.next = (index + 1) % Stage::LIVE.len();
            if let Some(decoded) = found {
                return Ok(decoded);
            }
        }
        Err(failure(tried, located))
    }
}
