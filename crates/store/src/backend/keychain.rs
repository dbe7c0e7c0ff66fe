//! Secrets in the OS keychain through `keyring` (Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows): service `tokensim`, one entry per device, user name
//! `<store id>/<device>.<generation>` so stores in different folders never touch each other's
//! entries.

use std::collections::HashMap;

use keyring_core::Entry;

use super::{SecretBackend, Slot};
use crate::sealed::random;
use crate::{Error, Secret};

/// The keychain service name of every TokenSim entry.
const SERVICE: &str = "tokensim";
/// Said after every reason the keychain cannot be used.
macro_rules! instead {
    () => {
        "use --store-passphrase to keep devices in an encrypted file instead"
    };
}

/// Whether the OS keychain can hold device secrets right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeychainStatus {
    /// A test entry was written, read back and deleted.
    Available,
    /// The keychain cannot be used; the reason is meant for the user.
    Unavailable(KeychainUnavailable),
}

/// Why the OS keychain cannot be used, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeychainUnavailable {
    /// No D-Bus session bus: a headless login, SSH, or a container.
    #[error(
        "there is no D-Bus session, so the OS keychain (Secret Service) cannot be reached: run TokenSim in a desktop session, or {}",
        instead!()
    )]
    NoSessionBus,
    /// A session bus but no Secret Service provider (GNOME Keyring, KWallet, KeePassXC) on it.
    #[error(
        "no keychain service runs in this session (no Secret Service provider such as GNOME Keyring or KWallet): start one, or {}",
        instead!()
    )]
    NoProvider,
    /// The provider runs but its collection is locked and nothing can unlock it here.
    #[error("the keychain is locked: unlock it, or {}", instead!())]
    Locked,
    /// `keyring` has no keychain for this operating system.
    #[error("this system has no OS keychain TokenSim can use: {}", instead!())]
    Unsupported,
    /// Any other failure, with the keychain's own message.
    #[error("the OS keychain cannot be used ({detail}): {}", instead!())]
    Failed {
        /// The keychain's message (never secret bytes).
        detail: String,
    },
}

impl KeychainUnavailable {
    /// A stable machine-readable code: `no-session-bus`, `no-provider`, `locked`,
    /// `unsupported` or `failed`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSessionBus => "no-session-bus",
            Self::NoProvider => "no-provider",
            Self::Locked => "locked",
            Self::Unsupported => "unsupported",
            Self::Failed { .. } => "failed",
        }
    }
}

/// Tells whether the OS keychain can hold device secrets, and if not, why.
///
/// `keyring` connects to the platform store once per process (`Entry::store_status`); a
/// missing D-Bus session or Secret Service provider shows there. A locked keychain only shows
/// when writing, so this then writes, reads back and deletes a test entry. It never falls back
/// to anything: on `Unavailable`, the caller offers [`Secrets::EncryptedFile`](crate::Secrets).
pub fn detect() -> KeychainStatus {
    match probe() {
        Ok(()) => KeychainStatus::Available,
        Err(reason) => KeychainStatus::Unavailable(reason),
    }
}

fn probe() -> Result<(), KeychainUnavailable> {
    if let Err(error) = keyring::Entry::store_status() {
        return Err(classify(error));
    }
    let Ok(nonce) = random::<8>() else {
        return Err(KeychainUnavailable::Failed {
            detail: "the system random generator failed".to_owned(),
        });
    };
    let user = format!("probe/{}", hex(&nonce));
    let entry = entry(&user, "TokenSim keychain check").map_err(|error| classify(&error))?;
    entry
        .set_secret(b"probe")
        .map_err(|error| classify(&error))?;
    let read = entry.get_secret().map_err(|error| classify(&error));
    entry
        .delete_credential()
        .map_err(|error| classify(&error))?;
    match read? {
        bytes if bytes == b"probe" => Ok(()),
        _ => Err(KeychainUnavailable::Failed {
            detail: "a test entry read back differently than written".to_owned(),
        }),
    }
}

/// The keychain backend of one store.
pub(crate) struct Keychain {
    /// `<store id>/`, the prefix of this store's user names.
    prefix: String,
}

impl Keychain {
    /// Checks the keychain with [`detect`] and binds to the store `store_id`.
    pub(crate) fn connect(store_id: &str) -> Result<Self, Error> {
        probe()?;
        Ok(Self {
            prefix: format!("{store_id}/"),
        })
    }

    fn entry(&self, slot: &Slot) -> Result<Entry, Error> {
        let user = format!("{}{}", self.prefix, slot.name());
        let label = format!("TokenSim device {}", slot.id);
        entry(&user, &label).map_err(|error| failure("open", slot, &error))
    }
}

impl SecretBackend for Keychain {
    fn put(&self, slot: &Slot, secret: &Secret) -> Result<(), Error> {
        self.entry(slot)?
            .set_secret(secret.expose_secret())
            .map_err(|error| failure("save", slot, &error))
    }

