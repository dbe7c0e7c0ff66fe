//! Passphrase sealing, shared by the encrypted file store and device bundles.
//!
//! Argon2id stretches the passphrase and a random salt into 64 bytes: the first 32 are a
//! ChaCha20-Poly1305 key, the next 16 a check value kept in the clear, so a wrong passphrase
//! (check differs) is told apart from altered data (check matches, authentication fails).
//!
//! An envelope is `magic (8) | version (1) | m_cost KiB (4) | t_cost (4) | p_cost (4) | salt (16)
//! | check (16) | nonce (12) | ciphertext+tag`, integers big-endian. Everything before the
//! ciphertext, plus a caller context, is authenticated as associated data.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{Error, Passphrase};

/// Envelope format version written and read.
const VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 8 + 1 + 12 + SALT_LEN + CHECK_LEN + NONCE_LEN;
/// 1 GiB: more would let a tampered file exhaust memory.
const MAX_MEMORY_KIB: u32 = 1 << 20;
const MAX_ITERATIONS: u32 = 64;
const MAX_PARALLELISM: u32 = 16;

/// Argon2id cost parameters, stored in each file's header so they can be raised later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl KdfParams {
    /// Checks and wraps the costs: memory in KiB (at least 8 × parallelism, at most 1 GiB),
    /// iterations 1–64, parallelism 1–16.
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self, Error> {
        let reason = if !(1..=MAX_PARALLELISM).contains(&parallelism) {
            Some("parallelism must be 1 to 16")
        } else if !(1..=MAX_ITERATIONS).contains(&iterations) {
            Some("iterations must be 1 to 64")
        } else if memory_kib < 8 * parallelism || memory_kib > MAX_MEMORY_KIB {
            Some("memory must be 8 KiB per lane up to 1 GiB")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidKdfParams { reason }),
            None => Ok(Self {
                memory_kib,
                iterations,
                parallelism,
            }),
        }
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }

    /// Number of passes.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// Number of lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
}

impl Default for KdfParams {
    /// OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Fills an array from the operating system's generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Random)?;
    Ok(bytes)
}

/// A ChaCha20-Poly1305 key derived from a passphrase, with the salt and parameters it came from.
pub(crate) struct SealingKey {
    key: LessSafeKey,
    params: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; CHECK_LEN],
}

impl SealingKey {
    /// Derives a key under a fresh random salt.
    pub(crate) fn make(passphrase: &Passphrase, params: KdfParams) -> Result<Self, Error> {
        Self::derive(passphrase, params, random()?)
    }

    /// Derives the key for `salt` and `params`.
    pub(crate) fn derive(
        passphrase: &Passphrase,
        params: KdfParams,
        salt: [u8; SALT_LEN],
    ) -> Result<Self, Error> {
        let argon_params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(64),
        )
        .map_err(|_| Error::InvalidKdfParams {
            reason: "rejected by Argon2",
        })?;
        let mut output = Zeroizing::new([0u8; 64]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
            .hash_password_into(passphrase.expose_secret(), &salt, &mut output[..])
            .map_err(|_| Error::InvalidKdfParams {
                reason: "rejected by Argon2",
            })?;
        let (key_bytes, rest) = output.split_at(32);
        let key = UnboundKey::new(&CHACHA20_POLY1305, key_bytes).map_err(|_| Error::Random)?;
        let mut check = [0u8; CHECK_LEN];
        check.copy_from_slice(&rest[..CHECK_LEN]);
        Ok(Self {
            key: LessSafeKey::new(key),
            params,
            salt,
            check,
        })
    }

    /// The salt the key was derived with.
    pub(crate) fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// Encrypts `plaintext` under a fresh nonce; returns `nonce | ciphertext+tag`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        sealed.extend_from_slice(&nonce);
        let mut in_out = plaintext.to_vec();
        let mut full_aad = aad.to_vec();
        full_aad.extend_from_slice(&nonce);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&full_aad),
                &mut in_out,
            )
            .map_err(|_| Error::Random)?;
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Reverses [`seal`](Self::seal); `None` when authentication fails.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_LEN)?;
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let mut full_aad = aad.to_vec();
        full_aad.extend_from_slice(&nonce);
        let mut in_out = Zeroizing::new(ciphertext.to_vec());
        let plaintext_len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&full_aad),
                &mut in_out,
            )
            .ok()?
            .len();
        in_out.truncate(plaintext_len);
        Some(in_out)
    }

    /// Seals `plaintext` into a self-contained envelope (header with salt and costs).
    pub(crate) fn seal_envelope(
        &self,
        magic: &[u8; 8],
        context: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let mut envelope = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        envelope.extend_from_slice(magic);
        envelope.push(VERSION);
        envelope.extend_from_slice(&self.params.memory_kib.to_be_bytes());
        envelope.extend_from_slice(&self.params.iterations.to_be_bytes());
        envelope.extend_from_slice(&self.params.parallelism.to_be_bytes());
        envelope.extend_from_slice(&self.salt);
        envelope.extend_from_slice(&self.check);
        let mut aad = envelope.clone();
        aad.extend_from_slice(context);
        let sealed = self.seal(&aad, plaintext)?;
        envelope.extend_from_slice(&sealed);
        Ok(envelope)
    }
}

