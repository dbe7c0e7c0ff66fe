//! Camera frames: the phone placed in front of a pinhole camera, lit, rendered, then the
//! lens (blur), the sensor (noise, clipping) and the scenario's distortions.

use super::payload::Rng;
use super::sample::{Distortion, QUIET, Sample, text_lines};
use super::scene::{self, Homography, Rect, Scene};
use super::{Scenario, Spec};
use crate::filters::blur_f32;

/// The drawn parameters of one sample.
#[derive(Default)]
struct Params {
    rotation: f64,
    tilt: f64,
    defocus_modules: f64,
    noise: f64,
    low_contrast: bool,
    inverted: bool,
    glare: bool,
    /// Motion smear length in pixels (0: none).
    motion_px: f64,
    /// Pixels per module wanted, instead of the code size's fraction of the frame.
    module_px: Option<f64>,
}

fn params(scenario: Scenario, rng: &mut Rng) -> Params {
    // Hand shake, present in every camera frame.
    let mut p = Params {
        rotation: rng.uniform(-3.0, 3.0),
        tilt: rng.uniform(0.0, 5.0),
        ..Params::default()
    };
    match scenario {
        Scenario::Screenshot | Scenario::TransparentExport | Scenario::TinyModules => {}
        Scenario::MotionBlur => p.motion_px = rng.uniform(5.0, 8.0),
        Scenario::GlareHighEc => p.glare = true,
        Scenario::SmallBlurred => {
            p.module_px = Some(rng.uniform(2.6, 5.5));
            p.defocus_modules = rng.uniform(0.15, 0.30);
            p.noise = rng.uniform(6.0, 12.0);
        }
        Scenario::NoCode => p.noise = rng.uniform(4.0, 10.0),
        Scenario::Rotation => p.rotation = rng.sign() * rng.uniform(10.0, 180.0),
        Scenario::Perspective => p.tilt = rng.uniform(20.0, 40.0),
        Scenario::Blur => p.defocus_modules = rng.uniform(0.25, 0.40),
        Scenario::Noise => p.noise = rng.uniform(6.0, 14.0),
        Scenario::LowContrast => p.low_contrast = true,
        Scenario::Inverted => p.inverted = true,
        Scenario::Glare => p.glare = true,
        Scenario::Handheld => {
            p.rotation = rng.sign() * rng.uniform(5.0, 30.0);
            p.tilt = rng.uniform(10.0, 25.0);
            p.defocus_modules = rng.uniform(0.15, 0.30);
            p.noise = rng.uniform(4.0, 10.0);
        }
        Scenario::DimScreen => {
            p.low_contrast = true;
            p.defocus_modules = rng.uniform(0.15, 0.25);
            p.noise = rng.uniform(4.0, 10.0);
        }
        Scenario::DarkMode => {
            p.inverted = true;
            p.rotation = rng.sign() * rng.uniform(5.0, 180.0);
            p.noise = rng.uniform(4.0, 10.0);
        }
        Scenario::GlareAtAnAngle => {
            p.glare = true;
            p.tilt = rng.uniform(15.0, 30.0);
            p.noise = rng.uniform(4.0, 10.0);
        }
    }
    p
}

/// The camera's projection of the code plane: rotation `rotation` in the plane, tilt `tilt`
/// about an in-plane axis at `axis` radians, code centre at distance `distance` (modules).
fn projection(
    size: (f64, f64),
    focal: f64,
    n: f64,
    rotation: f64,
    tilt: f64,
    axis: f64,
    distance: f64,
) -> Homography {
    let (kx, ky) = (axis.cos(), axis.sin());
    let (s, c) = tilt.sin_cos();
    // Rodrigues: tilt about k = (kx, ky, 0).
    let tilt_m = [
        [c + kx * kx * (1.0 - c), kx * ky * (1.0 - c), ky * s],
        [kx * ky * (1.0 - c), c + ky * ky * (1.0 - c), -kx * s],
        [-ky * s, kx * s, c],
    ];
    let (rs, rc) = rotation.sin_cos();
    let spin = [[rc, -rs, 0.0], [rs, rc, 0.0], [0.0, 0.0, 1.0]];
    let r = |i: usize, j: usize| (0..3).map(|k| tilt_m[i][k] * spin[k][j]).sum::<f64>();
    let t = [
        -n / 2.0 * (r(0, 0) + r(0, 1)),
        -n / 2.0 * (r(1, 0) + r(1, 1)),
        distance - n / 2.0 * (r(2, 0) + r(2, 1)),
    ];
    let (cx, cy) = (size.0 / 2.0, size.1 / 2.0);
    Homography([
        focal * r(0, 0) + cx * r(2, 0),
        focal * r(0, 1) + cx * r(2, 1),
        focal * t[0] + cx * t[2],
        focal * r(1, 0) + cy * r(2, 0),
        focal * r(1, 1) + cy * r(2, 1),
        focal * t[1] + cy * t[2],
        r(2, 0),
        r(2, 1),
        t[2],
    ])
}

