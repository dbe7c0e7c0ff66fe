//! Activation codes (digest §3.1) and the QR payloads that carry them (§3.2, §16.2).
//!
//! An activation code reads `XXXXX-XXXXX-XXXXX-XXXXX`: the Base32 form of 10 random bytes
//! followed by their CRC-16/ARC, big-endian. In protocol v3 it is only the lookup key of
//! the server's activation record and enters no cryptography; the server may sign it with
//! the application's master key so the client can tell a genuine code from a forged one
//! ([`ActivationQr`]). Recovery codes ([`crate::recovery::RecoveryCode`]) share the format.
//!
//! Parsing accepts exactly what Wultra's `IdentifierGenerator.validateActivationCode`
//! accepts. Twenty Base32 characters carry 100 bits, of which the 12 bytes use 96: the
//! last character's 4 low bits are dropped unread, so `AAAAA-AAAAA-AAAAA-AAAAB` is as valid
//! as `AAAAA-AAAAA-AAAAA-AAAAA` (§14 #26). Generated codes have those bits zero. A parsed
//! code keeps its text as given, since the server compares and signs that text.

mod qr;

pub use qr::{
    ActivationQr, ActivationSignature, QrPayload, QrPayloadError, SignatureCheck, SignatureMismatch,
};

use crate::encoding::{base32, crc16_arc};
use crate::keys::{KeyPair, PublicKey};
use crate::random::RandomSource;
use std::fmt;
use std::str::FromStr;

/// Why a text is not an activation code. Positions count characters from 1, as a tester
/// reads them off the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationCodeError {
    /// The text is not 23 characters long. Likely cause: a group is missing or doubled, the
    /// dashes were left out, or whitespace was copied along with the code.
    #[error(
        "an activation code has 23 characters (XXXXX-XXXXX-XXXXX-XXXXX), this text has {found}"
    )]
    WrongLength {
        /// How many characters the text has.
        found: usize,
    },
    /// Something other than `-` between two groups (positions 6, 12 and 18). Likely cause:
    /// another separator (space, underscore) or a group of the wrong size.
    #[error("expected '-' at position {position}, found {found:?}")]
    MissingDash {
        /// The 1-based character position.
        position: usize,
        /// The character found there.
        found: char,
    },
    /// A character outside the Base32 alphabet, which has no 0, 1, 8 or 9. Likely cause: the
    /// digit 0 or 1 typed for the letter O or I, or lower-case letters.
    #[error(
        "character {found:?} at position {position} is not allowed: activation codes use only the upper-case letters A-Z and the digits 2-7"
    )]
    InvalidCharacter {
        /// The 1-based character position.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The checksum in the last characters does not match the rest. Likely cause: a typo,
    /// such as one wrong character or two swapped characters or groups.
    #[error("the checksum does not match: the code contains a typo (a wrong or swapped character)")]
    ChecksumMismatch,
}

/// A valid activation code, `XXXXX-XXXXX-XXXXX-XXXXX`.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActivationCode(String);

impl ActivationCode {
    /// The length of the text form, dashes included.
    pub const LENGTH: usize = 23;

    /// How many random bytes a code carries.
    pub const RANDOM_BYTES: usize = 10;

    /// Parses and validates a code: four groups of five Base32 characters joined by `-`,
    /// whose CRC-16/ARC matches. Leading or trailing whitespace is an error, as in Java.
    pub fn parse(text: &str) -> Result<Self, ActivationCodeError> {
        let found = text.chars().count();
        if found != Self::LENGTH {
            return Err(ActivationCodeError::WrongLength { found });
        }
        // 20 symbols of 5 bits: 100 bits, packed most significant first.
        let mut bits: u128 = 0;
        for (index, character) in text.chars().enumerate() {
            let position = index + 1;
            if position % 6 == 0 {
                if character != '-' {
                    return Err(ActivationCodeError::MissingDash {
                        position,
                        found: character,
                    });
                }
                continue;
            }
            let value = base32_value(character).ok_or(ActivationCodeError::InvalidCharacter {
                position,
                found: character,
            })?;
            bits = (bits << 5) | u128::from(value);
        }
        // The 12 bytes are the top 96 bits; the last character's 4 low bits are dropped
        // unread, as Java's Base32 decoder does (digest §14 #26).
        let bytes = (bits >> 4).to_be_bytes();
        let (_, code_bytes) = bytes.split_at(4);
        let (random, checksum) = code_bytes.split_at(Self::RANDOM_BYTES);
        if crc16_arc(random).to_be_bytes() != checksum {
            return Err(ActivationCodeError::ChecksumMismatch);
        }
        Ok(Self(text.to_owned()))
    }

