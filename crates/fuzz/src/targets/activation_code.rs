//! Activation code, recovery code and PUK parsing must never panic. A code that parses
//! keeps its text and re-parses equal; any 10 bytes make a code that parses back to them.

use powerauth::activation_code::ActivationCode;
use powerauth::recovery::{Puk, RecoveryCode};

/// One input.
pub fn run(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(code) = ActivationCode::parse(text) {
            assert_eq!(code.as_str(), text);
            assert_eq!(ActivationCode::parse(code.as_str()).as_ref(), Ok(&code));
            let bytes = code.to_bytes();
            let random: [u8; 10] = bytes[..10].try_into().expect("ten bytes");
            // Only the last character's four dropped bits may differ from the canonical form.
            let canonical = ActivationCode::from_random_bytes(random);
            assert_eq!(canonical.to_bytes(), bytes);
            assert_eq!(canonical.as_str()[..22], code.as_str()[..22]);
        }
        if let Ok(code) = RecoveryCode::parse_qr(text) {
            assert_eq!(RecoveryCode::parse_qr(&code.to_qr()), Ok(code));
        }
        if let Ok(puk) = Puk::parse(text) {
            assert_eq!(puk.expose_str(), text);
        }
    }
    if let Some(random) = data.get(..10) {
        let random: [u8; 10] = random.try_into().expect("ten bytes");
        let code = ActivationCode::from_random_bytes(random);
        let parsed = ActivationCode::parse(code.as_str()).expect("a generated code is valid");
        assert_eq!(parsed.to_bytes()[..10], random);
    }
}
