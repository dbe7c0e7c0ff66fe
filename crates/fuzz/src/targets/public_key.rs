//! SEC1 public key decoding must never panic; a decoded key re-encodes to a key that
//! decodes to the same point.

use powerauth::PublicKey;

/// One input.
pub fn run(data: &[u8]) {
    if let Ok(key) = PublicKey::from_sec1(data) {
        let again = PublicKey::from_sec1(&key.to_compressed()).expect("re-encoded key decodes");
        assert_eq!(again.to_uncompressed(), key.to_uncompressed());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicKey::from_b64(text);
    }
}
