//! Keys: P-256 key pairs, ECDH, the activation master secret and every key derived from
//! it, the device public key fingerprint, and ECDSA over P-256.

use crate::hazmat::{fold_32_to_16, kdf_aes, sha256};
use crate::random::RandomSource;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not a SEC1 P-256 point (33-byte compressed or 65-byte uncompressed),
    /// the point is not on the curve, or it is the point at infinity.
    #[error("invalid P-256 public key: not a valid compressed or uncompressed point on the curve")]
    InvalidPublicKey,
    /// The scalar is zero, not below the curve order, or longer than 33 bytes.
    #[error("invalid P-256 private key: the scalar is out of range")]
    InvalidPrivateKey,
    /// A symmetric key that is not exactly 16 bytes.
    #[error("invalid symmetric key: expected 16 bytes, got {0}")]
    InvalidSymmetricKeyLength(usize),
    /// The ECDSA signature does not verify, or is not DER.
    #[error("ECDSA signature is invalid for this key and data")]
    InvalidSignature,
}

/// A 16-byte AES / HMAC key. Zeroized on drop; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SymmetricKey([u8; 16]);

impl SymmetricKey {
    /// Wraps 16 raw bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice that must be exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        let array: [u8; 16] = bytes
            .try_into()
            .map_err(|_| KeyError::InvalidSymmetricKeyLength(bytes.len()))?;
        Ok(Self(array))
    }

    /// A fresh random key.
    pub fn make(rng: &dyn RandomSource) -> Self {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes);
        Self(bytes)
    }

    /// The raw key bytes. Named loudly: callers that persist or send a key say so.
    pub fn expose_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// `KDF.derive(self, index)`.
    pub fn derive(&self, index: u64) -> SymmetricKey {
        SymmetricKey(kdf_aes(&self.0, index))
    }
}

impl std::fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SymmetricKey(<redacted>)")
    }
}

/// A P-256 public key, remembering the exact bytes it was decoded from.
///
/// Key bytes that enter KDFs and MACs are the bytes as transmitted (digest §2.1, §14 #24),
/// so a key parsed from the wire keeps its encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: p256::PublicKey,
    encoded: Vec<u8>,
}

impl PublicKey {
    /// Decodes a SEC1 point, compressed (33 bytes) or uncompressed (65 bytes). Rejects the
    /// identity, points off the curve, and hybrid encodings.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        match bytes.first() {
            Some(0x02 | 0x03) if bytes.len() == 33 => {}
            Some(0x04) if bytes.len() == 65 => {}
            _ => return Err(KeyError::InvalidPublicKey),
        }
        let point =
            p256::PublicKey::from_sec1_bytes(bytes).map_err(|_| KeyError::InvalidPublicKey)?;
        Ok(Self {
            point,
            encoded: bytes.to_vec(),
        })
    }

    /// Decodes a Base64 SEC1 point.
    pub fn from_b64(text: &str) -> Result<Self, KeyError> {
        let bytes = crate::encoding::b64_decode(text).map_err(|_| KeyError::InvalidPublicKey)?;
        Self::from_sec1(&bytes)
    }

    /// The bytes this key was decoded from (or its uncompressed form if it was derived).
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    /// The uncompressed SEC1 form, `0x04 || X || Y` (65 bytes), as the Java server emits.
    pub fn to_uncompressed(&self) -> Vec<u8> {
        self.point.to_encoded_point(false).as_bytes().to_vec()
    }

    /// The compressed SEC1 form (33 bytes), as the mobile SDK emits.
    pub fn to_compressed(&self) -> Vec<u8> {
        self.point.to_encoded_point(true).as_bytes().to_vec()
    }

    /// The same key re-encoded compressed (changes the bytes that enter KDFs).
    pub fn compressed(&self) -> PublicKey {
        PublicKey {
            point: self.point,
            encoded: self.to_compressed(),
        }
    }

    /// The affine X coordinate as Java's unsigned minimal big-endian bytes (leading zero
    /// bytes dropped), as the v3 fingerprint uses it.
    pub fn x_coordinate_minimal(&self) -> Vec<u8> {
        let encoded = self.point.to_encoded_point(false);
        let x = encoded.x().expect("a valid public key is not the identity");
        let first = x.iter().position(|&b| b != 0).unwrap_or(x.len() - 1);
        x[first..].to_vec()
    }

    /// Verifies a DER ECDSA-SHA256 signature over `message`. High-S signatures are valid,
    /// as BouncyCastle accepts them (digest §14 #27).
    pub fn verify_ecdsa(&self, message: &[u8], der_signature: &[u8]) -> Result<(), KeyError> {
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            self.to_uncompressed(),
        );
        key.verify(message, der_signature)
            .map_err(|_| KeyError::InvalidSignature)
    }

    /// Verifies a JOSE (raw `r || s`, 64 bytes) ECDSA-SHA256 signature, as in ES256 JWTs.
    pub fn verify_ecdsa_fixed(&self, message: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_FIXED,
            self.to_uncompressed(),
        );
        key.verify(message, signature)
            .map_err(|_| KeyError::InvalidSignature)
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", crate::encoding::b64(&self.encoded))
    }
}

