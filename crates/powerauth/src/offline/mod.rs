//! Offline signatures (digest §5.7, §16.13): the server signs operation data into a QR
//! code, the app verifies it, and the user retypes a short decimal signature into the
//! web page, which the server verifies with the secret `offline`.
//!
//! Client: [`OfflineQr::parse`] → [`OfflineQr::verify`] → [`compute_offline_signature`]
//! → [`display_signature`]. Server: [`OfflinePayload::sign`], then
//! [`signature_from_display`] and [`verify_offline_signature`].

mod qr;

pub use qr::{
    OfflinePayload, OfflineQr, OfflineQrError, QrFlags, SigningKeyKind, operation_qr_data,
};

use crate::counter::CtrData;
use crate::encoding::{b64, b64_decode};
use crate::signature::{
    ComponentLength, FactorKeys, OfflineOptions, RequestData, SignatureError, SignatureFormat,
    SignatureType, Verified, Verifier, compute_signature,
};

/// The resource id every offline operation signature uses.
pub const OFFLINE_URI_ID: &str = "/operation/authorize/offline";

/// Client side: the decimal offline signature over the QR's operation (8 digits per
/// factor), advancing `ctr_data`. PowerAuth Server accepts `possession_knowledge`, and
/// `possession_biometry` when the QR's `B` flag allows it.
pub fn compute_offline_signature(
    keys: &FactorKeys<'_>,
    signature_type: SignatureType,
    ctr_data: &mut CtrData,
    qr: &OfflineQr,
) -> Result<String, SignatureError> {
    let base = qr.request_data().with_offline_secret();
    let format = SignatureFormat::Decimal(ComponentLength::DEFAULT);
    compute_signature(keys, signature_type, ctr_data, &base, format)
}

