//! Secret bytes and passphrases: zeroized on drop, never printed.

use std::fmt;

use zeroize::Zeroizing;

/// A device's secret blob: opaque bytes the device crate serialises its keys, `ctr_data` and
/// tokens into. Zeroized on drop; `Debug` shows only the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps `bytes`, which are zeroized when the secret is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw bytes. The name says it: whoever calls this handles a secret.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl From<Zeroizing<Vec<u8>>> for Secret {
    fn from(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted, {} bytes>)", self.0.len())
    }
}

/// A passphrase for the encrypted file store or a device bundle. Zeroized on drop, never printed.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps `passphrase`, which is zeroized when dropped.
    pub fn new(passphrase: String) -> Self {
        Self(Zeroizing::new(passphrase))
    }

    /// The passphrase's bytes (UTF-8), for the key derivation.
    pub fn expose_secret(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<&str> for Passphrase {
    fn from(passphrase: &str) -> Self {
        Self::new(passphrase.to_owned())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_bytes() {
        let secret = Secret::new(b"hunter2-key".to_vec());
        let passphrase = Passphrase::from("hunter2");
        let printed = format!("{secret:?} {passphrase:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("11 bytes"), "{printed}");
    }
}
