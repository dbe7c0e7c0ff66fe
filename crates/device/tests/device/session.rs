//! Status, counters, signatures, tokens, vault, biometry, PIN change and removal, end to
//! end against the sandbox in every version.

use crate::common::{PIN, Saved, Server};
use powerauth::ProtocolVersion;
use powerauth::status::CounterSync;
use std::sync::Arc;
use tokensim_device::token::POSSESSION_UNIVERSAL;
use tokensim_device::{Client, ClientConfig, Error, Factors, Session};

#[tokio::test]
async fn the_whole_life_of_a_device_in_every_version() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let saved = Saved::default();
        let mut persist = saved.persist();
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        let status = session.status().await.unwrap();
        assert_eq!(status.snapshot.state, "ACTIVE", "{version}");
        assert!(status.in_sync(), "{version}: {status}");

        session
            .validate_signature(&Factors::pin(PIN), "TEST")
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        session
            .validate_signature(&Factors::possession(), "TEST")
            .await
            .unwrap();

        // Tokens.
        let token_id = session
            .create_token(POSSESSION_UNIVERSAL, &Factors::possession())
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(
            session.device.tokens[POSSESSION_UNIVERSAL].token_id,
            token_id
        );
        assert_eq!(
            session.inbox_count().await.unwrap(),
            0,
            "{version}: a token call works"
        );
        session
            .create_token("second", &Factors::pin(PIN))
            .await
            .unwrap();
        session
            .remove_token("second", &Factors::possession())
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert!(!session.device.tokens.contains_key("second"));

        // Vault and biometry.
        session
            .enroll_biometry(PIN)
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        session
            .validate_signature(&Factors::biometry(), "TEST")
            .await
            .unwrap_or_else(|e| panic!("{version}: biometry signature: {e}"));
        session.device.change_biometric_enrollment("another finger");
        let exchanges = server.recorder.exchanges().len();
        let error = session
            .validate_signature(&Factors::biometry(), "TEST")
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::BiometryNotEnabled | Error::BiometryInvalidated
            ),
            "{error:?}"
        );
        assert_eq!(
            server.recorder.exchanges().len(),
            exchanges,
            "nothing sent without a biometry key"
        );

        // PIN change with an online proof.
        let error = session.change_pin("9999", "5678").await.unwrap_err();
        assert!(
            error.is_authentication_failure(),
            "{version}: a wrong old PIN is refused: {error}"
        );
        session
            .validate_signature(&Factors::pin(PIN), "TEST")
            .await
            .expect("the PIN is unchanged after a refused change");
        session.change_pin(PIN, "5678").await.unwrap();
        session
            .validate_signature(&Factors::pin("5678"), "TEST")
            .await
            .expect("the new PIN works");
        assert!(
            session
                .validate_signature(&Factors::pin(PIN), "TEST")
                .await
                .unwrap_err()
                .is_authentication_failure()
        );

        let status = session.status().await.unwrap();
        assert!(status.in_sync(), "{version}: {status}");
        session
            .remove_activation(&Factors::pin("5678"))
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        assert_eq!(session.status().await.unwrap().snapshot.state, "REMOVED");
        // The saved state is the device itself.
        let reloaded = saved.load();
        assert_eq!(
            reloaded.ctr_data, device.ctr_data,
            "{version}: the store holds the latest counter"
        );
    }
}

#[tokio::test]
async fn the_counter_is_saved_before_the_request_leaves() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let before = device.ctr_data.clone();
    let recorder = server.recorder.clone();
    let mut seen_before_send = Vec::new();
    let mut persist = |d: &tokensim_device::ActiveDevice| {
        seen_before_send.push((d.ctr_data.clone(), recorder.exchanges().len()));
        Ok(())
    };
    let sent_before = server.recorder.exchanges().len();
    Session::new(&server.client, &mut device, &mut persist)
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await
        .unwrap();
    let (saved_ctr, exchanges_at_save) = seen_before_send.first().cloned().unwrap();
    assert_eq!(saved_ctr, before.next(), "the advanced counter was saved");
    assert_eq!(
        exchanges_at_save, sent_before,
        "saved before anything was sent"
    );

    // A store that fails stops the request and keeps the counter.
    let mut failing = |_: &tokensim_device::ActiveDevice| Err("disk full".to_owned());
    let ctr = device.ctr_data.clone();
    let sent = server.recorder.exchanges().len();
    let error = Session::new(&server.client, &mut device, &mut failing)
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Persist(_)), "{error:?}");
    assert_eq!(device.ctr_data, ctr, "the counter is put back");
    assert_eq!(server.recorder.exchanges().len(), sent, "nothing was sent");
}

