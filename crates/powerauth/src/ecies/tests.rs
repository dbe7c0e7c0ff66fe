//! Round trips for every version × scope × sharedInfo1, tampering, and field presence.

use super::*;
use crate::keys::{KeyPair, PublicKey};
use crate::random::SeededRandom;
use proptest::prelude::*;

const APP_KEY: &str = "UNfS0VZX3JhbmRvbQ==";
const APP_SECRET: &str = "Xui/j5jW0HjMLGFPjfkmcw==";
const ACTIVATION_ID: &str = "c564e700-7e86-4a87-b6c8-a5a0cc89683f";
const TEMPORARY_KEY_ID: &str = "517b6065-bb33-4ea0-86a6-ace5a2daff2d";

/// One endpoint's world: the server's key and the client's view of it.
#[derive(Debug)]
struct World {
    version: ProtocolVersion,
    shared_info1: SharedInfo1,
    server: KeyPair,
    transport_key: SymmetricKey,
}

impl World {
    fn new(version: ProtocolVersion, shared_info1: SharedInfo1, seed: u64) -> Self {
        let rng = SeededRandom::new(&seed.to_be_bytes());
        Self {
            version,
            shared_info1,
            server: KeyPair::make(&rng),
            transport_key: SymmetricKey::make(&rng),
        }
    }

    fn encryptor(&self) -> Encryptor<'_> {
        self.encryptor_for(ACTIVATION_ID, &self.transport_key)
    }

    fn encryptor_for<'a>(&'a self, activation_id: &'a str, key: &'a SymmetricKey) -> Encryptor<'a> {
        let scope = match self.shared_info1.scope() {
            EncryptorScope::Application => Scope::Application,
            EncryptorScope::Activation => Scope::Activation {
                activation_id,
                transport_key: key,
            },
        };
        Encryptor::new(self.version, self.shared_info1, APP_KEY, APP_SECRET, scope).unwrap()
    }

    fn recipient(&self) -> Recipient<'_> {
        if self.version.uses_temporary_keys() {
            Recipient::Temporary {
                id: TEMPORARY_KEY_ID,
                public_key: &self.server.public,
            }
        } else {
            Recipient::Static(&self.server.public)
        }
    }

    fn request(&self, plaintext: &[u8], seed: u64) -> (EncryptedRequest, ResponseDecryptor) {
        let rng = SeededRandom::new(&seed.to_le_bytes());
        self.encryptor()
            .encrypt_request(self.recipient(), plaintext, &rng, 1_718_000_000_000)
            .unwrap()
    }
}

