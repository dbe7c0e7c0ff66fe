//! QR codes drawn for the window: the Sandbox panel's activation code as a PNG data URL
//! (`qrcode` renders, `image` encodes). Reading codes is `tokensim-qr`'s job.

use crate::types::AppError;
use base64::Engine as _;

/// `text` as a QR code in a PNG data URL.
pub fn qr_png(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::new("QR", e))?;
    let image = code
        .render::<image::Luma<u8>>()
        .min_dimensions(320, 320)
        .build();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| AppError::new("QR", e))?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}
