//! QR payloads (`CODE#SIGNATURE`, `R:CODE`) and the `mobileSdkConfig` string must never
//! panic, whatever their bytes. A payload that parses prints back to a text that parses
//! equal, and checking its signature against a fixed master key never panics either.

use powerauth::PrivateKey;
use powerauth::activation_code::{ActivationQr, QrPayload};
use powerauth::config::ApplicationConfig;
use powerauth::encoding::b64;

/// One input.
pub fn run(data: &[u8]) {
    let master = PrivateKey::from_bytes(&[1])
        .expect("1 is a valid scalar")
        .public_key();
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(payload) = QrPayload::parse(text) {
            assert_eq!(
                QrPayload::parse(&payload.to_string()).as_ref(),
                Ok(&payload)
            );
            if let QrPayload::Activation(qr) = &payload {
                let _ = qr.verify(&master);
            }
        }
        if let Ok(qr) = ActivationQr::parse(text) {
            assert_eq!(ActivationQr::parse(&qr.to_string()).as_ref(), Ok(&qr));
        }
        let _ = ApplicationConfig::from_mobile_sdk_config(text);
    }
    // The configuration's binary layout, reached directly rather than through Base64.
    if let Ok(config) = ApplicationConfig::from_mobile_sdk_config(&b64(data)) {
        let text = config.to_mobile_sdk_config();
        assert_eq!(ApplicationConfig::from_mobile_sdk_config(&text), Ok(config));
    }
}
