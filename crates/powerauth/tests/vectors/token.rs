//! Vectors: token digests per version, through the client's header and the server's
//! validation.

use crate::common::{b64, cases, s};
use powerauth::token::{TimestampWindow, TokenError, TokenHeader, token_digest, token_digest_data};
use powerauth::{ProtocolVersion, SymmetricKey};

#[test]
fn token_digest_vectors() {
    let file = "reference/token-digest.json";
    let cases = cases(file);
    assert_eq!(cases.len(), 16, "{file}: case count");
    for (index, case) in cases.iter().enumerate() {
        let (input, output) = (&case["input"], &case["output"]);
        let version: ProtocolVersion = s(input, "version").parse().expect("version");
        let secret = SymmetricKey::from_slice(&b64(input, "tokenSecret")).expect("16 bytes");
        let nonce: [u8; 16] = b64(input, "nonce").try_into().expect("16-byte nonce");
        let timestamp_ms = input["timestamp"].as_u64().expect("numeric timestamp");
        assert_eq!(
            timestamp_ms.to_string(),
            s(input, "timestampString"),
            "case {index}"
        );
        let expected: [u8; 32] = b64(output, "tokenDigest").try_into().expect("32 bytes");

        assert_eq!(
            token_digest_data(&nonce, timestamp_ms, version),
            b64(output, "digestData"),
            "case {index}: digest data"
        );
        assert_eq!(
            token_digest(&secret, &nonce, timestamp_ms, version),
            expected,
            "case {index}: digest"
        );

        // Client header → server parse → server validation at the token's own time.
        let token_id = s(input, "tokenId");
        let header = TokenHeader::make_with(token_id, &secret, version, timestamp_ms, nonce);
        assert_eq!(header.token_digest, expected, "case {index}");
        let parsed = TokenHeader::parse(&header.to_header_value()).expect("valid header");
        assert_eq!(parsed, header, "case {index}");
        assert_eq!(
            parsed.validate(&secret, timestamp_ms, TimestampWindow::default()),
            Ok(())
        );

        // The same digest claimed under the other digest layout fails.
        let other_key = output
            .as_object()
            .expect("object")
            .keys()
            .find_map(|k| k.strip_prefix("validatesAsVersion_"))
            .expect("a validatesAsVersion_* field")
            .to_string();
        let other: ProtocolVersion = other_key.parse().expect("version");
        assert_eq!(output[format!("validatesAsVersion_{other_key}")], false);
        let relabeled = TokenHeader {
            version: other,
            ..parsed
        };
        assert_eq!(
            relabeled.validate(&secret, timestamp_ms, TimestampWindow::default()),
            Err(TokenError::DigestMismatch),
            "case {index}: must not validate as {other}"
        );
    }
}