    /// A fresh random code (server side, `/rest/v3/activation/init`).
    pub fn make(rng: &dyn RandomSource) -> Self {
        let mut random = [0u8; Self::RANDOM_BYTES];
        rng.fill(&mut random);
        Self::from_random_bytes(random)
    }

    /// The code for the given random bytes: `Base32(random || BE16(CRC16_ARC(random)))`,
    /// grouped by five.
    pub fn from_random_bytes(random: [u8; Self::RANDOM_BYTES]) -> Self {
        let mut bytes = [0u8; 12];
        let (head, tail) = bytes.split_at_mut(Self::RANDOM_BYTES);
        head.copy_from_slice(&random);
        tail.copy_from_slice(&crc16_arc(&random).to_be_bytes());
        let symbols = base32(&bytes);
        let mut text = String::with_capacity(Self::LENGTH);
        for (index, character) in symbols.chars().enumerate() {
            if index > 0 && index % 5 == 0 {
                text.push('-');
            }
            text.push(character);
        }
        Self(text)
    }

    /// The code as text, dashes included: the bytes the signature covers.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 12 bytes the code encodes: the 10 random bytes and the big-endian CRC.
    pub fn to_bytes(&self) -> [u8; 12] {
        let mut bits: u128 = 0;
        for value in self.0.chars().filter_map(base32_value) {
            bits = (bits << 5) | u128::from(value);
        }
        let mut out = [0u8; 12];
        out.copy_from_slice(&(bits >> 4).to_be_bytes()[4..]);
        out
    }

    /// `ACTIVATION_SIGNATURE`: DER ECDSA-SHA256 over the UTF-8 code with the application's
    /// master private key (server side). `rng` feeds ECDSA's nonce.
    pub fn sign(
        &self,
        master: &KeyPair,
        rng: &dyn ring::rand::SecureRandom,
    ) -> ActivationSignature {
        ActivationSignature::from_der(master.sign_ecdsa(self.0.as_bytes(), rng))
    }

    /// Checks an `ACTIVATION_SIGNATURE` over this code against the application's master
    /// public key (`KEY_SERVER_MASTER_PUBLIC`). High-S signatures are accepted, as the
    /// Java server's BouncyCastle accepts them (§14 #27).
    pub fn verify_signature(
        &self,
        signature: &ActivationSignature,
        master_public: &PublicKey,
    ) -> Result<(), SignatureMismatch> {
        master_public
            .verify_ecdsa(self.0.as_bytes(), signature.as_der())
            .map_err(|_| SignatureMismatch)
    }
}

/// The value of a Base32 symbol (RFC 4648 alphabet `A-Z2-7`).
fn base32_value(character: char) -> Option<u8> {
    match character {
        'A'..='Z' => Some(character as u8 - b'A'),
        '2'..='7' => Some(character as u8 - b'2' + 26),
        _ => None,
    }
}

impl fmt::Display for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ActivationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivationCode({})", self.0)
    }
}

