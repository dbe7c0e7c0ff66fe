//! `X-PowerAuth-Authorization` parsing must never panic; a header that parses rebuilds
//! into a value that parses to the same header. The lenient field scanner is fuzzed too.

use powerauth::signature::{AuthorizationHeader, HeaderFields, canonicalize_query};

/// One input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fields) = HeaderFields::parse(text) {
        for (key, value) in fields.iter() {
            assert!(!key.is_empty() && !value.is_empty());
        }
    }
    if let Ok(header) = AuthorizationHeader::parse(text) {
        let rebuilt = header.to_header_value();
        assert_eq!(AuthorizationHeader::parse(&rebuilt).as_ref(), Ok(&header));
    }
    // GET query canonicalization sees the same untrusted text on the server.
    if let Ok(canonical) = canonicalize_query(text) {
        assert_eq!(canonicalize_query(&canonical).as_ref(), Ok(&canonical));
    }
}
