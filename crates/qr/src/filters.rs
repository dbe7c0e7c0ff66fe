//! The image operations of the pipeline, on 8-bit gray images. Each returns a new image (or
//! bitmap) and never panics: sizes come from the input image, and empty images pass through.

use image::GrayImage;

/// A black-and-white image: `true` is a dark pixel. Row-major, `width * height` entries.
pub(crate) struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub dark: Vec<bool>,
}

impl Bitmap {
    /// Whether the pixel at (`x`, `y`) is dark; pixels outside the image are light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        let index = y * self.width as usize + x;
        self.dark.get(index).copied().unwrap_or(false)
    }
}

/// The number of pixels of each gray level.
fn histogram(image: &GrayImage) -> [u64; 256] {
    let mut counts = [0u64; 256];
    for &value in image.as_raw() {
        counts[usize::from(value)] += 1;
    }
    counts
}

/// The gray level below which `fraction` of the pixels lie.
fn percentile(counts: &[u64; 256], total: u64, fraction: f64) -> u8 {
    let target = (total as f64 * fraction) as u64;
    let mut seen = 0;
    for (level, &count) in counts.iter().enumerate() {
        seen += count;
        if seen > target {
            return level as u8;
        }
    }
    u8::MAX
}

/// Maps the 1st..99th percentile of the gray levels onto 0..255, so a washed-out or dim
/// screen spans the whole range. A flat image comes back unchanged.
pub(crate) fn stretch_contrast(image: &GrayImage) -> GrayImage {
    let counts = histogram(image);
    let total = u64::from(image.width()) * u64::from(image.height());
    let low = percentile(&counts, total, 0.01);
    let high = percentile(&counts, total, 0.99);
    if high <= low.saturating_add(1) {
        return image.clone();
    }
    let span = f32::from(high - low);
    let mut table = [0u8; 256];
    for (level, entry) in table.iter_mut().enumerate() {
        let scaled = (level as f32 - f32::from(low)) * 255.0 / span;
        *entry = scaled.clamp(0.0, 255.0) as u8;
    }
    map_levels(image, &table)
}

/// Light becomes dark: a dark-mode code (light modules on a dark screen) becomes a normal one.
pub(crate) fn invert(image: &GrayImage) -> GrayImage {
    let mut table = [0u8; 256];
    for (level, entry) in table.iter_mut().enumerate() {
        *entry = 255 - level as u8;
    }
    map_levels(image, &table)
}

fn map_levels(image: &GrayImage, table: &[u8; 256]) -> GrayImage {
    let pixels = image
        .as_raw()
        .iter()
        .map(|&v| table[usize::from(v)])
        .collect();
    GrayImage::from_raw(image.width(), image.height(), pixels)
        .unwrap_or_else(|| GrayImage::new(0, 0))
}

/// Otsu's global threshold: the level that best separates the histogram into two classes.
pub(crate) fn otsu_threshold(image: &GrayImage) -> u8 {
    let counts = histogram(image);
    let total: u64 = counts.iter().sum();
    let sum_all: f64 = counts
        .iter()
        .enumerate()
        .map(|(level, &count)| level as f64 * count as f64)
        .sum();
    let (mut weight_dark, mut sum_dark) = (0.0f64, 0.0f64);
    let (mut best_level, mut best_variance) = (127u8, -1.0f64);
    for (level, &count) in counts.iter().enumerate() {
        weight_dark += count as f64;
        sum_dark += level as f64 * count as f64;
        let weight_light = total as f64 - weight_dark;
        if weight_dark == 0.0 || weight_light == 0.0 {
            continue;
        }
        let mean_dark = sum_dark / weight_dark;
        let mean_light = (sum_all - sum_dark) / weight_light;
        let variance = weight_dark * weight_light * (mean_dark - mean_light).powi(2);
        if variance > best_variance {
            best_variance = variance;
            best_level = level as u8;
        }
    }
    best_level
}

/// Dark where the pixel is at or below Otsu's threshold.
pub(crate) fn binarize_otsu(image: &GrayImage) -> Bitmap {
    let threshold = otsu_threshold(image);
    Bitmap {
        width: image.width(),
        height: image.height(),
        dark: image.as_raw().iter().map(|&v| v <= threshold).collect(),
    }
}

