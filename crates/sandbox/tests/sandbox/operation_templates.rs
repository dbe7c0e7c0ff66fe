//! `/rest/v3/operation/template/*`: the template CRUD of PowerAuth Server, and operations
//! built from a template created through it.

use crate::common::{TestServer, error_parts};
use crate::operations::Phone;
use powerauth::signature::SignatureType;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE: &str = "/rest/v3/operation/template/create";

fn transfer() -> Value {
    json!({
        "templateName": "transfer",
        "operationType": "transfer_money",
        "dataTemplate": "A1*A${amount}EUR*I${iban}",
        "signatureType": ["POSSESSION_KNOWLEDGE", "possession_biometry"],
        "maxFailureCount": 3,
        "expiration": 120,
        "riskFlags": "X",
        "proximityCheckEnabled": false,
    })
}

#[track_caller]
fn assert_error(result: (StatusCode, Value), code: &str, case: &str) {
    let (status, body) = result;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
    assert_eq!(error_parts(&body).0, code, "{case}: {body}");
}

#[tokio::test]
async fn a_created_template_lists_updates_builds_operations_and_goes() {
    let server = TestServer::start().await;
    let list = server
        .rest_ok("/rest/v3/operation/template/list", json!({}))
        .await;
    let names: Vec<(i64, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["templateName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [(1, "login"), (2, "payment")], "the built-ins");

    let created = server.rest_ok(CREATE, transfer()).await;
    assert_eq!(
        created,
        json!({
            "id": 3,
            "templateName": "transfer",
            "operationType": "transfer_money",
            "dataTemplate": "A1*A${amount}EUR*I${iban}",
            "signatureType": ["POSSESSION_KNOWLEDGE", "POSSESSION_BIOMETRY"],
            "maxFailureCount": 3,
            "expiration": 120,
            "riskFlags": "X",
            "proximityCheckEnabled": false,
        })
    );
    let detail = server
        .rest_ok("/rest/v3/operation/template/detail", json!({"id": 3}))
        .await;
    assert_eq!(detail, created);

    // An operation from it: data rendered, limits taken from the template, and a phone
    // sees and approves it.
    let mut phone = Phone::new(&server).await;
    let operation = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "transfer", "userId": "alice",
                   "parameters": {"amount": "12.50", "iban": "CZ6508000000192000145399"}}),
        )
        .await;
    assert_eq!(operation["data"], "A1*A12.50EUR*ICZ6508000000192000145399");
    assert_eq!(operation["operationType"], "transfer_money");
    assert_eq!(operation["maxFailureCount"], 3);
    assert_eq!(operation["riskFlags"], "X");
    let listed = phone.list(&server).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "transfer_money");
    assert_eq!(listed[0]["formData"]["title"], "transfer_money");
    let id = operation["id"].as_str().unwrap();
    // Removing it while the operation waits would strand the phone's list.
    assert_error(
        server
            .rest("/rest/v3/operation/template/remove", json!({"id": 3}))
            .await,
        "ERR0042",
        "in use",
    );
    let (status, body) = phone
        .authorize(
            &server,
            id,
            "A1*A12.50EUR*ICZ6508000000192000145399",
            SignatureType::PossessionBiometry,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Update: new data template, one signature type.
    let mut update = transfer();
    update["id"] = json!(3);
    update["dataTemplate"] = json!("A1*A${amount}CZK");
    update["signatureType"] = json!(["POSSESSION"]);
    update["templateName"] = json!("ignored");
    let updated = server
        .rest_ok("/rest/v3/operation/template/update", update)
        .await;
    assert_eq!(updated["templateName"], "transfer", "the name stays");
    assert_eq!(updated["dataTemplate"], "A1*A${amount}CZK");
    let operation = server
        .rest_ok(
            "/rest/v3/operation/create",
            json!({"applications": ["tokensim"], "templateName": "transfer", "userId": "alice",
                   "parameters": {"amount": "3"}}),
        )
        .await;
    assert_eq!(operation["data"], "A1*A3CZK");
    assert_eq!(operation["signatureType"], json!(["POSSESSION"]));
    server
        .rest_ok(
            "/rest/v3/operation/cancel",
            json!({"operationId": operation["id"]}),
        )
        .await;

    // Remove: gone from detail, list and operation create; the name is free again.
    let (status, body) = server
        .rest("/rest/v3/operation/template/remove", json!({"id": 3}))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "OK"})));
    assert_error(
        server
            .rest("/rest/v3/operation/template/detail", json!({"id": 3}))
            .await,
        "ERR0033",
        "removed",
    );
    let list = server
        .rest_ok("/rest/v3/operation/template/list", json!({}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_error(
        server
            .rest(
                "/rest/v3/operation/create",
                json!({"applications": ["tokensim"], "templateName": "transfer"}),
            )
            .await,
        "ERR0033",
        "operation from a removed template",
    );
    let again = server.rest_ok(CREATE, transfer()).await;
    assert_eq!(again["id"], 3, "ids count on from the highest");
}

#[tokio::test]
async fn template_validation_errors_are_the_documented_ones() {
    let server = TestServer::start().await;
    let without = |field: &str| {
        let mut request = transfer();
        request.as_object_mut().unwrap().remove(field);
        request
    };
    let with = |field: &str, value: Value| {
        let mut request = transfer();
        request[field] = value;
        request
    };
    let cases = [
        (
            without("templateName"),
            "Template name must not be null when creating operation template.",
        ),
        (
            with("templateName", json!("")),
            "Template name must not be empty when creating operation template.",
        ),
        (
            without("operationType"),
            "Template operation type must not be null when creating operation template.",
        ),
        (
            with("operationType", json!("")),
            "Template operation type must not be empty when creating operation template.",
        ),
        (
            without("signatureType"),
            "Template signature types must not be null when creating operation template.",
        ),
        (
            with("signatureType", json!([])),
            "Template signature types must contain at least one value.",
        ),
        (
            with("signatureType", json!(["POSSESSION", "possession"])),
            "Template signature types must be unique.",
        ),
        (
            without("dataTemplate"),
            "Template data must not be null when creating operation template.",
        ),
        (
            with("dataTemplate", json!("")),
            "Template data must not be empty when creating operation template.",
        ),
        (
            without("expiration"),
            "Template expiration value must not be null when creating operation template.",
        ),
        (
            with("expiration", json!(0)),
            "Template expiration value must be greater than zero.",
        ),
        (
            without("maxFailureCount"),
            "Template maximum allowed failure count must not be null.",
        ),
        (
            with("maxFailureCount", json!(-1)),
            "Template maximum allowed failure count must be greater than zero.",
        ),
        (
            with("signatureType", json!(["FACE_ID"])),
            "unknown signature type \"FACE_ID\"",
        ),
        (
            with("dataTemplate", json!("A1*A${amount")),
            "dataTemplate has a ${ placeholder without a name or closing }",
        ),
        (
            with("dataTemplate", json!("A1*${}")),
            "dataTemplate has a ${ placeholder without a name or closing }",
        ),
        (
            with("operationType", json!("a\nb")),
            "operationType must be at most 255 characters without control characters",
        ),
    ];
    for (request, message) in cases {
        let (status, body) = server.rest(CREATE, request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}: {body}");
        assert_eq!(error_parts(&body).0, "ERR0024", "{request}: {body}");
        assert_eq!(
            body["responseObject"]["localizedMessage"], message,
            "{request}: {body}"
        );
    }
    assert_error(
        server
            .rest(CREATE, with("templateName", json!("login")))
            .await,
        "ERR0039",
        "taken name",
    );
    let list = server
        .rest_ok("/rest/v3/operation/template/list", json!({}))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2, "nothing half-written");

    for path in ["detail", "update", "remove"] {
        let path = format!("/rest/v3/operation/template/{path}");
        let mut request = transfer();
        request["id"] = json!(99);
        assert_error(server.rest(&path, request).await, "ERR0033", &path);
        assert_error(server.rest(&path, json!({})).await, "ERR0024", &path);
        assert_error(
            server.rest(&path, json!({"id": "one"})).await,
            "ERR0024",
            &path,
        );
    }
    let mut update = transfer();
    update["id"] = json!(2);
    update["expiration"] = json!(0);
    assert_error(
        server
            .rest("/rest/v3/operation/template/update", update)
            .await,
        "ERR0024",
        "update validates too",
    );
    for id in [1, 2] {
        assert_error(
            server
                .rest("/rest/v3/operation/template/remove", json!({"id": id}))
                .await,
            "ERR0042",
            "built-ins stay",
        );
    }
}

