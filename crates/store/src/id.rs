//! Device ids: the key under which a device's record and secret are stored.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The longest device id accepted, in characters.
const MAX_LEN: usize = 64;

/// A device id: 1 to 64 ASCII letters, digits, `-` or `_`.
///
/// The alphabet keeps ids safe as file names and keychain user names on every platform.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `id` and wraps it.
    pub fn parse(id: &str) -> Result<Self, Error> {
        let reason = if id.is_empty() {
            Some("it is empty")
        } else if id.len() > MAX_LEN {
            Some("it is longer than 64 characters")
        } else if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            Some("use only letters, digits, '-' and '_'")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidDeviceId {
                id: id.chars().take(MAX_LEN).collect(),
                reason,
            }),
            None => Ok(Self(id.to_owned())),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DeviceId {
    type Error = Error;

    fn try_from(id: String) -> Result<Self, Error> {
        Self::parse(&id)
    }
}

impl From<DeviceId> for String {
    fn from(id: DeviceId) -> Self {
        id.0
    }
}

impl std::str::FromStr for DeviceId {
    type Err = Error;

    fn from_str(id: &str) -> Result<Self, Error> {
        Self::parse(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_safe_alphabet() {
        for id in ["a", "alice-phone", "DEV_01", &"x".repeat(64)] {
            assert_eq!(DeviceId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn refuses_what_is_unsafe_as_a_file_name() {
        for id in ["", "a/b", "..", "a.b", "é", "a b", &"x".repeat(65), "a\0"] {
            let error = DeviceId::parse(id).unwrap_err();
            assert!(
                matches!(error, Error::InvalidDeviceId { .. }),
                "{id:?} must be refused, got {error:?}"
            );
        }
    }

    #[test]
    fn serde_checks_too() {
        assert!(serde_json::from_str::<DeviceId>("\"../x\"").is_err());
        let id: DeviceId = serde_json::from_str("\"ok\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"ok\"");
    }
}
