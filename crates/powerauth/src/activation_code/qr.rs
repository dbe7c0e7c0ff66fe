//! What a QR code or deeplink carries: `ACTIVATION_CODE#ACTIVATION_SIGNATURE` with an
//! optional signature (digest §3.2), or `R:RECOVERY_CODE` on a recovery postcard (§16.2).

use super::{ActivationCode, ActivationCodeError};
use crate::encoding::{b64, b64_decode};
use crate::keys::{KeyPair, PublicKey};
use crate::recovery::{RECOVERY_QR_PREFIX, RecoveryCode};
use std::fmt;

/// Why a scanned text is not a QR payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrPayloadError {
    /// The code part is not a valid activation or recovery code; the inner error says why.
    #[error("invalid activation code: {0}")]
    InvalidCode(#[from] ActivationCodeError),
    /// A `#` with nothing after it. Likely cause: the QR code was generated without the
    /// `activationSignature` the server returned.
    #[error("the QR code has '#' after the code but no signature")]
    EmptySignature,
    /// The text after `#` is not standard, padded Base64. Likely cause: the signature was
    /// cut off, or URL-encoded (`%2B`, `%2F`, `%3D`) by whoever built the deeplink.
    #[error("the signature after '#' is not Base64")]
    SignatureNotBase64,
    /// An `R:` recovery payload with a `#` signature: recovery codes are never signed.
    #[error("a recovery QR code (R:...) must not carry a signature")]
    SignedRecoveryCode,
}

/// The code's signature does not verify with the master public key in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the signature does not match this application's master key: the code was issued for another application (check the mobile SDK configuration) or the QR code was altered"
)]
pub struct SignatureMismatch;

/// What [`ActivationQr::verify`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum SignatureCheck {
    /// The payload carried a signature and it verified.
    Verified,
    /// The payload carried no signature, which the protocol allows (a typed-in code).
    Unsigned,
}

/// `ACTIVATION_SIGNATURE`: DER ECDSA-SHA256 (`SEQUENCE { r, s }`), Base64 on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct ActivationSignature(Vec<u8>);

impl ActivationSignature {
    /// Wraps DER bytes as produced by [`PrivateKey::sign_ecdsa`].
    pub fn from_der(der: Vec<u8>) -> Self {
        Self(der)
    }

    /// Decodes the Base64 form (`activationSignature` of `/rest/v3/activation/init`).
    pub fn from_b64(text: &str) -> Result<Self, QrPayloadError> {
        if text.is_empty() {
            return Err(QrPayloadError::EmptySignature);
        }
        let der = b64_decode(text).map_err(|_| QrPayloadError::SignatureNotBase64)?;
        Ok(Self(der))
    }

    /// The DER bytes.
    pub fn as_der(&self) -> &[u8] {
        &self.0
    }

    /// The Base64 form.
    pub fn to_b64(&self) -> String {
        b64(&self.0)
    }
}

impl fmt::Debug for ActivationSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivationSignature({})", self.to_b64())
    }
}

/// An activation QR payload: the code and, when the server signed it, its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationQr {
    code: ActivationCode,
    signature: Option<ActivationSignature>,
}

impl ActivationQr {
    /// A payload from its parts.
    pub fn new(code: ActivationCode, signature: Option<ActivationSignature>) -> Self {
        Self { code, signature }
    }

    /// A payload signed with the application's master private key (server side).
    pub fn signed(
        code: ActivationCode,
        master: &KeyPair,
        rng: &dyn ring::rand::SecureRandom,
    ) -> Self {
        let signature = code.sign(master, rng);
        Self::new(code, Some(signature))
    }

    /// Parses `CODE` or `CODE#SIGNATURE`, as the mobile SDK's `OtpUtil::parseActivationCode`
    /// does: split at the first `#`, require non-empty Base64 after it, validate the code.
    /// The signature is not checked here: call [`ActivationQr::verify`].
    pub fn parse(text: &str) -> Result<Self, QrPayloadError> {
        let (code, signature) = match text.split_once('#') {
            Some((code, signature)) => (code, Some(ActivationSignature::from_b64(signature)?)),
            None => (text, None),
        };
        Ok(Self::new(ActivationCode::parse(code)?, signature))
    }

    /// The activation code.
    pub fn code(&self) -> &ActivationCode {
        &self.code
    }

    /// The signature, if the payload carried one.
    pub fn signature(&self) -> Option<&ActivationSignature> {
        self.signature.as_ref()
    }

    /// Checks the signature, if present, against `KEY_SERVER_MASTER_PUBLIC` from the SDK
    /// configuration. The client must stop on a mismatch; an unsigned payload is allowed
    /// and reported as [`SignatureCheck::Unsigned`].
    pub fn verify(&self, master_public: &PublicKey) -> Result<SignatureCheck, SignatureMismatch> {
        match &self.signature {
            Some(signature) => {
                self.code.verify_signature(signature, master_public)?;
                Ok(SignatureCheck::Verified)
            }
            None => Ok(SignatureCheck::Unsigned),
        }
    }
}

