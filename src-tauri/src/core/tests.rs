//! The core against the embedded sandbox (and an outside one that goes away).

use super::*;
use crate::devices::StoreChoice;
use crate::types::{ActivateRequest, Approval};
use sandbox::{Config, Sandbox};
use serde_json::{Value, json};

const PIN: &str = "918273";

async fn core() -> (Core, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let core = Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
    core.slot.start_sandbox(None, 0).await.unwrap();
    (core, folder)
}

fn request(code: &str) -> ActivateRequest {
    ActivateRequest {
        name: "Alice's phone".to_owned(),
        code: code.to_owned(),
        pin: PIN.to_owned(),
        version: "3.3".to_owned(),
        biometry: true,
        otp: None,
    }
}

#[tokio::test]
async fn activation_payment_approval_and_a_wrong_pin_against_the_embedded_sandbox() {
    let (core, _folder) = core().await;
    let registration = core.new_registration("alice").await.unwrap();
    assert!(registration.qr_png.starts_with("data:image/png;base64,"));
    let report = core.activate(request(&registration.qr_text)).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert!(
        report
            .steps
            .iter()
            .any(|s| s.title.contains("activation/create") && s.outcome == "done"),
        "{:?}",
        report.steps
    );
    let id = report.device.expect("a stored device").id;
    assert_eq!(id, "alice-s-phone");
    let detail = core.detail(&id).await.unwrap();
    assert_eq!(detail.summary.state, "ACTIVE");
    assert!(detail.biometry);

    let mut push = core.push_stream(&id).await.unwrap();
    let operation = core.new_operation(&id, "payment").await.unwrap();
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), push.next())
        .await
        .expect("a push message for the new operation");
    assert!(matches!(message, Some(Ok(_))), "{message:?}");
    let pending = core.operations(&id).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, operation);
    let error = core
        .approve(
            &id,
            &operation,
            Approval::Pin {
                pin: "000000".to_owned(),
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code, "AUTHENTICATION", "{error:?}");
    assert!(error.message.contains("attempts left"), "{}", error.message);
    assert_eq!(core.operation_status(&operation).await.unwrap(), "PENDING");
    core.approve(
        &id,
        &operation,
        Approval::Pin {
            pin: PIN.to_owned(),
        },
        None,
    )
    .await
    .unwrap();
    assert_eq!(core.operation_status(&operation).await.unwrap(), "APPROVED");

    let login = core.new_operation(&id, "login").await.unwrap();
    core.approve(&id, &login, Approval::Biometry, None)
        .await
        .unwrap();
    assert_eq!(core.operation_status(&login).await.unwrap(), "APPROVED");

    // The PIN went in; it never comes out, not even in the diagnostics bundle.
    let diagnostics = core.diagnostics().unwrap();
    assert!(diagnostics.contains("activation/create"));
    assert!(!diagnostics.contains(PIN));
    assert!(
        core.exchanges()
            .iter()
            .all(|x| !x.request_body.contains(PIN))
    );
    core.shutdown().await;
}

#[tokio::test]
async fn a_damaged_code_fails_before_anything_is_sent_and_says_why() {
    let (core, _folder) = core().await;
    let registration = core.new_registration("bob").await.unwrap();
    let mut damaged = registration.qr_text.clone();
    damaged.replace_range(0..1, if damaged.starts_with('A') { "B" } else { "A" });
    let report = core.activate(request(&damaged)).await;
    let error = report.error.expect("an error");
    assert_eq!(error.code, "ACTIVATION");
    assert!(
        error.message.contains("checksum doesn't match"),
        "{error:?}"
    );
    assert!(
        error.hint.as_deref().unwrap_or("").contains("typos"),
        "{error:?}"
    );
    assert!(report.device.is_none());
    let last = report.steps.last().unwrap();
    assert_eq!(last.outcome, "failed");
    assert_eq!(last.title, "Read the activation code");
    assert!(
        core.exchanges().is_empty(),
        "nothing may be sent for a damaged code"
    );
    assert!(core.devices().unwrap().is_empty());
    core.shutdown().await;
}

