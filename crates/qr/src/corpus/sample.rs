//! Turning a [`Spec`] into a frame: draw the parameters, place the code, render, apply the
//! camera.

use super::payload::Rng;
use super::scene::{self, Homography, Rect, Scene};
use super::{Scenario, Spec};
use image::{DynamicImage, GrayImage};
use std::fmt;

/// One distortion applied to a sample, with the parameter drawn for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distortion {
    /// Browser or display scaling of a screenshot (1.25 or 1.5).
    Zoom {
        /// The scale factor.
        factor: f64,
    },
    /// In-plane rotation.
    Rotation {
        /// Degrees, counter-clockwise positive.
        degrees: f64,
    },
    /// The phone tilted away from the camera.
    Perspective {
        /// Degrees between the screen and the image plane.
        tilt_degrees: f64,
    },
    /// Defocus.
    Blur {
        /// Gaussian standard deviation in pixels.
        sigma_px: f64,
    },
    /// Sensor noise.
    Noise {
        /// Standard deviation in gray levels.
        sigma: f64,
    },
    /// A dim screen.
    LowContrast {
        /// Gray levels between light and dark modules.
        difference: f64,
    },
    /// Light modules on a dark screen.
    Inverted,
    /// A reflection on the screen.
    Glare {
        /// Levels added at the spot's centre.
        peak: f64,
        /// The spot's standard deviation in pixels.
        radius_px: f64,
    },
    /// Motion during the exposure: a straight smear.
    Motion {
        /// Length of the smear in pixels.
        length_px: f64,
        /// Its direction, degrees from the x axis.
        degrees: f64,
    },
    /// A transparent background, light modules transparent black.
    Transparent,
    /// Error correction level H.
    HighEc,
}

impl fmt::Display for Distortion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Distortion::Zoom { factor } => write!(f, "zoom ×{factor}"),
            Distortion::Rotation { degrees } => write!(f, "rotation {degrees:.0}°"),
            Distortion::Perspective { tilt_degrees } => write!(f, "tilt {tilt_degrees:.0}°"),
            Distortion::Blur { sigma_px } => write!(f, "blur σ{sigma_px:.1}px"),
            Distortion::Noise { sigma } => write!(f, "noise σ{sigma:.0}"),
            Distortion::LowContrast { difference } => write!(f, "contrast {difference:.0}"),
            Distortion::Inverted => f.write_str("inverted"),
            Distortion::Glare { peak, radius_px } => {
                write!(f, "glare +{peak:.0} r{radius_px:.0}px")
            }
            Distortion::Motion { length_px, degrees } => {
                write!(f, "motion {length_px:.1}px at {degrees:.0}°")
            }
            Distortion::Transparent => f.write_str("transparent"),
            Distortion::HighEc => f.write_str("EC level H"),
        }
    }
}

/// A rendered sample: the frame and what a decoder should read from it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What was rendered.
    pub spec: Spec,
    /// The code's content.
    pub text: String,
    /// The frame, 8-bit gray. For a transparent export, its colour without the alpha
    /// channel (what a reader that drops alpha sees); [`Sample::input`] has the alpha.
    pub image: GrayImage,
    /// The alpha channel of a transparent export, else `None`.
    pub alpha: Option<GrayImage>,
    /// The distortions and their drawn parameters (the camera's base softness, noise and
    /// hand shake are not listed).
    pub distortions: Vec<Distortion>,
    /// Pixels per module along the code's edges, on average.
    pub module_px: f64,
    /// Modules per side (21 for version 1, 4 more per version).
    pub modules: usize,
}

impl Sample {
    /// Whether the frame shows a code (every scenario but [`Scenario::NoCode`]).
    pub fn has_code(&self) -> bool {
        self.spec.scenario != Scenario::NoCode
    }

