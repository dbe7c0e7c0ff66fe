//! ECIES envelopes and the `X-PowerAuth-Encryption` header from arbitrary bytes.
//!
//! Whatever parses must survive a round trip through its own serialisation, and opening a
//! parsed envelope with a fixed key must fail cleanly (or succeed) without panicking.

use powerauth::ecies::{
    EncryptedRequest, EncryptedResponse, EncryptionHeader, Encryptor, EncryptorScope, Recipient,
    Scope, SharedInfo1,
};
use powerauth::{KeyPair, PrivateKey, ProtocolVersion, SymmetricKey};

const APP_KEY: &str = "hF2rMg8p/tEJB8+/apTzyg==";
const APP_SECRET: &str = "Xui/j5jW0HjMLGFPjfkmcw==";
const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";

/// One input.
pub fn run(data: &[u8]) {
    // Pick the encryptor from the input length, so every version and constant gets its turn.
    let version = ProtocolVersion::ALL[data.len() % 4];
    let shared_info1 = SharedInfo1::ALL[(data.len() / 4) % 7];
    let transport_key = SymmetricKey::from_bytes([1; 16]);
    let scope = match shared_info1.scope() {
        EncryptorScope::Application => Scope::Application,
        EncryptorScope::Activation => Scope::Activation {
            activation_id: ACTIVATION_ID,
            transport_key: &transport_key,
        },
    };
    let encryptor = Encryptor::new(version, shared_info1, APP_KEY, APP_SECRET, scope)
        .expect("the constant's own scope");
    let server = PrivateKey::from_bytes(&[7; 32]).expect("a valid scalar");

    if let Ok(request) = EncryptedRequest::from_json(data) {
        let again = EncryptedRequest::from_json(request.to_json().as_bytes());
        assert_eq!(
            again.as_ref(),
            Ok(&request),
            "a request survives its own JSON"
        );
        if let Ok((_, response_encryptor)) = encryptor.decrypt_request(&server, &request) {
            response_encryptor.encrypt_response_with(b"{}", [2; 16], 3);
        }
    }

    if let Ok(response) = EncryptedResponse::from_json(data) {
        let again = EncryptedResponse::from_json(response.to_json().as_bytes());
        assert_eq!(
            again.as_ref(),
            Ok(&response),
            "a response survives its own JSON"
        );
        let ephemeral =
            KeyPair::from_private(PrivateKey::from_bytes(&[9; 32]).expect("a valid scalar"));
        let server_public = server.public_key();
        let recipient = if version.uses_temporary_keys() {
            Recipient::Temporary {
                id: "id",
                public_key: &server_public,
            }
        } else {
            Recipient::Static(&server_public)
        };
        let (_, decryptor) = encryptor
            .encrypt_request_with(recipient, b"{}", &ephemeral, [4; 16], 5)
            .expect("a recipient that fits the version");
        let _ = decryptor.decrypt_response(&response);
    }

    if let Ok(text) = std::str::from_utf8(data) {
        for scope in [EncryptorScope::Application, EncryptorScope::Activation] {
            if let Ok(header) = EncryptionHeader::parse(text, scope) {
                assert_eq!(header.scope(), scope);
                let again = EncryptionHeader::parse(&header.to_string(), scope);
                assert_eq!(again, Ok(header), "a header survives its own rendering");
            }
        }
    }
}
