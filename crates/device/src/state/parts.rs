//! The split of a [`DeviceState`] into a non-secret [`DeviceRecord`] and a secret blob.
//!
//! The record holds what a tester may see in an index file: names, URLs, ids, public keys,
//! counters' low byte, the last status. The blob holds every key, `CTR_DATA`, token
//! secrets and the application secret, as JSON with Base64 values; it is zeroized after
//! use and never printed.

use super::{
    ActiveDevice, Biometry, DeviceState, PendingActivation, Profile, Recovery, StatusSnapshot,
    TemporaryKeys, Token,
};
use powerauth::config::{ApplicationConfig, ApplicationKey, ApplicationSecret};
use powerauth::encoding::{b64, b64_decode};
use powerauth::signature::SignatureType;
use powerauth::temporary_key::TemporaryPublicKey;
use powerauth::vault::ProtectedKnowledgeKey;
use powerauth::{CtrData, ProtocolVersion, PublicKey, SymmetricKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zeroize::{Zeroize, Zeroizing};

/// The non-secret half of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRecord {
    /// The device name.
    pub name: String,
    /// The server base URL.
    pub server_url: String,
    /// `APP_KEY`, Base64.
    pub application_key: String,
    /// `KEY_SERVER_MASTER_PUBLIC`, Base64.
    pub master_server_public_key: String,
    /// The protocol version spoken.
    pub version: ProtocolVersion,
    /// Present once activated.
    pub activation: Option<ActivationRecord>,
}

/// The non-secret facts of an activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationRecord {
    /// `ACTIVATION_ID`.
    pub activation_id: String,
    /// The 8-digit fingerprint.
    pub fingerprint: String,
    /// `KEY_DEVICE_PUBLIC`, Base64.
    pub device_public_key: String,
    /// `KEY_SERVER_PUBLIC`, Base64.
    pub server_public_key: String,
    /// The counter's low byte, once known.
    pub ctr_byte: Option<u8>,
    /// How many steps `CTR_DATA` moved here (absent in records written before it was kept).
    #[serde(default)]
    pub counter: u64,
    /// The enrollment the biometry key is bound to, if enrolled.
    pub biometry_enrollment: Option<String>,
    /// The simulated OS biometric enrollment.
    pub biometric_enrollment: String,
    /// Tokens by local name (ids and types only).
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Whether recovery data is stored.
    pub has_recovery: bool,
    /// The last status fetched.
    pub last_status: Option<StatusSnapshot>,
    /// Cached temporary keys, as `(scope, key id, public key, iat_ms, exp_ms)`.
    pub temporary_keys: Vec<CachedTemporaryKey>,
}

/// A token's non-secret facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRecord {
    /// `tokenId`.
    pub token_id: String,
    /// The signature type it was created with, e.g. `possession`.
    pub signature_type: String,
}

/// A cached temporary public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedTemporaryKey {
    /// `application` or `activation`.
    pub scope: String,
    /// `sub`.
    pub id: String,
    /// Base64 public key.
    pub public_key: String,
    /// `iat_ms`.
    pub issued_at_ms: u64,
    /// `exp_ms`.
    pub expires_at_ms: u64,
}

/// Why stored parts do not make a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartsError {
    /// The secret blob is not the JSON this crate writes: corrupted, or from another device.
    #[error(
        "the secret blob is not readable ({0}): the keychain entry is corrupted or belongs to another device"
    )]
    Blob(String),
    /// A field of the record or the blob has a wrong value.
    #[error("the stored field {0} is invalid: the device store is corrupted")]
    Field(&'static str),
    /// The record says activated but the blob has no activation secrets, or the reverse.
    #[error(
        "the device record and its secret blob disagree (one is activated, one is not): they come from different saves"
    )]
    Mismatch,
}

#[derive(Serialize, Deserialize, Zeroize)]
#[serde(rename_all = "camelCase")]
struct SecretBlob {
    application_secret: String,
    activation: Option<ActivationSecrets>,
}

#[derive(Serialize, Deserialize, Zeroize)]
#[serde(rename_all = "camelCase")]
struct ActivationSecrets {
    ctr_data: String,
    possession_key: String,
    transport_key: String,
    knowledge_salt: String,
    knowledge_iterations: u32,
    knowledge_encrypted_key: String,
    biometry_key: Option<String>,
    encrypted_device_private_key: String,
    tokens: Vec<(String, String)>,
    recovery_code: Option<String>,
    recovery_puk: Option<String>,
}

