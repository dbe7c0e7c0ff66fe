//! Status files of Wultra's command-line client (`powerauth-cmd-tool`): read one into an
//! [`ActiveDevice`] ([`import`]) and write one from a device ([`StatusFile::from_device`]).
//!
//! The file is the client's `ResultStatusObject` as JSON. Since 1.5 (2021) the client
//! writes it with Jackson over the object's getters (pretty-printed, `null`s left out);
//! 1.0–1.4 wrote the same keys through json-simple on one line; PowerAuth 2 files (0.x)
//! have no `ctrData` and no `version`. The keys ([`FIELDS`]):
//!
//! | key | what |
//! | --- | --- |
//! | `activationId` | `ACTIVATION_ID` |
//! | `counter` | how many times the client advanced its counter (crypto input only in 2.x) |
//! | `ctrData` | `CTR_DATA`, Base64 of 16 bytes |
//! | `encryptedDevicePrivateKey` | `C_KEY_DEVICE_PRIVATE` under `KEY_ENCRYPTION_VAULT` |
//! | `responseData` | a performance-test hand-over, never written by `create` |
//! | `serverPublicKey` | `KEY_SERVER_PUBLIC`, Base64 SEC1 (uncompressed, as Java encodes it) |
//! | `signatureBiometryKey` | `KEY_SIGNATURE_BIOMETRY`, in plain |
//! | `signatureKnowledgeKeyEncrypted` | `KEY_SIGNATURE_KNOWLEDGE` under the PIN |
//! | `signatureKnowledgeKeySalt` | the PIN's PBKDF2 salt (10 000 iterations) |
//! | `signaturePossessionKey` | `KEY_SIGNATURE_POSSESSION`, in plain |
//! | `transportMasterKey` | `KEY_TRANSPORT`, in plain |
//! | `version` | the activation's major version, `3` |
//!
//! The file has no device public key and the knowledge key carries no check value (see
//! `powerauth::vault::ProtectedKnowledgeKey`), so [`import`] asks the server for one vault
//! unlock signed with the file's biometry key: it opens the device private key (the public
//! key and the fingerprint follow), proves every key in the file belongs to this activation,
//! and then checks the PIN offline against the knowledge key the key exchange derives. A
//! wrong PIN therefore costs no failed attempt on the server.
//!
//! What it refuses: PowerAuth 2 files, files of an unfinished activation, keys that do not
//! belong together. It never prints a key; [`StatusFile`]'s `Debug` shows the activation id.

use std::fmt;

use powerauth::encoding::{b64, b64_decode};
use powerauth::keys::fingerprint;
use powerauth::vault::{ProtectedKnowledgeKey, decrypt_device_private_key};
use powerauth::{ActivationKeys, CtrData, PublicKey, SymmetricKey};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::session::{Factors, Session};
use crate::state::{ActiveDevice, Biometry, Profile, TemporaryKeys};
use crate::{Client, Error};

/// The JSON keys of the client's `ResultStatusObject`, in the order of its getters (which
/// is the order Jackson writes them in).
pub const FIELDS: [&str; 12] = [
    "activationId",
    "counter",
    "ctrData",
    "encryptedDevicePrivateKey",
    "responseData",
    "serverPublicKey",
    "signatureBiometryKey",
    "signatureKnowledgeKeyEncrypted",
    "signatureKnowledgeKeySalt",
    "signaturePossessionKey",
    "transportMasterKey",
    "version",
];

/// The PBKDF2 iterations the client uses for the PIN (`KeyGenerator.deriveSecretKeyFromPassword`).
pub const PIN_ITERATIONS: u32 = 10_000;

/// The biometric enrollment an imported biometry key is bound to.
pub const IMPORTED_ENROLLMENT: &str = "cmd-tool";

