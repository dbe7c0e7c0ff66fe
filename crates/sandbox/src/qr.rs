//! Activation QR codes drawn by the server, PNG and SVG, so a console or a test shows
//! exactly the code a phone would scan (`ACTIVATION_CODE#SIGNATURE`, digest §9.1).

use crate::error::Error;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Pixels per QR module in the PNG (units in the SVG): a 33-module code with its quiet zone is 328 px wide,
/// large enough to scan from a screen with a phone or a webcam.
pub(crate) const PNG_MODULE_PIXELS: u32 = 8;

fn code(payload: &str) -> Result<QrCode, Error> {
    // Level M, as the mobile SDK's sample apps draw activation codes.
    QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| Error::Internal(format!("the QR payload does not fit a QR code: {e}")))
}

/// The QR code of `payload` as a greyscale PNG with a quiet zone of four modules.
pub(crate) fn png(payload: &str) -> Result<Vec<u8>, Error> {
    let image = code(payload)?
        .render::<image::Luma<u8>>()
        .module_dimensions(PNG_MODULE_PIXELS, PNG_MODULE_PIXELS)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| Error::Internal(format!("PNG encoding of the QR code: {e}")))?;
    Ok(out.into_inner())
}

/// The QR code of `payload` as a standalone SVG document that scales to any size; its
/// view box measures the same as the PNG in pixels.
pub(crate) fn svg(payload: &str) -> Result<String, Error> {
    Ok(code(payload)?
        .render::<svg::Color<'_>>()
        .module_dimensions(PNG_MODULE_PIXELS, PNG_MODULE_PIXELS)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}