/// An envelope parsed but not yet opened.
pub(crate) struct Envelope<'a> {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    check: [u8; CHECK_LEN],
    /// The header bytes, authenticated as associated data.
    header: &'a [u8],
    /// `nonce | ciphertext+tag`.
    sealed: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Parses the header; `target` names the thing for error messages.
    pub(crate) fn parse(
        bytes: &'a [u8],
        magic: &[u8; 8],
        target: &'static str,
    ) -> Result<Self, Error> {
        let malformed = |reason| Error::Malformed { target, reason };
        let mut reader = Reader(bytes);
        if reader.array::<8>().as_ref() != Some(magic) {
            return Err(malformed("it is not a TokenSim file of this kind"));
        }
        let version = reader.array::<1>().ok_or(malformed("it is truncated"))?[0];
        if version != VERSION {
            return Err(Error::UnsupportedFormat {
                target,
                found: version,
            });
        }
        let (Some(memory_kib), Some(iterations), Some(parallelism)) =
            (reader.u32(), reader.u32(), reader.u32())
        else {
            return Err(malformed("it is truncated"));
        };
        let params = KdfParams::new(memory_kib, iterations, parallelism)?;
        let (Some(salt), Some(check)) = (reader.array(), reader.array()) else {
            return Err(malformed("it is truncated"));
        };
        let header_len = bytes.len() - reader.0.len();
        if reader.0.len() < NONCE_LEN + 16 {
            return Err(malformed("it is truncated"));
        }
        Ok(Self {
            params,
            salt,
            check,
            header: &bytes[..header_len],
            sealed: reader.0,
        })
    }

    /// Derives the key from `passphrase` and opens the envelope.
    pub(crate) fn open(
        &self,
        passphrase: &Passphrase,
        context: &[u8],
        target: &'static str,
    ) -> Result<(SealingKey, Zeroizing<Vec<u8>>), Error> {
        let key = SealingKey::derive(passphrase, self.params, self.salt)?;
        if key.check != self.check {
            return Err(Error::WrongPassphrase { target });
        }
        let mut aad = self.header.to_vec();
        aad.extend_from_slice(context);
        let plaintext = key.open(&aad, self.sealed).ok_or(Error::Tampered {
            target: target.to_owned(),
        })?;
        Ok((key, plaintext))
    }
}

/// A cursor over untrusted bytes that never panics.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_at_checked(N)?;
        self.0 = rest;
        head.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAGIC: &[u8; 8] = b"TSIMTEST";

    /// Cheap parameters so tests stay fast; production uses `KdfParams::default()`.
    pub(crate) fn fast() -> KdfParams {
        KdfParams::new(64, 1, 1).unwrap()
    }

    fn envelope(plaintext: &[u8]) -> Vec<u8> {
        let key = SealingKey::make(&"correct horse".into(), fast()).unwrap();
        key.seal_envelope(MAGIC, b"ctx", plaintext).unwrap()
    }

    #[test]
    fn round_trip() {
        let sealed = envelope(b"keys");
        let parsed = Envelope::parse(&sealed, MAGIC, "test").unwrap();
        let (_, plaintext) = parsed
            .open(&"correct horse".into(), b"ctx", "test")
            .unwrap();
        assert_eq!(&plaintext[..], b"keys");
    }

    #[test]
    fn wrong_passphrase_is_told_apart_from_tampering() {
        let sealed = envelope(b"keys");
        let parsed = Envelope::parse(&sealed, MAGIC, "test").unwrap();
        let wrong = parsed.open(&"Correct horse".into(), b"ctx", "test");
        assert!(matches!(wrong, Err(Error::WrongPassphrase { .. })));
        let other_context = parsed.open(&"correct horse".into(), b"other", "test");
        assert!(matches!(other_context, Err(Error::Tampered { .. })));
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let sealed = envelope(b"the device keys");
        for i in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 0x01;
            let outcome = Envelope::parse(&altered, MAGIC, "test")
                .and_then(|parsed| parsed.open(&"correct horse".into(), b"ctx", "test"));
            assert!(outcome.is_err(), "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn refuses_absurd_costs() {
        assert!(KdfParams::new(MAX_MEMORY_KIB + 1, 1, 1).is_err());
        assert!(KdfParams::new(64, 0, 1).is_err());
        assert!(KdfParams::new(7, 1, 1).is_err());
        assert!(KdfParams::new(64, 1, 17).is_err());
        let mut sealed = envelope(b"x");
        sealed[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            Envelope::parse(&sealed, MAGIC, "test"),
            Err(Error::InvalidKdfParams { .. })
        ));
    }

    #[test]
    fn newer_versions_are_named() {
        let mut sealed = envelope(b"x");
        sealed[8] = 2;
        assert!(matches!(
            Envelope::parse(&sealed, MAGIC, "test"),
            Err(Error::UnsupportedFormat { found: 2, .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Envelope::parse(&bytes, MAGIC, "test");
        }

        #[test]
        fn truncation_is_an_error(plaintext in proptest::collection::vec(any::<u8>(), 0..64), cut in 0usize..200) {
            let sealed = envelope(&plaintext);
            let cut = cut.min(sealed.len() - 1);
            let outcome = Envelope::parse(&sealed[..cut], MAGIC, "test")
                .and_then(|parsed| parsed.open(&"correct horse".into(), b"ctx", "test"));
            prop_assert!(outcome.is_err());
        }
    }
}
