//! Generic ECIES exchanges against the sandbox's `/exchange/v3/*`, in every version.

use crate::common::{PIN, Server};
use powerauth::ProtocolVersion;
use serde_json::{Value, json};
use tokensim_device::{EciesScope, Error, Factors, Session};

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn application_activation_and_signed_exchanges_in_every_version() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        server.recorder.clear();

        let answer = session
            .encrypted_exchange(
                EciesScope::Application,
                "/exchange/v3/application",
                br#"{"data":"app"}"#,
            )
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(
            json_of(&answer)["data"],
            "Server successfully decrypted signed data: app, scope: APPLICATION_SCOPE",
            "{version}"
        );
        let answer = session
            .encrypted_exchange(
                EciesScope::Activation,
                "/exchange/v3/activation",
                br#"{"data":"act"}"#,
            )
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(
            json_of(&answer)["data"],
            "Server successfully decrypted signed data: act, scope: ACTIVATION_SCOPE"
        );
        let answer = session
            .signed_encrypted_exchange(
                "/exchange/v3/signed",
                "/exchange/v3/signed",
                &Factors::pin(PIN),
                br#"{"data":"signed"}"#,
            )
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(
            json_of(&answer)["data"],
            "Server successfully decrypted data and verified signature, request data: signed, \
             user ID: alice"
        );

        // The inspector shows both plaintexts; the wire carries neither.
        let exchanges: Vec<_> = server
            .recorder
            .exchanges()
            .into_iter()
            .filter(|e| e.label == "encrypted exchange")
            .collect();
        assert_eq!(exchanges.len(), 3, "{version}");
        let application = &exchanges[0];
        assert_eq!(
            application.request_plaintext.as_deref(),
            Some(r#"{"data":"app"}"#)
        );
        assert!(!application.request_body.contains("app\""));
        assert!(
            application
                .response_plaintext
                .as_deref()
                .unwrap()
                .contains("APPLICATION_SCOPE"),
            "{application:?}"
        );
        assert!(
            application
                .request_headers
                .iter()
                .any(|(n, v)| n == "X-PowerAuth-Encryption" && !v.contains("activation_id")),
            "{application:?}"
        );
        assert!(
            exchanges[1]
                .request_headers
                .iter()
                .any(|(n, v)| n == "X-PowerAuth-Encryption" && v.contains("activation_id")),
        );
    }
}

#[tokio::test]
async fn secrets_in_exchanged_payloads_are_redacted_and_refusals_are_server_errors() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    server.recorder.clear();

    // The raw endpoint echoes the bytes: a secret-named field goes both ways.
    let body = json!({"tokenSecret": "s3cr3t", "note": "visible"}).to_string();
    let answer = session
        .signed_encrypted_exchange(
            "/exchange/v3/signed/raw",
            "/exchange/v3/signed/raw",
            &Factors::pin(PIN),
            body.as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(answer, body.as_bytes(), "the caller gets the real bytes");
    let event = server
        .recorder
        .exchanges()
        .into_iter()
        .find(|e| e.label == "encrypted exchange")
        .unwrap();
    for shown in [&event.request_plaintext, &event.response_plaintext] {
        let shown = shown.as_deref().unwrap();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("visible"), "{shown}");
    }

    // Application-scope bytes to the activation endpoint.
    let error = session
        .encrypted_exchange(
            EciesScope::Application,
            "/exchange/v3/activation",
            br#"{"data":"x"}"#,
        )
        .await
        .expect_err("wrong scope");
    match error {
        Error::Server { status, code, .. } => {
            assert_eq!((status, code.as_str()), (400, "ERR_ENCRYPTION"));
        }
        other => panic!("{other:?}"),
    }
    // A wrong PIN on the signed exchange.
    let error = session
        .signed_encrypted_exchange(
            "/exchange/v3/signed",
            "/exchange/v3/signed",
            &Factors::pin("0000"),
            br#"{"data":"x"}"#,
        )
        .await
        .expect_err("wrong PIN");
    assert_eq!(error.http_status(), Some(401), "{error:?}");
}
