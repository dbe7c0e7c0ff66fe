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
    pub(crate) fn is_dark(&self, x: usize, y: usize) -> bool {
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

/// Separable Gaussian blur with standard deviation `sigma` pixels, edges clamped. Integer
/// weights (summing to 2^12) over a padded row, so the inner loops vectorise: a 1280×720
/// frame takes a few milliseconds.
pub(crate) fn gaussian_blur(image: &GrayImage, sigma: f32) -> GrayImage {
    const ONE: u32 = 1 << 12;
    let (width, height) = (image.width() as usize, image.height() as usize);
    if sigma <= 0.0 || width == 0 || height == 0 {
        return image.clone();
    }
    let kernel: Vec<u32> = {
        let weights = gaussian_kernel(sigma);
        let mut fixed: Vec<u32> = weights.iter().map(|w| (w * ONE as f32) as u32).collect();
        // Rounding leaves the sum short of ONE: the centre takes the rest.
        let short = ONE - fixed.iter().sum::<u32>().min(ONE);
        fixed[weights.len() / 2] += short;
        fixed
    };
    let radius = kernel.len() / 2;
    let pixels = image.as_raw();
    // Horizontal pass into 16-bit levels scaled by 2^4 (the vertical pass keeps precision).
    let mut horizontal = vec![0u16; width * height];
    let mut padded = vec![0u32; width + 2 * radius];
    for (row_in, row_out) in pixels
        .chunks_exact(width)
        .zip(horizontal.chunks_exact_mut(width))
    {
        let (first, last) = (u32::from(row_in[0]), u32::from(row_in[width - 1]));
        padded[..radius].fill(first);
        padded[radius + width..].fill(last);
        for (slot, &value) in padded[radius..radius + width].iter_mut().zip(row_in) {
            *slot = u32::from(value);
        }
        let mut sums = vec![0u32; width];
        for (k, &weight) in kernel.iter().enumerate() {
            for (sum, &value) in sums.iter_mut().zip(&padded[k..k + width]) {
                *sum += weight * value;
            }
        }
        for (out, sum) in row_out.iter_mut().zip(sums) {
            *out = ((sum + (1 << 7)) >> 8) as u16;
        }
    }
    let mut out = vec![0u8; width * height];
    let mut sums = vec![0u32; width];
    for (y, row_out) in out.chunks_exact_mut(width).enumerate() {
        sums.fill(0);
        for (k, &weight) in kernel.iter().enumerate() {
            let source = (y + k).saturating_sub(radius).min(height - 1) * width;
            for (sum, &value) in sums.iter_mut().zip(&horizontal[source..source + width]) {
                *sum += weight * u32::from(value);
            }
        }
        for (pixel, &sum) in row_out.iter_mut().zip(&sums) {
            *pixel = ((sum + (1 << 15)) >> 16).min(255) as u8;
        }
    }
    GrayImage::from_raw(image.width(), image.height(), out).unwrap_or_else(|| GrayImage::new(0, 0))
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
#[cfg(feature = "corpus")]
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

/// Enlarges both sides `factor` times with Catmull-Rom (cubic) interpolation, which keeps
/// module edges steeper than bilinear: codes of 1–2 pixels per module, where a module's
/// level is smeared over two pixels, get back edges a detector can find.
pub(crate) fn upscale_cubic(image: &GrayImage, factor: u32) -> GrayImage {
    let (width, height) = image.dimensions();
    if width == 0 || height == 0 || factor <= 1 {
        return image.clone();
    }
    image::imageops::resize(
        image,
        width.saturating_mul(factor),
        height.saturating_mul(factor),
        image::imageops::FilterType::CatmullRom,
    )
}

/// A part of an image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A copy of `region` of `image` (clipped to the image).
pub(crate) fn crop(image: &GrayImage, region: Region) -> GrayImage {
    let (width, height) = image.dimensions();
    let x = region.x.min(width);
    let y = region.y.min(height);
    let w = region.width.min(width - x);
    let h = region.height.min(height - y);
    image::imageops::crop_imm(image, x, y, w, h).to_image()
}

/// Where a QR code of small modules may be: squarish areas of 8×8-pixel blocks dense with
/// level changes in both directions. A code's modules change level every one or two modules
/// across and down; text lines, flat screens and photos change far less often in one of the
/// two. Returns at most `limit` regions, largest first, each widened by a margin of two
/// blocks for the quiet zone; a frame with no such texture gives none.
///
/// `min_step` is the level change that counts (pixels further apart than noise), `max_block`
/// the largest module pitch, in pixels, the regions are for: a block counts when at least
/// one pixel in `max_block` changes level along rows and along columns.
pub(crate) fn code_regions(
    image: &GrayImage,
    min_step: u8,
    max_block: u32,
    limit: usize,
) -> Vec<Region> {
    const BLOCK: usize = 8;
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width < 2 * BLOCK || height < 2 * BLOCK {
        return Vec::new();
    }
    let pixels = image.as_raw();
    let (columns, rows) = (width / BLOCK, height / BLOCK);
    // Per block: level changes along rows and along columns.
    let mut across = vec![0u32; columns * rows];
    let mut down = vec![0u32; columns * rows];
    for y in 0..rows * BLOCK {
        let row = &pixels[y * width..(y + 1) * width];
        let next = pixels.get((y + 1) * width..(y + 2) * width);
        for x in 0..columns * BLOCK {
            let block = (y / BLOCK) * columns + x / BLOCK;
            let here = row[x];
            if let Some(&right) = row.get(x + 1)
                && here.abs_diff(right) >= min_step
            {
                across[block] += 1;
            }
            if let Some(below) = next
                && here.abs_diff(below[x]) >= min_step
            {
                down[block] += 1;
            }
        }
    }
    // A block of random modules at pitch p changes about (1 / 2p) of its pixels each way.
    let needed = (BLOCK * BLOCK) as u32 / (2 * max_block.max(1));
    let dense: Vec<bool> = across
        .iter()
        .zip(&down)
        .map(|(&a, &d)| a >= needed && d >= needed)
        .collect();
    // Connected areas of dense blocks (8-neighbours), as bounding boxes.
    let mut seen = vec![false; dense.len()];
    let mut boxes = Vec::new();
    for start in 0..dense.len() {
        if !dense[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut stack = vec![start];
        let (mut x0, mut y0, mut x1, mut y1) = (columns, rows, 0, 0);
        let mut count = 0usize;
        while let Some(index) = stack.pop() {
            let (bx, by) = (index % columns, index / columns);
            (x0, y0, x1, y1) = (x0.min(bx), y0.min(by), x1.max(bx), y1.max(by));
            count += 1;
            for ny in by.saturating_sub(1)..(by + 2).min(rows) {
                for nx in bx.saturating_sub(1)..(bx + 2).min(columns) {
                    let neighbour = ny * columns + nx;
                    if dense[neighbour] && !seen[neighbour] {
                        seen[neighbour] = true;
                        stack.push(neighbour);
                    }
                }
            }
        }
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        // A code is at least 21 modules across (3 blocks at the smallest pitch), roughly
        // square, and mostly dense inside.
        let squarish = w.max(h) <= 2 * w.min(h) + 1;
        if w.min(h) >= 3 && squarish && count * 2 >= w * h {
            boxes.push((count, x0, y0, x1, y1));
        }
    }
    boxes.sort_by_key(|b| std::cmp::Reverse(b.0));
    boxes
        .into_iter()
        .take(limit)
        .map(|(_, x0, y0, x1, y1)| {
            let left = x0.saturating_sub(2) * BLOCK;
            let top = y0.saturating_sub(2) * BLOCK;
            let right = ((x1 + 3) * BLOCK).min(width);
            let bottom = ((y1 + 3) * BLOCK).min(height);
            Region {
                x: left as u32,
                y: top as u32,
                width: (right - left) as u32,
                height: (bottom - top) as u32,
            }
        })
        .collect()
}

/// Local contrast normalisation: each pixel's difference from the mean of the
/// `(2 radius + 1)²` pixels around it, divided by their standard deviation (at least
/// `floor` levels, so that flat areas are not blown up into noise), mapped around 128. A
/// dim screen whose modules differ by 30 levels and a bright one whose differ by 200 come
/// out alike, and a gradient of light across the frame goes away.
pub(crate) fn normalise_local(image: &GrayImage, radius: u32, floor: f32) -> GrayImage {
    let (width, height) = (image.width() as usize, image.height() as usize);
    if width == 0 || height == 0 {
        return image.clone();
    }
    // Integral images of the levels and their squares, one row and column of zeros first.
    let stride = width + 1;
    let mut sum = vec![0u64; stride * (height + 1)];
    let mut squares = vec![0u64; stride * (height + 1)];
    for (y, row) in image.as_raw().chunks_exact(width).enumerate() {
        let (mut row_sum, mut row_squares) = (0u64, 0u64);
        for (x, &value) in row.iter().enumerate() {
            let value = u64::from(value);
            row_sum += value;
            row_squares += value * value;
            let at = (y + 1) * stride + x + 1;
            sum[at] = sum[at - stride] + row_sum;
            squares[at] = squares[at - stride] + row_squares;
        }
    }
    let radius = radius as usize;
    let mut pixels = vec![0u8; width * height];
    for (y, (row_in, row_out)) in image
        .as_raw()
        .chunks_exact(width)
        .zip(pixels.chunks_exact_mut(width))
        .enumerate()
    {
        let (y0, y1) = (y.saturating_sub(radius), (y + radius + 1).min(height));
        let (top, bottom) = (y0 * stride, y1 * stride);
        for (x, (&value, out)) in row_in.iter().zip(row_out.iter_mut()).enumerate() {
            let (x0, x1) = (x.saturating_sub(radius), (x + radius + 1).min(width));
            let n = ((x1 - x0) * (y1 - y0)) as f32;
            let total = sum[bottom + x1] + sum[top + x0] - sum[top + x1] - sum[bottom + x0];
            let total_squares =
                squares[bottom + x1] + squares[top + x0] - squares[top + x1] - squares[bottom + x0];
            let mean = total as f32 / n;
            let variance = (total_squares as f32 / n - mean * mean).max(0.0);
            let deviation = variance.sqrt().max(floor);
            let normal = (f32::from(value) - mean) / deviation;
            *out = (128.0 + 64.0 * normal).clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_raw(image.width(), image.height(), pixels)
        .unwrap_or_else(|| GrayImage::new(0, 0))
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
    fn code_regions_find_a_fine_checkerboard_and_not_text_lines() {
        // A page (level 245) with bars of text (4 px high, 6 px apart) and a patch of
        // pseudo-random 1-pixel modules, 60 px square.
        let mut state = 0x9E37_79B9u32;
        let mut cell = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state & 1 == 1
        };
        let image = GrayImage::from_fn(320, 240, |x, y| {
            let patch = (200..260).contains(&x) && (100..160).contains(&y);
            let text = x < 150 && (y % 10) < 4;
            let dark = if patch { cell() } else { text };
            image::Luma([if dark { 20 } else { 245 }])
        });
        let regions = code_regions(&image, 24, 3, 3);
        assert_eq!(regions.len(), 1, "{regions:?}");
        let region = regions[0];
        assert!(
            region.x <= 200 && region.x + region.width >= 260,
            "{region:?}"
        );
        assert!(
            region.y <= 100 && region.y + region.height >= 160,
            "{region:?}"
        );
        assert_eq!(
            crop(&image, region).dimensions(),
            (region.width, region.height)
        );
        let flat = GrayImage::from_pixel(320, 240, image::Luma([200]));
        assert!(code_regions(&flat, 24, 3, 3).is_empty());
        assert!(code_regions(&GrayImage::new(4, 4), 24, 3, 3).is_empty());
    }

    #[test]
    fn local_normalisation_spreads_a_dim_step_and_cubic_upscaling_keeps_edges() {
        // Modules 30 levels apart on a dim screen come out far apart around level 128.
        let dim = GrayImage::from_fn(64, 64, |x, _| {
            image::Luma([if (x / 4) % 2 == 0 { 150 } else { 180 }])
        });
        let normal = normalise_local(&dim, 6, 4.0);
        let (dark, light) = (normal.get_pixel(33, 30).0[0], normal.get_pixel(37, 30).0[0]);
        assert!(dark < 80 && light > 176, "{dark} {light}");
        let flat = normalise_local(&GrayImage::from_pixel(16, 16, image::Luma([90])), 4, 4.0);
        assert!(flat.pixels().all(|p| p.0[0] == 128));
        let edge = GrayImage::from_fn(8, 1, |x, _| image::Luma([if x < 4 { 0 } else { 255 }]));
        let big = upscale_cubic(&edge, 3);
        assert_eq!(big.dimensions(), (24, 3));
        assert!(big.get_pixel(6, 1).0[0] < 20 && big.get_pixel(17, 1).0[0] > 235);
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
