//! `tokensim fleet`: a small fleet against the test's sandbox (an outside server to the
//! binary), a fault mix, the JSON report and the HTML page; a fleet whose server is down.

use crate::common::World;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_approves_rejects_and_judges_faults_against_the_sandbox() {
    let world = World::start().await;
    let html = world.dir.path().join("fleet.html");
    let report = world
        .json(&[
            "fleet",
            "--server",
            world.url(),
            "--config",
            &world.config,
            "--devices",
            "6",
            "--concurrency",
            "3",
            "--versions",
            "3.0,3.3",
            "--operations",
            "2",
            "--reject-ratio",
            "0.25",
            "--faults",
            "wrong-pin=0.25",
            "--html",
            html.to_str().unwrap(),
        ])
        .await;
    assert_eq!(report["devices"], 6, "{report:#}");
    assert_eq!(report["activated"], 6, "{report:#}");
    let ops = &report["operations"];
    assert_eq!(ops["created"], 12, "{report:#}");
    assert_eq!(ops["failed"], 0, "{report:#}");
    assert_eq!(
        ops["approved"].as_u64().unwrap() + ops["rejected"].as_u64().unwrap(),
        12,
        "{report:#}"
    );
    assert!(ops["rejected"].as_u64().unwrap() >= 1, "{report:#}");
    assert_eq!(&report["serverView"], ops, "the sandbox counts the same");
    let faults = report["faults"].as_array().unwrap();
    assert!(!faults.is_empty(), "{report:#}");
    for fault in faults {
        assert_eq!(fault["mismatched"], 0, "{fault:#}");
    }
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg"), "the HTML report has its charts");
    assert!(
        !page.contains("<script src"),
        "nothing fetched from elsewhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_against_a_server_that_is_down_says_so() {
    let world = World::start().await;
    let run = world
        .run(&[
            "--json",
            "fleet",
            "--server",
            "http://127.0.0.1:9",
            "--config",
            &world.config,
            "--devices",
            "2",
        ])
        .await;
    let error = run.failed(1, "fleet");
    assert!(
        error["error"].as_str().unwrap().contains("cannot reach"),
        "{run:#?}"
    );
}
