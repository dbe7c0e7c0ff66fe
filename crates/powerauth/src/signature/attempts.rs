//! PowerAuth Server's failed-attempt policy around signature verification, as pure
//! functions (digest §5.6, §14 #5, §16.12).
//!
//! The order on the server, for an `ACTIVE` activation:
//! 1. [`FailedAttempts::is_exhausted`]: force `BLOCKED` and answer invalid, no check.
//! 2. A wrong, unsupported or foreign application key: [`FailedAttempts::after_invalid`]
//!    without verifying, and no `remainingAttempts` in the answer.
//! 3. Verify; then [`FailedAttempts::after_valid`] or [`FailedAttempts::after_invalid`].
//!
//! A signature type the endpoint does not allow is refused by the RESTful layer before
//! PowerAuth Server sees it: no attempt counted, server counter unchanged, while the
//! client has already advanced its own counter.

use super::factors::SignatureType;

/// PowerAuth Server's default `signatureMaxFailedAttempts`.
pub const DEFAULT_MAX_FAILED_ATTEMPTS: u32 = 5;

/// Whether a failed signature of this type counts against the activation: everything
/// but `possession` does (`notPossessionFactorSignature`). For offline verification
/// pass the first type tried, `possession_knowledge`.
pub fn counts_as_attempt(signature_type: SignatureType) -> bool {
    signature_type != SignatureType::Possession
}

/// An activation's `failedAttempts` and `maxFailedAttempts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailedAttempts {
    /// Failed attempts so far.
    pub failed: u32,
    /// Attempts allowed before the activation is blocked.
    pub max: u32,
}

/// The state after a failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct AfterInvalid {
    /// The counters to store.
    pub attempts: FailedAttempts,
    /// Whether the activation becomes `BLOCKED` with reason `MAX_FAILED_ATTEMPTS`.
    pub block: bool,
}

impl FailedAttempts {
    /// A fresh activation: no failures, `max` allowed.
    pub fn new(max: u32) -> Self {
        Self { failed: 0, max }
    }

    /// `failed >= max` on an `ACTIVE` activation: the server blocks it and answers
    /// invalid without checking the signature.
    pub fn is_exhausted(self) -> bool {
        self.failed >= self.max
    }

    /// `remainingAttempts` as reported after a failure (`max - failed`, never negative).
    /// After a success the server reports `max`.
    pub fn remaining(self) -> u32 {
        self.max.saturating_sub(self.failed)
    }

    /// A valid signature resets the count, unless it was possession-only.
    pub fn after_valid(self, used: SignatureType) -> Self {
        if counts_as_attempt(used) {
            Self { failed: 0, ..self }
        } else {
            self
        }
    }

    /// A failed signature (or a bad application key) of type `attempted`.
    pub fn after_invalid(self, attempted: SignatureType) -> AfterInvalid {
        let attempts = if counts_as_attempt(attempted) {
            Self {
                failed: self.failed.saturating_add(1),
                ..self
            }
        } else {
            self
        };
        AfterInvalid {
            attempts,
            block: attempts.remaining() == 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignatureType::*;

    #[test]
    fn five_wrong_pins_block() {
        let mut attempts = FailedAttempts::new(DEFAULT_MAX_FAILED_ATTEMPTS);
        for expected_remaining in (0..5).rev() {
            let after = attempts.after_invalid(PossessionKnowledge);
            assert_eq!(after.attempts.remaining(), expected_remaining);
            assert_eq!(after.block, expected_remaining == 0);
            attempts = after.attempts;
        }
        assert!(attempts.is_exhausted());
    }

    #[test]
    fn possession_failures_do_not_count() {
        let attempts = FailedAttempts { failed: 4, max: 5 };
        let after = attempts.after_invalid(Possession);
        assert_eq!(
            after,
            AfterInvalid {
                attempts,
                block: false
            }
        );
    }

    #[test]
    fn success_resets_except_for_possession() {
        let attempts = FailedAttempts { failed: 3, max: 5 };
        assert_eq!(attempts.after_valid(PossessionBiometry).failed, 0);
        assert_eq!(attempts.after_valid(Possession).failed, 3);
    }

    #[test]
    fn zero_max_blocks_at_once() {
        assert!(FailedAttempts::new(0).is_exhausted());
    }
}