/// A status file, field by field as the client keeps it (Base64 strings, numbers).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(rename_all = "camelCase")]
pub struct StatusFile {
    /// `activationId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_id: Option<String>,
    /// `counter`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    /// `ctrData`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ctr_data: Option<String>,
    /// `encryptedDevicePrivateKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted_device_private_key: Option<String>,
    /// `responseData` (not used by TokenSim; kept when read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_data: Option<String>,
    /// `serverPublicKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_public_key: Option<String>,
    /// `signatureBiometryKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_biometry_key: Option<String>,
    /// `signatureKnowledgeKeyEncrypted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_knowledge_key_encrypted: Option<String>,
    /// `signatureKnowledgeKeySalt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_knowledge_key_salt: Option<String>,
    /// `signaturePossessionKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_possession_key: Option<String>,
    /// `transportMasterKey`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transport_master_key: Option<String>,
    /// `version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

impl fmt::Debug for StatusFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusFile")
            .field("activation_id", &self.activation_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Why a status file cannot become a device.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmdToolError {
    /// Not JSON, or a key holds the wrong JSON type.
    #[error(
        "the file is not a cmd-tool status file ({0}): it should be the JSON the cmd-tool writes with --status-file"
    )]
    NotStatusFile(String),
    /// A PowerAuth 2 activation (no `ctrData` or `version` 2).
    #[error(
        "the status file holds a PowerAuth 2 activation; TokenSim speaks 3.0–3.3: upgrade it with the cmd-tool's start-upgrade and commit-upgrade first"
    )]
    Version2,
    /// A version TokenSim does not know.
    #[error("the status file says version {0}; only version 3 activations can be imported")]
    UnknownVersion(u64),
    /// A key the activation needs is missing.
    #[error(
        "the status file has no `{0}`: it holds no finished activation (run the cmd-tool's create with this --status-file first)"
    )]
    Missing(&'static str),
    /// A key has a wrong value.
    #[error("the status file's `{0}` is not valid: the file is damaged or hand-edited")]
    Invalid(&'static str),
    /// The file's keys do not come from one key exchange.
    #[error(
        "the keys in the status file do not belong to one activation (`{0}` differs from what the server's vault opens): the file mixes two activations, or the server is not the one it was activated on"
    )]
    KeysDisagree(&'static str),
    /// The activation is not active on the server.
    #[error(
        "the activation in the status file is {0} on the server: only an ACTIVE activation can be imported"
    )]
    NotActive(String),
    /// The PIN does not unlock the knowledge key.
    #[error(
        "the PIN does not unlock the status file's knowledge key (checked offline: the server counted no failed attempt)"
    )]
    WrongPin,
    /// The server refused or failed the vault unlock.
    #[error(transparent)]
    Device(#[from] Error),
}

impl StatusFile {
    /// Reads a status file in any layout the client wrote since 1.0.
    pub fn parse(bytes: &[u8]) -> Result<Self, CmdToolError> {
        let file: StatusFile = serde_json::from_slice(bytes)
            .map_err(|e| CmdToolError::NotStatusFile(e.to_string()))?;
        match file.version {
            None | Some(2) if file.ctr_data.is_none() => return Err(CmdToolError::Version2),
            Some(2) => return Err(CmdToolError::Version2),
            Some(v) if v != 3 => return Err(CmdToolError::UnknownVersion(v)),
            _ => {}
        }
        Ok(file)
    }

    /// The file as the client 1.5+ writes it: Jackson's default pretty printer (two-space
    /// indent, `"key" : value`), keys in getter order, absent values left out.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut out, JacksonPretty::default());
        self.serialize(&mut serializer)
            .expect("strings and numbers always serialise");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// The status file of `device`, as the client would have written it after `create`
    /// and the same signatures.
    pub fn from_device(device: &ActiveDevice) -> Self {
        Self {
            activation_id: Some(device.activation_id.clone()),
            counter: Some(device.counter),
            ctr_data: Some(b64(device.ctr_data.expose_bytes())),
            encrypted_device_private_key: Some(b64(&device.encrypted_device_private_key)),
            response_data: None,
            server_public_key: Some(b64(device.server_public_key.to_uncompressed())),
            signature_biometry_key: device.biometry.as_ref().map(|b| b64(b.key.expose_bytes())),
            signature_knowledge_key_encrypted: Some(b64(device.knowledge_key.encrypted_key())),
            signature_knowledge_key_salt: Some(b64(device.knowledge_key.salt())),
            signature_possession_key: Some(b64(device.possession_key.expose_bytes())),
            transport_master_key: Some(b64(device.transport_key.expose_bytes())),
            version: Some(3),
        }
    }

    /// The knowledge key under the PIN, as the file stores it.
    fn knowledge_key(&self) -> Result<ProtectedKnowledgeKey, CmdToolError> {
        let salt = self.bytes(
            &self.signature_knowledge_key_salt,
            "signatureKnowledgeKeySalt",
        )?;
        let encrypted = self.bytes(
            &self.signature_knowledge_key_encrypted,
            "signatureKnowledgeKeyEncrypted",
        )?;
        ProtectedKnowledgeKey::from_parts(&salt, PIN_ITERATIONS, &encrypted)
            .map_err(|_| CmdToolError::Invalid("signatureKnowledgeKeyEncrypted"))
    }

