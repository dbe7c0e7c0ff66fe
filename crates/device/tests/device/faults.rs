//! Fault injection against the sandbox: each report must say the server answered what
//! the protocol requires, and the device must stay usable.

use crate::common::{PIN, Server};
use powerauth::ProtocolVersion;
use std::time::Duration;
use tokensim_device::token::POSSESSION_UNIVERSAL;
use tokensim_device::{
    ActiveDevice, Client, ClientConfig, Factors, Fault, FaultReport, FaultRun, Persist, Session,
};

async fn validate(
    server_client: &Client,
    device: &mut ActiveDevice,
    persist: &mut dyn Persist,
    fault: Fault,
) -> FaultReport {
    let run = FaultRun::start(server_client, device, persist, fault)
        .await
        .unwrap();
    let result = Session::new(run.client(), device, persist)
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await;
    run.finish(device, persist, &result).await
}

async fn usable(client: &Client, device: &mut ActiveDevice, persist: &mut dyn Persist) {
    let mut session = Session::new(client, device, persist);
    session
        .validate_signature(&Factors::pin(PIN), "TEST")
        .await
        .expect("the device stays usable");
    assert!(session.status().await.unwrap().in_sync());
}

#[tokio::test]
async fn signature_faults_are_judged_in_every_version() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        for fault in [
            Fault::WrongPin,
            Fault::ReplaySignature,
            Fault::StaleCounter(5),
            Fault::StaleCounter(25),
            Fault::DropResponse,
            Fault::SlowNetwork(150),
            Fault::ClockSkew(3_600_000),
        ] {
            let report = validate(&server.client, &mut device, &mut persist, fault).await;
            assert!(
                report.matched,
                "{version} {fault}: required {}; answered {}",
                report.required, report.answered
            );
            assert!(!report.sent.is_empty());
            usable(&server.client, &mut device, &mut persist).await;
        }
    }
}

#[tokio::test]
async fn a_corrupt_mac_is_refused_with_400_and_changes_nothing() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        let run = FaultRun::start(&server.client, &mut device, &mut persist, Fault::CorruptMac)
            .await
            .unwrap();
        let result = Session::new(run.client(), &mut device, &mut persist)
            .create_token("t", &Factors::possession())
            .await;
        let report = run.finish(&mut device, &mut persist, &result).await;
        assert!(
            report.matched,
            "{version}: required {}; answered {}",
            report.required, report.answered
        );
        assert!(!device.tokens.contains_key("t"), "no token was stored");
        usable(&server.client, &mut device, &mut persist).await;

        let run = FaultRun::start(&server.client, &mut device, &mut persist, Fault::CorruptMac)
            .await
            .unwrap();
        let result = Session::new(run.client(), &mut device, &mut persist)
            .enroll_biometry(PIN)
            .await;
        let report = run.finish(&mut device, &mut persist, &result).await;
        assert!(
            report.matched,
            "{version} vault: required {}; answered {}",
            report.required, report.answered
        );
        assert!(device.biometry.is_none(), "no biometry key was stored");
        usable(&server.client, &mut device, &mut persist).await;
    }
}

#[tokio::test]
async fn token_clock_skew_beyond_30_minutes_is_refused() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_3).await;
    let mut persist = |_: &ActiveDevice| Ok(());
    Session::new(&server.client, &mut device, &mut persist)
        .create_token(POSSESSION_UNIVERSAL, &Factors::possession())
        .await
        .unwrap();
    for (skew, accepted) in [
        (600_000, true),
        (3_600_000, false),
        (-3_600_000, true),
        (-10_800_000, false),
    ] {
        let run = FaultRun::start(
            &server.client,
            &mut device,
            &mut persist,
            Fault::ClockSkew(skew),
        )
        .await
        .unwrap();
        let result = Session::new(run.client(), &mut device, &mut persist)
            .inbox_count()
            .await;
        let report = run.finish(&mut device, &mut persist, &result).await;
        assert_eq!(result.is_ok(), accepted, "skew {skew}: {}", report.answered);
        assert!(
            report.matched,
            "skew {skew}: required {}; answered {}",
            report.required, report.answered
        );
    }
}

