//! The clipboard's picture for the scanner's Paste button. The web view cannot read an
//! image from the system clipboard, so the app asks for it (arboard: X11 and Wayland
//! clipboards, `image/png` and the other image targets) and decodes it like a file.

use crate::scan::scan_bytes;
use crate::types::{AppError, ScanResult};

/// What the clipboard holds that the scanner can use.
#[derive(Debug)]
pub enum Clip {
    /// A picture, decoded as an image file would be.
    Image(ScanResult),
    /// Text (a pasted activation code).
    Text(String),
}

/// Reads the clipboard: a picture if there is one, else text.
pub fn read() -> Result<Clip, AppError> {
    let unreadable = |e: arboard::Error| {
        AppError::new("CLIPBOARD", format!("The clipboard cannot be read: {e}."))
            .with_hint("copy the QR picture or the code again, or use Image file…")
    };
    let mut clipboard = arboard::Clipboard::new().map_err(unreadable)?;
    match clipboard.get_image() {
        Ok(image) => {
            let width = u32::try_from(image.width).unwrap_or(u32::MAX);
            let height = u32::try_from(image.height).unwrap_or(u32::MAX);
            let rgba = image::RgbaImage::from_raw(width, height, image.bytes.into_owned())
                .ok_or_else(|| AppError::new("CLIPBOARD", "The clipboard's picture is damaged."))?;
            let mut png = Vec::new();
            image::DynamicImage::ImageRgba8(rgba)
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| AppError::new("CLIPBOARD", e))?;
            scan_bytes(&png).map(Clip::Image)
        }
        Err(arboard::Error::ContentNotAvailable) => match clipboard.get_text() {
            Ok(text) => Ok(Clip::Text(text.trim().to_owned())),
            Err(arboard::Error::ContentNotAvailable) => Err(AppError::new(
                "CLIPBOARD",
                "The clipboard holds neither a picture nor text.",
            )
            .with_hint("copy the QR picture or the activation code first")),
            Err(e) => Err(unreadable(e)),
        },
        Err(e) => Err(unreadable(e)),
    }
}

/// The clipboard for the scanner: `{ image }` with what was decoded, or `{ text }`.
#[tauri::command]
pub async fn paste_clipboard() -> Result<crate::types::Pasted, AppError> {
    let clip = tauri::async_runtime::spawn_blocking(|| {
        let clip = read();
        // The clipboard's image and its decoded variants are freed: give their pages back.
        tokensim_memory::release();
        clip
    })
    .await
    .map_err(|e| AppError::new("CLIPBOARD", e))??;
    Ok(match clip {
        Clip::Image(result) => crate::types::Pasted {
            image: Some(result),
            text: None,
        },
        Clip::Text(text) => crate::types::Pasted {
            image: None,
            text: Some(text),
        },
    })
}