/// Local block thresholds, after ZXing's hybrid binariser: the frame is cut into 8×8 blocks,
/// a block whose gray levels span more than 24 levels has its mean as black point, and each
/// pixel is compared with the mean black point of the contrasty blocks among the 5×5 around
/// its own (light when there are none). Unlike ZXing, flat blocks do not vote: ZXing gives
/// them half their minimum, which drags the threshold below the modules of a low-contrast
/// code next to its quiet zone. Follows uneven light and glare.
pub(crate) fn binarize_blocks(image: &GrayImage) -> Bitmap {
    const BLOCK: usize = 8;
    const MIN_RANGE: u32 = 24;
    let (width, height) = (image.width() as usize, image.height() as usize);
    let pixels = image.as_raw();
    let (columns, rows) = (width.div_ceil(BLOCK), height.div_ceil(BLOCK));
    let mut black: Vec<Option<u32>> = vec![None; columns * rows];
    for (index, point) in black.iter_mut().enumerate() {
        let (bx, by) = (index % columns, index / columns);
        let (mut sum, mut count, mut min, mut max) = (0u32, 0u32, 255u32, 0u32);
        for y in by * BLOCK..((by + 1) * BLOCK).min(height) {
            let row = &pixels[y * width..(y + 1) * width];
            for &value in &row[bx * BLOCK..((bx + 1) * BLOCK).min(width)] {
                let value = u32::from(value);
                (sum, count) = (sum + value, count + 1);
                (min, max) = (min.min(value), max.max(value));
            }
        }
        if max - min > MIN_RANGE {
            *point = Some(sum / count.max(1));
        }
    }
    let mut threshold = vec![0u32; columns * rows];
    for (index, value) in threshold.iter_mut().enumerate() {
        let (bx, by) = (index % columns, index / columns);
        let (mut sum, mut count) = (0u32, 0u32);
        for ny in by.saturating_sub(2)..(by + 3).min(rows) {
            for nx in bx.saturating_sub(2)..(bx + 3).min(columns) {
                if let Some(point) = black[ny * columns + nx] {
                    (sum, count) = (sum + point, count + 1);
                }
            }
        }
        // No contrasty block nearby: nothing is dark here.
        *value = sum.checked_div(count).unwrap_or(0);
    }
    let dark = pixels
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let (x, y) = (i % width, i / width);
            u32::from(value) < threshold[(y / BLOCK) * columns + x / BLOCK]
        })
        .collect();
    Bitmap {
        width: image.width(),
        height: image.height(),
        dark,
    }
}

/// Halves both sides, each output pixel the mean of a 2×2 block (which also halves noise).
pub(crate) fn downscale_half(image: &GrayImage) -> GrayImage {
    let (width, height) = (image.width() / 2, image.height() / 2);
    GrayImage::from_fn(width, height, |x, y| {
        let (x, y) = (x * 2, y * 2);
        let sum: u32 = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)]
            .iter()
            .map(|&(px, py)| u32::from(image.get_pixel(px, py).0[0]))
            .sum();
        image::Luma([((sum + 2) / 4) as u8])
    })
}

/// Doubles both sides with bilinear interpolation, so small modules span more pixels when
/// the detector samples module centres.
pub(crate) fn upscale_double(image: &GrayImage) -> GrayImage {
    let (width, height) = (image.width(), image.height());
    if width == 0 || height == 0 {
        return image.clone();
    }
    GrayImage::from_fn(width * 2, height * 2, |x, y| {
        // Source coordinate of the output pixel centre.
        let sx = ((x as f32 + 0.5) / 2.0 - 0.5).max(0.0);
        let sy = ((y as f32 + 0.5) / 2.0 - 0.5).max(0.0);
        let (x0, y0) = (sx as u32, sy as u32);
        let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let at = |px: u32, py: u32| f32::from(image.get_pixel(px, py).0[0]);
        let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
        let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
        image::Luma([(top * (1.0 - fy) + bottom * fy + 0.5) as u8])
    })
}

/// Separable Gaussian blur with standard deviation `sigma` pixels, edges clamped.
pub(crate) fn gaussian_blur(image: &GrayImage, sigma: f32) -> GrayImage {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let pixels: Vec<f32> = image.as_raw().iter().map(|&v| f32::from(v)).collect();
    let blurred = blur_f32(&pixels, width, height, sigma);
    let bytes = blurred.iter().map(|&v| v.clamp(0.0, 255.0) as u8).collect();
    GrayImage::from_raw(image.width(), image.height(), bytes)
        .unwrap_or_else(|| GrayImage::new(0, 0))
}

/// Unsharp mask: `pixel + amount * (pixel - blurred)`, which steepens the edges a defocused
/// camera smears out.
pub(crate) fn sharpen(image: &GrayImage, sigma: f32, amount: f32) -> GrayImage {
    let blurred = gaussian_blur(image, sigma);
    let pixels = image
        .as_raw()
        .iter()
        .zip(blurred.as_raw())
        .map(|(&p, &b)| {
            let (p, b) = (f32::from(p), f32::from(b));
            (p + amount * (p - b)).clamp(0.0, 255.0) as u8
        })
        .collect();
    GrayImage::from_raw(image.width(), image.height(), pixels)
        .unwrap_or_else(|| GrayImage::new(0, 0))
}

/// A normalised Gaussian kernel of radius `ceil(3 sigma)`.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let radius = (sigma * 3.0).ceil().max(1.0) as i32;
    let weights: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = weights.iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