impl DeviceState {
    /// Splits the device into its non-secret record and its secret blob.
    pub fn to_parts(&self) -> (DeviceRecord, Zeroizing<Vec<u8>>) {
        let (profile, activation) = match self {
            DeviceState::Pending(p) => (&p.profile, None),
            DeviceState::Active(a) => (&a.profile, Some(a)),
        };
        let record = DeviceRecord {
            name: profile.name.clone(),
            server_url: profile.server_url.clone(),
            application_key: profile.application.application_key.to_b64(),
            master_server_public_key: b64(profile.application.master_server_public_key.encoded()),
            version: profile.version,
            activation: activation.map(activation_record),
        };
        let mut blob = SecretBlob {
            application_secret: profile
                .application
                .application_secret
                .expose_b64()
                .to_string(),
            activation: activation.map(activation_secrets),
        };
        let bytes = Zeroizing::new(serde_json::to_vec(&blob).expect("strings always serialise"));
        blob.zeroize();
        (record, bytes)
    }

    /// Rebuilds a device from what [`Self::to_parts`] produced.
    pub fn from_parts(record: &DeviceRecord, blob: &[u8]) -> Result<Self, PartsError> {
        let mut secrets: SecretBlob =
            serde_json::from_slice(blob).map_err(|e| PartsError::Blob(e.to_string()))?;
        let result = rebuild(record, &secrets);
        secrets.zeroize();
        result
    }
}

fn activation_record(a: &ActiveDevice) -> ActivationRecord {
    let mut temporary_keys = Vec::new();
    for (scope, key) in [
        ("application", &a.temporary_keys.application),
        ("activation", &a.temporary_keys.activation),
    ] {
        if let Some(key) = key {
            temporary_keys.push(CachedTemporaryKey {
                scope: scope.to_owned(),
                id: key.id.clone(),
                public_key: b64(key.public_key.encoded()),
                issued_at_ms: key.issued_at_ms,
                expires_at_ms: key.expires_at_ms,
            });
        }
    }
    ActivationRecord {
        activation_id: a.activation_id.clone(),
        fingerprint: a.fingerprint.clone(),
        device_public_key: b64(a.device_public_key.encoded()),
        server_public_key: b64(a.server_public_key.encoded()),
        ctr_byte: a.ctr_byte,
        counter: a.counter,
        biometry_enrollment: a.biometry.as_ref().map(|b| b.enrollment_id.clone()),
        biometric_enrollment: a.biometric_enrollment.clone(),
        tokens: a
            .tokens
            .iter()
            .map(|(name, t)| {
                let record = TokenRecord {
                    token_id: t.token_id.clone(),
                    signature_type: t.signature_type.as_str().to_owned(),
                };
                (name.clone(), record)
            })
            .collect(),
        has_recovery: a.recovery.is_some(),
        last_status: a.last_status.clone(),
        temporary_keys,
    }
}

fn activation_secrets(a: &ActiveDevice) -> ActivationSecrets {
    ActivationSecrets {
        ctr_data: b64(a.ctr_data.expose_bytes()),
        possession_key: b64(a.possession_key.expose_bytes()),
        transport_key: b64(a.transport_key.expose_bytes()),
        knowledge_salt: b64(a.knowledge_key.salt()),
        knowledge_iterations: a.knowledge_key.iterations(),
        knowledge_encrypted_key: b64(a.knowledge_key.encrypted_key()),
        biometry_key: a.biometry.as_ref().map(|b| b64(b.key.expose_bytes())),
        encrypted_device_private_key: b64(&a.encrypted_device_private_key),
        tokens: a
            .tokens
            .iter()
            .map(|(name, t)| (name.clone(), b64(t.secret.expose_bytes())))
            .collect(),
        recovery_code: a.recovery.as_ref().map(|r| r.recovery_code.clone()),
        recovery_puk: a.recovery.as_ref().map(|r| r.puk.to_string()),
    }
}