pub(super) fn camera(
    spec: &Spec,
    rng: &mut Rng,
    modules: Vec<bool>,
    size: usize,
    target_px: f64,
) -> Sample {
    let (width, height) = spec.frame.dimensions();
    let (w, h, n) = (f64::from(width), f64::from(height), size as f64);
    let p = params(spec.scenario, rng);
    let target_px = match (p.module_px, spec.scenario) {
        (Some(px), _) => px * n,
        // A large code whose modules a camera can still resolve: at least 4 px per module.
        (None, Scenario::GlareHighEc) => target_px.max(4.0 * n),
        (None, _) => target_px,
    };
    let focal = w / (2.0 * 30f64.to_radians().tan());
    let axis = rng.uniform(0.0, std::f64::consts::TAU);
    let (rotation, tilt) = (p.rotation.to_radians(), p.tilt.to_radians());
    let margin = 0.02 * h;
    // Move the phone back until the code and its quiet zone fit, then shift it at random.
    let quiet = [
        (-QUIET, -QUIET),
        (n + QUIET, -QUIET),
        (n + QUIET, n + QUIET),
        (-QUIET, n + QUIET),
    ];
    let mut distance = focal * n / target_px;
    let (mut placement, mut bounds) = (Homography::translation(0.0, 0.0), (0.0, 0.0, 0.0, 0.0));
    for _ in 0..40 {
        placement = projection((w, h), focal, n, rotation, tilt, axis, distance);
        let corners = quiet.map(|(u, v)| placement.map(u, v));
        bounds = corners
            .iter()
            .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |b, &(x, y)| {
                (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y))
            });
        if bounds.2 - bounds.0 <= w - 2.0 * margin && bounds.3 - bounds.1 <= h - 2.0 * margin {
            break;
        }
        distance *= 1.06;
    }
    let dx = rng.uniform(
        margin - bounds.0,
        (w - margin - bounds.2).max(margin - bounds.0),
    );
    let dy = rng.uniform(
        margin - bounds.1,
        (h - margin - bounds.3).max(margin - bounds.1),
    );
    let placement = placement.then(&Homography::translation(dx, dy));
    let code = [(0.0, 0.0), (n, 0.0), (n, n), (0.0, n)].map(|(u, v)| placement.map(u, v));
    let edges: f64 = (0..4)
        .map(|i| {
            let (a, b) = (code[i], code[(i + 1) % 4]);
            ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
        })
        .sum();
    let module_px = edges / 4.0 / n;

    // Lighting.
    let (paper, ink, text_level, body_level) = if p.low_contrast {
        let paper = rng.uniform(140.0, 190.0);
        let ink = paper - rng.uniform(35.0, 60.0);
        (paper, ink, ink + 10.0, rng.uniform(40.0, 80.0))
    } else if p.inverted {
        (
            rng.uniform(15.0, 40.0),
            rng.uniform(170.0, 225.0),
            rng.uniform(120.0, 170.0),
            rng.uniform(5.0, 15.0),
        )
    } else {
        let ink = rng.uniform(20.0, 50.0);
        (
            rng.uniform(195.0, 235.0),
            ink,
            ink + 40.0,
            rng.uniform(10.0, 30.0),
        )
    };
    let background = if p.low_contrast {
        (
            rng.uniform(90.0, 160.0),
            rng.sign() * rng.uniform(0.0, 20.0),
            rng.sign() * rng.uniform(0.0, 20.0),
        )
    } else {
        (
            rng.uniform(60.0, 160.0),
            rng.sign() * rng.uniform(0.0, 50.0),
            rng.sign() * rng.uniform(0.0, 50.0),
        )
    };
    let screen = Rect {
        left: -QUIET - 1.5,
        top: -QUIET - 0.6 * n,
        right: n + QUIET + 1.5,
        bottom: n + QUIET + 0.5 * n,
    };
    let body = Rect {
        left: screen.left - 2.5,
        top: screen.top - 5.0,
        right: screen.right + 2.5,
        bottom: screen.bottom + 5.0,
    };
    let scene = Scene {
        modules,
        size,
        screen,
        body,
        text: text_lines(rng, n, screen),
        paper: paper as f32,
        ink: ink as f32,
        text_level: text_level as f32,
        body_level: body_level as f32,
        background: (
            background.0 as f32,
            background.1 as f32,
            background.2 as f32,
        ),
    };
    let mut pixels = scene.render(&placement, width, height, 2);

    let mut distortions = Vec::new();
    if p.rotation.abs() > 3.0 {
        distortions.push(Distortion::Rotation {
            degrees: p.rotation,
        });
    }
    if p.tilt > 5.0 {
        distortions.push(Distortion::Perspective {
            tilt_degrees: p.tilt,
        });
    }
    if p.glare && spec.scenario != Scenario::NoCode {
        let centre = placement.map(rng.uniform(0.15, 0.85) * n, rng.uniform(0.15, 0.85) * n);
        let radius_px = rng.uniform(0.10, 0.18) * n * module_px;
        let peak = rng.uniform(180.0, 280.0);
        scene::add_glare(&mut pixels, width, centre, radius_px, peak as f32);
        distortions.push(Distortion::Glare { peak, radius_px });
    }
    let defocus = if p.defocus_modules > 0.0 {
        (p.defocus_modules * module_px).max(1.0)
    } else {
        0.0
    };
    let sigma = (0.7f64.powi(2) + defocus.powi(2)).sqrt();
    let mut pixels = blur_f32(&pixels, width as usize, height as usize, sigma as f32);
    if p.motion_px > 0.0 {
        let degrees = rng.uniform(0.0, 180.0);
        pixels = smear(
            &pixels,
            width as usize,
            height as usize,
            p.motion_px,
            degrees,
        );
        distortions.push(Distortion::Motion {
            length_px: p.motion_px,
            degrees,
        });
    }
    if defocus > 0.0 {
        distortions.push(Distortion::Blur { sigma_px: defocus });
    }
    scene::add_noise(&mut pixels, (4.0 + p.noise * p.noise).sqrt() as f32, rng);
    if p.noise > 0.0 {
        distortions.push(Distortion::Noise { sigma: p.noise });
    }
    if p.low_contrast {
        distortions.push(Distortion::LowContrast {
            difference: paper - ink,
        });
    }
    if p.inverted {
        distortions.push(Distortion::Inverted);
    }
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

