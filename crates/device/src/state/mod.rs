//! The device model, as protocol steps: a [`PendingActivation`] (configured, not yet
//! activated) becomes an [`ActiveDevice`] once the server accepted its key exchange.
//!
//! Each splits into a non-secret [`DeviceRecord`] (Serialize, for an index file) and one
//! opaque secret blob (for the OS keychain or an encrypted file): see
//! [`DeviceState::to_parts`] and [`DeviceState::from_parts`]. Secrets zeroize on drop and
//! `Debug` never prints them.

mod diff;
mod parts;
mod snapshot;

pub use diff::{CTR_SEARCH_STEPS, FieldChange, diff};
pub use parts::{ActivationRecord, DeviceRecord, PartsError, TokenRecord};
pub use snapshot::StatusSnapshot;

use powerauth::config::ApplicationConfig;
use powerauth::temporary_key::TemporaryPublicKey;
use powerauth::vault::ProtectedKnowledgeKey;
use powerauth::{CtrData, ProtocolVersion, PublicKey, SymmetricKey};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// A device in any step: what a store keeps.
// Devices are handled one at a time; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum DeviceState {
    /// Configured, not activated.
    Pending(PendingActivation),
    /// Activated on the server.
    Active(ActiveDevice),
}

impl DeviceState {
    /// The device's name.
    pub fn name(&self) -> &str {
        match self {
            DeviceState::Pending(p) => &p.profile.name,
            DeviceState::Active(a) => &a.profile.name,
        }
    }
}

/// What a device is before and after activation: its name, server and application.
#[derive(Debug, Clone)]
pub struct Profile {
    /// A name the tester chose ("Alice's phone").
    pub name: String,
    /// The server's base URL, e.g. `http://127.0.0.1:8080` (no trailing slash).
    pub server_url: String,
    /// The application: key, secret, master server public key.
    pub application: ApplicationConfig,
    /// The protocol version this device speaks (3.0–3.3).
    pub version: ProtocolVersion,
}

impl Profile {
    /// A profile; the URL loses any trailing slash.
    pub fn new(
        name: impl Into<String>,
        server_url: impl Into<String>,
        application: ApplicationConfig,
        version: ProtocolVersion,
    ) -> Self {
        let server_url = server_url.into().trim_end_matches('/').to_owned();
        Self {
            name: name.into(),
            server_url,
            application,
            version,
        }
    }
}

/// A configured device waiting for its activation (see [`crate::activation`]).
#[derive(Debug, Clone)]
pub struct PendingActivation {
    /// Name, server, application, version.
    pub profile: Profile,
    /// Application-scope temporary key cached for 3.3 (public data).
    pub application_temporary_key: Option<TemporaryPublicKey>,
}

impl PendingActivation {
    /// A device ready to activate.
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            application_temporary_key: None,
        }
    }
}

/// A stored MAC token (digest §8): its id and secret, and the factors it was created with.
#[derive(Clone)]
pub struct Token {
    /// `tokenId` (UUID).
    pub token_id: String,
    /// `tokenSecret`, 16 bytes.
    pub secret: SymmetricKey,
    /// The signature type used to create it; the server remembers it.
    pub signature_type: powerauth::signature::SignatureType,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("token_id", &self.token_id)
            .field("signature_type", &self.signature_type)
            .finish_non_exhaustive()
    }
}

/// The simulated biometry: a key bound to one biometric enrollment of the (simulated) OS.
#[derive(Clone)]
pub struct Biometry {
    /// `KEY_SIGNATURE_BIOMETRY`.
    pub key: SymmetricKey,
    /// The enrollment the key was stored under.
    pub enrollment_id: String,
}

impl std::fmt::Debug for Biometry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Biometry")
            .field("enrollment_id", &self.enrollment_id)
            .finish_non_exhaustive()
    }
}