    fn text<'a>(
        &self,
        value: &'a Option<String>,
        name: &'static str,
    ) -> Result<&'a str, CmdToolError> {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or(CmdToolError::Missing(name))
    }

    fn bytes(
        &self,
        value: &Option<String>,
        name: &'static str,
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, CmdToolError> {
        b64_decode(self.text(value, name)?)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| CmdToolError::Invalid(name))
    }

    fn key(
        &self,
        value: &Option<String>,
        name: &'static str,
    ) -> Result<SymmetricKey, CmdToolError> {
        SymmetricKey::from_slice(&self.bytes(value, name)?).map_err(|_| CmdToolError::Invalid(name))
    }
}

/// Makes the device in `file` for `profile` (server, application, version): one vault
/// unlock on the server (biometry when the file has the key, else the PIN), every key
/// checked against the key exchange, then `pin` checked offline. The vault unlock moves
/// the counter one step, as any signature of the client would.
pub async fn import(
    client: &Client,
    file: &StatusFile,
    profile: Profile,
    pin: &str,
) -> Result<ActiveDevice, CmdToolError> {
    let activation_id = file.text(&file.activation_id, "activationId")?.to_owned();
    let server_public_key =
        PublicKey::from_b64(file.text(&file.server_public_key, "serverPublicKey")?)
            .map_err(|_| CmdToolError::Invalid("serverPublicKey"))?;
    let ctr_data = CtrData::from_slice(&file.bytes(&file.ctr_data, "ctrData")?)
        .ok_or(CmdToolError::Invalid("ctrData"))?;
    let possession_key = file.key(&file.signature_possession_key, "signaturePossessionKey")?;
    let transport_key = file.key(&file.transport_master_key, "transportMasterKey")?;
    let biometry_key = match &file.signature_biometry_key {
        Some(text) if !text.is_empty() => {
            Some(file.key(&file.signature_biometry_key, "signatureBiometryKey")?)
        }
        _ => None,
    };
    let knowledge_key = file.knowledge_key()?;
    let encrypted_device_private_key = file
        .bytes(
            &file.encrypted_device_private_key,
            "encryptedDevicePrivateKey",
        )?
        .to_vec();

    // Everything but the device public key, which only the vault opens.
    let mut device = ActiveDevice {
        profile,
        fingerprint: String::new(),
        device_public_key: server_public_key.clone(),
        server_public_key,
        activation_id,
        ctr_data,
        // The client's counter counts the server's steps from activation: its low byte is
        // the server's `ctrByte`, which lets the first status adopt a counter the server
        // has moved on (a signature the file never saw, an earlier import's unlock).
        ctr_byte: file.counter.map(|c| c as u8),
        counter: file.counter.unwrap_or(0),
        possession_key,
        transport_key,
        knowledge_key,
        biometry: biometry_key.map(|key| Biometry {
            key,
            enrollment_id: IMPORTED_ENROLLMENT.to_owned(),
        }),
        biometric_enrollment: IMPORTED_ENROLLMENT.to_owned(),
        encrypted_device_private_key,
        tokens: Default::default(),
        temporary_keys: TemporaryKeys::default(),
        last_status: None,
        recovery: None,
    };
    let factors = if device.biometry.is_some() {
        Factors::biometry()
    } else {
        Factors::pin(pin)
    };
    let mut keep = |_: &ActiveDevice| Ok(());
    let status = Session::new(client, &mut device, &mut keep)
        .status()
        .await?;
    if status.snapshot.state != "ACTIVE" {
        return Err(CmdToolError::NotActive(status.snapshot.state));
    }
    if !status.in_sync() {
        // The file's counter is not the server's count: leave the byte to be learned.
        device.ctr_byte = None;
    }
    let vault_key = Session::new(client, &mut device, &mut keep)
        .unlock_vault(&factors, "NOT_SPECIFIED")
        .await?;
    let private = decrypt_device_private_key(&vault_key, &device.encrypted_device_private_key)
        .map_err(|_| CmdToolError::KeysDisagree("encryptedDevicePrivateKey"))?;
    let keys = ActivationKeys::derive_from_ecdh(&private, &device.server_public_key);
    let same = |a: &SymmetricKey, b: &SymmetricKey| a.expose_bytes() == b.expose_bytes();
    if !same(&keys.vault, &vault_key) {
        return Err(CmdToolError::KeysDisagree("encryptedDevicePrivateKey"));
    }
    if !same(&keys.possession, &device.possession_key) {
        return Err(CmdToolError::KeysDisagree("signaturePossessionKey"));
    }
    if !same(&keys.transport, &device.transport_key) {
        return Err(CmdToolError::KeysDisagree("transportMasterKey"));
    }
    if let Some(biometry) = &device.biometry
        && !same(&keys.biometry, &biometry.key)
    {
        return Err(CmdToolError::KeysDisagree("signatureBiometryKey"));
    }
    if !same(&keys.knowledge, &device.knowledge_key.unlock(pin)) {
        return Err(CmdToolError::WrongPin);
    }
    device.device_public_key = private.public_key().compressed();
    device.fingerprint = fingerprint(
        &device.device_public_key,
        &device.activation_id,
        &device.server_public_key,
    );
    Ok(device)
}

