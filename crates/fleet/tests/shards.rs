//! A fleet split into shards against one sandbox, the shards' JSON reports merged: the
//! merged report counts what one fleet of the same size would.

use powerauth::ProtocolVersion;
use tokensim_fleet::{FleetArgs, FleetCommand, FleetReport, MergeArgs, Shard};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_against_one_server_merge_into_the_whole_fleet() {
    let sandbox = sandbox::Sandbox::start(sandbox::Config::in_memory())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let base = FleetArgs {
        devices: 10,
        concurrency: 4,
        server: Some(sandbox.url().to_owned()),
        versions: vec![ProtocolVersion::V3_1, ProtocolVersion::V3_3],
        operations: 2,
        reject_ratio: 0.25,
        faults: "wrong-pin=0.1".parse().unwrap(),
        user_prefix: Some("shards".to_owned()),
        json: true,
        ..FleetArgs::default()
    };
    let mut paths = Vec::new();
    let mut shard_devices = Vec::new();
    for index in 1..=3 {
        let args = FleetArgs {
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
    let merge = FleetArgs {
        command: Some(FleetCommand::Merge(MergeArgs {
            reports: paths.clone(),
            json: true,
            html: Some(html.clone()),
        })),
        ..FleetArgs::default()
    };
    let mut output = Vec::new();
    let merged = tokensim_fleet::run(&merge, &mut output).await.unwrap();
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
