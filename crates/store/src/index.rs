//! The index file: one JSON document listing every device's non-secret record and which
//! secret slot holds its secret.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::BackendKind;
use crate::{DeviceId, Error, fs};

/// Identifies the file's content, so a stray JSON file is not mistaken for an index.
const FORMAT: &str = "tokensim-device-index";
/// The index format version this build reads and writes.
pub(crate) const VERSION: u32 = 1;

/// The whole index, read and written as one document.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Index {
    format: String,
    version: u32,
    /// Random id of this store; namespaces its entries in the shared OS keychain.
    pub(crate) store_id: String,
    /// Where this store keeps its secrets.
    pub(crate) secrets: BackendKind,
    /// The devices, by id.
    pub(crate) devices: BTreeMap<DeviceId, IndexEntry>,
}

/// One device in the index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexEntry {
    /// Generation of the secret slot holding this device's secret.
    pub(crate) generation: u64,
    /// The caller's record, kept as JSON so records of other versions survive a rewrite.
    pub(crate) record: serde_json::Value,
}

impl Index {
    /// An empty index.
    pub(crate) fn new(store_id: String, secrets: BackendKind) -> Self {
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            store_id,
            secrets,
            devices: BTreeMap::new(),
        }
    }

    /// Reads the index at `path`; `None` if the store was never written.
    pub(crate) fn read(path: &Path) -> Result<Option<Self>, Error> {
        fs::read_if_exists(path)?
            .map(|bytes| Self::parse(path, &bytes))
            .transpose()
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, Error> {
        let corrupt = |reason: String| Error::CorruptIndex {
            path: path.to_owned(),
            reason,
        };
        let document: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|error| corrupt(error.to_string()))?;
        if document.get("format").and_then(|format| format.as_str()) != Some(FORMAT) {
            return Err(corrupt("it is not a TokenSim device index".to_owned()));
        }
        match document.get("version").and_then(|version| version.as_u64()) {
            Some(version) if version == u64::from(VERSION) => {}
            Some(found) if found > u64::from(VERSION) => {
                return Err(Error::UnsupportedIndexVersion {
                    path: path.to_owned(),
                    found,
                    supported: VERSION,
                });
            }
            _ => {
                return Err(corrupt(
                    "its format version is missing or invalid".to_owned(),
                ));
            }
        }
        serde_json::from_value(document).map_err(|error| corrupt(error.to_string()))
    }

    /// Writes the index atomically.
    pub(crate) fn write(&self, path: &Path) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|error| Error::CorruptIndex {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        bytes.push(b'\n');
        fs::write_atomically(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(index: &Index) -> (tempfile::TempDir, std::path::PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("devices.json");
        index.write(&path).unwrap();
        (folder, path)
    }

    #[test]
    fn round_trip() {
        let mut index = Index::new("abc".into(), BackendKind::Memory);
        index.devices.insert(
            DeviceId::parse("d1").unwrap(),
            IndexEntry {
                generation: 3,
                record: serde_json::json!({"name": "Alice"}),
            },
        );
        let (_folder, path) = written(&index);
        let read = Index::read(&path).unwrap().unwrap();
        assert_eq!(read.store_id, "abc");
        assert_eq!(read.devices.len(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"version\": 1"), "{text}");
    }

    #[test]
    fn missing_is_none() {
        let folder = tempfile::tempdir().unwrap();
        assert!(
            Index::read(&folder.path().join("x.json"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn newer_version_is_refused_by_name() {
        let (_folder, path) = written(&Index::new("abc".into(), BackendKind::Memory));
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"version\": 1", "\"version\": 7");
        std::fs::write(&path, text).unwrap();
        let error = Index::read(&path).unwrap_err();
        assert!(
            matches!(error, Error::UnsupportedIndexVersion { found: 7, .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("upgrade TokenSim"), "{error}");
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("devices.json");
        for garbage in [
            &b""[..],
            b"{",
            b"[]",
            b"{\"format\":\"tokensim-device-index\"}",
            b"{\"format\":\"tokensim-device-index\",\"version\":1,\"devices\":{\"../x\":{}}}",
        ] {
            std::fs::write(&path, garbage).unwrap();
            let error = Index::read(&path).unwrap_err();
            assert!(matches!(error, Error::CorruptIndex { .. }), "{error:?}");
        }
    }
}
