//! The recovery PUK ("personal unblocking key"): 10 decimal digits, spent one at a time in
//! the order printed on the postcard.

use crate::hazmat::{aes_cbc_pkcs7_encrypt, constant_time_eq};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Why a text is not a PUK. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PukError {
    /// Not 10 characters. Likely cause: a digit missed or doubled, or spaces copied along.
    #[error("a PUK has 10 digits, this text has {found} characters")]
    WrongLength {
        /// How many characters the text has.
        found: usize,
    },
    /// A character that is not a digit 0-9.
    #[error("character {found:?} at position {position} is not a digit")]
    NotADigit {
        /// The 1-based character position.
        position: usize,
        /// The offending character.
        found: char,
    },
}

/// A recovery PUK: 10 decimal digits. Zeroized on drop; `Debug` never prints it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Puk(String);

impl Puk {
    /// The number of digits.
    pub const LENGTH: usize = 10;

    /// Validates a typed PUK: exactly 10 ASCII digits (mobile SDK `validateRecoveryPuk`).
    pub fn parse(text: &str) -> Result<Self, PukError> {
        let found = text.chars().count();
        if found != Self::LENGTH {
            return Err(PukError::WrongLength { found });
        }
        if let Some((index, found)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(PukError::NotADigit {
                position: index + 1,
                found,
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// The digits, e.g. for the layer-1 `identityAttributes.puk` of a recovery activation.
    pub fn expose_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Puk {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for Puk {}

impl fmt::Debug for Puk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Puk(<redacted>)")
    }
}

/// `PUK_i`: Java's `KeyGenerator.deriveSecretKey(base, BE64(index))` (AES-CBC-PKCS7, zero
/// IV, so one block), its last 8 bytes, 40 bits of them, modulo 10^10.
pub(super) fn derive_puk(puk_base_key: &[u8; 16], index: i64) -> Puk {
    let block = Zeroizing::new(aes_cbc_pkcs7_encrypt(
        puk_base_key,
        &[0; 16],
        &index.to_be_bytes(),
    ));
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&block[8..16]);
    let value = (u64::from_be_bytes(tail) & 0xFF_FFFF_FFFF) % 10_000_000_000;
    tail.zeroize();
    Puk(format!("{value:010}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn puk_format() {
        assert_eq!(Puk::parse("0123456789").unwrap().expose_str(), "0123456789");
        assert_eq!(
            Puk::parse("012345678"),
            Err(PukError::WrongLength { found: 9 })
        );
        assert_eq!(
            Puk::parse("01234x6789"),
            Err(PukError::NotADigit {
                position: 6,
                found: 'x'
            })
        );
        assert_eq!(
            Puk::parse("０123456789"),
            Err(PukError::NotADigit {
                position: 1,
                found: '０'
            })
        );
        assert_eq!(
            format!("{:?}", Puk::parse("0123456789").unwrap()),
            "Puk(<redacted>)"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_puk_text_never_panics(text in ".{0,16}") {
            if let Ok(puk) = Puk::parse(&text) {
                prop_assert_eq!(puk.expose_str(), text.as_str());
            }
        }
    }
}