fn any_world() -> impl Strategy<Value = World> {
    (
        prop::sample::select(ProtocolVersion::ALL.to_vec()),
        prop::sample::select(SharedInfo1::ALL.to_vec()),
        any::<u64>(),
    )
        .prop_map(|(version, shared_info1, seed)| World::new(version, shared_info1, seed))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn request_and_response_round_trip(
        world in any_world(),
        request_plaintext in prop::collection::vec(any::<u8>(), 0..100),
        response_plaintext in prop::collection::vec(any::<u8>(), 0..100),
        seed in any::<u64>(),
    ) {
        let (request, decryptor) = world.request(&request_plaintext, seed);
        let request = EncryptedRequest::from_json(request.to_json().as_bytes()).unwrap();
        let (plaintext, encryptor) = world.encryptor().decrypt_request(&world.server.private, &request).unwrap();
        prop_assert_eq!(plaintext, request_plaintext);
        let rng = SeededRandom::new(b"response");
        let response = encryptor.encrypt_response(&response_plaintext, &rng, 1_718_000_000_500);
        let response = EncryptedResponse::from_json(response.to_json().as_bytes()).unwrap();
        prop_assert_eq!(response.nonce.is_some(), world.version.ecies_has_timestamp());
        prop_assert_eq!(decryptor.decrypt_response(&response).unwrap(), response_plaintext);
    }

    #[test]
    fn tampered_requests_are_rejected(world in any_world(), seed in any::<u64>(), bit in 0usize..8) {
        let (request, _) = world.request(b"{}", seed);
        let mut tampered = vec![];
        let mut mac = request.clone();
        mac.mac[bit] ^= 1;
        tampered.push(mac);
        let mut data = request.clone();
        data.encrypted_data[bit] ^= 1;
        tampered.push(data);
        if let Some(nonce) = request.nonce {
            let mut other = request.clone();
            other.nonce = Some([nonce[0] ^ 1; 16]);
            if world.version.ecies_has_timestamp() {
                tampered.push(other);
            } else {
                // 3.1 keeps the nonce out of sharedInfo2: the MAC cannot see it, but the IV
                // changes, so the plaintext never comes back intact.
                let result = world.encryptor().decrypt_request(&world.server.private, &other);
                prop_assert_ne!(result.map(|(plaintext, _)| plaintext).ok(), Some(b"{}".to_vec()));
            }
        }
        if let Some(timestamp) = request.timestamp {
            let mut other = request.clone();
            other.timestamp = Some(timestamp ^ (1 << bit));
            tampered.push(other);
        }
        if let Some(id) = &request.temporary_key_id {
            let mut other = request.clone();
            other.temporary_key_id = Some(format!("{id}0"));
            tampered.push(other);
        }
        for request in tampered {
            let result = world.encryptor().decrypt_request(&world.server.private, &request);
            prop_assert_eq!(result.err(), Some(EciesError::MacMismatch));
        }
    }

    #[test]
    fn tampered_responses_are_rejected(world in any_world(), seed in any::<u64>(), bit in 0usize..8) {
        let make = || {
            let (request, decryptor) = world.request(b"{}", seed);
            let (_, encryptor) = world.encryptor().decrypt_request(&world.server.private, &request).unwrap();
            (encryptor.encrypt_response_with(b"{\"ok\":1}", [5; 16], 1_718_000_000_500), decryptor)
        };
        let (response, _) = make();
        let mut tampered = vec![];
        let mut mac = response.clone();
        mac.mac[bit] ^= 1;
        tampered.push(mac);
        let mut data = response.clone();
        data.encrypted_data[bit] ^= 1;
        tampered.push(data);
        if response.nonce.is_some() {
            let mut other = response.clone();
            other.nonce = Some([5 ^ (1 << bit); 16]);
            tampered.push(other);
            let mut other = response.clone();
            other.timestamp = other.timestamp.map(|t| t ^ (1 << bit));
            tampered.push(other);
        }
        for response in tampered {
            let (_, decryptor) = make();
            prop_assert_eq!(decryptor.decrypt_response(&response).err(), Some(EciesError::MacMismatch));
        }
    }

    #[test]
    fn header_round_trips(
        key in any::<[u8; 16]>(),
        id in any::<[u8; 16]>(),
        version in prop::sample::select(ProtocolVersion::ALL.to_vec()),
        activation in any::<bool>(),
    ) {
        let application_key = crate::encoding::b64(key);
        let activation_id = crate::temporary_key::make_key_id(&SeededRandom::new(&id));
        let (header, scope) = if activation {
            (EncryptionHeader::activation(&application_key, &activation_id, version), EncryptorScope::Activation)
        } else {
            (EncryptionHeader::application(&application_key, version), EncryptorScope::Application)
        };
        prop_assert_eq!(EncryptionHeader::parse(&header.to_string(), scope), Ok(header.clone()));
        prop_assert_eq!(header.scope(), scope);
    }
}

#[test]
fn other_activation_or_transport_key_fails_the_mac() {
    for version in ProtocolVersion::ALL {
        let world = World::new(version, SharedInfo1::CreateToken, 7);
        let (request, _) = world.request(b"{}", 1);
        let other_key = SymmetricKey::from_bytes([9; 16]);
        let wrong_key = world.encryptor_for(ACTIVATION_ID, &other_key);
        let result = wrong_key.decrypt_request(&world.server.private, &request);
        assert_eq!(result.err(), Some(EciesError::MacMismatch), "{version}");
        let other_id = "00000000-0000-4000-8000-000000000000";
        let result = world
            .encryptor_for(other_id, &world.transport_key)
            .decrypt_request(&world.server.private, &request);
        // The activation id enters the associated data from 3.2.
        assert_eq!(result.is_err(), version.ecies_has_timestamp(), "{version}");
    }
}