/// How the app shows a signature for retyping: each 8-digit component as two groups of
/// four, e.g. `12345678-90123456` → `1234-5678-9012-3456`. Other components stay as
/// they are.
pub fn display_signature(signature: &str) -> String {
    signature
        .split('-')
        .map(|component| match component.split_at_checked(4) {
            Some((head, tail)) if component.len() == 8 => format!("{head}-{tail}"),
            _ => component.to_string(),
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// What the user typed back into the standard form: dashes and whitespace dropped, then
/// 8, 16 or 24 digits regrouped by eight (`1234-5678-9012-3456` → `12345678-90123456`).
pub fn signature_from_display(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .collect();
    if !matches!(digits.len(), 8 | 16 | 24) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let groups: Vec<&str> = (0..digits.len())
        .step_by(8)
        .filter_map(|i| digits.get(i..i + 8))
        .collect();
    Some(groups.join("-"))
}

/// `REQUEST_DATA` whose last part is not Base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineDataError {
    /// The text after the last `&` is not Base64: `data` was not built as
    /// `POST&B64(uriId)&nonce&B64(body)`.
    #[error("the body part of the offline request data is not Base64")]
    BodyNotBase64,
}

/// The request data with a proximity TOTP appended to its body, as PowerAuth Server
/// builds it: the last `&`-part is decoded, `"&" + totp` appended, and re-encoded.
/// (Trailing empty parts are dropped first, as Java's `split("&")` does.)
pub fn request_data_with_totp(
    request_data: &RequestData,
    totp: &str,
) -> Result<RequestData, OfflineDataError> {
    let trimmed = request_data.as_str().trim_end_matches('&');
    let (head, last) = match trimmed.rsplit_once('&') {
        Some((head, last)) => (Some(head), last),
        None => (None, trimmed),
    };
    let body = b64_decode(last).map_err(|_| OfflineDataError::BodyNotBase64)?;
    let body = format!("{}&{totp}", String::from_utf8_lossy(&body));
    Ok(RequestData::from_received(match head {
        Some(head) => format!("{head}&{}", b64(body)),
        None => b64(body),
    }))
}

/// Server side, `/rest/v3/signature/offline/verify`: without a proximity check, one
/// look-ahead pass over the data; with one, a pass per accepted TOTP (now first, then
/// older, as from [`crate::totp::Totp::candidates`]), the first match winning.
pub fn verify_offline_signature(
    verifier: &Verifier<'_>,
    ctr_data: &CtrData,
    signature: &str,
    request_data: &RequestData,
    options: OfflineOptions,
    proximity_otps: &[String],
) -> Result<Option<Verified>, OfflineDataError> {
    if proximity_otps.is_empty() {
        let base = request_data.with_offline_secret();
        return Ok(verifier.verify_offline(ctr_data, signature, &base, options));
    }
    for otp in proximity_otps {
        let base = request_data_with_totp(request_data, otp)?.with_offline_secret();
        if let Some(found) = verifier.verify_offline(ctr_data, signature, &base, options) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{ActivationKeys, KeyPair, SymmetricKey};
    use crate::random::SeededRandom;
    use crate::totp::Totp;
    use proptest::prelude::*;

    const OPERATION_ID: &str = "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6";
    const OPERATION_DATA: &str = "A1*A100CZK*ICZ2730300000001165254011*D20180425";

    fn qr_data(flags: QrFlags) -> String {
        operation_qr_data(
            OPERATION_ID,
            "Payment",
            "Please\nconfirm \\ pay",
            OPERATION_DATA,
            flags,
        )
    }

    #[test]
    fn server_builds_client_parses_and_verifies() {
        let rng = ring::rand::SystemRandom::new();
        let seeded = SeededRandom::new(b"offline");
        let master = KeyPair::make(&seeded);
        let server = KeyPair::make(&seeded);
        let flags = QrFlags {
            biometry_allowed: true,
            fraud_warning: true,
            ..Default::default()
        };
        for (kind, key) in [
            (SigningKeyKind::Master, &master),
            (SigningKeyKind::Personalized, &server),
        ] {
            for totp in [None, Some("12345678".to_string())] {
                let payload = OfflinePayload::new(qr_data(flags), totp.clone(), &seeded);
                let text = payload.sign(kind, key, &rng);
                let qr = OfflineQr::parse(&text).unwrap();
                assert_eq!(qr.verify(&master.public, &server.public), Ok(()));
                assert_eq!(qr.signing_key(), kind);
                assert_eq!(qr.operation_id(), OPERATION_ID);
                assert_eq!(qr.title(), "Payment");
                assert_eq!(qr.message(), "Please\nconfirm \\ pay");
                assert_eq!(qr.operation_data(), OPERATION_DATA);
                assert_eq!(qr.flags(), flags);
                assert_eq!(qr.totp(), totp.as_deref());
                assert_eq!(qr.nonce(), payload.nonce());
                assert!(!qr.is_newer_format());
                assert_eq!(qr.text(), text);
                let swapped = qr.verify(&server.public, &master.public);
                assert_eq!(swapped, Err(OfflineQrError::SignatureInvalid));
                let tampered = OfflineQr::parse(&text.replace("A100CZK", "A900CZK")).unwrap();
                assert_eq!(
                    tampered.verify(&master.public, &server.public),
                    Err(OfflineQrError::SignatureInvalid)
                );
            }
        }
    }

    #[test]
    fn layout_errors() {
        use OfflineQrError as E;
        let nonce = b64([1u8; 16]);
        let sig = b64([2u8; 70]);
        let text = |id: &str, n: &str, s: &str| format!("{id}\nT\nM\nA1\nB\n{n}\n{s}");
        assert!(OfflineQr::parse(&text("id", &nonce, &format!("1{sig}"))).is_ok());
        assert_eq!(OfflineQr::parse("a\nb"), Err(E::TooFewLines(2)));
        assert_eq!(
            OfflineQr::parse(&text("", &nonce, &format!("1{sig}"))),
            Err(E::MissingOperationId)
        );
        assert_eq!(
            OfflineQr::parse(&text("id", &nonce, "")),
            Err(E::MissingSignature)
        );
        assert_eq!(
            OfflineQr::parse(&text("id", &nonce, &format!("2{sig}"))),
            Err(E::UnknownSigningKey)
        );
        assert_eq!(
            OfflineQr::parse(&text("id", &nonce, "1AAAA")),
            Err(E::InvalidSignatureEncoding)
        );
        assert_eq!(
            OfflineQr::parse(&text("id", "AAAA", &format!("0{sig}"))),
            Err(E::InvalidNonce)
        );
        let newer = format!("id\nT\nM\nA1\nB\n87654321\nextra\n{nonce}\n0{sig}");
        let qr = OfflineQr::parse(&newer).unwrap();
        assert!(qr.is_newer_format());
        assert_eq!(qr.totp(), Some("87654321"));
    }

    #[test]
    fn offline_signature_with_proximity_check_verifies() {
        let keys = ActivationKeys::derive(&SymmetricKey::from_bytes([8; 16]));
        let seed = [5u8; 16];
        let now = 1_700_000_000;
        let totp = Totp::PROXIMITY_CHECK;
        // The QR was made one step ago; the server now accepts that step and the current.
        let shown = totp.generate(&seed, now - 30);
        let payload = OfflinePayload::new(
            qr_data(QrFlags::default()),
            Some(shown),
            &SeededRandom::new(b"n"),
        );
        let server_keys = KeyPair::make(&SeededRandom::new(b"server"));
        let qr = OfflineQr::parse(&payload.sign(
            SigningKeyKind::Personalized,
            &server_keys,
            &ring::rand::SystemRandom::new(),
        ))
        .unwrap();

        let start = CtrData::from_bytes([6; 16]);
        let mut client_ctr = start.clone();
        let signature = compute_offline_signature(
            &FactorKeys::from(&keys),
            SignatureType::PossessionKnowledge,
            &mut client_ctr,
            &qr,
        )
        .unwrap();
        let typed = display_signature(&signature);
        assert_eq!(typed.len(), 19);
        let entered = signature_from_display(&typed).unwrap();
        assert_eq!(entered, signature);

        // The backend's data has no TOTP; PowerAuth Server appends each candidate.
        let body = format!("{OPERATION_ID}&{OPERATION_DATA}");
        let data = RequestData::new("POST", OFFLINE_URI_ID, payload.nonce(), body.as_bytes());
        let verifier = Verifier::new(FactorKeys::from(&keys));
        let candidates = totp.candidates(&seed, now, 1);
        let found = verify_offline_signature(
            &verifier,
            &start,
            &entered,
            &data,
            OfflineOptions::default(),
            &candidates,
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.next_ctr_data, client_ctr);
        let too_late = totp.candidates(&seed, now + 30, 1);
        assert_eq!(
            verify_offline_signature(
                &verifier,
                &start,
                &entered,
                &data,
                OfflineOptions::default(),
                &too_late
            ),
            Ok(None)
        );
        assert_eq!(
            verify_offline_signature(
                &verifier,
                &start,
                &entered,
                &data,
                OfflineOptions::default(),
                &[]
            ),
            Ok(None)
        );
    }

    #[test]
    fn totp_is_appended_to_the_decoded_body() {
        let data = RequestData::new("POST", "/x", &[0; 16], b"id&A1");
        let with = request_data_with_totp(&data, "1234").unwrap();
        assert_eq!(
            with,
            RequestData::new("POST", "/x", &[0; 16], b"id&A1&1234")
        );
        let bad = RequestData::from_received("POST&x&y&%%%");
        assert_eq!(
            request_data_with_totp(&bad, "1"),
            Err(OfflineDataError::BodyNotBase64)
        );
    }

    proptest! {
        #[test]
        fn display_round_trips(components in prop::collection::vec("[0-9]{8}", 1..=3)) {
            let signature = components.join("-");
            prop_assert_eq!(signature_from_display(&display_signature(&signature)), Some(signature));
        }
    }
}
