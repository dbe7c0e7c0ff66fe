//! Turning a [`Spec`] into a frame: draw the parameters, place the code, render, apply the
//! camera.

use super::payload::Rng;
use super::scene::{self, Homography, Rect, Scene};
use super::{Scenario, Spec};
use image::GrayImage;
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
    /// The frame, 8-bit gray.
    pub image: GrayImage,
    /// The distortions and their drawn parameters (the camera's base softness, noise and
    /// hand shake are not listed).
    pub distortions: Vec<Distortion>,
    /// Pixels per module along the code's edges, on average.
    pub module_px: f64,
    /// Modules per side (21 for version 1, 4 more per version).
    pub modules: usize,
}

impl Sample {
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
    let text = spec.payload.generate(&mut rng);
    let (modules, size) = match qrcode::QrCode::new(text.as_bytes()) {
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
    let (width, height) = spec.frame.dimensions();
    let target_px = spec.code_size.fraction() * f64::from(height);
    let mut sample = if spec.scenario == Scenario::Screenshot {
        screenshot(spec, &mut rng, modules, size, target_px)
    } else {
        super::camera::camera(spec, &mut rng, modules, size, target_px)
    };
    sample.text = text;
    debug_assert_eq!(sample.image.dimensions(), (width, height));
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

fn screenshot(
    spec: &Spec,
    rng: &mut Rng,
    modules: Vec<bool>,
    size: usize,
    target_px: f64,
) -> Sample {
    let (width, height) = spec.frame.dimensions();
    let (w, h, n) = (f64::from(width), f64::from(height), size as f64);
    let zoom = [1.0, 1.0, 1.25, 1.5][rng.below(4)];
    // Pixels per module before display scaling: whole, and small enough for the page.
    let fit = (h / ((n + 2.0 * QUIET) * zoom)).floor();
    let module_px = (target_px / n).round().min(fit).max(2.0) * zoom;
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
    text.push(Rect {
        bottom: visible.top + 40.0 / module_px,
        ..visible
    });
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
    let samples = if zoom == 1.0 { 1 } else { 3 };
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
        distortions,
        module_px,
        modules: size,
    }
}
