//! Loading the shared vectors.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every vector file some module of this test binary reads (relative to the vectors root).
pub const CLAIMED: &[&str] = &[
    "powerauth-js-test-client/aes-cbc-pkcs7.json",
    "powerauth-js-test-client/aes-kdf.json",
    "powerauth-js-test-client/hmac.json",
    "powerauth-js-test-client/kdf-x963.json",
    "powerauth-crypto/compute-derived-keys.json",
    "powerauth-crypto/compute-master-secret-key.json",
    "powerauth-crypto/public-key-fingerprint-v3.json",
    "powerauth-crypto/verify-activation-data-signature-v3.json",
    "powerauth-crypto/signatures-v3.json",
    "powerauth-crypto/signatures-v31.json",
    "powerauth-crypto/signatures-offline.json",
    "powerauth-crypto/activation-status-blob-data.json",
    "powerauth-crypto/activation-status-blob-iv.json",
    "powerauth-crypto/totp/data.csv",
    "reference/activation-code.json",
    "reference/activation-status-blob-encode.json",
    "reference/ecies-v3.0.json",
    "reference/ecies-v3.1.json",
    "reference/ecies-v3.2.json",
    "reference/ecies-v3.3.json",
    "reference/pbkdf2-password-key.json",
    "reference/recovery-code.json",
    "reference/temporary-key-jwt-3.3.json",
    "reference/token-digest.json",
    "reference/vault-v3.json",
];

/// The vectors root: `$TOKENSIM_VECTORS`, else `../shared/vectors` beside the repository.
pub fn root() -> PathBuf {
    let root = match std::env::var_os("TOKENSIM_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
    };
    assert!(
        root.is_dir(),
        "the shared test vectors are missing: expected a folder at {} (set TOKENSIM_VECTORS to point elsewhere)",
        root.display()
    );
    root
}

/// Reads a file under the vectors root as text.
pub fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read vector file {}: {e}", path.display()))
}

/// Reads a JSON vector file.
pub fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative))
        .unwrap_or_else(|e| panic!("vector file {relative} is not JSON: {e}"))
}

/// The `data` array of a `{description, data:[{input, output}]}` file, or the
/// `testVectors` array of a js-test-client file. Fails on an empty list.
pub fn cases(relative: &str) -> Vec<Value> {
    let value = json(relative);
    let list = value
        .get("data")
        .or_else(|| value.get("testVectors"))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{relative}: no `data` or `testVectors` array"))
        .clone();
    assert!(!list.is_empty(), "{relative}: the vector list is empty");
    list
}

/// A string field, failing with the field's path.
pub fn s<'a>(value: &'a Value, field: &str) -> &'a str {
    value
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("vector has no string field `{field}`: {value}"))
}

/// A Base64 field decoded.
pub fn b64(value: &Value, field: &str) -> Vec<u8> {
    powerauth::encoding::b64_decode(s(value, field))
        .unwrap_or_else(|_| panic!("field `{field}` is not Base64"))
}

/// A hex field decoded.
pub fn hex(value: &Value, field: &str) -> Vec<u8> {
    let text = s(value, field);
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Every file under the vectors root, relative paths.
pub fn all_vector_files() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable vectors folder") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "json" || ext == "csv")
            {
                out.push(
                    path.strip_prefix(base)
                        .expect("under root")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let root = root();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}