#[test]
fn field_presence_is_strict_on_both_sides() {
    use ProtocolVersion::*;
    let missing = |field, version| Some(EciesError::MissingField { field, version });
    let unexpected = |field, version| Some(EciesError::UnexpectedField { field, version });
    let server = |version, edit: fn(&mut EncryptedRequest)| {
        let world = World::new(version, SharedInfo1::ApplicationScopeGeneric, 3);
        let (mut request, _) = world.request(b"{}", 2);
        edit(&mut request);
        world
            .encryptor()
            .decrypt_request(&world.server.private, &request)
            .err()
    };
    assert_eq!(
        server(V3_0, |r| r.nonce = Some([1; 16])),
        unexpected("nonce", V3_0)
    );
    assert_eq!(server(V3_1, |r| r.nonce = None), missing("nonce", V3_1));
    assert_eq!(
        server(V3_1, |r| r.timestamp = Some(1)),
        unexpected("timestamp", V3_1)
    );
    assert_eq!(
        server(V3_2, |r| r.timestamp = None),
        missing("timestamp", V3_2)
    );
    assert_eq!(
        server(V3_2, |r| r.temporary_key_id = Some("x".into())),
        unexpected("temporaryKeyId", V3_2)
    );
    assert_eq!(
        server(V3_3, |r| r.temporary_key_id = None),
        missing("temporaryKeyId", V3_3)
    );

    let client = |version, edit: fn(&mut EncryptedResponse)| {
        let world = World::new(version, SharedInfo1::ActivationScopeGeneric, 4);
        let (request, decryptor) = world.request(b"{}", 2);
        let (_, encryptor) = world
            .encryptor()
            .decrypt_request(&world.server.private, &request)
            .unwrap();
        let mut response = encryptor.encrypt_response_with(b"{}", [3; 16], 9);
        edit(&mut response);
        decryptor.decrypt_response(&response).err()
    };
    assert_eq!(
        client(V3_1, |r| r.nonce = Some([1; 16])),
        unexpected("nonce", V3_1)
    );
    assert_eq!(
        client(V3_0, |r| r.timestamp = Some(1)),
        unexpected("timestamp", V3_0)
    );
    assert_eq!(client(V3_2, |r| r.nonce = None), missing("nonce", V3_2));
    assert_eq!(
        client(V3_3, |r| r.timestamp = None),
        missing("timestamp", V3_3)
    );
}

#[test]
fn recipient_and_scope_must_fit_the_version() {
    let world = World::new(ProtocolVersion::V3_3, SharedInfo1::Upgrade, 5);
    let rng = SeededRandom::new(b"r");
    let result =
        world
            .encryptor()
            .encrypt_request(Recipient::Static(&world.server.public), b"", &rng, 0);
    assert_eq!(
        result.err(),
        Some(EciesError::TemporaryKeyRequired(ProtocolVersion::V3_3))
    );
    let temporary = Recipient::Temporary {
        id: "x",
        public_key: &world.server.public,
    };
    let old = World::new(ProtocolVersion::V3_2, SharedInfo1::Upgrade, 5);
    let result = old.encryptor().encrypt_request(temporary, b"", &rng, 0);
    assert_eq!(
        result.err(),
        Some(EciesError::TemporaryKeyNotSupported(ProtocolVersion::V3_2))
    );
    let result = Encryptor::new(
        ProtocolVersion::V3_2,
        SharedInfo1::VaultUnlock,
        APP_KEY,
        APP_SECRET,
        Scope::Application,
    );
    assert!(matches!(result, Err(EciesError::ScopeMismatch { .. })));
}

#[test]
fn ephemeral_key_bytes_enter_the_kdf_as_sent() {
    let world = World::new(
        ProtocolVersion::V3_2,
        SharedInfo1::ApplicationScopeGeneric,
        6,
    );
    let (request, _) = world.request(b"{}", 2);
    assert_eq!(
        request.ephemeral_public_key.encoded().len(),
        33,
        "the SDK sends compressed keys"
    );
    world
        .encryptor()
        .decrypt_request(&world.server.private, &request)
        .unwrap();
    let mut reencoded = request.clone();
    reencoded.ephemeral_public_key =
        PublicKey::from_sec1(&request.ephemeral_public_key.to_uncompressed()).unwrap();
    let result = world
        .encryptor()
        .decrypt_request(&world.server.private, &reencoded);
    assert_eq!(result.err(), Some(EciesError::MacMismatch));
}

#[test]
fn shared_info1_is_versioned_from_3_2() {
    assert_eq!(
        SharedInfo1::CreateToken.derive_bytes(ProtocolVersion::V3_1),
        b"/pa/token/create"
    );
    assert_eq!(
        SharedInfo1::CreateToken.derive_bytes(ProtocolVersion::V3_3),
        b"3.3/pa/token/create"
    );
    let application: Vec<_> = SharedInfo1::ALL
        .into_iter()
        .filter(|s| s.scope() == EncryptorScope::Application)
        .collect();
    assert_eq!(
        application,
        [
            SharedInfo1::ApplicationScopeGeneric,
            SharedInfo1::ActivationLayer2
        ]
    );
}

#[test]
fn contexts_do_not_print_keys() {
    let world = World::new(ProtocolVersion::V3_1, SharedInfo1::ActivationLayer2, 8);
    let (_, decryptor) = world.request(b"{}", 2);
    assert_eq!(format!("{decryptor:?}"), "ResponseDecryptor(<redacted>)");
    let encryptor = format!("{:?}", world.encryptor());
    assert!(
        encryptor.contains(APP_KEY) && !encryptor.contains(APP_SECRET),
        "{encryptor}"
    );
}
