//! A PowerAuth activation, byte by byte, with the client and the server in one process.
//!
//! For each protocol version 3.0–3.3 this runs what a phone and a PowerAuth server do:
//! the activation QR code, the two-layer ECIES key exchange (with a 3.3 temporary key),
//! the shared keys, the status blob, a signed request verified with look-ahead, a MAC
//! token, and the vault unlock. Every step prints what crossed the wire. Nothing here
//! is simulated: both sides run the real protocol code of this crate.
//!
//! Run it with `make run` (until the desktop app exists) or
//! `cargo run -p powerauth --example walkthrough [-- --version 3.2]`.

use powerauth::ecies::{Recipient, Scope};
use powerauth::encoding::b64;
use powerauth::signature::{Authorization, FactorKeys, RequestData, RequestToSign, Verifier};
use powerauth::status::{StatusExchange, StatusRecord, encrypt_status, make_status_challenge};
use powerauth::temporary_key::{TemporaryKeyRequest, UnverifiedKeyRequest, make_key_id};
use powerauth::{
    ActivationCode, ActivationKeys, ActivationQr, ActivationState, ActivationStatusBlob,
    ApplicationConfig, CtrData, EncryptedRequest, Encryptor, KeyPair, ProtocolVersion, SharedInfo1,
    SignatureType, SymmetricKey, SystemRandom, TokenHeader, keys, vault,
};
use serde_json::json;

/// A fixed clock, so the run reads the same every time (the crate never reads the clock).
const NOW_MS: u64 = 1_764_000_000_000;
const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result<()> {
    let versions = match std::env::args().skip_while(|a| a != "--version").nth(1) {
        Some(v) => vec![v.parse::<ProtocolVersion>()?],
        None => ProtocolVersion::ALL.to_vec(),
    };
    for version in versions {
        walk(version)?;
    }
    println!("\nAll steps agreed on both sides.");
    Ok(())
}

fn step(title: &str) {
    println!("\n  -- {title}");
}