#[tokio::test]
async fn a_network_slower_than_the_timeout_is_a_timeout() {
    let server = Server::start().await;
    let mut device = server.device("alice", ProtocolVersion::V3_1).await;
    let mut persist = |_: &ActiveDevice| Ok(());
    let client = Client::new(
        ClientConfig {
            timeout: Duration::from_millis(200),
            ..ClientConfig::default()
        },
        server.recorder.clone(),
    )
    .unwrap();
    let report = validate(&client, &mut device, &mut persist, Fault::SlowNetwork(500)).await;
    assert!(
        report.matched,
        "required {}; answered {}",
        report.required, report.answered
    );
    usable(&server.client, &mut device, &mut persist).await;
}

#[tokio::test]
async fn a_wrong_pin_on_the_vault_is_400_and_counts_an_attempt() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        let run = FaultRun::start(&server.client, &mut device, &mut persist, Fault::WrongPin)
            .await
            .unwrap();
        let result = Session::new(run.client(), &mut device, &mut persist)
            .enroll_biometry(PIN)
            .await;
        let report = run.finish(&mut device, &mut persist, &result).await;
        assert!(
            report.matched,
            "{version}: required {}; answered {}",
            report.required, report.answered
        );
        assert!(device.biometry.is_none());
        usable(&server.client, &mut device, &mut persist).await;
    }
}

#[tokio::test]
async fn ecies_timestamps_too_far_in_the_future_are_refused() {
    let server = Server::start().await;
    for version in [ProtocolVersion::V3_2, ProtocolVersion::V3_3] {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        for skew in [-600_000, 30_000, 600_000] {
            let run = FaultRun::start(
                &server.client,
                &mut device,
                &mut persist,
                Fault::ClockSkew(skew),
            )
            .await
            .unwrap();
            let result = Session::new(run.client(), &mut device, &mut persist)
                .create_token("t", &Factors::possession())
                .await;
            let report = run.finish(&mut device, &mut persist, &result).await;
            assert!(
                report.matched,
                "{version} skew {skew}: required {}; answered {}",
                report.required, report.answered
            );
            usable(&server.client, &mut device, &mut persist).await;
        }
    }
}

#[tokio::test]
async fn activation_faults_are_judged_without_a_device() {
    use serde_json::json;
    use tokensim_device::activation::{ActivationInput, activate};
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        for fault in [
            Fault::CorruptMac,
            Fault::ClockSkew(600_000),
            Fault::SlowNetwork(100),
            Fault::DropResponse,
        ] {
            let (_, qr) = server.init("alice", json!({})).await;
            let run = FaultRun::detached(&server.client, fault);
            let result = activate(
                run.client(),
                server.pending(version),
                &ActivationInput::new(qr.clone(), PIN),
            )
            .await;
            let report = run.judge(&result);
            assert!(
                report.matched,
                "{version} {fault}: required {}; answered {}",
                report.required, report.answered
            );
            if result.is_err() && fault != Fault::DropResponse {
                // Refused before the key exchange: the same code still activates.
                activate(
                    &server.client,
                    server.pending(version),
                    &ActivationInput::new(qr, PIN),
                )
                .await
                .unwrap_or_else(|e| panic!("{version} {fault}: the code is still usable: {e}"));
            }
        }
    }
}

#[tokio::test]
async fn a_replayed_token_header_is_refused() {
    let server = Server::start().await;
    for version in ProtocolVersion::ALL {
        let mut device = server.device("alice", version).await;
        let mut persist = |_: &ActiveDevice| Ok(());
        Session::new(&server.client, &mut device, &mut persist)
            .create_token(POSSESSION_UNIVERSAL, &Factors::possession())
            .await
            .unwrap();
        let run = FaultRun::start(
            &server.client,
            &mut device,
            &mut persist,
            Fault::ReplaySignature,
        )
        .await
        .unwrap();
        let result = Session::new(run.client(), &mut device, &mut persist)
            .inbox_count()
            .await;
        let report = run.finish(&mut device, &mut persist, &result).await;
        assert!(
            report.matched,
            "{version}: required {}; answered {}",
            report.required, report.answered
        );
    }
}