    /// The image as a file holds it: gray, or gray and alpha for a transparent export.
    pub fn input(&self) -> DynamicImage {
        match &self.alpha {
            Some(alpha) => {
                let pixels = self
                    .image
                    .as_raw()
                    .iter()
                    .zip(alpha.as_raw())
                    .flat_map(|(&l, &a)| [l, a])
                    .collect();
                image::GrayAlphaImage::from_raw(self.image.width(), self.image.height(), pixels)
                    .map_or_else(
                        || DynamicImage::ImageLuma8(self.image.clone()),
                        DynamicImage::ImageLumaA8,
                    )
            }
            None => DynamicImage::ImageLuma8(self.image.clone()),
        }
    }

    /// A one-line description: resolution, size, payload, scenario and parameters.
    pub fn label(&self) -> String {
        let (width, height) = self.spec.frame.dimensions();
        let details: Vec<String> = self.distortions.iter().map(|d| d.to_string()).collect();
        format!(
            "#{} {width}x{height} {:?} {:?} {}mod {:.1}px/mod, {}: {}",
            self.spec.index,
            self.spec.code_size,
            self.spec.payload,
            self.modules,
            self.module_px,
            self.spec.scenario.name(),
            if details.is_empty() {
                "clean".to_string()
            } else {
                details.join(", ")
            }
        )
    }
}

/// The quiet zone around the code, in modules.
pub(super) const QUIET: f64 = 4.0;

pub(super) fn render(spec: &Spec) -> Sample {
    let mut rng = Rng::new(spec.seed);
    let mut text = spec.payload.generate(&mut rng);
    let encoded = if spec.scenario == Scenario::GlareHighEc {
        // Version 16 at level H holds about 150 characters of this text: cut it to fit.
        loop {
            let version = qrcode::Version::Normal(16);
            match qrcode::QrCode::with_version(text.as_bytes(), version, qrcode::EcLevel::H) {
                Err(qrcode::types::QrError::DataTooLong) if text.len() > 20 => {
                    text.truncate(text.len() - 8);
                }
                other => break other,
            }
        }
    } else {
        qrcode::QrCode::new(text.as_bytes())
    };
    let (mut modules, size) = match encoded {
        Ok(code) => {
            let dark = code
                .to_colors()
                .iter()
                .map(|&c| c == qrcode::Color::Dark)
                .collect();
            (dark, code.width())
        }
        Err(_) => (Vec::new(), 0),
    };
    if spec.scenario == Scenario::NoCode {
        text.clear();
        let mosaic = rng.below(2) == 1;
        modules = (0..size * size)
            .map(|_| mosaic && rng.below(2) == 1)
            .collect();
    }
    let target_px = spec.code_size.fraction() * f64::from(spec.frame.dimensions().1);
    let mut sample = match spec.scenario {
        Scenario::Screenshot => screenshot(spec, &mut rng, modules, size, target_px, None),
        Scenario::TinyModules => {
            let module_px = rng.uniform(1.0, 1.6);
            screenshot(spec, &mut rng, modules, size, target_px, Some(module_px))
        }
        Scenario::TransparentExport => export(spec, &mut rng, &modules, size),
        _ => super::camera::camera(spec, &mut rng, modules, size, target_px),
    };
    sample.text = text;
    sample
}

/// Text lines above and below the code, between `top` and `bottom` of the screen.
pub(super) fn text_lines(rng: &mut Rng, n: f64, screen: Rect) -> Vec<Rect> {
    let mut lines = Vec::new();
    let bands = [
        (screen.top + 1.5, -QUIET - 0.5),
        (n + QUIET + 0.5, screen.bottom - 1.5),
    ];
    let (left, span) = (
        screen.left.max(-n) + 1.5,
        (screen.right.min(2.0 * n) - screen.left.max(-n) - 3.0),
    );
    for (top, bottom) in bands {
        let mut y = top;
        while y + 1.1 < bottom {
            let length = span * rng.uniform(0.3, 0.9);
            lines.push(Rect {
                left,
                top: y,
                right: left + length,
                bottom: y + 1.1,
            });
            y += 2.6;
        }
    }
    lines
}

