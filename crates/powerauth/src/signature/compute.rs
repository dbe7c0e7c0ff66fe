//! Computing a signature: the component loop of Wultra's `SignatureUtils` (digest §5.3,
//! §14 #6) and the decimal or Base64 formatting.

use super::SignatureError;
use super::data::SignatureBase;
use super::factors::{FactorKeys, SignatureType};
use crate::counter::CtrData;
use crate::encoding::{b64, decimalize};
use crate::hazmat::hmac_sha256;
use crate::keys::SymmetricKey;
use crate::version::ProtocolVersion;
use zeroize::Zeroizing;

/// Digits per factor in a decimal signature: 4 to 8 (8 unless the server is configured
/// otherwise for offline signatures).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ComponentLength(u8);

impl ComponentLength {
    /// Eight digits: online 3.0 signatures and the offline default.
    pub const DEFAULT: ComponentLength = ComponentLength(8);

    /// A length in 4..=8, as PowerAuth Server accepts.
    pub fn new(digits: u8) -> Result<Self, SignatureError> {
        match digits {
            4..=8 => Ok(Self(digits)),
            other => Err(SignatureError::InvalidComponentLength(other)),
        }
    }

    /// The number of digits.
    pub fn digits(self) -> u8 {
        self.0
    }
}

/// How the components are rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureFormat {
    /// Each component decimalized, joined by `-`: online 3.0 and every offline signature.
    Decimal(ComponentLength),
    /// Base64 of the last 16 bytes of each component, concatenated: online 3.1 and later.
    Base64,
}

impl SignatureFormat {
    /// The online format the header's `pa_version` selects (digest §16.9).
    pub fn online(version: ProtocolVersion) -> Self {
        if version.decimal_online_signature() {
            Self::Decimal(ComponentLength::DEFAULT)
        } else {
            Self::Base64
        }
    }
}

/// Computes a signature with the client's current `CTR_DATA`, then advances it.
///
/// The counter moves whether or not the signature is ever sent: a request that fails
/// still consumed its counter value (digest §5.4, §16.10). Persist `ctr_data` before
/// sending. Fails, leaving the counter as it was, when a factor key is missing.
pub fn compute_signature(
    keys: &FactorKeys<'_>,
    signature_type: SignatureType,
    ctr_data: &mut CtrData,
    base: &SignatureBase,
    format: SignatureFormat,
) -> Result<String, SignatureError> {
    let selected = keys
        .select(signature_type)
        .map_err(SignatureError::MissingFactorKey)?;
    let signature = signature_at(&selected, ctr_data, base.as_bytes(), format);
    *ctr_data = ctr_data.next();
    Ok(signature)
}

/// The signature for one counter value, without touching any state (server side).
pub(crate) fn signature_at(
    keys: &[&SymmetricKey],
    ctr_data: &CtrData,
    data: &[u8],
    format: SignatureFormat,
) -> String {
    let components = components(keys, ctr_data, data);
    match format {
        SignatureFormat::Decimal(length) => components
            .iter()
            .map(|c| decimalize(&c[..], u32::from(length.digits())))
            .collect::<Vec<_>>()
            .join("-"),
        SignatureFormat::Base64 => {
            let mut bytes = Vec::with_capacity(16 * components.len());
            for component in &components {
                bytes.extend_from_slice(&component[16..]);
            }
            b64(bytes)
        }
    }
}

/// The signature's per-factor components at `ctr_data`, each as it appears in the
/// signature: decimal digits, or the 16 bytes a Base64 signature concatenates.
pub(crate) fn components_at(
    keys: &[&SymmetricKey],
    ctr_data: &CtrData,
    data: &[u8],
    format: SignatureFormat,
) -> Vec<Vec<u8>> {
    components(keys, ctr_data, data)
        .iter()
        .map(|c| match format {
            SignatureFormat::Decimal(length) => {
                decimalize(&c[..], u32::from(length.digits())).into_bytes()
            }
            SignatureFormat::Base64 => c[16..].to_vec(),
        })
        .collect()
}

