//! The ECIES core both sides share: envelope key derivation, sharedInfo2, IV, and
//! encrypt-then-MAC (digest §7.3, §7.4).

use super::{EciesError, EncryptedRequest};
use crate::ProtocolVersion;
use crate::encoding::concat_with_sizes;
use crate::hazmat::{
    aes_cbc_pkcs7_decrypt, aes_cbc_pkcs7_encrypt, constant_time_eq, hmac_sha256_parts,
    kdf_internal, kdf_x963_sha256,
};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// `K_ENC || K_MAC || K_IV`, the 48-byte X9.63 output for one exchange.
#[derive(Zeroize, ZeroizeOnDrop)]
struct EnvelopeKey {
    enc: [u8; 16],
    mac: [u8; 16],
    iv: [u8; 16],
}

impl EnvelopeKey {
    /// `X963_SHA256(Z, SH1 || Ebytes, 48)`, with the ephemeral key bytes exactly as
    /// transmitted (digest §2.1).
    fn derive(shared_secret: &[u8; 32], shared_info1: &[u8], ephemeral_public: &[u8]) -> Self {
        let mut info = Vec::with_capacity(shared_info1.len() + ephemeral_public.len());
        info.extend_from_slice(shared_info1);
        info.extend_from_slice(ephemeral_public);
        let stream = Zeroizing::new(kdf_x963_sha256(shared_secret, &info, 48));
        let mut key = Self {
            enc: [0; 16],
            mac: [0; 16],
            iv: [0; 16],
        };
        key.enc.copy_from_slice(&stream[..16]);
        key.mac.copy_from_slice(&stream[16..32]);
        key.iv.copy_from_slice(&stream[32..48]);
        key
    }

    /// The key from its 48 bytes, as `/rest/v3/ecies/decryptor` hands them out.
    fn from_bytes(bytes: &[u8; 48]) -> Self {
        let mut key = Self {
            enc: [0; 16],
            mac: [0; 16],
            iv: [0; 16],
        };
        key.enc.copy_from_slice(&bytes[..16]);
        key.mac.copy_from_slice(&bytes[16..32]);
        key.iv.copy_from_slice(&bytes[32..48]);
        key
    }

    fn to_bytes(&self) -> Zeroizing<[u8; 48]> {
        let mut out = Zeroizing::new([0u8; 48]);
        out[..16].copy_from_slice(&self.enc);
        out[16..32].copy_from_slice(&self.mac);
        out[32..].copy_from_slice(&self.iv);
        out
    }
}

/// Everything one request–response cycle shares, on either side.
pub(super) struct Exchange {
    version: ProtocolVersion,
    key: EnvelopeKey,
    shared_info2_base: Zeroizing<[u8; 32]>,
    associated_data: Option<Vec<u8>>,
}

impl Exchange {
    /// Derives the envelope key from the ECDH secret `Z` (full 32 bytes) and binds it to the
    /// parameters of the exchange.
    pub(super) fn new(
        version: ProtocolVersion,
        shared_secret: &[u8; 32],
        shared_info1: &[u8],
        ephemeral_public: &[u8],
        shared_info2_base: [u8; 32],
        associated_data: Option<Vec<u8>>,
    ) -> Self {
        Self {
            version,
            key: EnvelopeKey::derive(shared_secret, shared_info1, ephemeral_public),
            shared_info2_base: Zeroizing::new(shared_info2_base),
            associated_data,
        }
    }

    /// An exchange whose envelope key was derived elsewhere (digest §12
    /// `/rest/v3/ecies/decryptor`).
    pub(super) fn from_envelope_key(
        version: ProtocolVersion,
        envelope_key: &[u8; 48],
        shared_info2_base: [u8; 32],
        associated_data: Option<Vec<u8>>,
    ) -> Self {
        Self {
            version,
            key: EnvelopeKey::from_bytes(envelope_key),
            shared_info2_base: Zeroizing::new(shared_info2_base),
            associated_data,
        }
    }

    /// `K_ENC || K_MAC || K_IV`.
    pub(super) fn envelope_key(&self) -> Zeroizing<[u8; 48]> {
        self.key.to_bytes()
    }

    pub(super) fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// `SH2`: `SH2_BASE` before 3.2; from 3.2 `concatWithSizes(SH2_BASE, nonce, BE64(ts),
    /// Ebytes or nothing, AD)`. Responses pass no ephemeral key.
    pub(super) fn shared_info2(
        &self,
        nonce: Option<&[u8; 16]>,
        timestamp: Option<u64>,
        ephemeral_public: Option<&[u8]>,
    ) -> Vec<u8> {
        if !self.version.ecies_has_timestamp() {
            return self.shared_info2_base.to_vec();
        }
        let timestamp = timestamp.map(u64::to_be_bytes);
        concat_with_sizes(&[
            Some(&self.shared_info2_base[..]),
            nonce.map(|n| &n[..]),
            timestamp.as_ref().map(|t| &t[..]),
            ephemeral_public,
            self.associated_data.as_deref(),
        ])
    }

