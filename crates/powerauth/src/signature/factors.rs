//! Signature types and the factor keys each one selects (digest §5.2).

use crate::keys::{ActivationKeys, SymmetricKey};
use std::fmt;
use std::str::FromStr;

/// One authentication factor, each with its own signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Factor {
    /// Something the user has: `KEY_SIGNATURE_POSSESSION`, stored on the device.
    Possession,
    /// Something the user knows: `KEY_SIGNATURE_KNOWLEDGE`, unlocked with the PIN.
    Knowledge,
    /// Something the user is: `KEY_SIGNATURE_BIOMETRY`, unlocked by the biometric store.
    Biometry,
}

/// Which factors a signature combines.
///
/// The header carries the lower-case form (`possession_knowledge`), PowerAuth Server's
/// REST API the upper-case enum name (`POSSESSION_KNOWLEDGE`); both parse, in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureType {
    /// 1FA, possession only. Failures do not count as failed attempts (digest §14 #5).
    Possession,
    /// 1FA, knowledge only (not used in practice).
    Knowledge,
    /// 1FA, biometry only (not used in practice).
    Biometry,
    /// 2FA with the PIN: possession, then knowledge.
    PossessionKnowledge,
    /// 2FA with biometry: possession, then biometry.
    PossessionBiometry,
    /// 3FA: possession, knowledge, biometry.
    PossessionKnowledgeBiometry,
}

impl SignatureType {
    /// Every type, in the order of Wultra's enum.
    pub const ALL: [SignatureType; 6] = [
        Self::Possession,
        Self::Knowledge,
        Self::Biometry,
        Self::PossessionKnowledge,
        Self::PossessionBiometry,
        Self::PossessionKnowledgeBiometry,
    ];

    /// The header form, e.g. `"possession_knowledge"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Possession => "possession",
            Self::Knowledge => "knowledge",
            Self::Biometry => "biometry",
            Self::PossessionKnowledge => "possession_knowledge",
            Self::PossessionBiometry => "possession_biometry",
            Self::PossessionKnowledgeBiometry => "possession_knowledge_biometry",
        }
    }

    /// PowerAuth Server's enum name, e.g. `"POSSESSION_KNOWLEDGE"`.
    pub fn server_name(self) -> &'static str {
        match self {
            Self::Possession => "POSSESSION",
            Self::Knowledge => "KNOWLEDGE",
            Self::Biometry => "BIOMETRY",
            Self::PossessionKnowledge => "POSSESSION_KNOWLEDGE",
            Self::PossessionBiometry => "POSSESSION_BIOMETRY",
            Self::PossessionKnowledgeBiometry => "POSSESSION_KNOWLEDGE_BIOMETRY",
        }
    }

    /// The factors, in the order their keys enter the signature.
    pub fn factors(self) -> &'static [Factor] {
        use Factor::*;
        match self {
            Self::Possession => &[Possession],
            Self::Knowledge => &[Knowledge],
            Self::Biometry => &[Biometry],
            Self::PossessionKnowledge => &[Possession, Knowledge],
            Self::PossessionBiometry => &[Possession, Biometry],
            Self::PossessionKnowledgeBiometry => &[Possession, Knowledge, Biometry],
        }
    }
}

impl fmt::Display for SignatureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signature type name that is none of the six.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown signature type {0:?}")]
pub struct UnknownSignatureType(pub String);

impl FromStr for SignatureType {
    type Err = UnknownSignatureType;

    /// Case-insensitive, like Wultra's `PowerAuthSignatureTypes.getEnumFromString`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownSignatureType(s.chars().take(40).collect()))
    }
}

/// The signing keys one side holds. The server derives all three; a client may lack
/// the knowledge key (PIN not entered) or the biometry key (biometry not enabled).
///
/// A client that got the PIN wrong passes the wrongly unlocked knowledge key: the
/// protocol cannot tell, only the server's verification fails (digest §2.7).
#[derive(Clone, Copy, Debug)]
pub struct FactorKeys<'a> {
    /// `KEY_SIGNATURE_POSSESSION`.
    pub possession: Option<&'a SymmetricKey>,
    /// `KEY_SIGNATURE_KNOWLEDGE`.
    pub knowledge: Option<&'a SymmetricKey>,
    /// `KEY_SIGNATURE_BIOMETRY`.
    pub biometry: Option<&'a SymmetricKey>,
}

impl<'a> FactorKeys<'a> {
    /// The key of one factor, if held.
    pub fn key(&self, factor: Factor) -> Option<&'a SymmetricKey> {
        match factor {
            Factor::Possession => self.possession,
            Factor::Knowledge => self.knowledge,
            Factor::Biometry => self.biometry,
        }
    }

    /// The key list `signature_type` signs with, or the first factor whose key is missing.
    pub fn select(&self, signature_type: SignatureType) -> Result<Vec<&'a SymmetricKey>, Factor> {
        signature_type
            .factors()
            .iter()
            .map(|&factor| self.key(factor).ok_or(factor))
            .collect()
    }
}

impl<'a> From<&'a ActivationKeys> for FactorKeys<'a> {
    fn from(keys: &'a ActivationKeys) -> Self {
        Self {
            possession: Some(&keys.possession),
            knowledge: Some(&keys.knowledge),
            biometry: Some(&keys.biometry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_in_any_case() {
        for t in SignatureType::ALL {
            assert_eq!(t.as_str().parse::<SignatureType>(), Ok(t));
            assert_eq!(t.server_name().parse::<SignatureType>(), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert!("possession-knowledge".parse::<SignatureType>().is_err());
        assert!("".parse::<SignatureType>().is_err());
    }

    #[test]
    fn select_reports_the_missing_factor() {
        let possession = SymmetricKey::from_bytes([1; 16]);
        let keys = FactorKeys {
            possession: Some(&possession),
            knowledge: None,
            biometry: None,
        };
        assert_eq!(
            keys.select(SignatureType::Possession).map(|k| k.len()),
            Ok(1)
        );
        assert_eq!(
            keys.select(SignatureType::PossessionKnowledge).err(),
            Some(Factor::Knowledge)
        );
    }
}
