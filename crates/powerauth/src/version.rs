//! The four protocol versions and what differs between them (digest §1).

use std::fmt;
use std::str::FromStr;

/// A PowerAuth 3.x protocol version, as sent in `pa_version` / `version` header fields.
///
/// The version is negotiated per request: a v3 activation may speak any of these.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ProtocolVersion {
    /// 3.0: decimal online signatures, zero-IV ECIES without nonce, 3.0 status blob.
    #[serde(rename = "3.0")]
    V3_0,
    /// 3.1: Base64 online signatures, ECIES request nonce, status challenge/nonce.
    #[serde(rename = "3.1")]
    V3_1,
    /// 3.2: ECIES timestamps, associated data, versioned sharedInfo1; token digest with version.
    #[serde(rename = "3.2")]
    V3_2,
    /// 3.3: ECIES with temporary keys obtained through a JWT exchange.
    #[serde(rename = "3.3")]
    V3_3,
}

impl ProtocolVersion {
    /// Every version, oldest first.
    pub const ALL: [ProtocolVersion; 4] = [Self::V3_0, Self::V3_1, Self::V3_2, Self::V3_3];

    /// The newest version, which current mobile SDKs speak.
    pub const LATEST: ProtocolVersion = Self::V3_3;

    /// The header form, e.g. `"3.2"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V3_0 => "3.0",
            Self::V3_1 => "3.1",
            Self::V3_2 => "3.2",
            Self::V3_3 => "3.3",
        }
    }

    /// Whether ECIES requests carry a nonce (3.1+).
    pub fn ecies_has_nonce(self) -> bool {
        self >= Self::V3_1
    }

    /// Whether ECIES messages carry a timestamp and associated data (3.2+).
    pub fn ecies_has_timestamp(self) -> bool {
        self >= Self::V3_2
    }

    /// Whether ECIES uses temporary keys (3.3).
    pub fn uses_temporary_keys(self) -> bool {
        self >= Self::V3_3
    }

    /// Whether online signatures are decimal (3.0) rather than Base64 (3.1+).
    pub fn decimal_online_signature(self) -> bool {
        self == Self::V3_0
    }

    /// Whether the status request carries a challenge and the blob IV derives from it (3.1+).
    pub fn status_has_challenge(self) -> bool {
        self >= Self::V3_1
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A version string that is not one of 3.0, 3.1, 3.2, 3.3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported PowerAuth protocol version {0:?}: expected 3.0, 3.1, 3.2 or 3.3")]
pub struct UnsupportedVersion(pub String);

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "3.0" => Ok(Self::V3_0),
            "3.1" => Ok(Self::V3_1),
            "3.2" => Ok(Self::V3_2),
            "3.3" => Ok(Self::V3_3),
            other => Err(UnsupportedVersion(other.chars().take(16).collect())),
        }
    }
}
