//! Recovery codes and PUKs (digest §9.6): the second way into an activation when the phone
//! is lost, issued with an activation or printed on a recovery postcard.
//!
//! A recovery code has the activation code's format; its QR form is `R:CODE` (§16.2). The
//! PUK ("personal unblocking key") is 10 digits. The server derives both from a secret and
//! a seed, `IdentifierGenerator.generateRecoveryCode` / `deriveRecoveryCode` in
//! powerauth-java-crypto:
//!
//! ```text
//! out           = KDF_X9.63_SHA256(secret, info = nonce (32 B), 26 bytes)
//! RECOVERY_CODE = activation code of out[0..10]
//! PUK_BASE_KEY  = out[10..26]
//! PUK_i         = (BE64(AES-CBC-PKCS7(PUK_BASE_KEY, 0^16, BE64(index_i))[8..16]) & 0xFF_FFFF_FFFF)
//!                 mod 10^10, as 10 digits
//! ```
//!
//! The secret is 16 random bytes for a code issued at activation, or the 32-byte ECDH
//! secret the server shares with the postcard printing service ([`PrivateKey::ecdh`]).
//!
//! [`PrivateKey::ecdh`]: crate::keys::PrivateKey::ecdh

mod puk;

pub use puk::{Puk, PukError};

use crate::activation_code::{ActivationCode, ActivationCodeError, ActivationQr, QrPayloadError};
use crate::hazmat::kdf_x963_sha256;
use crate::random::RandomSource;
use puk::derive_puk;
use std::fmt;
use std::str::FromStr;
use zeroize::{Zeroize, Zeroizing};

/// The prefix that marks a recovery code in a QR code (mobile SDK `OtpUtil`).
pub const RECOVERY_QR_PREFIX: &str = "R:";

/// A recovery code, `XXXXX-XXXXX-XXXXX-XXXXX`, validated like an activation code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RecoveryCode(ActivationCode);

impl RecoveryCode {
    /// Parses a typed recovery code (no `R:` prefix).
    pub fn parse(text: &str) -> Result<Self, ActivationCodeError> {
        ActivationCode::parse(text).map(Self)
    }

    /// Parses a scanned recovery code, with or without the `R:` prefix, as the mobile SDK's
    /// `OtpUtil::parseRecoveryCode` does. A `#signature` is refused.
    pub fn parse_qr(text: &str) -> Result<Self, QrPayloadError> {
        let text = text.strip_prefix(RECOVERY_QR_PREFIX).unwrap_or(text);
        let qr = ActivationQr::parse(text)?;
        if qr.signature().is_some() {
            return Err(QrPayloadError::SignedRecoveryCode);
        }
        Ok(Self(qr.code().clone()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The QR form, `R:CODE`.
    pub fn to_qr(&self) -> String {
        format!("{RECOVERY_QR_PREFIX}{}", self.0)
    }
}

impl fmt::Display for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for RecoveryCode {
    type Err = ActivationCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// What the server keeps to derive a recovery code and its PUKs again from the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverySeed {
    /// The 32-byte nonce, the X9.63 KDF's shared info.
    pub nonce: [u8; 32],
    /// The derivation index of each PUK, in the order the user spends them (PUK 1 first).
    /// Java keeps them as signed `long`s; the AES input is their 8 big-endian bytes.
    pub puk_derivation_indexes: Vec<i64>,
}

/// A recovery code, its PUKs in order, and the seed they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryInfo {
    /// `RECOVERY_CODE`.
    pub recovery_code: RecoveryCode,
    /// `PUK_1 .. PUK_n`, in the order of the seed's indexes.
    pub puks: Vec<Puk>,
    /// The nonce and indexes that reproduce them.
    pub seed: RecoverySeed,
}

/// Why fresh recovery data could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryError {
    /// Twenty random indexes in a row gave a PUK already issued for this code. Likely
    /// cause: a random source that repeats itself (a fixed test seed).
    #[error(
        "could not derive distinct PUKs in {attempts} attempts: the random source repeats itself"
    )]
    PukCollision {
        /// How many indexes were tried for the failing PUK.
        attempts: usize,
    },
}

/// Random indexes tried per PUK before giving up (`PUK_DERIVATION_MAX_ATTEMPTS` in Java).
const PUK_DERIVATION_MAX_ATTEMPTS: usize = 20;

impl RecoveryInfo {
    /// Derives the recovery code and PUKs from a secret and a seed (deterministic).
    pub fn derive(secret: &[u8], seed: RecoverySeed) -> Self {
        let (recovery_code, puk_base_key) = derive_code_and_base_key(secret, &seed.nonce);
        let puks = seed
            .puk_derivation_indexes
            .iter()
            .map(|&index| derive_puk(&puk_base_key, index))
            .collect();
        Self {
            recovery_code,
            puks,
            seed,
        }
    }