#[tokio::test]
async fn drift_is_warned_and_resynchronised_and_a_restored_device_adopts_the_server_counter() {
    let server = Server::start().await;
    for version in [
        ProtocolVersion::V3_1,
        ProtocolVersion::V3_2,
        ProtocolVersion::V3_3,
    ] {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        session.status().await.unwrap();

        // 15 signatures that never reached the server: more than half the window of 20.
        session.device.ctr_data = session.device.ctr_data.advanced(15);
        session.device.ctr_byte = session.device.ctr_byte.map(|b| b.wrapping_add(15));
        server.recorder.clear();
        let report = session.status().await.unwrap();
        assert!(
            matches!(
                report.sync,
                CounterSync::CalculateSignatureSoon {
                    client_ahead: 15,
                    ..
                }
            ),
            "{version}: {:?}",
            report.sync
        );
        assert!(report.resynchronized, "{version}: {report}");
        assert!(
            server
                .recorder
                .warnings()
                .iter()
                .any(|w| w.code == "COUNTER_DRIFT")
        );
        let after = session.status().await.unwrap();
        assert_eq!(
            after.sync,
            CounterSync::Ok { client_ahead: 0 },
            "{version}: {after}"
        );

        // A device restored from an older backup: the server is 2 steps ahead.
        let backup = (session.device.ctr_data.clone(), session.device.ctr_byte);
        session
            .validate_signature(&Factors::possession(), "TEST")
            .await
            .unwrap();
        session
            .validate_signature(&Factors::possession(), "TEST")
            .await
            .unwrap();
        let current = session.device.ctr_data.clone();
        (session.device.ctr_data, session.device.ctr_byte) = backup;
        let report = session.status().await.unwrap();
        assert!(
            matches!(
                report.sync,
                CounterSync::Updated {
                    server_ahead: 2,
                    ..
                }
            ),
            "{version}: {:?}",
            report.sync
        );
        assert_eq!(
            session.device.ctr_data, current,
            "{version}: the server's counter was adopted"
        );
        session
            .validate_signature(&Factors::pin(PIN), "TEST")
            .await
            .expect("usable after adoption");

        // Beyond the window: a clear deadlock warning.
        session.device.ctr_data = session.device.ctr_data.advanced(30);
        session.device.ctr_byte = session.device.ctr_byte.map(|b| b.wrapping_add(30));
        server.recorder.clear();
        let report = session.status().await.unwrap();
        assert!(!report.in_sync(), "{version}: {report}");
        assert!(
            server
                .recorder
                .warnings()
                .iter()
                .any(|w| w.code == "COUNTER_DEADLOCK" && w.message.contains("ahead"))
        );
    }
}

#[tokio::test]
async fn five_wrong_pins_block_the_activation_with_words_that_say_so() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    for attempt in 1..=4u8 {
        let error = session
            .validate_signature(&Factors::pin("0000"), "TEST")
            .await
            .unwrap_err();
        assert!(error.is_authentication_failure(), "{error}");
        let status = session.status().await.unwrap();
        assert_eq!(status.snapshot.failed_attempts, attempt);
        assert_eq!(status.snapshot.remaining_attempts(), 5 - attempt);
    }
    // The fifth wrong PIN blocks: the 401 is explained by the status.
    let error = session
        .validate_signature(&Factors::pin("0000"), "TEST")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("BLOCKED after 5 failed PIN attempts"),
        "{error}"
    );
    let error = session.require_active().unwrap_err();
    assert!(
        error
            .to_string()
            .contains("BLOCKED after 5 failed PIN attempts"),
        "{error}"
    );
}

#[tokio::test]
async fn a_timeout_leaves_the_device_usable() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_2).await;
    // A socket that accepts connections but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let real_url = device.profile.server_url.clone();
    device.profile.server_url = format!("http://{}", silent.local_addr().unwrap());
    let config = ClientConfig {
        timeout: std::time::Duration::from_millis(300),
        ..ClientConfig::default()
    };
    let client = Client::new(config, Arc::new(tokensim_device::NoEvents)).unwrap();
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let error = Session::new(&client, &mut device, &mut persist)
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    device.profile.server_url = real_url;
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    assert!(session.status().await.unwrap().in_sync());
    session
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await
        .expect("usable after a timeout");
}

/// A server that answers every request with `head` and then 1 MiB chunks of spaces until
/// the client hangs up (`chunked`: an endless chunked body; otherwise whatever
/// Content-Length `head` announced). Returns its URL.
fn endless_server(head: &'static str, chunked: bool) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b' '; 1024 * 1024];
                loop {
                    let written = if chunked {
                        stream
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .and_then(|()| stream.write_all(&chunk))
                            .and_then(|()| stream.write_all(b"\r\n"))
                    } else {
                        stream.write_all(&chunk)
                    };
                    if written.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn a_huge_or_endless_answer_stops_at_the_cap_and_leaves_the_device_usable() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let real_url = device.profile.server_url.clone();
    let announced = endless_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8589934592\r\n\r\n",
        false,
    );
    let endless = endless_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        true,
    );
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    for url in [announced, endless] {
        device.profile.server_url = url;
        let error = Session::new(&server.client, &mut device, &mut persist)
            .status()
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::ResponseTooLarge { limit, .. } if limit == tokensim_device::client::MAX_RESPONSE_BYTES),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("larger than the 16 MiB"),
            "{error}"
        );
    }
    device.profile.server_url = real_url;
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    assert!(session.status().await.unwrap().in_sync());
}