impl fmt::Display for ActivationQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.signature {
            Some(signature) => write!(f, "{}#{}", self.code, signature.to_b64()),
            None => write!(f, "{}", self.code),
        }
    }
}

/// Any payload a PowerAuth QR code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QrPayload {
    /// `CODE[#SIGNATURE]`: start an activation.
    Activation(ActivationQr),
    /// `R:CODE`: a recovery code, for an activation by recovery code and PUK.
    Recovery(RecoveryCode),
}

impl QrPayload {
    /// Parses a scanned text: `R:` starts a recovery payload, anything else is read as an
    /// activation payload.
    pub fn parse(text: &str) -> Result<Self, QrPayloadError> {
        if text.starts_with(RECOVERY_QR_PREFIX) {
            Ok(Self::Recovery(RecoveryCode::parse_qr(text)?))
        } else {
            Ok(Self::Activation(ActivationQr::parse(text)?))
        }
    }
}

impl fmt::Display for QrPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Activation(qr) => qr.fmt(f),
            Self::Recovery(code) => f.write_str(&code.to_qr()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeyPair;
    use crate::random::SeededRandom;
    use proptest::prelude::*;

    fn master(seed: &[u8]) -> KeyPair {
        KeyPair::make(&SeededRandom::new(seed))
    }

    #[test]
    fn unsigned_and_signed_payloads() {
        let key = master(b"master");
        let code = ActivationCode::parse("VVVVV-VVVVV-VVVVV-VTFVA").unwrap();
        let unsigned = ActivationQr::parse("VVVVV-VVVVV-VVVVV-VTFVA").unwrap();
        assert_eq!(unsigned.verify(&key.public), Ok(SignatureCheck::Unsigned));
        let signed = ActivationQr::signed(code, &key, &ring::rand::SystemRandom::new());
        let text = signed.to_string();
        let parsed = ActivationQr::parse(&text).unwrap();
        assert_eq!(parsed, signed);
        assert_eq!(parsed.verify(&key.public), Ok(SignatureCheck::Verified));
        assert_eq!(
            parsed.verify(&master(b"other").public),
            Err(SignatureMismatch)
        );
    }

    #[test]
    fn malformed_signatures() {
        let code = "VVVVV-VVVVV-VVVVV-VTFVA";
        assert_eq!(
            ActivationQr::parse(&format!("{code}#")),
            Err(QrPayloadError::EmptySignature)
        );
        assert_eq!(
            ActivationQr::parse(&format!("{code}#MEUC%2B")),
            Err(QrPayloadError::SignatureNotBase64)
        );
        assert_eq!(
            ActivationQr::parse(&format!("{code}#AAAA#AAAA")),
            Err(QrPayloadError::SignatureNotBase64)
        );
        assert_eq!(
            ActivationQr::parse("VVVVV-VVVVV-VVVVV-VTFWA#AAAA"),
            Err(QrPayloadError::InvalidCode(
                ActivationCodeError::ChecksumMismatch
            ))
        );
        // Not DER at all: parses (the SDK checks only Base64), fails verification.
        let qr = ActivationQr::parse(&format!("{code}#AAAA")).unwrap();
        assert_eq!(qr.verify(&master(b"m").public), Err(SignatureMismatch));
    }

    #[test]
    fn recovery_payloads() {
        let code = "VVVVV-VVVVV-VVVVV-VTFVA";
        let payload = QrPayload::parse(&format!("R:{code}")).unwrap();
        assert!(matches!(&payload, QrPayload::Recovery(c) if c.as_str() == code));
        assert_eq!(payload.to_string(), format!("R:{code}"));
        assert_eq!(
            QrPayload::parse(&format!("R:{code}#AAAA")),
            Err(QrPayloadError::SignedRecoveryCode)
        );
        assert!(matches!(
            QrPayload::parse(code),
            Ok(QrPayload::Activation(qr)) if qr.signature().is_none()
        ));
        assert!(QrPayload::parse(&format!("r:{code}")).is_err());
        assert!(QrPayload::parse(&format!("XR:{code}")).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn build_parse_verify(random in any::<[u8; 10]>(), seed in any::<[u8; 8]>()) {
            let key = master(&seed);
            let code = ActivationCode::from_random_bytes(random);
            let qr = ActivationQr::signed(code, &key, &ring::rand::SystemRandom::new());
            let parsed = ActivationQr::parse(&qr.to_string()).unwrap();
            prop_assert_eq!(&parsed, &qr);
            prop_assert_eq!(parsed.verify(&key.public), Ok(SignatureCheck::Verified));
            let payload = QrPayload::parse(&qr.to_string()).unwrap();
            prop_assert_eq!(payload, QrPayload::Activation(qr));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,120}") {
            if let Ok(payload) = QrPayload::parse(&text) {
                prop_assert_eq!(QrPayload::parse(&payload.to_string()), Ok(payload));
            }
        }
    }
}
