//! `/powerauth-cloud/v2/push/ws`: the push outbox live over a WebSocket, beside the SSE
//! stream: the same messages, one text frame each, behind the same Basic login.

use crate::common::{TestServer, read};
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &TestServer, login: (&str, &str)) -> Result<Socket, tungstenite::Error> {
    let url = server
        .url("/powerauth-cloud/v2/push/ws")
        .replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    let credentials = powerauth::encoding::b64(format!("{}:{}", login.0, login.1).as_bytes());
    request.headers_mut().insert(
        "authorization",
        format!("Basic {credentials}").parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn next_text(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("the socket stays open")
            .expect("a valid frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON text"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_sent_push_and_a_new_operation_arrive_as_text_frames_in_order() {
    let server = TestServer::start().await;
    crate::common::push_registered_device(&server, "fcm", "fcm-token").await;
    let mut socket = connect(&server, server.integration()).await.unwrap();

    let sent = server
        .cloud(
            Method::POST,
            "/v2/messages/send",
            Some(server.integration()),
        )
        .json(&json!({"userId": "alice", "title": "Hello"}))
        .send()
        .await
        .unwrap();
    let (status, sent) = read(sent).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let created = server
        .cloud(Method::POST, "/v2/operations", Some(server.integration()))
        .json(&json!({"userId": "alice", "template": "login"}))
        .send()
        .await
        .unwrap();
    let (status, created) = read(created).await;
    assert_eq!(status, StatusCode::OK, "{created}");

    let first = next_text(&mut socket).await;
    assert_eq!(sent, json!({"status": "OK"}));
    assert_eq!(first["userId"], "alice");
    assert_eq!(first["body"]["title"], "Hello");
    let second = next_text(&mut socket).await;
    assert_eq!(second["body"]["messageType"], "mtoken.operationInit");
    assert_eq!(second["body"]["operationId"], created["operationId"]);

    // The outbox holds exactly what the socket carried (it sorts equal timestamps by id).
    let outbox = server
        .cloud(
            Method::GET,
            "/v2/push/messages?userId=alice",
            Some(server.integration()),
        )
        .send()
        .await
        .unwrap();
    let (_, outbox) = read(outbox).await;
    let mut kept = outbox["messages"].as_array().unwrap().clone();
    let mut carried = vec![first, second];
    let by_id = |m: &Value| m["messageId"].as_str().unwrap().to_owned();
    kept.sort_by_key(by_id);
    carried.sort_by_key(by_id);
    assert_eq!(kept, carried);
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn every_listener_gets_every_message() {
    let server = TestServer::start().await;
    crate::common::push_registered_device(&server, "fcm", "fcm-token").await;
    let mut one = connect(&server, server.integration()).await.unwrap();
    let mut two = connect(&server, server.admin()).await.unwrap();
    let sent = server
        .cloud(
            Method::POST,
            "/v2/messages/send",
            Some(server.integration()),
        )
        .json(&json!({"userId": "alice", "title": "One", "extras": {"n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(next_text(&mut one).await["body"]["extras"]["n"], 1);
    assert_eq!(next_text(&mut two).await["body"]["extras"]["n"], 1);
}

#[tokio::test]
async fn a_wrong_login_or_a_plain_get_is_refused() {
    let server = TestServer::start().await;
    match connect(&server, ("integration", "wrong")).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED.as_u16());
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("a wrong password opened the socket"),
    }
    // Without the upgrade headers it is a bad request, not a 500.
    let response = server
        .cloud(Method::GET, "/v2/push/ws", Some(server.integration()))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

/// Two sandbox instances on one PostgreSQL database (run by `make test-postgres`; on
/// SQLite, which serves one instance, there is nothing to share): a listener connected to
/// instance A hears, over its WebSocket and its SSE stream, of a message sent and an
/// operation created through instance B, and of A's own, each once.
#[tokio::test]
async fn a_listener_on_one_instance_hears_what_another_instance_queued() {
    let Ok(_) = std::env::var("TOKENSIM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: needs TOKENSIM_TEST_POSTGRES_URL (make test-postgres)");
        return;
    };
    let database_url = crate::common::test_database_url().await;
    let config = || sandbox::Config {
        database_url: database_url.clone(),
        integration_password: Some("shared-integration-password".to_owned()),
        ..sandbox::Config::in_memory()
    };
    let a = TestServer::start_with(config()).await;
    let b = TestServer::start_with(config()).await;
    crate::common::push_registered_device(&a, "fcm", "fcm-token").await;
    let mut socket = connect(&a, a.integration()).await.unwrap();
    let mut stream = a
        .cloud(Method::GET, "/v2/push/stream", Some(a.integration()))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let sent = b
        .cloud(Method::POST, "/v2/messages/send", Some(b.integration()))
        .json(&json!({"userId": "alice", "title": "Through B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let created = b
        .cloud(Method::POST, "/v2/operations", Some(b.integration()))
        .json(&json!({"userId": "alice", "template": "login"}))
        .send()
        .await
        .unwrap();
    let (status, created) = read(created).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let own = a
        .cloud(Method::POST, "/v2/messages/send", Some(a.integration()))
        .json(&json!({"userId": "alice", "title": "Through A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);

    let mut frames = Vec::new();
    for _ in 0..3 {
        frames.push(next_text(&mut socket).await);
    }
    let mut titles: Vec<String> = frames
        .iter()
        .map(|m| {
            m["body"]["title"]
                .as_str()
                .or(m["body"]["operationId"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect();
    titles.sort();
    let mut expected = vec![
        "Through A".to_owned(),
        "Through B".to_owned(),
        created["operationId"].as_str().unwrap().to_owned(),
    ];
    expected.sort();
    assert_eq!(titles, expected);
    // Each once: nothing more arrives.
    let more = tokio::time::timeout(Duration::from_millis(500), socket.next()).await;
    assert!(
        !matches!(more, Ok(Some(Ok(Message::Text(_))))),
        "a message arrived twice: {more:?}"
    );

    let mut text = String::new();
    while [
        "Through A",
        "Through B",
        created["operationId"].as_str().unwrap(),
    ]
    .iter()
    .any(|needle| !text.contains(needle))
    {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.chunk())
            .await
            .expect("every push event arrives on A's SSE stream")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(text.matches("event: push").count(), 3, "{text}");
}
