//! Activation by code (digest §4.1): `PendingActivation` → `ActiveDevice`.
//!
//! Before anything is sent the QR payload is parsed (CRC) and its signature checked with
//! the master key. 3.3 devices first get an application-scope temporary key. The request
//! is two-layer ECIES: layer 2 (`/pa/activation`, device public key) inside layer 1
//! (`/pa/generic/application`, the activation code). Nothing is kept unless the server's
//! answer decrypts and parses; the master secret, vault key and plain device private key
//! are dropped at the end.

use crate::client::{Client, Reply, Request};
use crate::state::{ActiveDevice, Biometry, PendingActivation, Recovery, TemporaryKeys};
use crate::{Error, Result};
use powerauth::activation_code::QrPayload;
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptedResponse, EncryptionHeader, Encryptor, Recipient,
    ResponseDecryptor, Scope, SharedInfo1,
};
use powerauth::encoding::{b64, b64_decode};
use powerauth::keys::fingerprint;
use powerauth::temporary_key::TemporaryPublicKey;
use powerauth::vault::{ProtectedKnowledgeKey, encrypt_device_private_key};
use powerauth::{ActivationKeys, CtrData, KeyPair, PublicKey};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use zeroize::Zeroizing;

/// The activation endpoint.
pub const ACTIVATION_PATH: &str = "/pa/v3/activation/create";

/// What the user enters to activate.
#[derive(Clone)]
pub struct ActivationInput {
    /// The activation code or QR payload `CODE#SIGNATURE`.
    pub code: String,
    /// The activation OTP, when the server asks for one.
    pub otp: Option<String>,
    /// The new PIN.
    pub pin: Zeroizing<String>,
    /// Store the biometry key at activation under this simulated enrollment id.
    pub biometry_enrollment: Option<String>,
    /// `platform` sent to the server (`android`, `ios`, `hw`, `unknown`).
    pub platform: String,
    /// `deviceInfo` sent to the server.
    pub device_info: String,
}

impl ActivationInput {
    /// Input with the code and PIN, platform `hw`, device info `TokenSim`.
    pub fn new(code: impl Into<String>, pin: &str) -> Self {
        Self {
            code: code.into(),
            otp: None,
            pin: Zeroizing::new(pin.to_owned()),
            biometry_enrollment: None,
            platform: "hw".to_owned(),
            device_info: "TokenSim".to_owned(),
        }
    }
}

impl std::fmt::Debug for ActivationInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationInput")
            .field("platform", &self.platform)
            .field("device_info", &self.device_info)
            .finish_non_exhaustive()
    }
}

/// What the client keeps between the request and its answer: the device key pair and
/// the layer-2 decryptor. `Debug` prints nothing secret.
pub struct ActivationContext {
    device_keys: KeyPair,
    layer2: ResponseDecryptor,
}

impl std::fmt::Debug for ActivationContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ActivationContext(<redacted>)")
    }
}

/// Builds the request: validates the code and its signature, makes the device key pair,
/// encrypts both layers. `temporary_key` is required for 3.3.
pub fn prepare(
    client: &Client,
    pending: &PendingActivation,
    input: &ActivationInput,
    temporary_key: Option<&TemporaryPublicKey>,
) -> Result<(Request, ActivationContext)> {
    let profile = &pending.profile;
    let qr = match QrPayload::parse(input.code.trim())? {
        QrPayload::Activation(qr) => qr,
        QrPayload::Recovery(_) => {
            return Err(Error::Protocol(
                "this is a recovery code (R:…): activation by recovery code and PUK is not supported"
                    .to_owned(),
            ));
        }
    };
    let _ = qr.verify(&profile.application.master_server_public_key)?;
    let version = profile.version;
    let application_key = profile.application.application_key.to_b64();
    let secret = profile.application.application_secret.expose_b64();
    let recipient = match temporary_key {
        Some(key) => key.recipient(),
        None => Recipient::Static(&profile.application.master_server_public_key),
    };
    let device_keys = KeyPair::make(client.rng());
    let mut layer2_plain = json!({
        "devicePublicKey": b64(device_keys.public.to_compressed()),
        "activationName": profile.name,
        "platform": input.platform,
        "deviceInfo": input.device_info,
    });
    if let Some(otp) = &input.otp {
        layer2_plain["activationOtp"] = json!(otp);
    }
    let encryptor = |shared_info1| {
        Encryptor::new(
            version,
            shared_info1,
            &application_key,
            &secret,
            Scope::Application,
        )
        .map_err(|e| Error::Protocol(e.to_string()))
    };
    let (layer2_body, layer2) = crate::client::encrypt(
        client,
        &encryptor(SharedInfo1::ActivationLayer2)?,
        recipient,
        layer2_plain.to_string().as_bytes(),
    )?;
    let layer2_json: Value =
        serde_json::from_slice(&layer2_body).map_err(|e| Error::Protocol(e.to_string()))?;
    let layer1_plain = json!({
        "type": "CODE",
        "identityAttributes": {"code": qr.code().as_str()},
        "activationData": layer2_json,
    });
    let (body, layer1) = crate::client::encrypt(
        client,
        &encryptor(SharedInfo1::ApplicationScopeGeneric)?,
        recipient,
        layer1_plain.to_string().as_bytes(),
    )?;
    let header = EncryptionHeader::application(&application_key, version).to_string();
    let mut request = Request::post("activation/create", ACTIVATION_PATH, body)
        .header(ENCRYPTION_HEADER_NAME, header);
    request.plaintext = Some(json!({"layer1": layer1_plain, "layer2": layer2_plain}).to_string());
    request.decryptor = Some(layer1);
    Ok((
        request,
        ActivationContext {
            device_keys,
            layer2,
        },
    ))
}