/// Splits a received signature into its per-factor components (see [`components_at`]);
/// `None` when it is not of the format's shape.
pub(crate) fn split_components(signature: &str, format: SignatureFormat) -> Option<Vec<Vec<u8>>> {
    match format {
        SignatureFormat::Decimal(_) => Some(
            signature
                .split('-')
                .map(|part| part.as_bytes().to_vec())
                .collect(),
        ),
        SignatureFormat::Base64 => {
            let bytes = crate::encoding::b64_decode(signature).ok()?;
            if bytes.is_empty() || bytes.len() % 16 != 0 {
                return None;
            }
            Some(bytes.chunks(16).map(<[u8]>::to_vec).collect())
        }
    }
}

/// `SignatureUtils.computePowerAuthSignatureComponents`: component `i` starts from
/// `HMAC(keys[i], CTR_DATA)` and folds `HMAC(keys[j], CTR_DATA)` for `j = 1..=i` on top.
/// (Component 1 of a 2-factor signature thus folds `keys[1]` onto itself; the prose
/// docs' `keys[0]` base is a doc bug, digest §14 #6.)
fn components(keys: &[&SymmetricKey], ctr_data: &CtrData, data: &[u8]) -> Vec<[u8; 32]> {
    let ctr = ctr_data.expose_bytes();
    let mut out = Vec::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        let mut derived = Zeroizing::new(hmac_sha256(key.expose_bytes(), ctr));
        for inner in keys.iter().skip(1).take(i) {
            let inner_derived = Zeroizing::new(hmac_sha256(inner.expose_bytes(), ctr));
            *derived = hmac_sha256(&inner_derived[..], &derived[..]);
        }
        out.push(hmac_sha256(&derived[..], data));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_length_bounds() {
        assert!(ComponentLength::new(3).is_err());
        assert!(ComponentLength::new(9).is_err());
        assert_eq!(ComponentLength::new(4).map(ComponentLength::digits), Ok(4));
    }

    #[test]
    fn format_follows_version() {
        assert_eq!(
            SignatureFormat::online(ProtocolVersion::V3_0),
            SignatureFormat::Decimal(ComponentLength::DEFAULT)
        );
        for v in &ProtocolVersion::ALL[1..] {
            assert_eq!(SignatureFormat::online(*v), SignatureFormat::Base64);
        }
    }

    #[test]
    fn compute_advances_the_counter_only_on_success() {
        let possession = SymmetricKey::from_bytes([1; 16]);
        let keys = FactorKeys {
            possession: Some(&possession),
            knowledge: None,
            biometry: None,
        };
        let start = CtrData::from_bytes([2; 16]);
        let mut ctr = start.clone();
        let base = SignatureBase::from_bytes(b"data".to_vec());
        let first = compute_signature(
            &keys,
            SignatureType::Possession,
            &mut ctr,
            &base,
            SignatureFormat::Base64,
        );
        assert_eq!(first.map(|s| s.len()), Ok(24));
        assert_eq!(ctr, start.next());
        let missing = compute_signature(
            &keys,
            SignatureType::PossessionBiometry,
            &mut ctr,
            &base,
            SignatureFormat::Base64,
        );
        assert!(missing.is_err());
        assert_eq!(
            ctr,
            start.next(),
            "a failed computation must not move the counter"
        );
    }

    #[test]
    fn decimal_components_have_the_requested_length() {
        let k = SymmetricKey::from_bytes([5; 16]);
        let sig = signature_at(
            &[&k, &k, &k],
            &CtrData::from_bytes([0; 16]),
            b"x",
            SignatureFormat::Decimal(ComponentLength::new(5).unwrap()),
        );
        assert_eq!(sig.len(), 17);
        assert!(
            sig.split('-')
                .all(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit()))
        );
    }
}