    fn get(&self, slot: &Slot) -> Result<Option<Secret>, Error> {
        match self.entry(slot)?.get_secret() {
            Ok(bytes) => Ok(Some(Secret::new(bytes))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(error) => Err(failure("read", slot, &error)),
        }
    }

    fn delete(&self, slot: &Slot) -> Result<(), Error> {
        match self.entry(slot)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(error) => Err(failure("delete", slot, &error)),
        }
    }

    /// Every entry of this store. Keychains whose `keyring` store cannot search (none of the
    /// desktop ones today) report none, so orphans there are left in place, never misjudged.
    fn slots(&self) -> Result<Vec<Slot>, Error> {
        let spec = HashMap::from([("service", SERVICE)]);
        let entries = match Entry::search(&spec) {
            Ok(entries) => entries,
            Err(keyring_core::Error::NotSupportedByStore(_)) => return Ok(Vec::new()),
            Err(error) => {
                return Err(match error {
                    keyring_core::Error::NoStorageAccess(_) => KeychainUnavailable::Locked.into(),
                    other => Error::Keychain {
                        action: "list",
                        id: "*".to_owned(),
                        detail: describe(&other),
                    },
                });
            }
        };
        Ok(entries
            .iter()
            .filter_map(Entry::get_specifiers)
            .filter(|(service, _)| service == SERVICE)
            .filter_map(|(_, user)| Slot::parse(user.strip_prefix(&self.prefix)?))
            .collect())
    }
}

fn entry(user: &str, label: &str) -> keyring_core::Result<Entry> {
    Entry::new_with_modifiers(SERVICE, user, &HashMap::from([("label", label)]))
}

fn failure(action: &'static str, slot: &Slot, error: &keyring_core::Error) -> Error {
    match error {
        keyring_core::Error::NoStorageAccess(_) => KeychainUnavailable::Locked.into(),
        _ => Error::Keychain {
            action,
            id: slot.id.to_string(),
            detail: describe(error),
        },
    }
}

/// Sorts a `keyring` failure into what the user can do about it.
fn classify(error: &keyring_core::Error) -> KeychainUnavailable {
    use keyring_core::Error as E;
    match error {
        E::NoStorageAccess(_) => KeychainUnavailable::Locked,
        E::Invalid(parameter, _) if parameter == "platform" => KeychainUnavailable::Unsupported,
        E::PlatformFailure(_) | E::NoDefaultStore => {
            let detail = describe(error);
            if detail.contains("org.freedesktop.secrets") || detail.contains("ServiceUnknown") {
                KeychainUnavailable::NoProvider
            } else if !session_bus_configured() {
                KeychainUnavailable::NoSessionBus
            } else if detail.to_ascii_lowercase().contains("locked") {
                KeychainUnavailable::Locked
            } else {
                KeychainUnavailable::Failed { detail }
            }
        }
        _ => KeychainUnavailable::Failed {
            detail: describe(error),
        },
    }
}

/// Whether this process has a D-Bus session bus to connect to (zbus's rules: the address
/// variable, else `$XDG_RUNTIME_DIR/bus`). Only Linux and the BSDs reach the keychain that way.
fn session_bus_configured() -> bool {
    if !cfg!(all(
        unix,
        not(any(
            target_os = "macos",
            target_os = "ios",
            target_os = "android"
        ))
    )) {
        return true;
    }
    let has = |name| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    has("DBUS_SESSION_BUS_ADDRESS")
        || std::env::var_os("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(&dir).join("bus").exists())
}

/// The keychain's message, leaving out the variants that carry secret bytes.
fn describe(error: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match error {
        E::PlatformFailure(inner) | E::NoStorageAccess(inner) => inner.to_string(),
        E::BadEncoding(_) | E::BadDataFormat(..) => {
            "the keychain entry is not in the expected format".to_owned()
        }
        E::Ambiguous(entries) => format!("{} keychain entries match one device", entries.len()),
        E::NoEntry
        | E::BadStoreFormat(_)
        | E::TooLong(..)
        | E::Invalid(..)
        | E::NoDefaultStore
        | E::NotSupportedByStore(_) => error.to_string(),
        _ => "the keychain reported an unexpected error".to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_offers_the_encrypted_file() {
        for reason in [
            KeychainUnavailable::NoSessionBus,
            KeychainUnavailable::NoProvider,
            KeychainUnavailable::Locked,
            KeychainUnavailable::Unsupported,
            KeychainUnavailable::Failed {
                detail: "x".to_owned(),
            },
        ] {
            let message = reason.to_string();
            assert!(message.contains("--store-passphrase"), "{message}");
            assert!(!reason.code().is_empty());
        }
    }

    #[test]
    fn secret_bytes_in_keyring_errors_are_not_repeated() {
        let error = keyring_core::Error::BadEncoding(b"top-secret".to_vec());
        assert!(!describe(&error).contains("top-secret"));
        assert!(!format!("{:?}", classify(&error)).contains("top-secret"));
    }

    #[test]
    fn locked_store_is_classified_as_locked() {
        let error = keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other("x")));
        assert_eq!(classify(&error), KeychainUnavailable::Locked);
    }
}