/// Jackson's `DefaultPrettyPrinter`: two-space indent, `" : "` between key and value.
#[derive(Default)]
struct JacksonPretty {
    indent: usize,
    has_value: bool,
}

impl serde_json::ser::Formatter for JacksonPretty {
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.indent += 1;
        self.has_value = false;
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.indent -= 1;
        if self.has_value {
            writer.write_all(b"\n")?;
            writer.write_all("  ".repeat(self.indent).as_bytes())?;
        } else {
            writer.write_all(b" ")?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        writer.write_all(if first { b"\n" } else { b",\n" })?;
        writer.write_all("  ".repeat(self.indent).as_bytes())
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        _writer: &mut W,
    ) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use powerauth::random::SeededRandom;
    use powerauth::vault::encrypt_device_private_key;
    use powerauth::{KeyPair, ProtocolVersion};
    use proptest::prelude::*;

    /// A status file as the client's `create` writes it, from our own key exchange.
    fn written(seed: &[u8], pin: &str, counter: u64) -> (StatusFile, ActivationKeys, KeyPair) {
        let rng = SeededRandom::new(seed);
        let (device, server) = (KeyPair::make(&rng), KeyPair::make(&rng));
        let keys = ActivationKeys::derive_from_ecdh(&device.private, &server.public);
        let protected = ProtectedKnowledgeKey::protect(&keys.knowledge, pin, &rng);
        let file = StatusFile {
            activation_id: Some("c564e700-7e86-4a87-b6c8-a5a0cc89683f".into()),
            counter: Some(counter),
            ctr_data: Some(b64([counter as u8; 16])),
            encrypted_device_private_key: Some(b64(encrypt_device_private_key(
                &keys.vault,
                &device.private,
            ))),
            response_data: None,
            server_public_key: Some(b64(server.public.to_uncompressed())),
            signature_biometry_key: Some(b64(keys.biometry.expose_bytes())),
            signature_knowledge_key_encrypted: Some(b64(protected.encrypted_key())),
            signature_knowledge_key_salt: Some(b64(protected.salt())),
            signature_possession_key: Some(b64(keys.possession.expose_bytes())),
            transport_master_key: Some(b64(keys.transport.expose_bytes())),
            version: Some(3),
        };
        (file, keys, device)
    }