    /// The AES IV: zero without a nonce (3.0), else `KDF_INTERNAL(K_IV, nonce)`.
    fn iv(&self, nonce: Option<&[u8; 16]>) -> [u8; 16] {
        match nonce {
            None => [0; 16],
            Some(nonce) => kdf_internal(&self.key.iv, nonce),
        }
    }

    /// `CT = AES-CBC-PKCS7(K_ENC, IV, plaintext)`, `MAC = HMAC(K_MAC, CT || SH2)`.
    pub(super) fn seal(
        &self,
        plaintext: &[u8],
        iv_nonce: Option<&[u8; 16]>,
        shared_info2: &[u8],
    ) -> (Vec<u8>, [u8; 32]) {
        let ciphertext = aes_cbc_pkcs7_encrypt(&self.key.enc, &self.iv(iv_nonce), plaintext);
        let mac = hmac_sha256_parts(&self.key.mac, &[&ciphertext, shared_info2]);
        (ciphertext, mac)
    }

    /// Checks the MAC in constant time, then decrypts.
    pub(super) fn open(
        &self,
        ciphertext: &[u8],
        mac: &[u8; 32],
        iv_nonce: Option<&[u8; 16]>,
        shared_info2: &[u8],
    ) -> Result<Vec<u8>, EciesError> {
        let expected = hmac_sha256_parts(&self.key.mac, &[ciphertext, shared_info2]);
        if !constant_time_eq(&expected, mac) {
            return Err(EciesError::MacMismatch);
        }
        aes_cbc_pkcs7_decrypt(&self.key.enc, &self.iv(iv_nonce), ciphertext)
            .map_err(|_| EciesError::InvalidCiphertext)
    }
}

impl Exchange {
    /// Checks the request's optional fields against the version (digest §7.3: `nonce`
    /// from 3.1, `timestamp` from 3.2, `temporaryKeyId` in 3.3), then verifies and
    /// decrypts it.
    pub(super) fn open_request(&self, request: &EncryptedRequest) -> Result<Vec<u8>, EciesError> {
        let version = self.version;
        check_request_fields(version, request)?;
        let ephemeral_bytes = request.ephemeral_public_key.encoded();
        let shared_info2 = self.shared_info2(
            request.nonce.as_ref(),
            request.timestamp,
            Some(ephemeral_bytes),
        );
        self.open(
            &request.encrypted_data,
            &request.mac,
            request.nonce.as_ref(),
            &shared_info2,
        )
    }
}

/// The presence rules of a request's optional fields in `version`.
pub(super) fn check_request_fields(
    version: ProtocolVersion,
    request: &EncryptedRequest,
) -> Result<(), EciesError> {
    check_presence(
        "temporaryKeyId",
        request.temporary_key_id.is_some(),
        version.uses_temporary_keys(),
        version,
    )?;
    check_presence(
        "nonce",
        request.nonce.is_some(),
        version.ecies_has_nonce(),
        version,
    )?;
    check_presence(
        "timestamp",
        request.timestamp.is_some(),
        version.ecies_has_timestamp(),
        version,
    )
}

/// Fails when an optional field's presence differs from what the version requires.
pub(super) fn check_presence(
    field: &'static str,
    present: bool,
    required: bool,
    version: ProtocolVersion,
) -> Result<(), EciesError> {
    match (present, required) {
        (false, true) => Err(EciesError::MissingField { field, version }),
        (true, false) => Err(EciesError::UnexpectedField { field, version }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_shared_info2_writes_an_empty_ephemeral_key() {
        let exchange = Exchange::new(
            ProtocolVersion::V3_2,
            &[1; 32],
            b"3.2/pa/upgrade",
            &[4; 65],
            [2; 32],
            Some(vec![9]),
        );
        let sh2 = exchange.shared_info2(Some(&[3; 16]), Some(5), None);
        // base, nonce, timestamp, empty ephemeral key, AD
        assert_eq!(sh2.len(), (4 + 32) + (4 + 16) + (4 + 8) + 4 + (4 + 1));
        assert_eq!(&sh2[68..72], &[0, 0, 0, 0], "no ephemeral key is BE32(0)");
        let old = Exchange::new(
            ProtocolVersion::V3_1,
            &[1; 32],
            b"x",
            &[4; 65],
            [2; 32],
            None,
        );
        assert_eq!(old.shared_info2(Some(&[3; 16]), None, None), vec![2; 32]);
    }

    #[test]
    fn open_checks_the_mac_before_the_padding() {
        let exchange = Exchange::new(
            ProtocolVersion::V3_0,
            &[1; 32],
            b"x",
            &[4; 65],
            [2; 32],
            None,
        );
        let (ciphertext, mac) = exchange.seal(b"hello", None, b"sh2");
        assert_eq!(
            exchange.open(&ciphertext, &mac, None, b"sh2").unwrap(),
            b"hello"
        );
        assert_eq!(
            exchange.open(&ciphertext[..15], &mac, None, b"sh2"),
            Err(EciesError::MacMismatch)
        );
        let forged = hmac_sha256_parts(&exchange.key.mac, &[&ciphertext[..15], b"sh2"]);
        assert_eq!(
            exchange.open(&ciphertext[..15], &forged, None, b"sh2"),
            Err(EciesError::InvalidCiphertext)
        );
    }
}
