//! The preprocessing pipeline around rqrr: variants of the frame tried in order, stopping at
//! the first that decodes.

use crate::filters::{self, Bitmap};
use crate::{Decoded, Point, QrError, zxing};
use image::{DynamicImage, GrayImage};
use std::borrow::Cow;
use std::fmt;

/// One variant of the frame that the pipeline hands to rqrr, or a run of rxing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
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
}

impl Stage {
    /// The stages [`Decoder::new`] tries, in order: chosen on the benchmark corpus, where
    /// the stages left out decoded no frame that these miss.
    ///
    /// The last three run only on frames every earlier stage missed (dim, noisy screens and
    /// codes of 2.5–4 pixels per module), so they cost little on average.
    pub const DEFAULT: [Stage; 11] = [
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

    /// Every stage, for measurement: the default ones first, in their order.
    pub const ALL: [Stage; 17] = [
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
    ];

    /// This stage's variant of `gray`, or `None` when the stage does not apply to its size.
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
            // rxing reads its own variants (see `Decoder::decode_luma`); the rest are for
            // some frame sizes only.
            Stage::Zxing
            | Stage::ZxingDenoised
            | Stage::ZxingStretched
            | Stage::ZxingUpscaled
            | Stage::Downscaled
            | Stage::Upscaled
            | Stage::UpscaledAdaptive
            | Stage::DownscaledAdaptive => {
                return None;
            }
        };
        Some(variant)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
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
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// A decoder trying the stages of [`Stage::DEFAULT`], in that order.
    pub fn new() -> Self {
        Self::with_stages(&Stage::DEFAULT)
    }

    /// A decoder trying exactly `stages`, in that order.
    pub fn with_stages(stages: &[Stage]) -> Self {
        Self {
            stages: stages.to_vec(),
        }
    }

    /// The stages this decoder tries, in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// Finds and reads the first QR code in `image`, trying each stage until one decodes.
    pub fn decode(&self, image: &DynamicImage) -> Result<Decoded, QrError> {
        let gray = match image {
            DynamicImage::ImageLuma8(gray) => Cow::Borrowed(gray),
            other => Cow::Owned(other.to_luma8()),
        };
        self.decode_luma(&gray)
    }

    /// [`Decoder::decode`] for an 8-bit gray image, the form every input is converted to.
    pub fn decode_luma(&self, gray: &GrayImage) -> Result<Decoded, QrError> {
        let (width, height) = gray.dimensions();
        if width == 0 || height == 0 {
            return Err(QrError::Empty { width, height });
        }
        let mut tried = Vec::with_capacity(self.stages.len());
        let mut located = false;
        for &stage in &self.stages {
            let outcome = if stage == Stage::Zxing {
                zxing::attempt(gray)
            } else if stage == Stage::ZxingDenoised {
                zxing::attempt(&filters::gaussian_blur(gray, 1.0))
            } else if stage == Stage::ZxingStretched {
                zxing::attempt(&filters::stretch_contrast(&filters::gaussian_blur(
                    gray, 1.0,
                )))
            } else if stage == Stage::ZxingUpscaled {
                if width.max(height) > 1280 {
                    continue;
                }
                match zxing::attempt(&filters::upscale_double(gray)) {
                    Attempt::Decoded { text, corners } => Attempt::Decoded {
                        text,
                        corners: corners.map(|p| Point {
                            x: p.x / 2.0,
                            y: p.y / 2.0,
                        }),
                    },
                    other => other,
                }
            } else {
                let Some(variant) = stage.prepare(gray) else {
                    continue;
                };
                attempt(variant)
            };
            tried.push(stage);
            match outcome {
                Attempt::Decoded { text, corners } => {
                    return Ok(Decoded {
                        text,
                        corners,
                        stage,
                    });
                }
                Attempt::Located => located = true,
                Attempt::Nothing => {}
            }
        }
        Err(if located {
            QrError::Unreadable { tried }
        } else {
            QrError::NotFound { tried }
        })
    }
}
