//! Offline QR parsing must never panic; a parsed code keeps its text, and its signed
//! part plus the Base64 signature is that text. The proximity-code and typed-signature
//! readers see scanned text too.

use powerauth::offline::{OfflineQr, display_signature, signature_from_display};
use powerauth::totp::ProximityCode;

/// One input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(qr) = OfflineQr::parse(text) {
        assert_eq!(qr.text(), text);
        assert!(text.as_bytes().starts_with(qr.signed_bytes()));
        assert!(!qr.operation_id().is_empty());
        assert!(qr.request_data().as_str().starts_with("POST&"));
    }
    let _ = ProximityCode::parse(text);
    if let Some(signature) = signature_from_display(text) {
        assert_eq!(
            signature_from_display(&display_signature(&signature)),
            Some(signature)
        );
    }
}