/// A PNG export of the code alone, `2..=8` whole pixels per module, on a transparent
/// background: dark modules opaque black, everything else transparent black.
fn export(spec: &Spec, rng: &mut Rng, modules: &[bool], size: usize) -> Sample {
    let module_px = 2 + rng.below(7);
    let ink = 0;
    let side = (size + 2 * QUIET as usize) * module_px;
    let quiet = QUIET as usize;
    let dark = |x: u32, y: u32| {
        let (u, v) = (x as usize / module_px, y as usize / module_px);
        (quiet..quiet + size).contains(&u)
            && (quiet..quiet + size).contains(&v)
            && modules
                .get((v - quiet) * size + (u - quiet))
                .copied()
                .unwrap_or(false)
    };
    let side = side as u32;
    let image = GrayImage::from_fn(side, side, |x, y| {
        image::Luma([if dark(x, y) { ink } else { 0 }])
    });
    let alpha = GrayImage::from_fn(side, side, |x, y| {
        image::Luma([if dark(x, y) { 255 } else { 0 }])
    });
    Sample {
        spec: *spec,
        text: String::new(),
        image,
        alpha: Some(alpha),
        distortions: vec![Distortion::Transparent],
        module_px: module_px as f64,
        modules: size,
    }
}

/// A screenshot of a page with the code, at `module_px` pixels per module when given (drawn
/// area-averaged), else at whole pixels per module near `target_px` for the code, sometimes
/// display-scaled.
fn screenshot(
    spec: &Spec,
    rng: &mut Rng,
    modules: Vec<bool>,
    size: usize,
    target_px: f64,
    module_px: Option<f64>,
) -> Sample {
    let (width, height) = spec.frame.dimensions();
    let (w, h, n) = (f64::from(width), f64::from(height), size as f64);
    let zoom = if module_px.is_some() {
        1.0
    } else {
        [1.0, 1.0, 1.25, 1.5][rng.below(4)]
    };
    // Pixels per module before display scaling: whole, and small enough for the page.
    let fit = (h / ((n + 2.0 * QUIET) * zoom)).floor();
    let module_px = module_px.unwrap_or_else(|| (target_px / n).round().min(fit).max(2.0) * zoom);
    let extent = (n + 2.0 * QUIET) * module_px;
    let origin_x = (QUIET * module_px + rng.uniform(0.0, (w - extent).max(0.0))).round();
    let origin_y = (QUIET * module_px + rng.uniform(0.0, (h - extent).max(0.0))).round();
    let placement = Homography([
        module_px, 0.0, origin_x, 0.0, module_px, origin_y, 0.0, 0.0, 1.0,
    ]);
    let page = Rect {
        left: -1e6,
        top: -1e6,
        right: 1e6,
        bottom: 1e6,
    };
    // The page around the code, in modules: text lines, and a header bar along the top.
    let visible = Rect {
        left: -origin_x / module_px,
        top: -origin_y / module_px,
        right: (w - origin_x) / module_px,
        bottom: (h - origin_y) / module_px,
    };
    let mut text = text_lines(
        rng,
        n,
        Rect {
            top: visible.top + 48.0 / module_px,
            ..visible
        },
    );
    // The header bar, unless the page is scrolled so far that it would cover the code.
    if origin_y >= 40.0 + QUIET * module_px {
        text.push(Rect {
            bottom: visible.top + 40.0 / module_px,
            ..visible
        });
    }
    let paper = rng.uniform(240.0, 255.0) as f32;
    let scene = Scene {
        modules,
        size,
        screen: page,
        body: page,
        text,
        paper,
        ink: rng.uniform(0.0, 30.0) as f32,
        text_level: rng.uniform(60.0, 120.0) as f32,
        body_level: paper,
        background: (paper, 0.0, 0.0),
    };
    let samples = if module_px.fract() == 0.0 {
        1
    } else if zoom != 1.0 {
        3
    } else {
        4
    };
    let pixels = scene.render(&placement, width, height, samples);
    let distortions = if zoom == 1.0 {
        vec![]
    } else {
        vec![Distortion::Zoom { factor: zoom }]
    };
    Sample {
        spec: *spec,
        text: String::new(),
        image: scene::quantise(&pixels, width, height),
        alpha: None,
        distortions,
        module_px,
        modules: size,
    }
}