/// A P-256 private key. Zeroized on drop (by `p256`); `Debug` never prints it.
#[derive(Clone)]
pub struct PrivateKey(p256::SecretKey);

impl PrivateKey {
    /// Parses an unsigned big-endian scalar of up to 33 bytes: the 32-byte form, or Java's
    /// `BigInteger.toByteArray()` form (leading `0x00`, or fewer than 32 bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        let significant = &bytes[first..];
        if significant.is_empty() || significant.len() > 32 {
            return Err(KeyError::InvalidPrivateKey);
        }
        let mut scalar = [0u8; 32];
        scalar[32 - significant.len()..].copy_from_slice(significant);
        let key = p256::SecretKey::from_slice(&scalar).map_err(|_| KeyError::InvalidPrivateKey);
        scalar.zeroize();
        Ok(Self(key?))
    }

    /// A fresh random key (rejection sampling over 32-byte scalars).
    pub fn make(rng: &dyn RandomSource) -> Self {
        loop {
            let mut scalar = [0u8; 32];
            rng.fill(&mut scalar);
            let key = p256::SecretKey::from_slice(&scalar);
            scalar.zeroize();
            if let Ok(key) = key {
                return Self(key);
            }
        }
    }

    /// The scalar as 32 big-endian bytes.
    pub fn expose_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.0.to_bytes().into())
    }

    /// The scalar as Java's `BigInteger.toByteArray()` (digest §14 #28): minimal
    /// two's-complement big-endian, so 31–33 bytes.
    pub fn expose_java_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let bytes = self.expose_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(31);
        let mut out = Vec::with_capacity(33);
        if bytes[first] & 0x80 != 0 {
            out.push(0);
        }
        out.extend_from_slice(&bytes[first..]);
        zeroize::Zeroizing::new(out)
    }

    /// The matching public key, encoded uncompressed.
    pub fn public_key(&self) -> PublicKey {
        let point = p256::PublicKey::from_affine(
            crate::hazmat::base_table::mul_generator(&self.0.to_nonzero_scalar()).to_affine(),
        )
        .expect("a non-zero scalar times G is not the identity");
        let encoded = point.to_encoded_point(false).as_bytes().to_vec();
        PublicKey { point, encoded }
    }

    /// ECDH: the 32-byte X coordinate of `self * peer`.
    pub fn ecdh(&self, peer: &PublicKey) -> zeroize::Zeroizing<[u8; 32]> {
        let shared = p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.point.as_affine());
        zeroize::Zeroizing::new((*shared.raw_secret_bytes()).into())
    }
}

/// ECDSA with ring, which wants both halves of the pair; `None` if `public` is not
/// `private`'s public key.
fn ecdsa_sign(
    alg: &'static ring::signature::EcdsaSigningAlgorithm,
    private: &PrivateKey,
    public_uncompressed: &[u8],
    message: &[u8],
    rng: &dyn ring::rand::SecureRandom,
) -> Option<Vec<u8>> {
    let scalar = private.expose_bytes();
    let pair = ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
        alg,
        &scalar[..],
        public_uncompressed,
        rng,
    )
    .ok()?;
    let signature = pair
        .sign(rng, message)
        .expect("ECDSA signing with a valid key does not fail");
    Some(signature.as_ref().to_vec())
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

/// A P-256 key pair.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The private half.
    pub private: PrivateKey,
    /// The public half.
    pub public: PublicKey,
}

impl KeyPair {
    /// A fresh random key pair.
    pub fn make(rng: &dyn RandomSource) -> Self {
        Self::from_private(PrivateKey::make(rng))
    }

    /// The pair for a known private key (public key computed, encoded uncompressed).
    pub fn from_private(private: PrivateKey) -> Self {
        let public = private.public_key();
        Self { private, public }
    }