#[tokio::test]
async fn a_server_that_is_down_and_a_used_code_fail_at_their_steps_with_the_doctor_s_hint() {
    // A sandbox of our own, to know its application and then stop it.
    let outside = Sandbox::start(Config::in_memory()).await.unwrap();
    let sdk = outside.default_mobile_sdk_config().await.unwrap().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let core = Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
    let (user, password) = (
        outside.integration().username.clone(),
        outside.integration().password.clone(),
    );
    core.slot
        .use_outside(outside.url(), &sdk, &user, &password)
        .await
        .unwrap();
    let registration = core.new_registration("carol").await.unwrap();
    let report = core.activate(request(&registration.qr_text)).await;
    assert!(report.error.is_none(), "{:?}", report.error);

    // The same code again: the server refuses it at the key exchange.
    let again = core.activate(request(&registration.qr_text)).await;
    let error = again.error.expect("a used code is refused");
    assert_eq!(error.code, "ACTIVATION");
    assert_eq!(
        again.steps.last().unwrap().title,
        "Key exchange with the server"
    );
    assert!(error.message.contains("already used"), "{error:?}");
    assert!(
        error
            .hint
            .as_deref()
            .unwrap()
            .contains("new activation code"),
        "{error:?}"
    );

    // The server goes away: the first request cannot reach it.
    let second = core.new_registration("dave").await.unwrap();
    outside.shutdown().await;
    let down = core.activate(request(&second.qr_text)).await;
    let error = down.error.expect("no server, no activation");
    assert_eq!(down.steps.last().unwrap().title, "Reach the server");
    assert!(error.message.contains("cannot reach"), "{error:?}");
    assert!(
        error.hint.as_deref().unwrap().contains("server is running"),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_offline_qr_is_previewed_then_signed_and_the_server_accepts_the_code() {
    let (core, _folder) = core().await;
    let registration = core.new_registration("erin").await.unwrap();
    let report = core.activate(request(&registration.qr_text)).await;
    let id = report.device.expect("activated").id;
    let server = core.server().unwrap().info.url;
    let http = reqwest::Client::new();
    let rest = |path: &str, body: Value| {
        let request = http
            .post(format!("{server}{path}"))
            .json(&json!({ "requestObject": body }));
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            body["responseObject"].clone()
        }
    };
    let data = powerauth::offline::operation_qr_data(
        "5ff1b1ed-a3cc-45a3-8ab0-ed60950312b6",
        "Payment",
        "Pay 100 CZK",
        "A1*A100CZK*Q238400856/0300**D20190629*NCake",
        powerauth::offline::QrFlags::parse("B"),
    );
    let created = rest(
        "/rest/v3/signature/offline/personalized/create",
        json!({"activationId": registration.activation_id, "data": data}),
    )
    .await;
    let text = created["offlineData"].as_str().unwrap().to_owned();

    let preview = core.offline_preview(&id, &text).unwrap();
    assert_eq!(preview.kind, "personalized");
    assert_eq!(preview.operation.name, "payment");
    let form = preview.operation.form_data.as_ref().unwrap();
    assert_eq!(form["attributes"][0]["amount"], "100");
    // Reading it moved nothing: a preview is not a signature.
    let counter = || {
        core.book
            .load_active(&id)
            .unwrap()
            .ctr_data
            .expose_bytes()
            .to_vec()
    };
    let before = counter();
    core.offline_preview(&id, &text).unwrap();
    assert_eq!(before, counter());

    let signed = core
        .sign_offline(
            &id,
            &text,
            Approval::Pin {
                pin: PIN.to_owned(),
            },
        )
        .await
        .unwrap();
    assert_ne!(before, counter());
    let qr = powerauth::offline::OfflineQr::parse(&text).unwrap();
    let verified = rest(
        "/rest/v3/signature/offline/verify",
        json!({
            "activationId": registration.activation_id,
            "data": qr.request_data().as_str(),
            "signature": signed.signature,
            "allowBiometry": true,
        }),
    )
    .await;
    assert_eq!(verified["signatureValid"], true, "{verified}");
    assert_eq!(signed.display.len(), 19, "{}", signed.display);

    // Altered after the server signed it: refused before anything is computed.
    let tampered = text.replace("100CZK", "900CZK");
    let error = core.offline_preview(&id, &tampered).unwrap_err();
    assert!(
        error.message.contains("offline QR code is not usable"),
        "{error:?}"
    );
    assert!(error.hint.is_some());
    core.shutdown().await;
}

/// The keys of a JSON object, sorted.
fn keys(value: &serde_json::Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    keys
}

/// The app's "Export diagnostics" writes the bundle `tokensim diagnose` writes: the same
/// keys as the CLI's bundle pinned in the CLI's output snapshots, at every level, with
/// the server the app knows.
#[tokio::test]
async fn the_diagnostics_bundle_has_the_shape_of_the_cli_s() {
    let pinned = include_str!("../../../tests/cli/snapshots/e2e__outputs__store_commands.snap");
    let start = pinned.find("bundle.json:\n").expect("the CLI's bundle") + 13;
    let end = start + pinned[start..].find("\n\n").expect("the bundle's end");
    let cli: serde_json::Value = serde_json::from_str(&pinned[start..end]).unwrap();

    let (core, _folder) = core().await;
    let registration = core.new_registration("diana").await.unwrap();
    let report = core.activate(request(&registration.qr_text)).await;
    assert!(report.error.is_none(), "{:?}", report.error);
    let app: serde_json::Value = serde_json::from_str(&core.diagnostics().unwrap()).unwrap();

    assert_eq!(app["format"], cli["format"]);
    assert_eq!(app["formatVersion"], cli["formatVersion"]);
    assert_eq!(app["madeBy"], "tokensim-app");
    assert_eq!(keys(&app), keys(&cli));
    assert_eq!(keys(&app["device"]), keys(&cli["device"]));
    for part in ["summary", "record"] {
        assert_eq!(
            keys(&app["device"][part]),
            keys(&cli["device"][part]),
            "{part}"
        );
    }
    assert_eq!(
        keys(&app["device"]["record"]["activation"]),
        keys(&cli["device"]["record"]["activation"])
    );
    assert_eq!(keys(&app["devices"][0]), keys(&cli["devices"][0]));
    assert!(!app["exchanges"].as_array().unwrap().is_empty());
    assert_eq!(keys(&app["server"]), ["embedded", "url"]);
    assert_eq!(cli["server"], serde_json::Value::Null);
    core.shutdown().await;
}
