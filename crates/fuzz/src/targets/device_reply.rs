//! What the device reads from a server, whatever the server sends: the envelope
//! (`{"status":"OK","responseObject": …}`), error bodies, ECIES-encrypted answers, the
//! mobile-token operation list, and the redaction every body passes before the inspector
//! shows it. Nothing panics; a redacted JSON body redacts to itself.

use powerauth::ecies::{Encryptor, Recipient, Scope, SharedInfo1};
use powerauth::{KeyPair, PrivateKey, ProtocolVersion, PublicKey};
use std::sync::LazyLock;
use tokensim_device::client::{Reply, error_parts, response_object};
use tokensim_device::events::{redact_header, redact_json};
use tokensim_device::operations::{Operation, authorize_body, render_operation};

const APP_KEY: &str = "hF2rMg8p/tEJB8+/apTzyg==";
const APP_SECRET: &str = "Xui/j5jW0HjMLGFPjfkmcw==";
const STATUSES: [u16; 6] = [200, 400, 401, 404, 500, 503];

/// The server's public key and the device's ephemeral key pair: constants, so they are
/// derived once, not per input (three P-256 multiplications per input were most of its time).
static SERVER_PUBLIC: LazyLock<PublicKey> = LazyLock::new(|| {
    PrivateKey::from_bytes(&[7; 32])
        .expect("a valid scalar")
        .public_key()
});
static EPHEMERAL: LazyLock<KeyPair> = LazyLock::new(|| {
    KeyPair::from_private(PrivateKey::from_bytes(&[9; 32]).expect("a valid scalar"))
});

/// One input: the first byte picks the HTTP status and protocol version, the rest is the body.
pub fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[usize::from(selector) % STATUSES.len()];
    let version = ProtocolVersion::ALL[usize::from(selector >> 4) % 4];

    let _ = error_parts(body);
    let plain = Reply::read(status, body.to_vec(), None);
    if let Ok(object) = response_object(&plain, "fuzz") {
        // The mobile-token API's operation list and detail.
        let operations = match &object {
            serde_json::Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for value in operations {
            if let Ok(operation) = serde_json::from_value::<Operation>(value) {
                let _ = render_operation(&operation);
                let _ = authorize_body(&operation, None);
            }
        }
    }

    // An ECIES answer to a request this device really sent.
    let encryptor = Encryptor::new(
        version,
        SharedInfo1::ApplicationScopeGeneric,
        APP_KEY,
        APP_SECRET,
        Scope::Application,
    )
    .expect("an application-scope constant");
    let server_public: &PublicKey = &SERVER_PUBLIC;
    let recipient = if version.uses_temporary_keys() {
        Recipient::Temporary {
            id: "id",
            public_key: server_public,
        }
    } else {
        Recipient::Static(server_public)
    };
    let (_, decryptor) = encryptor
        .encrypt_request_with(recipient, b"{}", &EPHEMERAL, [4; 16], 5)
        .expect("a recipient that fits the version");
    let encrypted = Reply::read(status, body.to_vec(), Some(decryptor));
    let _ = encrypted.decrypted("fuzz");

    if let Ok(text) = std::str::from_utf8(body) {
        let redacted = redact_json(text);
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            assert_eq!(redact_json(&redacted), redacted, "redaction is stable");
        }
        for name in ["X-PowerAuth-Authorization", "X-PowerAuth-Token"] {
            let _ = redact_header(name, text);
        }
    }
}