/// An activated device: everything a phone keeps after the key exchange (digest §4.1
/// step 9). The master secret, vault key and plain device private key are not kept.
#[derive(Clone)]
pub struct ActiveDevice {
    /// Name, server, application, version.
    pub profile: Profile,
    /// `ACTIVATION_ID`.
    pub activation_id: String,
    /// `KEY_DEVICE_PUBLIC`.
    pub device_public_key: PublicKey,
    /// `KEY_SERVER_PUBLIC`.
    pub server_public_key: PublicKey,
    /// The 8-digit fingerprint shown after activation.
    pub fingerprint: String,
    /// `CTR_DATA`, advanced before each signed request is sent.
    pub ctr_data: CtrData,
    /// The counter's low byte, learned from the first status (3.1+).
    pub ctr_byte: Option<u8>,
    /// How many steps `CTR_DATA` moved on this device since TokenSim got it (Wultra's
    /// command-line client keeps this number as `counter` beside `ctrData`); 0 for devices
    /// stored before it was counted.
    pub counter: u64,
    /// `KEY_SIGNATURE_POSSESSION`.
    pub possession_key: SymmetricKey,
    /// `KEY_TRANSPORT`.
    pub transport_key: SymmetricKey,
    /// `KEY_SIGNATURE_KNOWLEDGE` wrapped with the PIN.
    pub knowledge_key: ProtectedKnowledgeKey,
    /// The biometry key, if enrolled.
    pub biometry: Option<Biometry>,
    /// The simulated OS's current biometric enrollment; changing it invalidates the key.
    pub biometric_enrollment: String,
    /// `C_KEY_DEVICE_PRIVATE`: the device private key under the vault key.
    pub encrypted_device_private_key: Vec<u8>,
    /// Tokens by local name (the mobile-token SDK uses `possession_universal`).
    pub tokens: BTreeMap<String, Token>,
    /// Cached temporary keys (3.3): application scope, activation scope.
    pub temporary_keys: TemporaryKeys,
    /// The last status fetched.
    pub last_status: Option<StatusSnapshot>,
    /// Recovery code and PUK, if the server issued them at activation.
    pub recovery: Option<Recovery>,
}

/// A recovery code and its PUK (digest §9.6).
#[derive(Clone)]
pub struct Recovery {
    /// The recovery code `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub recovery_code: String,
    /// The 10-digit PUK.
    pub puk: Zeroizing<String>,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recovery(<redacted>)")
    }
}

/// The temporary keys a 3.3 device caches, one per scope (digest §16.11).
#[derive(Debug, Clone, Default)]
pub struct TemporaryKeys {
    /// Application scope, signed by the master key.
    pub application: Option<TemporaryPublicKey>,
    /// Activation scope, signed by `KEY_SERVER_PUBLIC`.
    pub activation: Option<TemporaryPublicKey>,
}

impl ActiveDevice {
    /// The biometry key if enrolled under the current enrollment.
    pub fn biometry_key(&self) -> Result<&SymmetricKey, crate::Error> {
        match &self.biometry {
            None => Err(crate::Error::BiometryNotEnabled),
            Some(b) if b.enrollment_id != self.biometric_enrollment => {
                Err(crate::Error::BiometryInvalidated)
            }
            Some(b) => Ok(&b.key),
        }
    }

    /// Simulates a change of the OS biometric enrollment (a finger added, a face reset):
    /// like a phone, the stored biometry key becomes unusable and is dropped.
    pub fn change_biometric_enrollment(&mut self, new_enrollment_id: impl Into<String>) {
        self.biometric_enrollment = new_enrollment_id.into();
        if self
            .biometry
            .as_ref()
            .is_some_and(|b| b.enrollment_id != self.biometric_enrollment)
        {
            self.biometry = None;
        }
    }

    /// Removes biometry locally (no server call exists for it).
    pub fn remove_biometry(&mut self) {
        self.biometry = None;
    }

    /// The application key as Base64 text.
    pub fn application_key(&self) -> String {
        self.profile.application.application_key.to_b64()
    }
}

impl std::fmt::Debug for ActiveDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveDevice")
            .field("name", &self.profile.name)
            .field("server_url", &self.profile.server_url)
            .field("version", &self.profile.version)
            .field("activation_id", &self.activation_id)
            .field("fingerprint", &self.fingerprint)
            .field("ctr_byte", &self.ctr_byte)
            .field("counter", &self.counter)
            .field("biometry", &self.biometry.is_some())
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("last_status", &self.last_status)
            .finish_non_exhaustive()
    }
}
