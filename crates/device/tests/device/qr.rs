//! QR images: generated in the test with `qrcode`, then rotated, inverted, scaled, low
//! contrast, JPEG; garbage gives a clear error.

use image::{GrayImage, Luma};
use qrcode::{Color, QrCode};
use std::io::Cursor;
use tokensim_device::qr_image::{QrImageError, decode_bytes, decode_gray};

const PAYLOAD: &str = "VVVVV-VVVVV-VVVVV-VTFVA#MEUCIQDkhMyLIjiTvXrvrNWQy0vDq1pW2cqzGEzqkBRMpzyWYAIgLkYl3jb2dPpQxo4vE5GIZB3ZJh6j2VqfKvcQ4nZ8lFs=";

fn render(text: &str, module: u32, dark: u8, light: u8) -> GrayImage {
    let code = QrCode::new(text.as_bytes()).unwrap();
    let width = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let size = (width + 2 * quiet) * module;
    GrayImage::from_fn(size, size, |x, y| {
        let (mx, my) = (x / module, y / module);
        let inside = mx >= quiet && my >= quiet && mx < width + quiet && my < width + quiet;
        let is_dark =
            inside && colors[((my - quiet) * width + (mx - quiet)) as usize] == Color::Dark;
        Luma([if is_dark { dark } else { light }])
    })
}

fn encode(image: &GrayImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn plain_rotated_inverted_scaled_low_contrast_and_jpeg_codes_decode() {
    let plain = render(PAYLOAD, 4, 0, 255);
    assert_eq!(
        decode_bytes(&encode(&plain, image::ImageFormat::Png)).unwrap(),
        PAYLOAD
    );
    assert_eq!(
        decode_gray(&image::imageops::rotate90(&plain)).unwrap(),
        PAYLOAD,
        "rotated"
    );
    let mut inverted = plain.clone();
    image::imageops::invert(&mut inverted);
    assert_eq!(
        decode_gray(&inverted).unwrap(),
        PAYLOAD,
        "dark mode (inverted)"
    );
    let large = render(PAYLOAD, 24, 0, 255);
    assert_eq!(
        decode_gray(&large).unwrap(),
        PAYLOAD,
        "a large photo-sized code"
    );
    let faint = render(PAYLOAD, 4, 110, 150);
    assert_eq!(decode_gray(&faint).unwrap(), PAYLOAD, "low contrast");
    let jpeg = encode(&render(PAYLOAD, 6, 20, 235), image::ImageFormat::Jpeg);
    assert_eq!(decode_bytes(&jpeg).unwrap(), PAYLOAD, "JPEG");
}

#[test]
fn no_code_and_no_image_are_clear_errors() {
    let blank = GrayImage::from_pixel(200, 200, Luma([255]));
    assert_eq!(decode_gray(&blank), Err(QrImageError::NotFound));
    let noise = GrayImage::from_fn(200, 200, |x, y| Luma([((x * 31 + y * 17) % 256) as u8]));
    assert_eq!(decode_gray(&noise), Err(QrImageError::NotFound));
    assert!(matches!(
        decode_bytes(b"not an image"),
        Err(QrImageError::Decode(_))
    ));
    let png = encode(&render(PAYLOAD, 4, 0, 255), image::ImageFormat::Png);
    assert!(
        matches!(
            decode_bytes(&png[..png.len() / 2]),
            Err(QrImageError::Decode(_))
        ),
        "a truncated file"
    );
    let error = tokensim_device::qr_image::decode_file(std::path::Path::new("/nonexistent/qr.png"))
        .unwrap_err();
    assert!(error.to_string().contains("/nonexistent/qr.png"), "{error}");
}
