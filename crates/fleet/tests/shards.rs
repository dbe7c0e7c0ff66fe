//! A fleet split into shards against one sandbox, the shards' JSON reports merged: the
//! merged report counts what one fleet of the same size would.

use powerauth::ProtocolVersion;
use tokensim_fleet::{FleetPlan, FleetReport, MergePlan, Shard};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_against_one_server_merge_into_the_whole_fleet() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config::in_memory())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let base = FleetPlan {
        devices: 10,
        concurrency: 4,
        server: Some(sandbox.url().to_owned()),
        versions: vec![ProtocolVersion::V3_1, ProtocolVersion::V3_3],
        operations: 2,
        reject_ratio: 0.25,
        faults: "wrong-pin=0.1".parse().unwrap(),
        user_prefix: Some("shards".to_owned()),
        json: true,
        ..FleetPlan::default()
    };
    let mut paths = Vec::new();
    let mut shard_devices = Vec::new();
    for index in 1..=3 {
        let args = FleetPlan {
            shard: Some(Shard { index, count: 3 }),
            ..base.clone()
        };
        let mut output = Vec::new();
        let report = tokensim_fleet::run(&args, &mut output).await.unwrap();
        assert!(report.is_clean(), "{}", report.to_table());
        assert_eq!(report.shard, Some(Shard { index, count: 3 }));
        shard_devices.push(report.shard_devices);
        assert_eq!(report.activated, report.shard_devices);
        let json = String::from_utf8(output).unwrap();
        assert!(
            json.contains("\"histogram\""),
            "a shard report keeps its histograms"
        );
        let path = folder.path().join(format!("shard-{index}.json"));
        std::fs::write(&path, json).unwrap();
        paths.push(path);
    }
    assert_eq!(shard_devices, vec![3, 3, 4]);

    let html = folder.path().join("merged.html");
    let merge = MergePlan {
        reports: paths.clone(),
        json: true,
        html: Some(html.clone()),
    };
    let mut output = Vec::new();
    let merged = tokensim_fleet::run_merge(&merge, &mut output).unwrap();
    assert_eq!(
        serde_json::from_slice::<FleetReport>(&output).unwrap(),
        merged
    );
    assert!(merged.is_clean(), "{}", merged.to_table());
    assert_eq!(
        (merged.devices, merged.activated, merged.shards),
        (10, 10, 3)
    );
    let ops = &merged.operations;
    assert_eq!(
        (ops.created, ops.approved, ops.rejected, ops.failed),
        (20, 15, 5, 0)
    );
    assert_eq!(merged.server_view.as_ref(), Some(ops));
    let wrong_pin = merged
        .faults
        .iter()
        .find(|f| f.fault == "wrong-pin")
        .unwrap();
    assert_eq!((wrong_pin.injected, wrong_pin.matched), (2, 2));
    let step = |name: &str| merged.steps.iter().find(|s| s.step == name).unwrap();
    assert_eq!(step("activation").count, 10);
    assert!(step("activation").p50_ms > 0.0);
    assert!(step("activation").histogram.is_empty());
    assert_eq!(merged.timeline.last().map(|p| p.completed), Some(10));
    assert!(merged.to_table().contains("Merged from 3 shard reports"));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));

    // A shard twice, or a whole fleet's report, is refused with a reason.
    let twice = tokensim_fleet::merge_files(&[paths[0].clone(), paths[0].clone()]).unwrap_err();
    assert!(
        twice.to_string().contains("shard 1/3 is there twice"),
        "{twice}"
    );
    let whole = FleetReport::default();
    let error = tokensim_fleet::merge(&[whole]).unwrap_err();
    assert!(error.to_string().contains("--shard K/N"), "{error}");
    sandbox.shutdown().await;
}