    /// Fresh recovery data: a random nonce and, per PUK, random indexes until its PUK
    /// differs from those before it (server side, `generateRecoveryCode`).
    pub fn make(
        secret: &[u8],
        puk_count: usize,
        rng: &dyn RandomSource,
    ) -> Result<Self, RecoveryError> {
        let mut nonce = [0u8; 32];
        rng.fill(&mut nonce);
        let (recovery_code, puk_base_key) = derive_code_and_base_key(secret, &nonce);
        let mut puks: Vec<Puk> = Vec::with_capacity(puk_count);
        let mut puk_derivation_indexes = Vec::with_capacity(puk_count);
        for _ in 0..puk_count {
            let (index, puk) = (0..PUK_DERIVATION_MAX_ATTEMPTS)
                .map(|_| {
                    let mut bytes = [0u8; 8];
                    rng.fill(&mut bytes);
                    let index = i64::from_be_bytes(bytes);
                    (index, derive_puk(&puk_base_key, index))
                })
                .find(|(_, puk)| !puks.contains(puk))
                .ok_or(RecoveryError::PukCollision {
                    attempts: PUK_DERIVATION_MAX_ATTEMPTS,
                })?;
            puks.push(puk);
            puk_derivation_indexes.push(index);
        }
        Ok(Self {
            recovery_code,
            puks,
            seed: RecoverySeed {
                nonce,
                puk_derivation_indexes,
            },
        })
    }

    /// The one code and PUK the server issues with an activation: a fresh random 16-byte
    /// secret, used once and forgotten (`generateRecoveryCode()` in Java).
    pub fn make_for_activation(rng: &dyn RandomSource) -> Result<Self, RecoveryError> {
        let mut secret = Zeroizing::new([0u8; 16]);
        rng.fill(&mut secret[..]);
        Self::make(&secret[..], 1, rng)
    }
}

/// `RECOVERY_CODE` and `PUK_BASE_KEY` from the X9.63 KDF output.
fn derive_code_and_base_key(
    secret: &[u8],
    nonce: &[u8; 32],
) -> (RecoveryCode, Zeroizing<[u8; 16]>) {
    let out = Zeroizing::new(kdf_x963_sha256(secret, nonce, 26));
    let mut random = [0u8; ActivationCode::RANDOM_BYTES];
    random.copy_from_slice(&out[..10]);
    let mut puk_base_key = Zeroizing::new([0u8; 16]);
    puk_base_key.copy_from_slice(&out[10..26]);
    let code = RecoveryCode(ActivationCode::from_random_bytes(random));
    random.zeroize();
    (code, puk_base_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    /// A random source that returns zeros: every index repeats.
    struct Zeros;

    impl RandomSource for Zeros {
        fn fill(&self, dest: &mut [u8]) {
            dest.fill(0);
        }
    }

    #[test]
    fn recovery_qr_prefix() {
        let code = RecoveryCode::parse_qr("R:VVVVV-VVVVV-VVVVV-VTFVA").unwrap();
        assert_eq!(code.to_qr(), "R:VVVVV-VVVVV-VVVVV-VTFVA");
        assert_eq!(
            RecoveryCode::parse_qr("VVVVV-VVVVV-VVVVV-VTFVA"),
            Ok(code.clone())
        );
        assert_eq!(code.to_string().parse::<RecoveryCode>(), Ok(code));
        assert_eq!(
            RecoveryCode::parse_qr("R:VVVVV-VVVVV-VVVVV-VTFWA"),
            Err(QrPayloadError::InvalidCode(
                ActivationCodeError::ChecksumMismatch
            ))
        );
    }

    #[test]
    fn make_gives_distinct_puks_or_fails() {
        let info = RecoveryInfo::make(&[7; 32], 4, &SeededRandom::new(b"postcard")).unwrap();
        assert_eq!(info.puks.len(), 4);
        for (i, puk) in info.puks.iter().enumerate() {
            assert!(!info.puks[..i].contains(puk));
        }
        assert_eq!(
            RecoveryInfo::make(&[7; 32], 2, &Zeros),
            Err(RecoveryError::PukCollision { attempts: 20 })
        );
        let single = RecoveryInfo::make_for_activation(&SeededRandom::new(b"activation")).unwrap();
        assert_eq!(single.puks.len(), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn make_then_derive(secret in proptest::collection::vec(any::<u8>(), 16..=32), count in 1usize..6, seed in any::<[u8; 8]>()) {
            let made = RecoveryInfo::make(&secret, count, &SeededRandom::new(&seed)).unwrap();
            let derived = RecoveryInfo::derive(&secret, made.seed.clone());
            prop_assert_eq!(&derived, &made);
            prop_assert_eq!(RecoveryCode::parse(made.recovery_code.as_str()), Ok(made.recovery_code.clone()));
            for puk in &made.puks {
                prop_assert_eq!(&Puk::parse(puk.expose_str()).unwrap(), puk);
            }
        }
    }
}
