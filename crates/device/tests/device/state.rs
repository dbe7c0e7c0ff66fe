//! The split into a non-secret record and a secret blob; Debug output; hostile servers.

use crate::common::{PIN, Saved, Server};
use powerauth::ProtocolVersion;
use powerauth::encoding::b64;
use std::sync::Arc;
use tokensim_device::state::PartsError;
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, DeviceState, Error, Factors, NoEvents, Session,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_device_survives_the_split_and_secrets_stay_in_the_blob() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let saved = Saved::default();
    let mut persist = saved.persist();
    let mut session = Session::new(&server.client, &mut device, &mut persist);
    session.status().await.unwrap();
    session
        .create_token("t", &Factors::possession())
        .await
        .unwrap();
    session.enroll_biometry(PIN).await.unwrap();

    let (record, blob) = DeviceState::Active(device.clone()).to_parts();
    let record_json = serde_json::to_string(&record).unwrap();
    let secrets = [
        b64(device.possession_key.expose_bytes()),
        b64(device.transport_key.expose_bytes()),
        b64(device.ctr_data.expose_bytes()),
        b64(device.tokens["t"].secret.expose_bytes()),
        b64(device.biometry.as_ref().unwrap().key.expose_bytes()),
        device
            .profile
            .application
            .application_secret
            .expose_b64()
            .to_string(),
    ];
    let debug = format!("{device:?} {:?}", DeviceState::Active(device.clone()));
    for secret in &secrets {
        assert!(
            !record_json.contains(secret.as_str()),
            "the record holds no secret"
        );
        assert!(!debug.contains(secret.as_str()), "Debug prints no secret");
        assert!(
            String::from_utf8_lossy(&blob).contains(secret.as_str()),
            "the blob holds every secret"
        );
    }

    let DeviceState::Active(mut restored) = DeviceState::from_parts(&record, &blob).unwrap() else {
        panic!("pending")
    };
    let mut persist = |_: &ActiveDevice| Ok(());
    let mut session = Session::new(&server.client, &mut restored, &mut persist);
    session
        .validate_signature(&Factors::biometry(), "TEST")
        .await
        .expect("the restored biometry key signs");
    session
        .inbox_count()
        .await
        .expect("the restored token works");
    assert!(session.status().await.unwrap().in_sync());

    assert!(matches!(
        DeviceState::from_parts(&record, b"{}"),
        Err(PartsError::Blob(_))
    ));
    let (pending_record, _) =
        DeviceState::Pending(server.pending(ProtocolVersion::V3_0)).to_parts();
    assert_eq!(
        DeviceState::from_parts(&pending_record, &blob).unwrap_err(),
        PartsError::Mismatch
    );
    assert!(matches!(
        DeviceState::from_parts(
            &pending_record,
            b"{\"applicationSecret\":\"x\",\"activation\":null}"
        ),
        Err(PartsError::Field(_))
    ));
}

/// Serves one fixed HTTP answer per connection.
async fn hostile(answer: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0u8; 8192];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn a_500_a_truncated_and_a_tampered_answer_leave_the_device_intact() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_2).await;
    let client = Client::new(ClientConfig::default(), Arc::new(NoEvents)).unwrap();
    let real_url = device.profile.server_url.clone();
    let cases = [
        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\noops!",
        "HTTP/1.1 200 OK\r\nContent-Length: 30\r\nConnection: close\r\n\r\n{\"status\":\"OK\",\"respons",
        "HTTP/1.1 200 OK\r\nContent-Length: 72\r\nConnection: close\r\n\r\n{\"encryptedData\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"mac\":\"AAAA\",\"nonce\":null}   ",
    ];
    for answer in cases {
        device.profile.server_url = hostile(answer).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        let tokens = device.tokens.len();
        let mut session = Session::new(&client, &mut device, &mut persist);
        let status_error = session.status().await.unwrap_err();
        let token_error = session
            .create_token("t", &Factors::possession())
            .await
            .unwrap_err();
        for error in [&status_error, &token_error] {
            assert!(
                matches!(
                    error,
                    Error::Server { status: 500, .. }
                        | Error::InvalidResponse { .. }
                        | Error::Decryption { .. }
                        | Error::Network { .. }
                ),
                "{error:?}"
            );
        }
        assert_eq!(
            device.tokens.len(),
            tokens,
            "nothing stored from a bad answer"
        );
        device.profile.server_url = real_url.clone();
        let mut session = Session::new(&server.client, &mut device, &mut persist);
        assert!(
            session.status().await.unwrap().in_sync(),
            "usable after {answer:?}"
        );
        session
            .validate_signature(&Factors::pin(PIN), "TEST")
            .await
            .unwrap();
    }
}