    #[test]
    fn the_writer_uses_exactly_the_clients_keys_in_getter_order() {
        let (file, _, _) = written(b"order", "1234", 5);
        let text = file.to_json();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let expected: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|k| *k != "responseData")
            .collect();
        let mut sorted = expected.clone();
        sorted.sort_unstable();
        assert_eq!(
            keys, sorted,
            "every key the client's create writes, no other"
        );
        // Jackson's pretty printer, keys in the getters' order.
        assert!(
            text.starts_with("{\n  \"activationId\" : \"c564e700"),
            "{text}"
        );
        let positions: Vec<usize> = expected
            .iter()
            .map(|k| text.find(&format!("\"{k}\" : ")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert!(
            text.contains("\"counter\" : 5,") && text.ends_with("\"version\" : 3\n}"),
            "{text}"
        );
    }

    #[test]
    fn every_layout_the_client_wrote_is_read() {
        let (file, _, _) = written(b"layouts", "1234", 7);
        // 1.5+: Jackson, pretty; 1.0–1.4: json-simple, one line, any order.
        let jackson = file.to_json();
        let compact =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&jackson).unwrap())
                .unwrap();
        for text in [jackson.as_str(), compact.as_str()] {
            assert_eq!(StatusFile::parse(text.as_bytes()).unwrap(), file);
        }
        // responseData (performance tests) and unknown keys are read past, as Jackson does.
        let mut extra: serde_json::Value = serde_json::from_str(&jackson).unwrap();
        extra["responseData"] = "{}".into();
        extra["somethingNew"] = 1.into();
        let read = StatusFile::parse(extra.to_string().as_bytes()).unwrap();
        assert_eq!(read.response_data.as_deref(), Some("{}"));
        assert_eq!(read.to_json().matches(" : ").count(), 12);
    }

    #[test]
    fn powerauth_2_and_broken_files_are_refused_with_the_reason() {
        let v2 = r#"{"activationId":"a","counter":3,"encryptedDevicePrivateKey":"AA==","serverPublicKey":"AA=="}"#;
        assert!(matches!(
            StatusFile::parse(v2.as_bytes()),
            Err(CmdToolError::Version2)
        ));
        let v2 = r#"{"activationId":"a","counter":3,"ctrData":"","version":2}"#;
        assert!(matches!(
            StatusFile::parse(v2.as_bytes()),
            Err(CmdToolError::Version2)
        ));
        assert!(matches!(
            StatusFile::parse(br#"{"ctrData":"AA==","version":4}"#),
            Err(CmdToolError::UnknownVersion(4))
        ));
        for junk in [&b"not json"[..], b"[]", br#"{"counter":"three"}"#, b"\0"] {
            assert!(matches!(
                StatusFile::parse(junk),
                Err(CmdToolError::NotStatusFile(_))
            ));
        }
        // A file whose create never finished.
        let empty = StatusFile::parse(br#"{"ctrData":"AA==","version":3}"#).unwrap();
        assert!(matches!(
            empty.knowledge_key(),
            Err(CmdToolError::Missing("signatureKnowledgeKeySalt"))
        ));
    }

    #[test]
    fn debug_shows_no_key() {
        let (file, _, _) = written(b"debug", "1234", 1);
        let shown = format!("{file:?}");
        assert!(shown.contains("c564e700"));
        for secret in [
            &file.transport_master_key,
            &file.signature_possession_key,
            &file.ctr_data,
        ] {
            assert!(!shown.contains(secret.as_deref().unwrap()));
        }
    }

    fn device_from(file: &StatusFile, keys: &ActivationKeys, pair: &KeyPair) -> ActiveDevice {
        let rng = SeededRandom::new(b"app");
        let application =
            powerauth::config::ApplicationConfig::make(KeyPair::make(&rng).public, &rng);
        let server_public_key =
            PublicKey::from_b64(file.server_public_key.as_deref().unwrap()).unwrap();
        ActiveDevice {
            profile: Profile::new(
                "p",
                "http://127.0.0.1:9",
                application,
                ProtocolVersion::V3_3,
            ),
            activation_id: file.activation_id.clone().unwrap(),
            device_public_key: pair.public.compressed(),
            fingerprint: fingerprint(
                &pair.public,
                file.activation_id.as_deref().unwrap(),
                &server_public_key,
            ),
            server_public_key,
            ctr_data: CtrData::from_slice(&b64_decode(file.ctr_data.as_deref().unwrap()).unwrap())
                .unwrap(),
            ctr_byte: None,
            counter: file.counter.unwrap(),
            possession_key: keys.possession.clone(),
            transport_key: keys.transport.clone(),
            knowledge_key: file.knowledge_key().unwrap(),
            biometry: Some(Biometry {
                key: keys.biometry.clone(),
                enrollment_id: IMPORTED_ENROLLMENT.into(),
            }),
            biometric_enrollment: IMPORTED_ENROLLMENT.into(),
            encrypted_device_private_key: b64_decode(
                file.encrypted_device_private_key.as_deref().unwrap(),
            )
            .unwrap(),
            tokens: Default::default(),
            temporary_keys: TemporaryKeys::default(),
            last_status: None,
            recovery: None,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]
        #[test]
        fn a_written_file_reads_back_field_by_field(seed in any::<[u8; 8]>(), counter in 0u64..1_000_000, pin in "[0-9]{4,8}") {
            let (file, keys, pair) = written(&seed, &pin, counter);
            let device = device_from(&file, &keys, &pair);
            let exported = StatusFile::from_device(&device);
            prop_assert_eq!(&exported, &file);
            let read = StatusFile::parse(exported.to_json().as_bytes()).unwrap();
            prop_assert_eq!(&read, &file);
            // The PIN unlocks the knowledge key the key exchange derived, as the client's
            // EncryptedStorageUtil does (PBKDF2-HMAC-SHA1, 10 000 iterations, AES-CBC).
            prop_assert_eq!(read.knowledge_key().unwrap().unlock(&pin), keys.knowledge.clone());
        }
    }
}
