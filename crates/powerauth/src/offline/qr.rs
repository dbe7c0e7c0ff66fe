//! The offline QR code: PowerAuth Server's signed `offlineData` (digest §5.7, §16.13) in
//! the mobile-token line layout (enrollment-server `Offline-Signatures-QR-Code.md`).
//!
//! ```text
//! OPERATION_ID \n TITLE \n MESSAGE \n OPERATION_DATA \n FLAGS \n [TOTP \n] NONCE_B64 \n
//! KEY_INDICATOR ‖ B64(DER-ECDSA(every byte before the Base64 signature))
//! ```
//! Lines added by newer formats sit before the nonce; the nonce and the signature are
//! always the last two lines.

use super::OFFLINE_URI_ID;
use crate::encoding::{b64, b64_decode, b64_decode_array};
use crate::keys::{KeyPair, PublicKey};
use crate::random::RandomSource;
use crate::signature::RequestData;

/// Which server key signed the QR data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningKeyKind {
    /// `0`: `KEY_SERVER_MASTER_PRIVATE` (non-personalized data); verify with the master
    /// public key from the SDK configuration.
    Master,
    /// `1`: `KEY_SERVER_PRIVATE` of the activation (personalized data); verify with
    /// `KEY_SERVER_PUBLIC`.
    Personalized,
}

impl SigningKeyKind {
    /// The indicator character.
    pub fn indicator(self) -> char {
        match self {
            Self::Master => '0',
            Self::Personalized => '1',
        }
    }
}

/// The `FLAGS` line: one character per flag, in any order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QrFlags {
    /// `B`: a 2FA signature with biometry is allowed.
    pub biometry_allowed: bool,
    /// `X`: the approve and reject buttons are swapped.
    pub flip_buttons: bool,
    /// `F`: show a fraud warning.
    pub fraud_warning: bool,
    /// `C`: refuse approval during a phone call.
    pub block_when_on_call: bool,
}

impl QrFlags {
    /// Reads a flags line; unknown characters are ignored.
    pub fn parse(line: &str) -> Self {
        Self {
            biometry_allowed: line.contains('B'),
            flip_buttons: line.contains('X'),
            fraud_warning: line.contains('F'),
            block_when_on_call: line.contains('C'),
        }
    }

    /// The flags line, e.g. `"BF"`.
    pub fn to_line(self) -> String {
        [
            (self.biometry_allowed, 'B'),
            (self.flip_buttons, 'X'),
            (self.fraud_warning, 'F'),
            (self.block_when_on_call, 'C'),
        ]
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, c)| c)
        .collect()
    }
}

/// Why a scanned text is not a usable offline QR code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineQrError {
    /// Fewer than 7 lines: not an offline operation QR (perhaps an activation code).
    #[error("an offline QR code has at least 7 lines, this one has {0}")]
    TooFewLines(usize),
    /// The first line, the operation id, is empty.
    #[error("the operation id line is empty")]
    MissingOperationId,
    /// The last line is empty: the QR was cut off.
    #[error("the signature line is empty")]
    MissingSignature,
    /// The signature line starts with neither `0` nor `1`.
    #[error("the signature line does not start with a key indicator 0 or 1")]
    UnknownSigningKey,
    /// The signature is not Base64 of 64 to 255 bytes (the mobile SDK's bounds).
    #[error("the ECDSA signature is not Base64 of a plausible length")]
    InvalidSignatureEncoding,
    /// The nonce line is not Base64 of 16 bytes.
    #[error("the nonce line is not Base64 of 16 bytes")]
    InvalidNonce,
    /// The ECDSA signature does not verify: forged or altered data, or the wrong key
    /// (another activation's, another application's master key).
    #[error("the QR data signature does not verify")]
    SignatureInvalid,
}

/// A parsed offline QR code. Parsing checks the layout only; call [`OfflineQr::verify`]
/// before showing or signing anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflineQr {
    text: String,
    signature_start: usize,
    title: String,
    message: String,
    flags: QrFlags,
    totp: Option<String>,
    nonce: [u8; 16],
    signing_key: SigningKeyKind,
    ecdsa_signature: Vec<u8>,
}

/// The smallest layout: five data lines, nonce, signature.
const MIN_LINES: usize = 7;
/// Lines in the current layout with a TOTP; more means a newer format.
const CURRENT_LINES: usize = 8;

impl OfflineQr {
    /// Parses the scanned text (lines separated by `\n`).
    pub fn parse(text: &str) -> Result<Self, OfflineQrError> {
        let lines: Vec<&str> = text.split('\n').collect();
        let (signature_line, nonce_line) = match lines[..] {
            [.., nonce, signature] if lines.len() >= MIN_LINES => (signature, nonce),
            _ => return Err(OfflineQrError::TooFewLines(lines.len())),
        };
        if lines[0].is_empty() {
            return Err(OfflineQrError::MissingOperationId);
        }
        let mut signature_chars = signature_line.chars();
        let signing_key = match signature_chars.next() {
            None => return Err(OfflineQrError::MissingSignature),
            Some('0') => SigningKeyKind::Master,
            Some('1') => SigningKeyKind::Personalized,
            Some(_) => return Err(OfflineQrError::UnknownSigningKey),
        };
        let signature_b64 = signature_chars.as_str();
        let ecdsa_signature = b64_decode(signature_b64)
            .ok()
            .filter(|s| (64..=255).contains(&s.len()))
            .ok_or(OfflineQrError::InvalidSignatureEncoding)?;
        let nonce = b64_decode_array::<16>(nonce_line).map_err(|_| OfflineQrError::InvalidNonce)?;
        Ok(Self {
            text: text.to_string(),
            signature_start: text.len() - signature_b64.len(),
            title: unescape(lines[1]),
            message: unescape(lines[2]),
            flags: QrFlags::parse(lines[4]),
            totp: (lines.len() > MIN_LINES).then(|| lines[5].to_string()),
            nonce,
            signing_key,
            ecdsa_signature,
        })
    }

