//! Rendering: a phone screen (or a web page) showing the code, projected into a frame through
//! a homography, then the camera's optics and sensor (glare, blur, noise, 8-bit clipping).

use super::payload::Rng;
use image::GrayImage;

/// A 3×3 projective map, row-major, applied to `(x, y, 1)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Homography(pub [f64; 9]);

impl Homography {
    pub(crate) fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let w = m[6] * x + m[7] * y + m[8];
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }

    /// `self` followed by `next`.
    pub(crate) fn then(&self, next: &Homography) -> Homography {
        let (a, b) = (&next.0, &self.0);
        let mut out = [0.0; 9];
        for row in 0..3 {
            for col in 0..3 {
                out[row * 3 + col] = (0..3).map(|k| a[row * 3 + k] * b[k * 3 + col]).sum();
            }
        }
        Homography(out)
    }

    pub(crate) fn translation(dx: f64, dy: f64) -> Homography {
        Homography([1.0, 0.0, dx, 0.0, 1.0, dy, 0.0, 0.0, 1.0])
    }

    /// The inverse map (adjugate over determinant); `None` when singular.
    pub(crate) fn inverse(&self) -> Option<Homography> {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let cofactors = [
            e * i - f * h,
            c * h - b * i,
            b * f - c * e,
            f * g - d * i,
            a * i - c * g,
            c * d - a * f,
            d * h - e * g,
            b * g - a * h,
            a * e - b * d,
        ];
        let det = a * cofactors[0] + b * cofactors[3] + c * cofactors[6];
        (det.abs() > 1e-12).then(|| Homography(cofactors.map(|v| v / det)))
    }
}

/// An axis-aligned rectangle in module units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    fn contains(&self, u: f64, v: f64) -> bool {
        u >= self.left && u < self.right && v >= self.top && v < self.bottom
    }
}

/// What the camera looks at. Plane coordinates are in modules, the code's top-left module
/// at the origin; gray levels are scene radiance on the 0..255 scale (glare may exceed it).
pub(crate) struct Scene {
    /// The code's modules, row-major, `true` dark.
    pub modules: Vec<bool>,
    /// Modules per side.
    pub size: usize,
    /// The lit screen (or page); the code sits on it with its quiet zone.
    pub screen: Rect,
    /// The phone body around the screen; outside it lies the background.
    pub body: Rect,
    /// Text lines and buttons on the screen, in `ink`.
    pub text: Vec<Rect>,
    /// Screen background level.
    pub paper: f32,
    /// Dark module level (lighter than `paper` in dark mode).
    pub ink: f32,
    /// Level of the text lines.
    pub text_level: f32,
    /// Phone body level.
    pub body_level: f32,
    /// Desk or wall: level at the frame centre and its change across the frame.
    pub background: (f32, f32, f32),
}

impl Scene {
    /// Scene level at plane point (`u`, `v`), or `None` outside the phone.
    fn at_plane(&self, u: f64, v: f64) -> Option<f32> {
        if !self.body.contains(u, v) {
            return None;
        }
        if !self.screen.contains(u, v) {
            return Some(self.body_level);
        }
        let n = self.size as f64;
        if u >= 0.0 && v >= 0.0 && u < n && v < n {
            let index = v as usize * self.size + u as usize;
            let dark = self.modules.get(index).copied().unwrap_or(false);
            return Some(if dark { self.ink } else { self.paper });
        }
        if self.text.iter().any(|r| r.contains(u, v)) {
            return Some(self.text_level);
        }
        Some(self.paper)
    }

    fn background_at(&self, x: f64, y: f64, width: f64, height: f64) -> f32 {
        let (base, gx, gy) = self.background;
        base + gx * (x / width - 0.5) as f32 + gy * (y / height - 0.5) as f32
    }

    /// Renders the scene into a `width * height` radiance image through `plane_to_image`,
    /// averaging `samples * samples` points per pixel (anti-aliasing, as a lens and sensor
    /// pixel area do).
    pub(crate) fn render(
        &self,
        plane_to_image: &Homography,
        width: u32,
        height: u32,
        samples: u32,
    ) -> Vec<f32> {
        let (w, h) = (f64::from(width), f64::from(height));
        let Some(image_to_plane) = plane_to_image.inverse() else {
            return vec![self.background.0; (width * height) as usize];
        };
        let samples = samples.max(1);
        let step = 1.0 / f64::from(samples);
        let mut out = Vec::with_capacity((width * height) as usize);
        for y in 0..height {
            for x in 0..width {
                let mut sum = 0.0f32;
                for sy in 0..samples {
                    for sx in 0..samples {
                        let px = f64::from(x) + (f64::from(sx) + 0.5) * step;
                        let py = f64::from(y) + (f64::from(sy) + 0.5) * step;
                        let (u, v) = image_to_plane.map(px, py);
                        sum += self
                            .at_plane(u, v)
                            .unwrap_or_else(|| self.background_at(px, py, w, h));
                    }
                }
                out.push(sum / (samples * samples) as f32);
            }
        }
        out
    }
}

/// Adds a specular highlight: a Gaussian spot of `peak` levels and standard deviation
/// `radius` pixels centred at (`cx`, `cy`). The sensor clips it later.
pub(crate) fn add_glare(
    pixels: &mut [f32],
    width: u32,
    centre: (f64, f64),
    radius: f64,
    peak: f32,
) {
    let width = width as usize;
    for (index, value) in pixels.iter_mut().enumerate() {
        let (x, y) = ((index % width) as f64 + 0.5, (index / width) as f64 + 0.5);
        let d2 = (x - centre.0).powi(2) + (y - centre.1).powi(2);
        *value += peak * (-d2 / (2.0 * radius * radius)).exp() as f32;
    }
}

/// Adds independent Gaussian sensor noise of standard deviation `sigma` levels.
pub(crate) fn add_noise(pixels: &mut [f32], sigma: f32, rng: &mut Rng) {
    for value in pixels.iter_mut() {
        *value += sigma * rng.normal() as f32;
    }
}

/// Rounds and clips to 8 bits, as the sensor's output does.
pub(crate) fn quantise(pixels: &[f32], width: u32, height: u32) -> GrayImage {
    let bytes = pixels
        .iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect();
    GrayImage::from_raw(width, height, bytes).unwrap_or_else(|| GrayImage::new(0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homography_inverse_round_trips() {
        let h = Homography([1.2, 0.1, 30.0, -0.2, 0.9, 12.0, 0.0004, -0.0002, 1.0]);
        let inverse = h.inverse().unwrap();
        let (x, y) = h.map(17.0, -4.0);
        let (u, v) = inverse.map(x, y);
        assert!((u - 17.0).abs() < 1e-9 && (v + 4.0).abs() < 1e-9);
        let (tx, ty) = h.then(&Homography::translation(5.0, -3.0)).map(17.0, -4.0);
        assert!((tx - x - 5.0).abs() < 1e-9 && (ty - y + 3.0).abs() < 1e-9);
    }
}
