//! Secrets in passphrase-encrypted files: `<store>/secrets/<device>.<generation>.secret`.
//!
//! The folder's `key` file holds the Argon2id salt and costs and a sealed known text that
//! proves the passphrase; each secret file is `magic | version | nonce | ciphertext+tag`,
//! authenticated together with the store's salt and the slot name, so files cannot be swapped
//! between devices or stores unnoticed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{SecretBackend, Slot};
use crate::sealed::{Envelope, SealingKey};
use crate::{Error, KdfParams, Passphrase, Secret, fs as store_fs};

const FOLDER: &str = "secrets";
const KEY_FILE: &str = "key";
const KEY_MAGIC: &[u8; 8] = b"TSIMSKEY";
const KEY_PLAINTEXT: &[u8] = b"TokenSim encrypted device secrets";
const SLOT_MAGIC: &[u8; 8] = b"TSIMSLOT";
const SLOT_VERSION: u8 = 1;
const EXTENSION: &str = ".secret";
const TARGET: &str = "encrypted device file";

/// The encrypted file backend of one store.
pub(crate) struct EncryptedFile {
    folder: PathBuf,
    key: SealingKey,
}

impl EncryptedFile {
    /// Opens the `secrets` folder of the store at `store_folder`, creating it and its key file
    /// (with `kdf` costs) on first use. Call under the store's exclusive lock.
    pub(crate) fn open(
        store_folder: &Path,
        passphrase: &Passphrase,
        kdf: KdfParams,
    ) -> Result<Self, Error> {
        let folder = store_folder.join(FOLDER);
        store_fs::create_folder(&folder)?;
        let key_path = folder.join(KEY_FILE);
        let key = match store_fs::read_if_exists(&key_path)? {
            Some(bytes) => {
                let envelope = Envelope::parse(&bytes, KEY_MAGIC, TARGET)?;
                let (key, plaintext) = envelope.open(passphrase, &[], TARGET)?;
                if &plaintext[..] != KEY_PLAINTEXT {
                    return Err(Error::Tampered {
                        target: TARGET.to_owned(),
                    });
                }
                key
            }
            None => {
                let key = SealingKey::make(passphrase, kdf)?;
                let header = key.seal_envelope(KEY_MAGIC, &[], KEY_PLAINTEXT)?;
                store_fs::write_atomically(&key_path, &header)?;
                key
            }
        };
        store_fs::remove_stale_temporaries(&folder)?;
        Ok(Self { folder, key })
    }

    fn path(&self, slot: &Slot) -> PathBuf {
        self.folder.join(format!("{}{EXTENSION}", slot.name()))
    }

    fn associated_data(&self, slot: &Slot) -> Vec<u8> {
        let mut aad = SLOT_MAGIC.to_vec();
        aad.push(SLOT_VERSION);
        aad.extend_from_slice(self.key.salt());
        aad.extend_from_slice(slot.name().as_bytes());
        aad
    }
}

impl SecretBackend for EncryptedFile {
    fn put(&self, slot: &Slot, secret: &Secret) -> Result<(), Error> {
        let sealed = self
            .key
            .seal(&self.associated_data(slot), secret.expose_secret())?;
        let mut file = SLOT_MAGIC.to_vec();
        file.push(SLOT_VERSION);
        file.extend_from_slice(&sealed);
        store_fs::write_atomically(&self.path(slot), &file)
    }

    fn get(&self, slot: &Slot) -> Result<Option<Secret>, Error> {
        let Some(bytes) = store_fs::read_if_exists(&self.path(slot))? else {
            return Ok(None);
        };
        let sealed = match bytes.split_at_checked(SLOT_MAGIC.len() + 1) {
            Some((header, sealed)) if header.starts_with(SLOT_MAGIC) => {
                if header[SLOT_MAGIC.len()] != SLOT_VERSION {
                    return Err(Error::UnsupportedFormat {
                        target: TARGET,
                        found: header[SLOT_MAGIC.len()],
                    });
                }
                sealed
            }
            _ => {
                return Err(Error::Malformed {
                    target: TARGET,
                    reason: "it is not a TokenSim secret file",
                });
            }
        };
        let plaintext = self
            .key
            .open(&self.associated_data(slot), sealed)
            .ok_or_else(|| Error::Tampered {
                target: format!("secret file of device \"{}\"", slot.id),
            })?;
        Ok(Some(Secret::from(plaintext)))
    }

    fn delete(&self, slot: &Slot) -> Result<(), Error> {
        store_fs::remove(&self.path(slot))
    }

    fn slots(&self) -> Result<Vec<Slot>, Error> {
        let entries = match fs::read_dir(&self.folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(Error::io("list", &self.folder)(error)),
        };
        let mut slots = Vec::new();
        for entry in entries {
            let entry = entry.map_err(Error::io("list", &self.folder))?;
            let name = entry.file_name();
            if let Some(slot) = name
                .to_str()
                .and_then(|name| name.strip_suffix(EXTENSION))
                .and_then(Slot::parse)
            {
                slots.push(slot);
            }
        }
        Ok(slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DeviceId;
    use crate::sealed::tests::fast;

    fn slot(id: &str, generation: u64) -> Slot {
        Slot {
            id: DeviceId::parse(id).unwrap(),
            generation,
        }
    }

    #[test]
    fn round_trip_and_reopen() {
        let folder = tempfile::tempdir().unwrap();
        let backend = EncryptedFile::open(folder.path(), &"pass".into(), fast()).unwrap();
        backend
            .put(&slot("a", 1), &Secret::new(b"alpha".to_vec()))
            .unwrap();
        drop(backend);
        let backend = EncryptedFile::open(folder.path(), &"pass".into(), fast()).unwrap();
        let secret = backend.get(&slot("a", 1)).unwrap().unwrap();
        assert_eq!(secret.expose_secret(), b"alpha");
        assert_eq!(backend.slots().unwrap(), [slot("a", 1)]);
        assert!(backend.get(&slot("a", 2)).unwrap().is_none());
        backend.delete(&slot("a", 1)).unwrap();
        assert!(backend.slots().unwrap().is_empty());
    }

    #[test]
    fn wrong_passphrase_is_a_typed_error() {
        let folder = tempfile::tempdir().unwrap();
        EncryptedFile::open(folder.path(), &"pass".into(), fast()).unwrap();
        let error = EncryptedFile::open(folder.path(), &"Pass".into(), fast())
            .err()
            .unwrap();
        assert!(matches!(error, Error::WrongPassphrase { .. }), "{error:?}");
    }

    #[test]
    fn secret_files_are_not_plain_text_and_cannot_be_swapped() {
        let folder = tempfile::tempdir().unwrap();
        let backend = EncryptedFile::open(folder.path(), &"pass".into(), fast()).unwrap();
        backend
            .put(&slot("a", 1), &Secret::new(b"alpha-secret".to_vec()))
            .unwrap();
        backend
            .put(&slot("b", 1), &Secret::new(b"bravo-secret".to_vec()))
            .unwrap();
        let a = backend.path(&slot("a", 1));
        let bytes = fs::read(&a).unwrap();
        assert!(
            !bytes.windows(12).any(|w| w == b"alpha-secret"),
            "plain text on disk"
        );
        fs::copy(backend.path(&slot("b", 1)), &a).unwrap();
        let error = backend.get(&slot("a", 1)).unwrap_err();
        assert!(matches!(error, Error::Tampered { .. }), "{error:?}");
        assert!(!error.to_string().contains("bravo"), "{error}");
    }
}