    /// Verifies the ECDSA signature with the key its indicator names.
    pub fn verify(
        &self,
        master_public_key: &PublicKey,
        server_public_key: &PublicKey,
    ) -> Result<(), OfflineQrError> {
        let key = match self.signing_key {
            SigningKeyKind::Master => master_public_key,
            SigningKeyKind::Personalized => server_public_key,
        };
        key.verify_ecdsa(self.signed_bytes(), &self.ecdsa_signature)
            .map_err(|_| OfflineQrError::SignatureInvalid)
    }

    /// The scanned text, unchanged.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every byte the ECDSA signature covers: the text up to and including the indicator.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.text.as_bytes()[..self.signature_start]
    }

    fn line(&self, index: usize) -> &str {
        self.text.split('\n').nth(index).unwrap_or("")
    }

    /// Line 1: the operation id.
    pub fn operation_id(&self) -> &str {
        self.line(0)
    }

    /// Line 2: the title, with `\n` and `\\` escapes resolved.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Line 3: the message, with `\n` and `\\` escapes resolved.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Line 4: the operation data string (digest §11.4), exactly as signed.
    pub fn operation_data(&self) -> &str {
        self.line(3)
    }

    /// Line 5: the flags.
    pub fn flags(&self) -> QrFlags {
        self.flags
    }

    /// Line 6 when the code has more than 7 lines: the proximity-check TOTP.
    pub fn totp(&self) -> Option<&str> {
        self.totp.as_deref()
    }

    /// The nonce the offline signature uses.
    pub fn nonce(&self) -> &[u8; 16] {
        &self.nonce
    }

    /// Which key signed the data.
    pub fn signing_key(&self) -> SigningKeyKind {
        self.signing_key
    }

    /// Whether the code has lines this parser does not know (a newer format); the
    /// mobile SDK proceeds but may warn.
    pub fn is_newer_format(&self) -> bool {
        self.text.split('\n').count() > CURRENT_LINES
    }

    /// The offline signature's body: `OPERATION_ID & OPERATION_DATA [& TOTP]`.
    pub fn signed_body(&self) -> String {
        match &self.totp {
            Some(totp) => format!("{}&{}&{totp}", self.operation_id(), self.operation_data()),
            None => format!("{}&{}", self.operation_id(), self.operation_data()),
        }
    }

    /// `REQUEST_DATA` of the offline signature: `POST`, `/operation/authorize/offline`,
    /// the QR nonce, [`Self::signed_body`].
    pub fn request_data(&self) -> RequestData {
        RequestData::new(
            "POST",
            OFFLINE_URI_ID,
            &self.nonce,
            self.signed_body().as_bytes(),
        )
    }
}

/// `\n` → newline, `\\` → backslash, read left to right; any other backslash stays.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// Escapes a title or message for its QR line.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// The five mobile-token data lines, title and message escaped. Pass the result as
/// `data` to [`OfflinePayload`].
pub fn operation_qr_data(
    operation_id: &str,
    title: &str,
    message: &str,
    operation_data: &str,
    flags: QrFlags,
) -> String {
    format!(
        "{operation_id}\n{}\n{}\n{operation_data}\n{}",
        escape(title),
        escape(message),
        flags.to_line()
    )
}

/// Server side: the data of one offline QR code before signing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfflinePayload {
    data: String,
    totp: Option<String>,
    nonce: [u8; 16],
}

impl OfflinePayload {
    /// `data` (e.g. [`operation_qr_data`]) with an optional proximity TOTP and a fresh
    /// nonce from `rng`.
    pub fn new(data: impl Into<String>, totp: Option<String>, rng: &dyn RandomSource) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill(&mut nonce);
        Self::with_nonce(data, totp, nonce)
    }

    /// The same with an explicit nonce (the personalized endpoint accepts one).
    pub fn with_nonce(data: impl Into<String>, totp: Option<String>, nonce: [u8; 16]) -> Self {
        Self {
            data: data.into(),
            totp,
            nonce,
        }
    }

    /// The nonce, returned to the caller separately as `nonce` for later verification.
    pub fn nonce(&self) -> &[u8; 16] {
        &self.nonce
    }

    /// `offlineData`: `DATA \n [TOTP \n] NONCE \n IND ‖ B64(ECDSA(… IND))`, signed with
    /// the master private key ([`SigningKeyKind::Master`]) or the activation's server
    /// private key ([`SigningKeyKind::Personalized`]).
    pub fn sign(
        &self,
        kind: SigningKeyKind,
        key_pair: &KeyPair,
        rng: &dyn ring::rand::SecureRandom,
    ) -> String {
        let mut signed = self.data.clone();
        if let Some(totp) = &self.totp {
            signed.push('\n');
            signed.push_str(totp);
        }
        signed.push('\n');
        signed.push_str(&b64(self.nonce));
        signed.push('\n');
        signed.push(kind.indicator());
        let signature = key_pair.sign_ecdsa(signed.as_bytes(), rng);
        signed.push_str(&b64(signature));
        signed
    }
}
