//! `X-PowerAuth-Token` parsing must never panic; a header that parses rebuilds into a
//! value that parses to the same header, and validation never panics.

use powerauth::SymmetricKey;
use powerauth::token::{TimestampWindow, TokenHeader};

/// One input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = TokenHeader::parse(text) {
        let rebuilt = header.to_header_value();
        assert_eq!(TokenHeader::parse(&rebuilt).as_ref(), Ok(&header));
        let secret = SymmetricKey::from_bytes([0; 16]);
        for now_ms in [0, header.timestamp_ms, u64::MAX] {
            let _ = header.validate(&secret, now_ms, TimestampWindow::default());
        }
    }
}
