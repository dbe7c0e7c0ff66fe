//! The hash-based signature counter `CTR_DATA` (digest §5.4).

use crate::hazmat::{fold_32_to_16, kdf_internal, sha256};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `CTR_DATA`: 16 bytes that every signature consumes and then advances with
/// `CTR_DATA <- convert32Bto16B(SHA256(CTR_DATA))`. Not printed by `Debug`: with the
/// factor keys it predicts future signatures.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct CtrData([u8; 16]);

impl CtrData {
    /// Wraps 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice that must be exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The raw bytes, for persistence and for the signature input.
    pub fn expose_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The value after one signature.
    pub fn next(&self) -> CtrData {
        CtrData(fold_32_to_16(&sha256(&self.0)))
    }

    /// The value after `steps` signatures.
    pub fn advanced(&self, steps: u32) -> CtrData {
        let mut ctr = self.clone();
        for _ in 0..steps {
            ctr = ctr.next();
        }
        ctr
    }

    /// `KDF_INTERNAL(key, CTR_DATA)`: the `ctrDataHash` the status blob carries, with
    /// `key = KDF(KEY_TRANSPORT, 4000)`.
    pub fn hash_with(&self, key: &[u8; 16]) -> [u8; 16] {
        kdf_internal(key, &self.0)
    }
}

impl std::fmt::Debug for CtrData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CtrData(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advanced_is_repeated_next() {
        let ctr = CtrData::from_bytes([9; 16]);
        assert_eq!(ctr.advanced(3), ctr.next().next().next());
        assert_eq!(ctr.advanced(0), ctr);
    }
}