impl FromStr for ActivationCode {
    type Err = ActivationCodeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for ActivationCode {
    type Error = ActivationCodeError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<ActivationCode> for String {
    fn from(code: ActivationCode) -> String {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    /// The official codes of the digest, §3.1 (wultra/powerauth-crypto `docs/Activation-Code.md`).
    const OFFICIAL: [&str; 12] = [
        "AAAAA-AAAAA-AAAAA-AAAAA",
        "LLLLL-LLLLL-LLLLL-LQJTA",
        "KKKKK-KKKKK-KKKKK-KDJNQ",
        "MMMMM-MMMMM-MMMMM-MUTOA",
        "VVVVV-VVVVV-VVVVV-VTFVA",
        "55555-55555-55555-55YMA",
        "W65WE-3T7VI-7FBS2-A4OYA",
        "DD7P5-SY4RW-XHSNB-GO52A",
        "X3TS3-TI35Z-JZDNT-TRPFA",
        "HCPJX-U4QC4-7UISL-NJYMA",
        "XHGSM-KYQDT-URE34-UZGWQ",
        "45AWJ-BVACS-SBWHS-ABANA",
    ];

    #[test]
    fn official_codes_parse_and_regenerate() {
        for text in OFFICIAL {
            let code = ActivationCode::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let random: [u8; 10] = code.to_bytes()[..10].try_into().unwrap();
            assert_eq!(ActivationCode::from_random_bytes(random), code, "{text}");
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            ActivationCode::parse("VVVVV-VVVVV-VVVVV"),
            Err(ActivationCodeError::WrongLength { found: 17 })
        );
        assert_eq!(
            ActivationCode::parse("VVVVV VVVVV-VVVVV-VTFVA"),
            Err(ActivationCodeError::MissingDash {
                position: 6,
                found: ' '
            })
        );
        assert_eq!(
            ActivationCode::parse("VVVVV-VVVVV-VVVVV-VTFV0"),
            Err(ActivationCodeError::InvalidCharacter {
                position: 23,
                found: '0'
            })
        );
        assert_eq!(
            ActivationCode::parse("vvvvv-VVVVV-VVVVV-VTFVA"),
            Err(ActivationCodeError::InvalidCharacter {
                position: 1,
                found: 'v'
            })
        );
        assert_eq!(
            ActivationCode::parse("VVVVV-VVVVV-VVVVV-VTFVB"),
            Ok(ActivationCode("VVVVV-VVVVV-VVVVV-VTFVB".into()))
        );
        assert_eq!(
            ActivationCode::parse("VVVVV-VVVVV-VVVVV-VTFWA"),
            Err(ActivationCodeError::ChecksumMismatch)
        );
        // Multi-byte characters count as one, and never split a byte index.
        assert_eq!(
            ActivationCode::parse("ÄVVVV-VVVVV-VVVVV-VTFVA"),
            Err(ActivationCodeError::InvalidCharacter {
                position: 1,
                found: 'Ä'
            })
        );
    }

    #[test]
    fn serde_validates() {
        let code: ActivationCode = serde_json::from_str("\"LLLLL-LLLLL-LLLLL-LQJTA\"").unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"LLLLL-LLLLL-LLLLL-LQJTA\""
        );
        assert!(serde_json::from_str::<ActivationCode>("\"LLLLL-LLLLL-LLLLL-LQJTB\"").is_ok());
        assert!(serde_json::from_str::<ActivationCode>("\"LLLLL-LLLLL-LLLLL-LQJUA\"").is_err());
    }

    #[test]
    fn make_draws_ten_bytes() {
        let rng = SeededRandom::new(b"code");
        let code = ActivationCode::make(&rng);
        let again = ActivationCode::make(&SeededRandom::new(b"code"));
        assert_eq!(code, again);
        assert_eq!(ActivationCode::parse(code.as_str()), Ok(code));
    }

    proptest! {
        #[test]
        fn generate_then_parse(random in any::<[u8; 10]>()) {
            let code = ActivationCode::from_random_bytes(random);
            prop_assert_eq!(code.as_str().len(), ActivationCode::LENGTH);
            prop_assert!(code.as_str().ends_with(['A', 'Q']), "trailing bits are zero: {}", code);
            let parsed = ActivationCode::parse(code.as_str()).unwrap();
            prop_assert_eq!(&parsed.to_bytes()[..10], &random[..]);
            prop_assert_eq!(parsed, code);
        }

        #[test]
        fn one_changed_character_is_caught(random in any::<[u8; 10]>(), at in 0usize..19, to in 0u8..32) {
            // CRC-16 detects every single-symbol error in the 80 payload bits and the
            // significant checksum bits.
            let code = ActivationCode::from_random_bytes(random);
            let mut symbols: Vec<char> = code.as_str().chars().filter(|c| *c != '-').collect();
            let replacement = char::from(if to < 26 { b'A' + to } else { b'2' + to - 26 });
            prop_assume!(symbols[at] != replacement);
            symbols[at] = replacement;
            let text: String = symbols
                .chunks(5)
                .map(|group| group.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-");
            prop_assert_eq!(ActivationCode::parse(&text), Err(ActivationCodeError::ChecksumMismatch));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            if let Ok(code) = ActivationCode::parse(&text) {
                prop_assert_eq!(code.as_str(), text.as_str());
            }
        }

        #[test]
        fn code_shaped_text_never_panics(text in "[A-Z2-7a-z01 _-]{5}-[A-Z2-7]{5}-[A-Z2-7]{5}-[A-Z2-7-]{5}") {
            let _ = ActivationCode::parse(&text);
        }
    }
}
