//! Encodings the protocol uses on the wire: standard Base64, Base32 (activation and
//! recovery codes), CRC-16/ARC, `concatWithSizes` and decimalization.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A value that is not valid standard, padded Base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid Base64 (standard alphabet, with padding)")]
pub struct Base64Error;

/// Standard Base64 with padding (RFC 4648 §4), as every PowerAuth field uses.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// `ValueTypeValidator.isValidUuid`: the RFC 4122 layout, version 1–5, variant 8–b, hex digits
/// in either case. Activation, token and operation ids must pass it.
pub fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            14 => (b'1'..=b'5').contains(&b),
            19 => matches!(b.to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b'),
            _ => b.is_ascii_hexdigit(),
        })
}

/// Base64url without padding (RFC 4648 §5), as JWT parts use.
pub fn b64url(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes Base64url without padding.
pub fn b64url_decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Base64Error)
}

/// Decodes standard, padded Base64.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    STANDARD.decode(text).map_err(|_| Base64Error)
}

/// Decodes standard Base64 into exactly `N` bytes.
pub fn b64_decode_array<const N: usize>(text: &str) -> Result<[u8; N], Base64Error> {
    b64_decode(text)?.try_into().map_err(|_| Base64Error)
}

/// Base32 (RFC 4648 alphabet, no padding) as Java's decoder reads it: trailing bits that
/// do not fill a byte are ignored rather than required to be zero (digest §14 #26).
fn base32_lenient() -> data_encoding::Encoding {
    let mut spec = data_encoding::Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    spec.encoding()
        .expect("static Base32 specification is valid")
}

/// Encodes bytes as Base32 without padding (trailing bits are zero).
pub fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

/// Decodes Base32 without padding, ignoring non-zero trailing bits like Java does.
/// Returns `None` for characters outside the alphabet or an impossible length.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    base32_lenient().decode(text.as_bytes()).ok()
}

/// CRC-16/ARC (poly 0x8005 reflected, init 0) of the activation code's random bytes.
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    crc::Crc::<u16>::new(&crc::CRC_16_ARC).checksum(bytes)
}

/// `concatWithSizes`: each element as `BE32(len) || bytes`; `None` is `BE32(0)`.
pub fn concat_with_sizes(parts: &[Option<&[u8]>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| 4 + p.map_or(0, <[u8]>::len)).sum());
    for part in parts {
        let bytes = part.unwrap_or(&[]);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// Decimalization: `(BE32(last 4 bytes) & 0x7FFFFFFF) mod 10^digits`, zero-padded.
/// `digits` is clamped to 1..=9.
pub fn decimalize(bytes: &[u8], digits: u32) -> String {
    let digits = digits.clamp(1, 9);
    let tail: [u8; 4] = bytes[bytes.len() - 4..]
        .try_into()
        .expect("at least four bytes");
    let value = (u32::from_be_bytes(tail) & 0x7FFF_FFFF) % 10u32.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_arc_check_value() {
        assert_eq!(crc16_arc(b"123456789"), 0xBB3D);
    }

    #[test]
    fn base32_ignores_trailing_bits_like_java() {
        assert_eq!(
            base32_decode("AAAAAAAAAAAAAAAAAAAA"),
            base32_decode("AAAAAAAAAAAAAAAAAAAB")
        );
        assert!(base32_decode("AAAA1").is_none());
    }

    #[test]
    fn concat_with_sizes_writes_lengths() {
        assert_eq!(
            concat_with_sizes(&[Some(b"ab"), None]),
            vec![0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0]
        );
    }

    #[test]
    fn decimalize_pads() {
        assert_eq!(decimalize(&[0, 0, 0, 5], 8), "00000005");
        assert_eq!(
            decimalize(&[0xff, 0xff, 0xff, 0xff], 8),
            format!("{}", 0x7FFF_FFFFu32 % 100_000_000)
        );
    }
}
