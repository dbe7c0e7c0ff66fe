//! Offline operations, in-process: the sandbox has no offline QR endpoint yet, so the
//! server side is `powerauth`'s (real keys and signatures both ways).

use crate::common::PIN;
use powerauth::config::ApplicationConfig;
use powerauth::offline::{
    OfflinePayload, QrFlags, SigningKeyKind, operation_qr_data, verify_offline_signature,
};
use powerauth::signature::{ComponentLength, FactorKeys, OfflineOptions, Verifier};
use powerauth::vault::{ProtectedKnowledgeKey, encrypt_device_private_key};
use powerauth::{ActivationKeys, CtrData, KeyPair, ProtocolVersion, SystemRandom};
use std::sync::Arc;
use tokensim_device::state::{Biometry, TemporaryKeys};
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, Error, Factors, Fault, NoEvents, Profile, Session,
};

struct World {
    device: ActiveDevice,
    server_keys: ActivationKeys,
    master: KeyPair,
    server: KeyPair,
    rng: SystemRandom,
}

fn world() -> World {
    let rng = SystemRandom::new();
    let master = KeyPair::make(&rng);
    let server = KeyPair::make(&rng);
    let device_pair = KeyPair::make(&rng);
    let keys = ActivationKeys::derive_from_ecdh(&device_pair.private, &server.public);
    let server_keys = ActivationKeys::derive_from_ecdh(&server.private, &device_pair.public);
    let device = ActiveDevice {
        profile: Profile::new(
            "offline",
            "http://127.0.0.1:9",
            ApplicationConfig::make(master.public.clone(), &rng),
            ProtocolVersion::V3_3,
        ),
        activation_id: "c564e700-7e86-4a87-b6c8-a5a0cc89683f".to_owned(),
        device_public_key: device_pair.public.clone(),
        server_public_key: server.public.clone(),
        fingerprint: "00000000".to_owned(),
        ctr_data: CtrData::from_bytes([7; 16]),
        ctr_byte: None,
        counter: 0,
        possession_key: keys.possession.clone(),
        transport_key: keys.transport.clone(),
        knowledge_key: ProtectedKnowledgeKey::protect(&keys.knowledge, PIN, &rng),
        biometry: Some(Biometry {
            key: keys.biometry.clone(),
            enrollment_id: "finger".to_owned(),
        }),
        biometric_enrollment: "finger".to_owned(),
        encrypted_device_private_key: encrypt_device_private_key(&keys.vault, &device_pair.private),
        tokens: Default::default(),
        temporary_keys: TemporaryKeys::default(),
        last_status: None,
        recovery: None,
    };
    World {
        device,
        server_keys,
        master,
        server,
        rng,
    }
}

fn qr(world: &World, kind: SigningKeyKind, signer: &KeyPair, totp: Option<&str>) -> String {
    let data = operation_qr_data(
        "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6",
        "Payment",
        "Pay 100 CZK",
        "A1*A100CZK*Q238400856/0300**D20190629",
        QrFlags::parse("B"),
    );
    OfflinePayload::new(data, totp.map(str::to_owned), &world.rng).sign(
        kind,
        signer,
        world.rng.ring(),
    )
}

#[test]
fn an_offline_code_verifies_on_the_server_side_for_pin_and_biometry() {
    let mut world = world();
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).unwrap();
    for (kind, signer) in [
        (SigningKeyKind::Personalized, world.server.clone()),
        (SigningKeyKind::Master, world.master.clone()),
    ] {
        for (factors, totp) in [
            (Factors::pin(PIN), None),
            (Factors::biometry(), Some("12345678")),
        ] {
            let text = qr(&world, kind, &signer, totp);
            let server_ctr = world.device.ctr_data.clone();
            let mut persist = |_: &ActiveDevice| Ok(());
            let code = Session::new(&client, &mut world.device, &mut persist)
                .sign_offline(&text, &factors)
                .unwrap();
            assert_eq!(code.display.len(), 19, "{}", code.display);
            assert_eq!(
                world.device.ctr_data,
                server_ctr.next(),
                "the counter advanced"
            );
            let parsed = powerauth::offline::OfflineQr::parse(&text).unwrap();
            let base_data = powerauth::signature::RequestData::new(
                "POST",
                powerauth::offline::OFFLINE_URI_ID,
                parsed.nonce(),
                format!("{}&{}", parsed.operation_id(), parsed.operation_data()).as_bytes(),
            );
            let verifier = Verifier::new(FactorKeys::from(&world.server_keys));
            let options = OfflineOptions {
                allow_biometry: true,
                component_length: ComponentLength::DEFAULT,
            };
            let otps: Vec<String> = totp.map(str::to_owned).into_iter().collect();
            let verified = verify_offline_signature(
                &verifier,
                &server_ctr,
                &code.signature,
                &base_data,
                options,
                &otps,
            )
            .unwrap();
            assert!(
                verified.is_some(),
                "the server accepts the offline signature ({kind:?}, {:?})",
                factors.signature_type
            );
        }
    }
}

#[test]
fn a_forged_qr_and_a_wrong_pin_are_caught() {
    let mut world = world();
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).unwrap();
    let mut persist = |_: &ActiveDevice| Ok(());
    // Says "personalized" but signed with the master key.
    let forged = qr(
        &world,
        SigningKeyKind::Personalized,
        &world.master.clone(),
        None,
    );
    let ctr = world.device.ctr_data.clone();
    let error = Session::new(&client, &mut world.device, &mut persist)
        .sign_offline(&forged, &Factors::pin(PIN))
        .unwrap_err();
    assert!(matches!(error, Error::OfflineQr(_)), "{error:?}");
    assert_eq!(world.device.ctr_data, ctr, "no signature, no counter step");
    let error = Session::new(&client, &mut world.device, &mut persist)
        .sign_offline("not\na\nqr", &Factors::pin(PIN))
        .unwrap_err();
    assert!(matches!(error, Error::OfflineQr(_)), "{error:?}");

    let text = qr(
        &world,
        SigningKeyKind::Personalized,
        &world.server.clone(),
        None,
    );
    let wrong = client.with_fault(Fault::WrongPin);
    let code = Session::new(&wrong, &mut world.device, &mut persist)
        .sign_offline(&text, &Factors::pin(PIN))
        .unwrap();
    let parsed = powerauth::offline::OfflineQr::parse(&text).unwrap();
    let verifier = Verifier::new(FactorKeys::from(&world.server_keys));
    let options = OfflineOptions {
        allow_biometry: true,
        component_length: ComponentLength::DEFAULT,
    };
    let verified = verify_offline_signature(
        &verifier,
        &ctr,
        &code.signature,
        &parsed.request_data(),
        options,
        &[],
    )
    .unwrap();
    assert!(
        verified.is_none(),
        "a wrong PIN gives a signature the server rejects"
    );
}