fn walk(version: ProtocolVersion) -> Result<()> {
    let rng = SystemRandom::new();
    println!("\n==================== PowerAuth {version} ====================");

    step("Server: an application with its master key pair and mobile SDK configuration");
    let master = KeyPair::make(&rng);
    let app = ApplicationConfig::make(master.public.clone(), &rng);
    let app_key = app.application_key.to_b64();
    let app_secret = app.application_secret.expose_b64();
    println!("     mobileSdkConfig = {}", app.to_mobile_sdk_config());

    step("Server: activation code signed with the master private key (the QR code)");
    let code = ActivationCode::make(&rng);
    let qr = ActivationQr::signed(code, &master, rng.ring()).to_string();
    println!("     QR payload      = {qr}");

    step("Device: parse the QR, check the CRC and verify the signature");
    let qr = ActivationQr::parse(&qr)?;
    let check = qr.verify(&app.master_server_public_key)?;
    println!("     code {} -> {check:?}", qr.code());

    step("Device: key pair, layer 2 (to PowerAuth Server), layer 1 (to the RESTful layer)");
    let device = KeyPair::make(&rng);
    let temporary = KeyPair::make(&rng);
    let temporary_id = make_key_id(&rng);
    let temporary_key = if version.uses_temporary_keys() {
        let request = TemporaryKeyRequest::new(&app_key, &app_secret, Scope::Application, &rng)?;
        println!(
            "     keystore/create request JWT  = {}...",
            &request.jwt()[..40]
        );
        let response = UnverifiedKeyRequest::parse(request.jwt())?
            .verify(&app_secret, Scope::Application, NOW_MS)?
            .respond(
                &temporary_id,
                &temporary.public,
                &master,
                NOW_MS,
                300_000,
                rng.ring(),
            );
        let key = request.verify_response(&response, &app.master_server_public_key)?;
        println!(
            "     temporary key {} verified (ES256 by the master key)",
            key.id
        );
        Some(key)
    } else {
        None
    };
    let recipient = match &temporary_key {
        Some(key) => key.recipient(),
        None => Recipient::Static(&app.master_server_public_key),
    };
    let server_key_for_app_scope = if version.uses_temporary_keys() {
        &temporary.private
    } else {
        &master.private
    };

    let layer2 = Encryptor::new(
        version,
        SharedInfo1::ActivationLayer2,
        &app_key,
        &app_secret,
        Scope::Application,
    )?;
    let layer2_plain = json!({
        "devicePublicKey": b64(device.public.to_compressed()),
        "activationName": "TokenSim walkthrough",
        "platform": "unknown",
        "deviceInfo": "tokensim",
    });
    let (layer2_request, layer2_context) =
        layer2.encrypt_request(recipient, layer2_plain.to_string().as_bytes(), &rng, NOW_MS)?;
    let layer1 = Encryptor::new(
        version,
        SharedInfo1::ApplicationScopeGeneric,
        &app_key,
        &app_secret,
        Scope::Application,
    )?;
    let layer1_plain = json!({
        "type": "CODE",
        "identityAttributes": { "code": qr.code().as_str() },
        "activationData": layer2_request,
    });
    let (layer1_request, layer1_context) =
        layer1.encrypt_request(recipient, layer1_plain.to_string().as_bytes(), &rng, NOW_MS)?;
    let body = layer1_request.to_json();
    println!("     POST /pa/v3/activation/create  ({} bytes)", body.len());
    println!("     {}", body);

    step("Server: decrypt both layers, make its key pair and CTR_DATA, answer");
    let wire = EncryptedRequest::from_json(body.as_bytes())?;
    let (plain1, layer1_responder) = layer1.decrypt_request(server_key_for_app_scope, &wire)?;
    let plain1: serde_json::Value = serde_json::from_slice(&plain1)?;
    let inner: EncryptedRequest = serde_json::from_value(plain1["activationData"].clone())?;
    let (plain2, layer2_responder) = layer2.decrypt_request(server_key_for_app_scope, &inner)?;
    let plain2: serde_json::Value = serde_json::from_slice(&plain2)?;
    let device_public =
        powerauth::PublicKey::from_b64(plain2["devicePublicKey"].as_str().unwrap_or_default())?;
    let server = KeyPair::make(&rng);
    let server_ctr_data = CtrData::from_bytes(powerauth::RandomSource::array(&rng));
    let layer2_answer = layer2_responder.encrypt_response(
        json!({
            "activationId": ACTIVATION_ID,
            "serverPublicKey": b64(server.public.to_uncompressed()),
            "ctrData": b64(server_ctr_data.expose_bytes()),
        })
        .to_string()
        .as_bytes(),
        &rng,
        NOW_MS,
    );
    let layer1_answer = layer1_responder.encrypt_response(
        json!({ "activationData": layer2_answer })
            .to_string()
            .as_bytes(),
        &rng,
        NOW_MS,
    );
    println!("     {}", layer1_answer.to_json());

    step("Device: decrypt both answers, ECDH, derive every key, show the fingerprint");
    let answer1: serde_json::Value =
        serde_json::from_slice(&layer1_context.decrypt_response(&layer1_answer)?)?;
    let answer2 = serde_json::from_value(answer1["activationData"].clone())?;
    let answer2: serde_json::Value =
        serde_json::from_slice(&layer2_context.decrypt_response(&answer2)?)?;
    let server_public =
        powerauth::PublicKey::from_b64(answer2["serverPublicKey"].as_str().unwrap_or_default())?;
    let ctr_bytes =
        powerauth::encoding::b64_decode(answer2["ctrData"].as_str().unwrap_or_default())?;
    let mut device_ctr_data = CtrData::from_slice(&ctr_bytes).ok_or("ctrData is not 16 bytes")?;
    let device_keys = ActivationKeys::derive_from_ecdh(&device.private, &server_public);
    let server_keys = ActivationKeys::derive_from_ecdh(&server.private, &device_public);
    ensure(
        device_keys.transport == server_keys.transport,
        "both sides derive the same KEY_TRANSPORT",
    )?;
    let fingerprint = keys::fingerprint(&device.public, ACTIVATION_ID, &server_public);
    ensure(
        fingerprint == keys::fingerprint(&device_public, ACTIVATION_ID, &server.public),
        "both sides show the same fingerprint",
    )?;
    println!("     activation {ACTIVATION_ID}, fingerprint {fingerprint} on both sides");

    step("Status: the device's challenge, the server's encrypted 32-byte blob");
    let challenge = version
        .status_has_challenge()
        .then(|| make_status_challenge(&rng));
    let record = StatusRecord {
        state: ActivationState::Active,
        current_version: 3,
        upgrade_version: StatusRecord::SERVER_UPGRADE_VERSION,
        failed_attempts: 0,
        max_failed_attempts: 5,
        ctr_look_ahead: 20,
        counter: 0,
        ctr_data: Some(server_ctr_data.clone()),
    };
    let status = encrypt_status(&record, &server_keys.transport, challenge, &rng);
    let exchange =
        StatusExchange::from_response(challenge, status.nonce.as_ref().map(|n| n.as_slice()))?;
    let blob = ActivationStatusBlob::decrypt(
        &status.encrypted_status_blob,
        &device_keys.transport,
        &exchange,
    )?;
    println!(
        "     encryptedStatusBlob = {}",
        b64(status.encrypted_status_blob)
    );
    println!(
        "     -> state {}, failed attempts {}/{}, look-ahead {}",
        blob.state.name(),
        blob.failed_attempts,
        blob.max_failed_attempts,
        blob.ctr_look_ahead
    );

    step("Signature: possession + knowledge over a request, verified with look-ahead");
    let body = br#"{"requestObject":{"reason":"WALKTHROUGH"}}"#;
    // Two signatures the server never saw: the third one still verifies inside the window.
    let authorization = Authorization {
        activation_id: ACTIVATION_ID,
        application_key: &app_key,
        application_secret: &app_secret,
        version,
        signature_type: SignatureType::PossessionKnowledge,
    };
    let request = RequestToSign {
        method: "POST",
        uri_id: "/pa/signature/validate",
        body,
    };
    let factor_keys = FactorKeys::from(&device_keys);
    for _ in 0..2 {
        authorization.sign(&factor_keys, &mut device_ctr_data, &request, &rng)?;
    }
    let header = authorization.sign(&factor_keys, &mut device_ctr_data, &request, &rng)?;
    println!(
        "     X-PowerAuth-Authorization: {}",
        header.to_header_value()
    );
    let parsed = powerauth::AuthorizationHeader::parse(&header.to_header_value())?;
    let base = RequestData::new("POST", "/pa/signature/validate", &parsed.nonce, body)
        .with_application_secret(&app_secret);
    let verified = Verifier::new(FactorKeys::from(&server_keys))
        .verify_online(
            &server_ctr_data,
            parsed.signature_type,
            &parsed.signature,
            &base,
            parsed.version,
        )
        .ok_or("the server rejected the signature")?;
    ensure(
        verified.steps_ahead == 2 && verified.next_ctr_data == device_ctr_data,
        "the server catches up with the device's CTR_DATA",
    )?;
    println!(
        "     server: valid, {} step(s) ahead; CTR_DATA in step again",
        verified.steps_ahead
    );

    step("Token: a MAC token header for a read-only call");
    let token_secret = SymmetricKey::make(&rng);
    let token = TokenHeader::make(
        "d6561669-34d6-4fee-8913-89477687a5cb",
        &token_secret,
        version,
        NOW_MS,
        &rng,
    );
    println!("     X-PowerAuth-Token: {}", token.to_header_value());
    TokenHeader::parse(&token.to_header_value())?.validate(
        &token_secret,
        NOW_MS + 1_000,
        Default::default(),
    )?;
    println!("     server: token digest valid");

    step("Vault: the server wraps KEY_ENCRYPTION_VAULT with KEY_TRANSPORT, the device unwraps it");
    let wrapped = vault::encrypt_vault_key(&server_keys.transport, &server_keys.vault);
    let unwrapped = vault::decrypt_vault_key(&device_keys.transport, &wrapped)?;
    ensure(
        unwrapped == device_keys.vault,
        "the device unwraps the server's vault key",
    )?;
    println!(
        "     encryptedVaultEncryptionKey = {} -> KEY_ENCRYPTION_VAULT",
        b64(wrapped)
    );
    Ok(())
}

/// Requires a condition the protocol promises; the walkthrough stops with `what` otherwise.
fn ensure(condition: bool, what: &str) -> Result<()> {
    if condition { Ok(()) } else { Err(what.into()) }
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the whole walkthrough for every version: each step must agree.
    #[test]
    fn every_version_walks_through() {
        for version in powerauth::ProtocolVersion::ALL {
            super::walk(version).unwrap_or_else(|e| panic!("{version}: {e}"));
        }
    }
}
