//! RFC 6238 time-based one-time passwords, as PowerAuth Server's proximity check uses them
//! (digest §11.5, §16.7, §16.13), and the codes that carry such an OTP to the app.
//!
//! The server gives an operation a random seed, shows `TOTP(seed, now)` to the user (QR
//! code or deeplink), and accepts the current step and `N` previous ones when the app
//! sends the OTP back. Offline QR codes carry the TOTP as a line of their own.

mod proximity;

pub use proximity::{ProximityCode, ProximityCodeError};

use crate::hazmat::{constant_time_eq, hmac_sha256, hmac_sha512};

/// The HMAC behind the OTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TotpAlgorithm {
    /// HMAC-SHA256: what PowerAuth Server uses.
    HmacSha256,
    /// HMAC-SHA512: offered by Wultra's library and covered by the RFC vectors.
    HmacSha512,
}

/// TOTP parameters that cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The OTP length is outside 1..=8 (Wultra's `Totp` refuses longer codes).
    #[error("TOTP length {0} is outside 1..=8")]
    InvalidDigits(u8),
    /// A time step of zero seconds.
    #[error("TOTP step must be at least one second")]
    ZeroStep,
}

/// A TOTP generator and validator: algorithm, number of digits, step length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Totp {
    algorithm: TotpAlgorithm,
    digits: u8,
    step_seconds: u64,
}

/// How many past steps PowerAuth Server accepts for the proximity check by default.
pub const PROXIMITY_CHECK_BACKWARD_STEPS: u32 = 1;

impl Totp {
    /// PowerAuth Server's proximity check: HMAC-SHA256, 8 digits, 30-second steps.
    pub const PROXIMITY_CHECK: Totp = Totp {
        algorithm: TotpAlgorithm::HmacSha256,
        digits: 8,
        step_seconds: 30,
    };

    /// A TOTP with `digits` in 1..=8 and a step of at least one second.
    pub fn new(algorithm: TotpAlgorithm, digits: u8, step_seconds: u64) -> Result<Self, TotpError> {
        if !(1..=8).contains(&digits) {
            return Err(TotpError::InvalidDigits(digits));
        }
        if step_seconds == 0 {
            return Err(TotpError::ZeroStep);
        }
        Ok(Self {
            algorithm,
            digits,
            step_seconds,
        })
    }

    /// The number of digits.
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// The time step `T = floor(unix_seconds / step)`.
    pub fn step_at(&self, unix_seconds: u64) -> u64 {
        unix_seconds / self.step_seconds
    }

    /// The OTP for the step containing `unix_seconds`.
    pub fn generate(&self, key: &[u8], unix_seconds: u64) -> String {
        self.generate_at_step(key, self.step_at(unix_seconds))
    }

    /// The OTP for time step `step` (RFC 4226 dynamic truncation of `HMAC(key, BE64(step))`).
    pub fn generate_at_step(&self, key: &[u8], step: u64) -> String {
        let message = step.to_be_bytes();
        let hash: Vec<u8> = match self.algorithm {
            TotpAlgorithm::HmacSha256 => hmac_sha256(key, &message).to_vec(),
            TotpAlgorithm::HmacSha512 => hmac_sha512(key, &message).to_vec(),
        };
        let offset = usize::from(hash[hash.len() - 1] & 0x0f);
        let binary = u32::from_be_bytes([
            hash[offset] & 0x7f,
            hash[offset + 1],
            hash[offset + 2],
            hash[offset + 3],
        ]);
        let value = binary % 10u32.pow(u32::from(self.digits));
        format!("{value:0width$}", width = usize::from(self.digits))
    }

    /// The OTPs the server accepts at `unix_seconds`: the current step first, then
    /// `backward_steps` earlier ones.
    pub fn candidates(&self, key: &[u8], unix_seconds: u64, backward_steps: u32) -> Vec<String> {
        let current = self.step_at(unix_seconds);
        (0..=u64::from(backward_steps))
            // Java's long arithmetic wraps below step 0; so does this, identically.
            .map(|back| self.generate_at_step(key, current.wrapping_sub(back)))
            .collect()
    }

    /// Whether `otp` is one of the [`Self::candidates`]; compared in constant time. An OTP
    /// of the wrong length is invalid.
    pub fn validate(&self, otp: &str, key: &[u8], unix_seconds: u64, backward_steps: u32) -> bool {
        if otp.len() != usize::from(self.digits) {
            return false;
        }
        self.candidates(key, unix_seconds, backward_steps)
            .iter()
            .any(|candidate| constant_time_eq(candidate.as_bytes(), otp.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked() {
        assert_eq!(
            Totp::new(TotpAlgorithm::HmacSha256, 9, 30),
            Err(TotpError::InvalidDigits(9))
        );
        assert_eq!(
            Totp::new(TotpAlgorithm::HmacSha256, 0, 30),
            Err(TotpError::InvalidDigits(0))
        );
        assert_eq!(
            Totp::new(TotpAlgorithm::HmacSha256, 6, 0),
            Err(TotpError::ZeroStep)
        );
    }

    #[test]
    fn accepts_the_previous_step_only_when_allowed() {
        let totp = Totp::PROXIMITY_CHECK;
        let key = [7u8; 16];
        let earlier = totp.generate(&key, 1_000_000);
        assert!(totp.validate(&earlier, &key, 1_000_000, 0));
        assert!(totp.validate(&earlier, &key, 1_000_030, 1));
        assert!(!totp.validate(&earlier, &key, 1_000_030, 0));
        assert!(!totp.validate(&earlier, &key, 1_000_060, 1));
        assert!(!totp.validate(&earlier[1..], &key, 1_000_000, 1));
        assert_eq!(totp.candidates(&key, 1_000_030, 1)[1], earlier);
    }

    #[test]
    fn digits_are_zero_padded() {
        let totp = Totp::new(TotpAlgorithm::HmacSha256, 8, 30).unwrap();
        assert!(
            (0..200)
                .map(|t| totp.generate(b"k", t * 30))
                .all(|otp| otp.len() == 8)
        );
    }
}
