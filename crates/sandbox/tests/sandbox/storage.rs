//! Storage behaviour seen from outside: concurrent writers, persistence across restarts.

use crate::common::TestServer;
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