#[tokio::test]
async fn inspector_events_redact_secrets_unless_asked() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    for reveal in [false, true] {
        let recorder = Arc::new(tokensim_device::Recorder::default());
        let client = Client::new(
            ClientConfig {
                reveal_secrets: reveal,
                ..ClientConfig::default()
            },
            recorder.clone(),
        )
        .unwrap();
        let mut session = Session::new(&client, &mut device, &mut persist);
        session.create_token("t", &Factors::pin(PIN)).await.unwrap();
        session.inbox_count().await.unwrap();
        let secret = powerauth::encoding::b64(session.device.tokens["t"].secret.expose_bytes());
        let text = serde_json::to_string(&recorder.exchanges()).unwrap();
        assert_eq!(
            text.contains(&secret),
            reveal,
            "token secret shown only with reveal_secrets"
        );
        assert_eq!(text.contains("<redacted>"), !reveal);
        assert!(text.contains("tokenId"), "non-secret fields stay");
    }
}

#[tokio::test]
async fn any_method_is_signed_and_data_signatures_verify_on_the_server() {
    use tokensim_device::signing::SignedRequest;
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        for (method, path, body) in [
            (
                reqwest::Method::GET,
                "/pa/v3/signature/validate?b=2&a=1&a=0",
                Vec::new(),
            ),
            (
                reqwest::Method::PUT,
                "/pa/v3/signature/validate",
                b"{\"x\":1}".to_vec(),
            ),
            (
                reqwest::Method::DELETE,
                "/pa/v3/signature/validate",
                b"raw bytes".to_vec(),
            ),
        ] {
            let request = SignedRequest {
                method: method.clone(),
                path: path.to_owned(),
                uri_id: "/pa/signature/validate".to_owned(),
                body,
            };
            let reply = session
                .send_signed(&request, &Factors::pin(PIN))
                .await
                .unwrap();
            assert_eq!(
                reply.status,
                200,
                "{version} {method}: {}",
                String::from_utf8_lossy(&reply.body)
            );
        }
        let signature = session
            .sign_data(&Factors::pin(PIN), "/data/sign", b"contract text")
            .unwrap();
        assert!(
            session.verify_data_signature(&signature).await.unwrap(),
            "{version}: a data signature verifies"
        );
        let mut tampered = session
            .sign_data(&Factors::possession(), "/data/sign", b"contract text")
            .unwrap();
        tampered.request_data = tampered.request_data.replace("POST", "PUT");
        assert!(
            !session.verify_data_signature(&tampered).await.unwrap(),
            "{version}: altered data does not verify"
        );
        assert!(session.status().await.unwrap().in_sync());
    }
}

#[tokio::test]
async fn after_removal_tokens_and_signatures_are_refused_with_words_that_say_so() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    session
        .create_token(POSSESSION_UNIVERSAL, &Factors::possession())
        .await
        .unwrap();
    let id = session.device.activation_id.clone();
    server
        .rest(
            "/rest/v3/activation/remove",
            serde_json::json!({"activationId": id}),
        )
        .await;
    for error in [
        session.inbox_count().await.unwrap_err(),
        session
            .validate_signature(&Factors::pin(PIN), "TEST")
            .await
            .unwrap_err(),
    ] {
        assert!(error.to_string().contains("REMOVED"), "{error}");
    }
}

#[tokio::test]
async fn temporary_keys_are_cached_per_scope_in_3_3() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    server.recorder.clear();
    session
        .create_token("a", &Factors::possession())
        .await
        .unwrap();
    session
        .create_token("b", &Factors::possession())
        .await
        .unwrap();
    session.enroll_biometry(PIN).await.unwrap();
    let labels: Vec<_> = server
        .recorder
        .exchanges()
        .iter()
        .map(|e| e.label)
        .collect();
    let fetched = labels
        .iter()
        .filter(|l| **l == "keystore/create (activation)")
        .count();
    assert_eq!(
        fetched, 1,
        "one activation-scope key for three encrypted calls: {labels:?}"
    );
    assert!(session.device.temporary_keys.activation.is_some());
    assert!(
        session.device.temporary_keys.application.is_some(),
        "the activation's key is kept"
    );
}

#[tokio::test]
async fn endpoints_refuse_factors_they_do_not_allow() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &tokensim_device::ActiveDevice| Ok(());
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        let error = session
            .remove_activation(&Factors::possession())
            .await
            .unwrap_err();
        assert!(
            error.is_authentication_failure(),
            "{version}: removal needs 2FA: {error}"
        );
        let error = session
            .unlock_vault(&Factors::possession(), "FETCH_ENCRYPTION_KEY")
            .await
            .unwrap_err();
        assert!(
            matches!(error.http_status(), Some(400 | 401)),
            "{version}: the vault needs the PIN: {error}"
        );
        let status = session.status().await.unwrap();
        assert_eq!(status.snapshot.state, "ACTIVE", "{version}");
        assert_eq!(
            status.snapshot.failed_attempts, 0,
            "{version}: possession failures are not counted"
        );
        session.remove_activation(&Factors::pin(PIN)).await.unwrap();
    }
}
