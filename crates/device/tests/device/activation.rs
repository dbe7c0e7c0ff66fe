//! Activation end to end, every version; bad codes stop before anything is sent.

use crate::common::{PIN, Server};
use powerauth::ProtocolVersion;
use serde_json::json;
use tokensim_device::Error;
use tokensim_device::activation::{ActivationInput, activate};

#[tokio::test]
async fn activates_in_every_version_with_decrypted_inspector_events() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        server.recorder.clear();
        let device = server.device("alice", version).await;
        assert_eq!(
            device.fingerprint.len(),
            8,
            "{version}: fingerprint is 8 digits"
        );
        let exchanges = server.recorder.exchanges();
        let keystore = exchanges
            .iter()
            .filter(|e| e.label.starts_with("keystore"))
            .count();
        assert_eq!(
            keystore,
            usize::from(version == ProtocolVersion::V3_3),
            "{version}: temporary keys only in 3.3"
        );
        let create = exchanges
            .iter()
            .find(|e| e.label == "activation/create")
            .expect("an activation exchange");
        assert_eq!(create.status, Some(200));
        let plain = create
            .request_plaintext
            .as_deref()
            .expect("the layers are shown decrypted");
        assert!(
            plain.contains("devicePublicKey") && plain.contains("identityAttributes"),
            "{plain}"
        );
        let response = create
            .response_plaintext
            .as_deref()
            .expect("the response is shown decrypted");
        assert!(response.contains("activationData"), "{response}");
        let header = &create
            .request_headers
            .iter()
            .find(|(n, _)| n == "X-PowerAuth-Encryption")
            .unwrap()
            .1;
        assert!(
            header.contains(&format!("version=\"{version}\"")),
            "{header}"
        );
    }
}

#[tokio::test]
async fn a_used_code_is_refused_by_the_server_and_nothing_is_kept() {
    let server = Server::start().await;
    let (_, qr) = server.init("alice", json!({})).await;
    activate(
        &server.client,
        server.pending(ProtocolVersion::V3_2),
        &ActivationInput::new(qr.clone(), PIN),
    )
    .await
    .unwrap();
    let error = activate(
        &server.client,
        server.pending(ProtocolVersion::V3_2),
        &ActivationInput::new(qr, PIN),
    )
    .await
    .unwrap_err();
    assert_eq!(error.http_status(), Some(400), "{error}");
    assert!(
        error.to_string().contains("already used"),
        "the error explains: {error}"
    );
}

#[tokio::test]
async fn bad_codes_fail_before_any_request() {
    let server = Server::start().await;
    let (_, qr) = server.init("alice", json!({})).await;
    let (code, signature) = qr.split_once('#').unwrap();
    // One character changed: the CRC catches it.
    let mut typo: Vec<char> = code.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    // Another code's signature: valid CRC, wrong signature.
    let (_, other) = server.init("bob", json!({})).await;
    let other_signature = other.split_once('#').unwrap().1;
    server.recorder.clear();
    for version in ProtocolVersion::ALL {
        let typo_error = activate(
            &server.client,
            server.pending(version),
            &ActivationInput::new(format!("{typo}#{signature}"), PIN),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(typo_error, Error::ActivationCode(_)),
            "{typo_error:?}"
        );
        assert!(typo_error.to_string().contains("checksum"), "{typo_error}");
        let forged = activate(
            &server.client,
            server.pending(version),
            &ActivationInput::new(format!("{code}#{other_signature}"), PIN),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(forged, Error::ActivationSignature(_)),
            "{forged:?}"
        );
    }
    assert!(
        server.recorder.exchanges().is_empty(),
        "nothing may be sent for a bad code"
    );
}

#[tokio::test]
async fn an_otp_activation_needs_the_otp() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let (_, qr) = server
            .init(
                "alice",
                json!({"activationOtp": "12345678", "commitPhase": "ON_KEY_EXCHANGE"}),
            )
            .await;
        let mut input = ActivationInput::new(qr, PIN);
        input.otp = Some("12345678".to_owned());
        let mut device = activate(&server.client, server.pending(version), &input)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let report = tokensim_device::Session::new(&server.client, &mut device, &mut persist)
            .status()
            .await
            .unwrap();
        assert_eq!(
            report.snapshot.state, "ACTIVE",
            "{version}: a correct OTP activates at once"
        );
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named() {
    let server = Server::start().await;
    let mut pending = server.pending(ProtocolVersion::V3_1);
    pending.profile.server_url = "http://127.0.0.1:9".to_owned();
    let (_, qr) = server.init("alice", json!({})).await;
    let error = activate(&server.client, pending, &ActivationInput::new(qr, PIN))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Network { .. }), "{error:?}");
    assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
}