/// Two sandbox instances on one PostgreSQL database, and a proxy in front of them that
/// sends each request to the other instance than the one before: two shards of a fleet
/// (3.1 and 3.3 devices, so temporary keys too, with wrong-PIN and replay faults) activate,
/// sign and approve through both, and the merged report is what one fleet on one instance
/// reports. Run by `make test-postgres`; on SQLite (one instance) there is nothing to share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_alternating_between_two_sandbox_instances_on_one_postgres() {
    let Ok(postgres) = std::env::var("TOKENSIM_TEST_POSTGRES_URL") else {
        eprintln!("skipped: needs TOKENSIM_TEST_POSTGRES_URL (make test-postgres)");
        return;
    };
    let database_url = fresh_postgres_schema(&postgres).await;
    let config = || sandbox::Config {
        database_url: database_url.clone(),
        ..sandbox::Config::in_memory()
    };
    let a = sandbox::Sandbox::start(config()).await.unwrap();
    let b = sandbox::Sandbox::start(config()).await.unwrap();
    let proxy = RoundRobin::start(vec![a.url().to_owned(), b.url().to_owned()]).await;

    let base = FleetPlan {
        devices: 8,
        concurrency: 4,
        server: Some(proxy.url.clone()),
        versions: vec![ProtocolVersion::V3_1, ProtocolVersion::V3_3],
        operations: 2,
        reject_ratio: 0.25,
        faults: "wrong-pin=0.125,replay=0.125".parse().unwrap(),
        user_prefix: Some("instances".to_owned()),
        json: true,
        ..FleetPlan::default()
    };
    let mut reports = Vec::new();
    for index in 1..=2 {
        let args = FleetPlan {
            shard: Some(Shard { index, count: 2 }),
            ..base.clone()
        };
        let report = tokensim_fleet::execute(&args).await.unwrap();
        assert!(report.is_clean(), "{}", report.to_table());
        reports.push(report);
    }
    let merged = tokensim_fleet::merge(&reports).unwrap();
    assert!(merged.is_clean(), "{}", merged.to_table());
    assert_eq!((merged.devices, merged.activated), (8, 8));
    let ops = &merged.operations;
    assert_eq!(
        (ops.created, ops.approved + ops.rejected, ops.failed),
        (16, 16, 0)
    );
    assert_eq!(merged.server_view.as_ref(), Some(ops));
    for fault in &merged.faults {
        assert!(fault.injected > 0, "{}", merged.to_table());
        assert_eq!(fault.injected, fault.matched, "{}", merged.to_table());
    }
    let served = proxy.served();
    assert!(
        served[0] > 50 && served[1] > 50 && served[0].abs_diff(served[1]) <= 1,
        "the instances took turns: {served:?}"
    );
    a.shutdown().await;
    b.shutdown().await;
}

/// A schema of its own on the test server, as the sandbox's PostgreSQL tests make one.
async fn fresh_postgres_schema(url: &str) -> String {
    use sqlx::Connection;
    let schema = format!("fleet_{}", std::process::id());
    let mut connection = sqlx::postgres::PgConnection::connect(url)
        .await
        .expect("TOKENSIM_TEST_POSTGRES_URL is reachable");
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&mut connection)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut connection)
        .await
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}options=-c%20search_path%3D{schema}")
}

/// A reverse proxy that sends each request to the next backend in turn.
struct RoundRobin {
    url: String,
    state: std::sync::Arc<Backends>,
}

struct Backends {
    urls: Vec<String>,
    next: std::sync::atomic::AtomicUsize,
    served: Vec<std::sync::atomic::AtomicUsize>,
    client: reqwest::Client,
}

impl RoundRobin {
    async fn start(urls: Vec<String>) -> Self {
        let state = std::sync::Arc::new(Backends {
            served: urls.iter().map(|_| Default::default()).collect(),
            urls,
            next: Default::default(),
            client: reqwest::Client::new(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    fn served(&self) -> Vec<usize> {
        use std::sync::atomic::Ordering;
        self.state
            .served
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .collect()
    }
}

async fn forward(
    axum::extract::State(backends): axum::extract::State<std::sync::Arc<Backends>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::header;
    use std::sync::atomic::Ordering;
    let turn = backends.next.fetch_add(1, Ordering::SeqCst) % backends.urls.len();
    backends.served[turn].fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    headers.remove(header::HOST);
    let answer = backends
        .client
        .request(parts.method, format!("{}{path}", backends.urls[turn]))
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove(header::TRANSFER_ENCODING);
    headers.remove(header::CONNECTION);
    let mut response =
        axum::response::Response::new(axum::body::Body::from(answer.bytes().await.unwrap()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