/// Motion blur: each pixel the mean of the image along a segment of `length` pixels at
/// `degrees` from the x axis, centred on it (bilinear samples a half pixel apart, edges
/// clamped).
fn smear(pixels: &[f32], width: usize, height: usize, length: f64, degrees: f64) -> Vec<f32> {
    let (dy, dx) = degrees.to_radians().sin_cos();
    let steps = (length * 2.0).ceil() as usize + 1;
    let offsets: Vec<(f64, f64)> = (0..steps)
        .map(|i| {
            let t = (i as f64 / (steps - 1) as f64 - 0.5) * length;
            (t * dx, t * dy)
        })
        .collect();
    let at = |x: f64, y: f64| {
        let x = x.clamp(0.0, (width - 1) as f64);
        let y = y.clamp(0.0, (height - 1) as f64);
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let row = |y: usize| pixels[y * width + x0] * (1.0 - fx) + pixels[y * width + x1] * fx;
        row(y0) * (1.0 - fy) + row(y1) * fy
    };
    let mut out = Vec::with_capacity(pixels.len());
    for y in 0..height {
        for x in 0..width {
            let sum: f32 = offsets
                .iter()
                .map(|&(ox, oy)| at(x as f64 + ox, y as f64 + oy))
                .sum();
            out.push(sum / steps as f32);
        }
    }
    out
}