    /// A pair whose halves were stored together, e.g. a server's key row. Not checked
    /// (that would cost the multiplication this constructor exists to skip): if the halves
    /// do not match, ECDH with the pair disagrees with its peer and the signing methods
    /// below sign with the private key's real public key, so a mismatch never panics.
    pub fn from_parts(private: PrivateKey, public: PublicKey) -> Self {
        Self { private, public }
    }

    /// DER ECDSA-SHA256 signature of `message` (ring). ring mixes `rng` into the nonce,
    /// so signatures differ per call; they are checked with [`PublicKey::verify_ecdsa`].
    pub fn sign_ecdsa(&self, message: &[u8], rng: &dyn ring::rand::SecureRandom) -> Vec<u8> {
        self.sign_with(
            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            message,
            rng,
        )
    }

    /// JOSE (raw `r || s`) ECDSA-SHA256 signature, as ES256 JWTs carry.
    pub fn sign_ecdsa_fixed(&self, message: &[u8], rng: &dyn ring::rand::SecureRandom) -> Vec<u8> {
        self.sign_with(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            message,
            rng,
        )
    }

    fn sign_with(
        &self,
        alg: &'static ring::signature::EcdsaSigningAlgorithm,
        message: &[u8],
        rng: &dyn ring::rand::SecureRandom,
    ) -> Vec<u8> {
        ecdsa_sign(
            alg,
            &self.private,
            &self.public.to_uncompressed(),
            message,
            rng,
        )
        .or_else(|| {
            // Mismatched halves: sign with the private key's real public key.
            let public = self.private.public_key().to_uncompressed();
            ecdsa_sign(alg, &self.private, &public, message, rng)
        })
        .expect("a valid P-256 scalar and its own public key form a key pair")
    }
}

/// `KEY_MASTER_SECRET = convert32Bto16B(ECDH(private, public))`: the same value on the
/// device (device private, server public) and the server (server private, device public).
pub fn derive_master_secret(private: &PrivateKey, public: &PublicKey) -> SymmetricKey {
    SymmetricKey(fold_32_to_16(&private.ecdh(public)))
}

/// The KDF index of each key derived from the master secret (digest §2.2).
pub mod index {
    /// `KEY_SIGNATURE_POSSESSION`.
    pub const POSSESSION: u64 = 1;
    /// `KEY_SIGNATURE_KNOWLEDGE`.
    pub const KNOWLEDGE: u64 = 2;
    /// `KEY_SIGNATURE_BIOMETRY`.
    pub const BIOMETRY: u64 = 3;
    /// `KEY_TRANSPORT`.
    pub const TRANSPORT: u64 = 1000;
    /// `KEY_ENCRYPTION_VAULT`.
    pub const VAULT: u64 = 2000;
    /// On `KEY_TRANSPORT`: the key of the status blob IV.
    pub const STATUS_IV: u64 = 3000;
    /// On `KEY_TRANSPORT`: the key of the status blob's `ctrDataHash`.
    pub const CTR_DATA_HASH: u64 = 4000;
}

/// Every key derived from `KEY_MASTER_SECRET`.
#[derive(Clone, Debug)]
pub struct ActivationKeys {
    /// `KEY_SIGNATURE_POSSESSION = KDF(M, 1)`.
    pub possession: SymmetricKey,
    /// `KEY_SIGNATURE_KNOWLEDGE = KDF(M, 2)`.
    pub knowledge: SymmetricKey,
    /// `KEY_SIGNATURE_BIOMETRY = KDF(M, 3)`.
    pub biometry: SymmetricKey,
    /// `KEY_TRANSPORT = KDF(M, 1000)`.
    pub transport: SymmetricKey,
    /// `KEY_ENCRYPTION_VAULT = KDF(M, 2000)`.
    pub vault: SymmetricKey,
}

impl ActivationKeys {
    /// Derives every key from the master secret.
    pub fn derive(master: &SymmetricKey) -> Self {
        Self {
            possession: master.derive(index::POSSESSION),
            knowledge: master.derive(index::KNOWLEDGE),
            biometry: master.derive(index::BIOMETRY),
            transport: master.derive(index::TRANSPORT),
            vault: master.derive(index::VAULT),
        }
    }

    /// Derives every key from one side's private key and the other side's public key.
    pub fn derive_from_ecdh(private: &PrivateKey, public: &PublicKey) -> Self {
        Self::derive(&derive_master_secret(private, public))
    }
}

