//! The proximity check (digest §11.5, §16.7): the OTP an operation with a `QR_SCAN`
//! pre-approval screen needs, read from a scanned code by `powerauth`'s parser (the mtoken
//! SDK's `PACUtils` rules), or typed. The approval sends it as `proximityCheck` with the
//! time it was received and the time it was sent.

use crate::types::{AppError, ProximityRead};
use powerauth::totp::{ProximityCode, ProximityCodeError};

/// Unix milliseconds as ISO-8601 UTC (`2026-12-07T13:20:00.123+00:00`).
pub fn iso8601(ms: u64) -> String {
    sandbox::clock::iso8601(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// Reads a scanned proximity code (deeplink, URI with a JWT, or a bare JWT).
pub fn read(text: &str) -> Result<ProximityRead, AppError> {
    let code = ProximityCode::parse(text.trim()).map_err(|e| {
        let message = match e {
            ProximityCodeError::OperationIdNotEncoded => {
                "The code's operation id is not URL-encoded, so the mobile token SDK refuses it."
            }
            ProximityCodeError::InvalidJwt => "The code's token does not name an operation.",
            _ => "This QR code is not a proximity code of an operation.",
        };
        AppError::new("INPUT", message).with_hint(
            "scan the QR code the bank's page shows beside this operation, or type its code",
        )
    })?;
    Ok(ProximityRead {
        operation_id: code.operation_id,
        otp: code.otp,
    })
}

/// Reads a scanned proximity code (see [`read`]).
#[tauri::command]
pub fn read_proximity(text: String) -> Result<ProximityRead, AppError> {
    read(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Core;
    use crate::devices::{DeviceBook, StoreChoice};
    use crate::types::{ActivateRequest, Approval, ProximityInput};
    use serde_json::{Value, json};

    const PIN: &str = "246813";

    async fn rest(core: &Core, path: &str, body: Value) -> Value {
        let url = core.server().unwrap().info.url;
        let reply: Value = reqwest::Client::new()
            .post(format!("{url}{path}"))
            .json(&json!({ "requestObject": body }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["responseObject"].clone()
    }

    async fn failed_attempts(core: &Core, activation_id: &str) -> i64 {
        rest(
            core,
            "/rest/v3/activation/status",
            json!({ "activationId": activation_id }),
        )
        .await["failedAttempts"]
            .as_i64()
            .unwrap()
    }

    #[tokio::test]
    async fn proximity_otp_1fa_and_an_empty_pin_against_the_embedded_sandbox() {
        let folder = tempfile::tempdir().unwrap();
        let core =
            Core::new(DeviceBook::open(folder.path(), StoreChoice::Memory).unwrap()).unwrap();
        core.slot.start_sandbox(None, 0).await.unwrap();
        let registration = core.new_registration("prox").await.unwrap();
        let report = core
            .activate(ActivateRequest {
                name: "Prox phone".to_owned(),
                code: registration.qr_text.clone(),
                pin: PIN.to_owned(),
                version: "3.3".to_owned(),
                biometry: false,
                otp: None,
            })
            .await;
        let id = report.device.expect("activated").id;
        let activation = registration.activation_id.clone();
        let create = |proximity: bool| {
            json!({"userId": "prox", "applications": ["tokensim"], "templateName": "payment",
                "parameters": {"amount": "10.00", "currency": "EUR", "iban": "CZ6508000000192000145399"},
                "proximityCheckEnabled": proximity})
        };

        // An empty PIN is refused before anything is sent: the server counts nothing.
        let payment = rest(&core, "/rest/v3/operation/create", create(false)).await;
        let payment = payment["id"].as_str().unwrap();
        let sent = core.recorder.exchanges().len();
        let empty = Approval::Pin { pin: String::new() };
        let error = core.approve(&id, payment, empty, None).await.unwrap_err();
        assert_eq!(error.code, "INPUT");
        assert_eq!(core.recorder.exchanges().len(), sent, "nothing may be sent");
        assert_eq!(failed_attempts(&core, &activation).await, 0);
        let error = core.remove(&id, None, false).await.unwrap_err();
        assert_eq!(error.code, "INPUT");
        assert_eq!(core.recorder.exchanges().len(), sent, "nothing may be sent");

        // A proximity operation: the OTP the bank's page shows, read from its deeplink.
        let operation = rest(&core, "/rest/v3/operation/create", create(true)).await;
        let operation_id = operation["id"].as_str().unwrap().to_owned();
        let pending = core.operations(&id).await.unwrap();
        let shown = pending.iter().find(|o| o.id == operation_id).unwrap();
        assert_eq!(
            shown.ui.as_ref().unwrap()["preApprovalScreen"]["type"],
            "QR_SCAN"
        );
        let detail = rest(
            &core,
            "/rest/v3/operation/detail",
            json!({ "operationId": operation_id }),
        )
        .await;
        let otp = detail["proximityOtp"].as_str().unwrap();
        let scanned = read(&format!("mtoken://operation?oid={operation_id}&potp={otp}")).unwrap();
        assert_eq!(scanned.operation_id, operation_id);
        let proximity = |otp: &str| {
            Some(ProximityInput {
                otp: otp.to_owned(),
                kind: "QR_CODE".to_owned(),
                timestamp_received: iso8601(0),
            })
        };
        let pin = || Approval::Pin {
            pin: PIN.to_owned(),
        };
        // A wrong OTP is refused by the server.
        assert!(
            core.approve(&id, &operation_id, pin(), proximity("00000000"))
                .await
                .is_err()
        );
        core.approve(
            &id,
            &operation_id,
            pin(),
            proximity(scanned.otp.as_deref().unwrap()),
        )
        .await
        .unwrap();
        assert_eq!(
            core.operation_status(&operation_id).await.unwrap(),
            "APPROVED"
        );
        let sent_body = core
            .exchanges()
            .iter()
            .rev()
            .find(|x| x.label == "operation/authorize")
            .map(|x| x.request_body.clone())
            .unwrap();
        assert!(sent_body.contains("timestampReceived") && sent_body.contains("timestampSent"));

        // 1FA: possession alone, no PIN.
        let template = rest(
            &core,
            "/rest/v3/operation/template/create",
            json!({"templateName": "login_1fa", "operationType": "login", "dataTemplate": "A2",
                "signatureType": ["POSSESSION"], "maxFailureCount": 5, "expiration": 300}),
        )
        .await;
        assert!(template["id"].is_i64(), "{template}");
        let login = rest(
            &core,
            "/rest/v3/operation/create",
            json!({"userId": "prox", "applications": ["tokensim"], "templateName": "login_1fa", "parameters": {}}),
        )
        .await;
        let login = login["id"].as_str().unwrap();
        let listed = core.operations(&id).await.unwrap();
        assert_eq!(
            listed
                .iter()
                .find(|o| o.id == login)
                .unwrap()
                .signature_kind,
            "1FA"
        );
        core.approve(&id, login, Approval::Possession, None)
            .await
            .unwrap();
        assert_eq!(core.operation_status(login).await.unwrap(), "APPROVED");
        core.shutdown().await;
    }

    #[test]
    fn a_deeplink_gives_its_operation_and_otp_and_other_text_is_refused_in_words() {
        let read = read("mtoken://operation?oid=5ff1b1ed-a3cc&potp=12345678").unwrap();
        assert_eq!(read.operation_id, "5ff1b1ed-a3cc");
        assert_eq!(read.otp.as_deref(), Some("12345678"));
        let error = super::read("hello").unwrap_err();
        assert_eq!(error.code, "INPUT");
        assert!(
            error.message.starts_with("This QR code is not"),
            "{error:?}"
        );
        assert!(error.hint.is_some());
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000+00:00");
    }
}