fn rebuild(record: &DeviceRecord, secrets: &SecretBlob) -> Result<DeviceState, PartsError> {
    let application = ApplicationConfig {
        application_key: ApplicationKey::from_b64(&record.application_key)
            .map_err(|_| PartsError::Field("applicationKey"))?,
        application_secret: ApplicationSecret::from_b64(&secrets.application_secret)
            .map_err(|_| PartsError::Field("applicationSecret"))?,
        master_server_public_key: public_key(
            &record.master_server_public_key,
            "masterServerPublicKey",
        )?,
    };
    let profile = Profile::new(
        &record.name,
        &record.server_url,
        application,
        record.version,
    );
    let (activation, s) = match (&record.activation, &secrets.activation) {
        (None, None) => return Ok(DeviceState::Pending(PendingActivation::new(profile))),
        (Some(a), Some(s)) => (a, s),
        _ => return Err(PartsError::Mismatch),
    };
    let knowledge_key = ProtectedKnowledgeKey::from_parts(
        &bytes(&s.knowledge_salt, "knowledgeSalt")?,
        s.knowledge_iterations,
        &bytes(&s.knowledge_encrypted_key, "knowledgeEncryptedKey")?,
    )
    .map_err(|_| PartsError::Field("knowledgeKey"))?;
    let biometry = match (&s.biometry_key, &activation.biometry_enrollment) {
        (Some(key), Some(enrollment_id)) => Some(Biometry {
            key: symmetric(key, "biometryKey")?,
            enrollment_id: enrollment_id.clone(),
        }),
        (None, None) => None,
        _ => return Err(PartsError::Mismatch),
    };
    let mut tokens = BTreeMap::new();
    for (name, t) in &activation.tokens {
        let secret = s
            .tokens
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, secret)| secret)
            .ok_or(PartsError::Mismatch)?;
        let signature_type: SignatureType = t
            .signature_type
            .parse()
            .map_err(|_| PartsError::Field("tokens.signatureType"))?;
        tokens.insert(
            name.clone(),
            Token {
                token_id: t.token_id.clone(),
                secret: symmetric(secret, "tokens")?,
                signature_type,
            },
        );
    }
    let mut temporary_keys = TemporaryKeys::default();
    for key in &activation.temporary_keys {
        let parsed = TemporaryPublicKey {
            id: key.id.clone(),
            public_key: public_key(&key.public_key, "temporaryKeys")?,
            application_key: record.application_key.clone(),
            activation_id: (key.scope == "activation").then(|| activation.activation_id.clone()),
            issued_at_ms: key.issued_at_ms,
            expires_at_ms: key.expires_at_ms,
        };
        match key.scope.as_str() {
            "application" => temporary_keys.application = Some(parsed),
            "activation" => temporary_keys.activation = Some(parsed),
            _ => return Err(PartsError::Field("temporaryKeys.scope")),
        }
    }
    let recovery = match (&s.recovery_code, &s.recovery_puk) {
        (Some(code), Some(puk)) => Some(Recovery {
            recovery_code: code.clone(),
            puk: Zeroizing::new(puk.clone()),
        }),
        _ => None,
    };
    Ok(DeviceState::Active(ActiveDevice {
        profile,
        activation_id: activation.activation_id.clone(),
        device_public_key: public_key(&activation.device_public_key, "devicePublicKey")?,
        server_public_key: public_key(&activation.server_public_key, "serverPublicKey")?,
        fingerprint: activation.fingerprint.clone(),
        ctr_data: CtrData::from_slice(&bytes(&s.ctr_data, "ctrData")?)
            .ok_or(PartsError::Field("ctrData"))?,
        ctr_byte: activation.ctr_byte,
        counter: activation.counter,
        possession_key: symmetric(&s.possession_key, "possessionKey")?,
        transport_key: symmetric(&s.transport_key, "transportKey")?,
        knowledge_key,
        biometry,
        biometric_enrollment: activation.biometric_enrollment.clone(),
        encrypted_device_private_key: bytes(
            &s.encrypted_device_private_key,
            "encryptedDevicePrivateKey",
        )?
        .to_vec(),
        tokens,
        temporary_keys,
        last_status: activation.last_status.clone(),
        recovery,
    }))
}

fn bytes(text: &str, field: &'static str) -> Result<Zeroizing<Vec<u8>>, PartsError> {
    b64_decode(text)
        .map(Zeroizing::new)
        .map_err(|_| PartsError::Field(field))
}

fn symmetric(text: &str, field: &'static str) -> Result<SymmetricKey, PartsError> {
    SymmetricKey::from_slice(&bytes(text, field)?).map_err(|_| PartsError::Field(field))
}

fn public_key(text: &str, field: &'static str) -> Result<PublicKey, PartsError> {
    PublicKey::from_b64(text).map_err(|_| PartsError::Field(field))
}