/// The v3 device public key fingerprint shown to the user after activation (digest §4.2,
/// §14 #7): 8 decimal digits from SHA-256 over the X coordinates and the activation id.
pub fn fingerprint(
    device_public: &PublicKey,
    activation_id: &str,
    server_public: &PublicKey,
) -> String {
    fingerprint_from_x(
        &device_public.x_coordinate_minimal(),
        activation_id,
        &server_public.x_coordinate_minimal(),
    )
}

/// The fingerprint from raw X coordinates (minimal big-endian bytes).
pub fn fingerprint_from_x(device_x: &[u8], activation_id: &str, server_x: &[u8]) -> String {
    let mut data = Vec::with_capacity(device_x.len() + activation_id.len() + server_x.len());
    data.extend_from_slice(device_x);
    data.extend_from_slice(activation_id.as_bytes());
    data.extend_from_slice(server_x);
    crate::encoding::decimalize(&sha256(&data), 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;

    #[test]
    fn ecdh_agrees_and_master_secret_matches() {
        let rng = SeededRandom::new(b"keys");
        let a = KeyPair::make(&rng);
        let b = KeyPair::make(&rng);
        assert_eq!(
            derive_master_secret(&a.private, &b.public),
            derive_master_secret(&b.private, &a.public)
        );
    }

    #[test]
    fn public_key_rejects_identity_and_garbage() {
        assert_eq!(PublicKey::from_sec1(&[0]), Err(KeyError::InvalidPublicKey));
        assert_eq!(
            PublicKey::from_sec1(&[4; 65]),
            Err(KeyError::InvalidPublicKey)
        );
        assert_eq!(
            PublicKey::from_sec1(&[2; 33]).is_ok(),
            PublicKey::from_sec1(&[2; 33]).is_ok()
        );
    }

    #[test]
    fn compressed_and_uncompressed_are_the_same_point() {
        let rng = SeededRandom::new(b"pk");
        let pair = KeyPair::make(&rng);
        let c = PublicKey::from_sec1(&pair.public.to_compressed()).unwrap();
        assert_eq!(c.to_uncompressed(), pair.public.to_uncompressed());
        assert_eq!(c.encoded().len(), 33);
    }

    #[test]
    fn ecdsa_round_trip_and_java_bytes() {
        let rng = SeededRandom::new(b"sig");
        let pair = KeyPair::make(&rng);
        let sig = pair.sign_ecdsa(b"hello", &ring::rand::SystemRandom::new());
        pair.public.verify_ecdsa(b"hello", &sig).unwrap();
        assert_eq!(
            pair.public.verify_ecdsa(b"hellO", &sig),
            Err(KeyError::InvalidSignature)
        );
        let java = pair.private.expose_java_bytes();
        assert_eq!(
            PrivateKey::from_bytes(&java).unwrap().expose_bytes(),
            pair.private.expose_bytes()
        );
    }

    #[test]
    fn stored_pairs_sign_and_a_mismatched_pair_still_signs_with_its_real_key() {
        let rng = SeededRandom::new(b"parts");
        let system = ring::rand::SystemRandom::new();
        let pair = KeyPair::make(&rng);
        let other = KeyPair::make(&rng);
        let stored = KeyPair::from_parts(pair.private.clone(), pair.public.clone());
        pair.public
            .verify_ecdsa(b"m", &stored.sign_ecdsa(b"m", &system))
            .unwrap();
        pair.public
            .verify_ecdsa_fixed(b"m", &stored.sign_ecdsa_fixed(b"m", &system))
            .unwrap();
        // A corrupt row: the public half belongs to another key. No panic, and the
        // signature is the private key's, so it fails against the wrong public key.
        let mismatched = KeyPair::from_parts(pair.private.clone(), other.public.clone());
        let sig = mismatched.sign_ecdsa(b"m", &system);
        pair.public.verify_ecdsa(b"m", &sig).unwrap();
        assert_eq!(
            other.public.verify_ecdsa(b"m", &sig),
            Err(KeyError::InvalidSignature)
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let key = SymmetricKey::from_bytes([0xAB; 16]);
        assert!(!format!("{key:?}").contains("171"));
        let rng = SeededRandom::new(b"dbg");
        assert_eq!(
            format!("{:?}", PrivateKey::make(&rng)),
            "PrivateKey(<redacted>)"
        );
    }
}
