//! Storage behaviour seen from outside: concurrent writers, persistence across restarts.

use crate::common::{TestServer, test_database_url};
use reqwest::StatusCode;
use sandbox::Config;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_of_one_name_have_exactly_one_winner() {
    let server = TestServer::start().await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = server
            .client
            .post(server.url("/rest/v3/application/create"))
            .json(&json!({"requestObject": {"applicationId": "contended"}}));
        requests.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    let statuses: Vec<StatusCode> = requests
        .join_all()
        .await
        .into_iter()
        .map(|result| result.expect("the sandbox answers"))
        .collect();
    let winners = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(winners, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST)
    );
    let detail = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "contended"}),
        )
        .await;
    assert_eq!(detail["versions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_sqlite_file_keeps_applications_across_restarts() {
    let dir = std::env::temp_dir().join(format!("tokensim-sandbox-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("persist.db");
    let _ = std::fs::remove_file(&path);
    let config = Config {
        database_url: Config::sqlite_url(&path),
        admin_password: Some("fixed-admin-password".to_owned()),
        ..Config::in_memory()
    };

    let server = TestServer::start_with(config.clone()).await;
    server
        .rest_ok(
            "/rest/v3/application/create",
            json!({"applicationId": "kept"}),
        )
        .await;
    let before = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "kept"}),
        )
        .await;
    server.sandbox.shutdown().await;

    let server = TestServer::start_with(config).await;
    let after = server
        .rest_ok(
            "/rest/v3/application/detail",
            json!({"applicationId": "kept"}),
        )
        .await;
    assert_eq!(before, after, "keys and versions survive a restart");
    let list = server.rest_ok("/rest/v3/application/list", json!({})).await;
    assert_eq!(
        list["applications"].as_array().unwrap().len(),
        2,
        "no second default app"
    );
    assert_eq!(server.sandbox.admin().password, "fixed-admin-password");
    server.sandbox.shutdown().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Expired rows are swept only now and then, so the queries must not trust that a sweep
/// ran: a replay inside a nonce's lifetime is refused, the same nonce after it is taken,
/// and a temporary key is gone at its expiry whether or not its row still exists.
#[tokio::test]
async fn expiry_is_checked_by_the_queries_not_left_to_the_sweep() {
    use powerauth::{KeyPair, SystemRandom};
    use sandbox::store::{SWEEP_INTERVAL_MS, Store, TemporaryKey};
    let store = Store::open(&test_database_url().await).await.unwrap();
    let t0: i64 = 1_764_000_000_000;

    assert!(store.use_nonce("n", t0, t0 + 1_000).await.unwrap());
    assert!(
        !store.use_nonce("n", t0 + 999, t0 + 2_000).await.unwrap(),
        "a replay"
    );
    // Past its expiry (no sweep has run since t0): the nonce may be used again, once.
    assert!(store.use_nonce("n", t0 + 1_001, t0 + 5_000).await.unwrap());
    assert!(!store.use_nonce("n", t0 + 1_002, t0 + 5_000).await.unwrap());

    let nonce = [7u8; 16];
    assert!(
        store
            .use_token_nonce("tok", &nonce, t0, t0 + 1_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_token_nonce("tok", &nonce, t0 + 1, t0 + 1_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .use_token_nonce("tok", &nonce, t0 + 1_001, t0 + 9_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_token_nonce("tok", &nonce, t0 + 1_002, t0 + 9_000)
            .await
            .unwrap()
    );

    let key = TemporaryKey {
        key_id: "k1".to_owned(),
        application_key: "app".to_owned(),
        activation_id: None,
        key_pair: KeyPair::make(&SystemRandom::new()),
        timestamp_expires: t0 + 1_000,
    };
    store.insert_temporary_key(&key).await.unwrap();
    let found = store
        .temporary_key("k1", t0)
        .await
        .unwrap()
        .expect("valid at t0");
    assert_eq!(found.key_pair.public, key.key_pair.public);
    assert!(
        store
            .temporary_key("k1", t0 + 1_000)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .temporary_key("k1", t0 + 1_001)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    // A sweep later removes the row for good; the answer stays the same.
    let later = t0 + 1_001 + SWEEP_INTERVAL_MS;
    assert!(store.temporary_key("k1", later).await.unwrap().is_none());
    store.close().await;
}