/// The enrollment server's `MobileTokenConverter`: risk flags make the `ui` when the
/// template has none, a template's `QR_SCAN` screen shows only with a proximity OTP, and
/// an operation that accepts `POSSESSION` is `1FA`.
#[tokio::test]
async fn risk_flags_qr_scan_and_factors_reach_the_phone_as_the_converter_makes_them() {
    let server = TestServer::start().await;
    let phone = Phone::new(&server).await;
    let template = |name: &str, signature: Value, extra: Value| {
        let mut template = json!({
            "templateName": name, "operationType": name, "dataTemplate": "A2",
            "signatureType": signature, "maxFailureCount": 5, "expiration": 300,
        });
        template
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        template
    };
    let both = json!(["POSSESSION_BIOMETRY", "POSSESSION_KNOWLEDGE"]);
    server
        .rest_ok(
            CREATE,
            template("flagged", both.clone(), json!({"riskFlags": "XFC"})),
        )
        .await;
    server
        .rest_ok(
            CREATE,
            template(
                "scan",
                json!(["POSSESSION", "POSSESSION_KNOWLEDGE"]),
                json!({"riskFlags": "X", "ui": {"preApprovalScreen":
                    {"type": "QR_SCAN", "heading": "Scan", "message": "Scan it"}}}),
            ),
        )
        .await;
    let create = |name: &str, proximity: bool| {
        json!({"applications": ["tokensim"], "templateName": name, "userId": "alice",
               "proximityCheckEnabled": proximity})
    };
    for (name, proximity) in [("flagged", true), ("scan", false), ("scan", true)] {
        server
            .rest_ok("/rest/v3/operation/create", create(name, proximity))
            .await;
        server.clock.advance(1_000);
    }
    let listed = phone.list(&server).await;
    let ui: Vec<&Value> = listed.iter().map(|o| &o["ui"]).collect();
    // Newest first: scan with an OTP, scan without, flagged.
    assert_eq!(
        ui[0],
        &json!({"preApprovalScreen": {"type": "QR_SCAN", "heading": "Scan", "message": "Scan it"}}),
        "the template's ui wins over the risk flags"
    );
    assert_eq!(ui[1], &json!({}), "no OTP, no QR_SCAN");
    assert_eq!(
        ui[2],
        &json!({"flipButtons": true, "blockApprovalOnCall": true,
                "preApprovalScreen": {"type": "WARNING", "approvalType": "SLIDER"}}),
        "no QR_SCAN the template did not ask for, although the operation has an OTP"
    );
    assert_eq!(
        listed[0]["allowedSignatureType"],
        json!({"type": "1FA", "variants": []})
    );
    assert_eq!(
        listed[2]["allowedSignatureType"],
        json!({"type": "2FA", "variants": ["possession_knowledge", "possession_biometry"]}),
        "knowledge first, whatever the template's order"
    );
}
