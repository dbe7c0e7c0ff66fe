//! Why an image yielded no QR code text.

use crate::Stage;
use std::fmt;
use std::path::PathBuf;

/// Why [`decode`](crate::decode) and its siblings returned no text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// No variant of the image showed three finder patterns that form a QR code. Likely
    /// causes: no code in view, the code cut off by the frame edge, far too small (under
    /// about 2 pixels per module) or far too blurred.
    #[error("no QR code found in the image (tried {} variants: {})", tried.len(), StageList(tried))]
    NotFound {
        /// The pipeline stages tried, in order.
        tried: Vec<Stage>,
    },
    /// A code's outline was located but its modules could not be read in any variant:
    /// error correction failed, or the content is not UTF-8 text. Likely causes: glare or a
    /// finger over part of the code, heavy blur, a damaged print, or a code that is not
    /// text at all.
    #[error("a QR code was found but could not be read (damaged)")]
    Unreadable {
        /// The pipeline stages tried, in order.
        tried: Vec<Stage>,
    },
    /// The image has no pixels: a zero width or height, often a camera that has not
    /// delivered a frame yet.
    #[error("the image is empty ({width}×{height} pixels)")]
    Empty {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// A raw frame buffer does not hold `width * height` pixels of the stated format. Likely
    /// cause: the caller passed a stride-padded buffer or the wrong pixel format.
    #[error("a {width}×{height} {format} frame needs {expected} bytes, the buffer holds {actual}")]
    BufferSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The pixel format the caller named: "gray", "RGB" or "RGBA".
        format: &'static str,
        /// Bytes the frame needs.
        expected: u64,
        /// Bytes the buffer holds.
        actual: usize,
    },
    /// The bytes are not a PNG or JPEG image that can be read: truncated, corrupt, another
    /// format, or larger than the decoder's memory limit.
    #[error("the image could not be read: {0}")]
    Image(#[from] image::ImageError),
    /// The image file could not be read from disk.
    #[error("could not read {}: {source}", path.display())]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// Formats stages as "as-is, inverted, ...".
struct StageList<'a>(&'a [Stage]);

impl fmt::Display for StageList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, stage) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{stage}")?;
        }
        Ok(())
    }
}
