//! One device as an encrypted, versioned bundle, to move it between machines or stores.
//!
//! A bundle is a [sealed envelope](crate::sealed) (magic `TSIMBNDL`) whose plaintext is
//! `u32 length | JSON {"id", "record"} | secret bytes`. The passphrase is stretched with
//! Argon2id; a wrong passphrase and an altered bundle are told apart.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::sealed::{Envelope, SealingKey};
use crate::{DeviceId, Error, KdfParams, Passphrase, Secret};

const MAGIC: &[u8; 8] = b"TSIMBNDL";
const TARGET: &str = "device bundle";

/// What a bundle carries.
pub(crate) struct Contents {
    pub(crate) id: DeviceId,
    pub(crate) record: serde_json::Value,
    pub(crate) secret: Secret,
}

#[derive(Serialize, Deserialize)]
struct Header {
    id: DeviceId,
    record: serde_json::Value,
}

/// Seals `contents` under `passphrase`.
pub(crate) fn seal(
    contents: &Contents,
    passphrase: &Passphrase,
    kdf: KdfParams,
) -> Result<Vec<u8>, Error> {
    let header = serde_json::to_vec(&Header {
        id: contents.id.clone(),
        record: contents.record.clone(),
    })
    .map_err(|error| Error::Record {
        id: contents.id.clone(),
        reason: error.to_string(),
    })?;
    let header_len = u32::try_from(header.len()).map_err(|_| Error::Record {
        id: contents.id.clone(),
        reason: "the record is larger than 4 GiB".to_owned(),
    })?;
    let secret = contents.secret.expose_secret();
    let mut plaintext = Zeroizing::new(Vec::with_capacity(4 + header.len() + secret.len()));
    plaintext.extend_from_slice(&header_len.to_be_bytes());
    plaintext.extend_from_slice(&header);
    plaintext.extend_from_slice(secret);
    SealingKey::make(passphrase, kdf)?.seal_envelope(MAGIC, &[], &plaintext)
}

/// Opens a bundle.
pub(crate) fn open(bundle: &[u8], passphrase: &Passphrase) -> Result<Contents, Error> {
    let (_, plaintext) = Envelope::parse(bundle, MAGIC, TARGET)?.open(passphrase, &[], TARGET)?;
    let (length, rest) = plaintext.split_at_checked(4).ok_or_else(malformed_error)?;
    let length = u32::from_be_bytes(length.try_into().map_err(|_| malformed_error())?);
    let (header, secret) = usize::try_from(length)
        .ok()
        .and_then(|length| rest.split_at_checked(length))
        .ok_or_else(malformed_error)?;
    let header: Header = serde_json::from_slice(header).map_err(|_| malformed_error())?;
    Ok(Contents {
        id: header.id,
        record: header.record,
        secret: Secret::new(secret.to_vec()),
    })
}

fn malformed_error() -> Error {
    Error::Malformed {
        target: TARGET,
        reason: "its contents are not laid out as a device bundle",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealed::tests::fast;

    fn contents() -> Contents {
        Contents {
            id: DeviceId::parse("alice").unwrap(),
            record: serde_json::json!({"name": "Alice", "version": "3.3"}),
            secret: Secret::new(b"device-private-key".to_vec()),
        }
    }

    #[test]
    fn round_trip() {
        let bundle = seal(&contents(), &"export-pass".into(), fast()).unwrap();
        let opened = open(&bundle, &"export-pass".into()).unwrap();
        assert_eq!(opened.id.as_str(), "alice");
        assert_eq!(opened.record["name"], "Alice");
        assert_eq!(opened.secret.expose_secret(), b"device-private-key");
        assert!(
            !bundle.windows(18).any(|w| w == b"device-private-key"),
            "secret in clear"
        );
        assert!(!bundle.windows(5).any(|w| w == b"Alice"), "record in clear");
    }

    #[test]
    fn wrong_passphrase_and_tampering_are_typed() {
        let bundle = seal(&contents(), &"export-pass".into(), fast()).unwrap();
        let wrong = open(&bundle, &"export-Pass".into()).err().unwrap();
        assert!(matches!(wrong, Error::WrongPassphrase { .. }), "{wrong:?}");
        let mut altered = bundle.clone();
        let last = altered.len() - 1;
        altered[last] ^= 0x80;
        let tampered = open(&altered, &"export-pass".into()).err().unwrap();
        assert!(matches!(tampered, Error::Tampered { .. }), "{tampered:?}");
        let not_a_bundle = open(b"{\"id\":\"alice\"}", &"export-pass".into())
            .err()
            .unwrap();
        assert!(
            matches!(not_a_bundle, Error::Malformed { .. }),
            "{not_a_bundle:?}"
        );
    }
}
