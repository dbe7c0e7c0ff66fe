//! P-256 multiplication by the generator `G` with a precomputed table.
//!
//! Every key pair the protocol makes (device and server keys, ECIES ephemeral keys,
//! temporary keys) is `k·G`. `p256` computes it like any other point multiplication: 252
//! doublings and 64 additions. With the multiples of `G` known in advance no doubling is
//! needed: write `k` as 64 four-bit digits `k = Σ dᵢ·16ⁱ`; then `k·G = Σ dᵢ·(16ⁱ·G)`, and
//! `dᵢ·(16ⁱ·G)` is read from a table of 64 × 15 points. That is 64 additions, and a key
//! pair takes 56 µs instead of 131 µs (`cargo bench -p powerauth`, `keypair_make`).
//!
//! The table holds projective points (92 kB): built once per process on first use by 960
//! additions, about half a millisecond. Affine points would make each addition a little
//! cheaper but cost a field inversion each to build (about 8 ms in all), which a one-shot
//! command making a single key pair would never win back.
//!
//! Constant time: each digit selects its point by scanning all 15 entries of its row with
//! `subtle`'s conditional assignment, and the additions are `p256`'s complete formulas
//! (a zero digit adds the identity, which they handle without a branch). No branch and no
//! memory address depends on the scalar.
//!
//! The result is checked against `p256`'s own `G · k` by property tests.

use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::subtle::{ConditionallySelectable, ConstantTimeEq};
use p256::{ProjectivePoint, Scalar};
use std::sync::OnceLock;

/// Four-bit digits: 64 of them cover a 256-bit scalar.
const WINDOWS: usize = 64;
/// Non-zero digit values 1..=15.
const ENTRIES: usize = 15;

/// `TABLE[i][j] = (j + 1)·16ⁱ·G`.
fn table() -> &'static [[ProjectivePoint; ENTRIES]] {
    static TABLE: OnceLock<Vec<[ProjectivePoint; ENTRIES]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut rows = Vec::with_capacity(WINDOWS);
        let mut base = ProjectivePoint::generator();
        for _ in 0..WINDOWS {
            let mut row = [base; ENTRIES];
            for j in 1..ENTRIES {
                row[j] = row[j - 1] + base;
            }
            // The next window's base is 16·base.
            base = row[ENTRIES - 1] + base;
            rows.push(row);
        }
        rows
    })
}

/// `scalar · G`, in constant time.
pub fn mul_generator(scalar: &Scalar) -> ProjectivePoint {
    // Big-endian bytes: byte 31 holds digits 0 (low nibble) and 1 (high nibble).
    let bytes = zeroize::Zeroizing::new(<[u8; 32]>::from(scalar.to_repr()));
    let table = table();
    let mut sum = ProjectivePoint::IDENTITY;
    for (window, row) in table.iter().enumerate() {
        let byte = bytes[31 - window / 2];
        let digit = if window % 2 == 0 {
            byte & 0x0f
        } else {
            byte >> 4
        };
        let mut selected = ProjectivePoint::IDENTITY;
        for (j, entry) in row.iter().enumerate() {
            selected.conditional_assign(entry, digit.ct_eq(&(j as u8 + 1)));
        }
        sum += selected;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::ops::Reduce;
    use proptest::prelude::*;

    fn reference(scalar: &Scalar) -> ProjectivePoint {
        ProjectivePoint::generator() * scalar
    }

    #[test]
    fn edge_scalars_match_p256() {
        let minus_one = -Scalar::ONE;
        let cases = [
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(15u64),
            Scalar::from(16u64),
            Scalar::from(u64::MAX),
            minus_one,
            minus_one - Scalar::ONE,
            // Every digit 15 (reduced modulo n): all rows pick their last entry.
            <Scalar as Reduce<p256::U256>>::reduce(p256::U256::MAX),
        ];
        for scalar in cases {
            assert_eq!(mul_generator(&scalar), reference(&scalar), "{scalar:?}");
        }
        assert_eq!(mul_generator(&Scalar::ZERO), ProjectivePoint::IDENTITY);
    }

    proptest! {
        #[test]
        fn random_scalars_match_p256(bytes in any::<[u8; 32]>()) {
            let scalar = <Scalar as Reduce<p256::U256>>::reduce_bytes(&bytes.into());
            prop_assert_eq!(mul_generator(&scalar), reference(&scalar));
        }

        #[test]
        fn sparse_scalars_match_p256(digit in 0u8..16, position in 0usize..64) {
            // One non-zero digit: exercises each table entry on its own.
            let mut bytes = [0u8; 32];
            bytes[31 - position / 2] = if position % 2 == 0 { digit } else { digit << 4 };
            let scalar = <Scalar as Reduce<p256::U256>>::reduce_bytes(&bytes.into());
            prop_assert_eq!(mul_generator(&scalar), reference(&scalar));
        }
    }
}