/// Separable Gaussian blur of a `width * height` float image, edges clamped.
pub(crate) fn blur_f32(pixels: &[f32], width: usize, height: usize, sigma: f32) -> Vec<f32> {
    if sigma <= 0.0 || width == 0 || height == 0 || pixels.len() != width * height {
        return pixels.to_vec();
    }
    let kernel = gaussian_kernel(sigma);
    let radius = (kernel.len() / 2) as isize;
    let clamp = |i: isize, len: usize| i.clamp(0, len as isize - 1) as usize;
    let mut horizontal = vec![0.0f32; pixels.len()];
    for (row_in, row_out) in pixels
        .chunks_exact(width)
        .zip(horizontal.chunks_exact_mut(width))
    {
        for (x, out) in row_out.iter_mut().enumerate() {
            *out = kernel
                .iter()
                .enumerate()
                .map(|(k, w)| w * row_in[clamp(x as isize + k as isize - radius, width)])
                .sum();
        }
    }
    let mut vertical = vec![0.0f32; pixels.len()];
    for (k, w) in kernel.iter().enumerate() {
        for (y, row_out) in vertical.chunks_exact_mut(width).enumerate() {
            let source = clamp(y as isize + k as isize - radius, height) * width;
            let row_in = &horizontal[source..source + width];
            for (out, &value) in row_out.iter_mut().zip(row_in) {
                *out += w * value;
            }
        }
    }
    vertical
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(width: u32, height: u32) -> GrayImage {
        GrayImage::from_fn(width, height, |x, _| image::Luma([(100 + x % 40) as u8]))
    }

    #[test]
    fn stretch_spans_the_full_range() {
        let stretched = stretch_contrast(&ramp(80, 10));
        let (min, max) = stretched
            .as_raw()
            .iter()
            .fold((255, 0), |(lo, hi), &v| (v.min(lo), v.max(hi)));
        assert_eq!((min, max), (0, 255));
    }

    #[test]
    fn otsu_splits_two_levels() {
        let image = GrayImage::from_fn(10, 10, |x, _| image::Luma([if x < 5 { 60 } else { 180 }]));
        let threshold = otsu_threshold(&image);
        assert!((60..180).contains(&threshold), "{threshold}");
        let bitmap = binarize_otsu(&image);
        assert!(bitmap.is_dark(0, 0) && !bitmap.is_dark(9, 9));
        assert!(!bitmap.is_dark(100, 100));
    }

    #[test]
    fn block_thresholds_follow_a_gradient() {
        // A checkerboard of 4-pixel cells, 40 levels deep, under light brightening from
        // left to right by 120 levels: no global threshold separates it.
        let cell_dark = |x: u32, y: u32| (x / 4 + y / 4).is_multiple_of(2);
        let inside = |x: u32, y: u32| (16..112).contains(&x) && (16..80).contains(&y);
        let image = GrayImage::from_fn(128, 96, |x, y| {
            let background = 70 + x;
            let dark = inside(x, y) && cell_dark(x, y);
            image::Luma([if dark { background - 40 } else { background } as u8])
        });
        let bitmap = binarize_blocks(&image);
        for (x, y) in [(33, 41), (37, 45), (62, 46), (66, 50), (90, 42), (94, 54)] {
            assert_eq!(
                bitmap.is_dark(x as usize, y as usize),
                cell_dark(x, y),
                "({x}, {y})"
            );
        }
        assert!(!bitmap.is_dark(120, 4) && !bitmap.is_dark(4, 90));
    }

    #[test]
    fn resizing_halves_and_doubles() {
        let image = ramp(7, 5);
        assert_eq!(downscale_half(&image).dimensions(), (3, 2));
        assert_eq!(upscale_double(&image).dimensions(), (14, 10));
        assert_eq!(upscale_double(&GrayImage::new(0, 3)).dimensions(), (0, 3));
    }

    #[test]
    fn blur_keeps_the_mean_and_sharpen_steepens_edges() {
        let edge = GrayImage::from_fn(20, 1, |x, _| image::Luma([if x < 10 { 50 } else { 200 }]));
        let blurred = gaussian_blur(&edge, 2.0);
        assert!(blurred.get_pixel(9, 0).0[0] > 50 && blurred.get_pixel(10, 0).0[0] < 200);
        let sharpened = sharpen(&blurred, 2.0, 1.5);
        assert!(sharpened.get_pixel(8, 0).0[0] < blurred.get_pixel(8, 0).0[0]);
        assert!(sharpened.get_pixel(11, 0).0[0] > blurred.get_pixel(11, 0).0[0]);
    }

    #[test]
    fn empty_images_pass_through() {
        let empty = GrayImage::new(0, 0);
        assert_eq!(stretch_contrast(&empty).dimensions(), (0, 0));
        assert_eq!(invert(&empty).dimensions(), (0, 0));
        assert_eq!(binarize_blocks(&empty).dark.len(), 0);
        assert_eq!(sharpen(&empty, 1.0, 1.0).dimensions(), (0, 0));
    }
}
