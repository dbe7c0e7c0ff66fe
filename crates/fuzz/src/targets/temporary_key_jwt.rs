//! Temporary key JWTs (protocol 3.3) from arbitrary bytes, on both sides.
//!
//! The server parses and verifies any text as a request JWT; the client verifies any text as
//! a response JWT. Any text used as a challenge must come back intact through a request the
//! server accepts.

use powerauth::ecies::Scope;
use powerauth::temporary_key::{TemporaryKeyRequest, UnverifiedKeyRequest};
use powerauth::{PrivateKey, SymmetricKey};

const APP_KEY: &str = "hF2rMg8p/tEJB8+/apTzyg==";
const APP_SECRET: &str = "Xui/j5jW0HjMLGFPjfkmcw==";
const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";
const NOW_MS: u64 = 1_753_411_609_357;

/// One input.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let transport_key = SymmetricKey::from_bytes([1; 16]);
    let activation = Scope::Activation {
        activation_id: ACTIVATION_ID,
        transport_key: &transport_key,
    };

    // Server side: any text as a request JWT.
    if let Ok(request) = UnverifiedKeyRequest::parse(text) {
        let scope = if request.claims().activation_id.is_some() {
            activation
        } else {
            Scope::Application
        };
        let _ = request.verify(APP_SECRET, scope, NOW_MS);
    }

    // Client side: any text as a response JWT.
    let signer = PrivateKey::from_bytes(&[7; 32])
        .expect("a valid scalar")
        .public_key();
    for scope in [Scope::Application, activation] {
        let pending = TemporaryKeyRequest::new_with(APP_KEY, APP_SECRET, scope, "challenge")
            .expect("a valid application secret");
        let _ = pending.verify_response(text, &signer);
    }

    // Round trip: the text as a challenge survives JSON escaping and verification.
    for scope in [Scope::Application, activation] {
        let request = TemporaryKeyRequest::new_with(APP_KEY, APP_SECRET, scope, text)
            .expect("a valid application secret");
        let verified = UnverifiedKeyRequest::parse(request.jwt())
            .and_then(|parsed| parsed.verify(APP_SECRET, scope, NOW_MS))
            .expect("the server accepts the client's own request");
        assert_eq!(verified.claims(), request.claims());
    }
}