/// Reads the answer and builds the active device. `context` must be the request's.
pub fn finish(
    client: &Client,
    pending: PendingActivation,
    input: &ActivationInput,
    context: ActivationContext,
    reply: &Reply,
) -> Result<ActiveDevice> {
    let ActivationContext {
        device_keys,
        layer2,
    } = context;
    const WHAT: &str = "activation/create";
    let layer1: Value = serde_json::from_slice(reply.decrypted(WHAT)?)
        .map_err(|e| Error::invalid(WHAT, format!("layer 1 is not JSON: {e}")))?;
    let activation_data = layer1
        .get("activationData")
        .ok_or_else(|| Error::invalid(WHAT, "layer 1 has no activationData"))?;
    let encrypted = EncryptedResponse::from_json(activation_data.to_string().as_bytes())
        .map_err(|e| Error::invalid(WHAT, format!("activationData: {e}")))?;
    let plain =
        Zeroizing::new(
            layer2
                .decrypt_response(&encrypted)
                .map_err(|e| Error::Decryption {
                    what: WHAT,
                    detail: e.to_string(),
                })?,
        );
    let layer2: Value = serde_json::from_slice(&plain)
        .map_err(|e| Error::invalid(WHAT, format!("layer 2 is not JSON: {e}")))?;
    let field = |key: &str| crate::client::envelope::string_field(&layer2, key, WHAT);
    let activation_id = field("activationId")?;
    let server_public_key = PublicKey::from_b64(&field("serverPublicKey")?)
        .map_err(|_| Error::invalid(WHAT, "serverPublicKey is not a P-256 point"))?;
    let ctr_data = b64_decode(&field("ctrData")?)
        .ok()
        .and_then(|bytes| CtrData::from_slice(&bytes))
        .ok_or_else(|| Error::invalid(WHAT, "ctrData is not Base64 of 16 bytes"))?;
    let recovery = layer2
        .get("activationRecovery")
        .filter(|v| !v.is_null())
        .map(|r| Recovery {
            recovery_code: r
                .get("recoveryCode")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            puk: Zeroizing::new(
                r.get("puk")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            ),
        });

    let keys = ActivationKeys::derive_from_ecdh(&device_keys.private, &server_public_key);
    let device_public_key = device_keys.public.compressed();
    let biometric_enrollment = input.biometry_enrollment.clone().unwrap_or_default();
    let knowledge_key = ProtectedKnowledgeKey::protect(&keys.knowledge, &input.pin, client.rng());
    client.keep_knowledge_key(&activation_id, &knowledge_key, &input.pin, &keys.knowledge);
    Ok(ActiveDevice {
        fingerprint: fingerprint(&device_public_key, &activation_id, &server_public_key),
        activation_id,
        device_public_key,
        server_public_key,
        ctr_data,
        ctr_byte: None,
        counter: 0,
        possession_key: keys.possession.clone(),
        transport_key: keys.transport.clone(),
        knowledge_key,
        biometry: input
            .biometry_enrollment
            .as_ref()
            .map(|enrollment_id| Biometry {
                key: keys.biometry.clone(),
                enrollment_id: enrollment_id.clone(),
            }),
        biometric_enrollment,
        encrypted_device_private_key: encrypt_device_private_key(&keys.vault, &device_keys.private),
        tokens: BTreeMap::new(),
        temporary_keys: TemporaryKeys {
            application: pending.application_temporary_key,
            activation: None,
        },
        last_status: None,
        recovery,
        profile: pending.profile,
    })
}

/// Activates `pending` on its server. On any error nothing is kept; the server may hold
/// a half-done activation only when the answer was lost after it arrived there.
pub async fn activate(
    client: &Client,
    mut pending: PendingActivation,
    input: &ActivationInput,
) -> Result<ActiveDevice> {
    // Parse and verify first: a bad code must not cost a temporary key round trip.
    if let QrPayload::Activation(qr) = QrPayload::parse(input.code.trim())? {
        let _ = qr.verify(&pending.profile.application.master_server_public_key)?;
    }
    let temporary_key = if pending.profile.version.uses_temporary_keys() {
        let profile = &pending.profile;
        Some(
            crate::keystore::cached_or_fetch(
                client,
                &mut pending.application_temporary_key,
                &profile.server_url,
                &profile.application,
                Scope::Application,
                &profile.application.master_server_public_key,
            )
            .await?,
        )
    } else {
        None
    };
    let (request, context) = prepare(client, &pending, input, temporary_key.as_ref())?;
    let reply = client.execute(&pending.profile.server_url, request).await?;
    finish(client, pending, input, context, &reply)
}
