//! Recovery codes: issued with an activation, redeemed by a `RECOVERY` activation that
//! replaces the lost device, blocked after five wrong PUKs; recovery postcards through
//! PowerAuth Server's `/rest/v3/recovery/*`, derived again by a printing center.

use crate::common::{TestServer, error_parts};
use crate::device::{
    AppConfig, Device, activate, activation_request_as, activation_request_edited,
};
use powerauth::ecies::{EncryptedResponse, Encryptor, Recipient, SharedInfo1};
use powerauth::encoding::{b64, b64_decode_array};
use powerauth::recovery::{RecoveryCode, RecoveryInfo, RecoverySeed};
use powerauth::signature::SignatureType;
use powerauth::status::ActivationState;
use powerauth::{PrivateKey, ProtocolVersion, PublicKey, SystemRandom};
use reqwest::StatusCode;
use sandbox::Config;
use serde_json::{Value, json};

async fn recover(
    server: &TestServer,
    app: &AppConfig,
    code: &str,
    puk: &str,
) -> (
    StatusCode,
    serde_json::Value,
    crate::device::ActivationRequest,
) {
    let request = activation_request_as(
        server,
        app,
        ProtocolVersion::V3_3,
        "RECOVERY",
        json!({"recoveryCode": code, "puk": puk}),
        None,
    )
    .await;
    let (status, body) = request.send(server).await;
    (status, body, request)
}

/// A well-formed PUK that is not `right`.
fn wrong_puk(right: &str) -> &'static str {
    if right == "0000000000" {
        "1111111111"
    } else {
        "0000000000"
    }
}

/// Five wrong PUKs for `code` (PUK 1 current, `right`): each is `INVALID_RECOVERY_CODE`;
/// the first four name PUK 1 as the one to type next, the fifth blocks the code and, as on
/// PowerAuth Server, names none.
async fn block_with_wrong_puks(server: &TestServer, app: &AppConfig, code: &str, right: &str) {
    for attempt in 1..=5 {
        let (status, body, _) = recover(server, app, code, wrong_puk(right)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["responseObject"]["code"], "INVALID_RECOVERY_CODE");
        assert_eq!(
            body["responseObject"]["message"],
            "POWER_AUTH_RECOVERY_INVALID"
        );
        let expected = if attempt < 5 { json!(1) } else { Value::Null };
        assert_eq!(
            body["responseObject"]["currentRecoveryPukIndex"], expected,
            "attempt {attempt}"
        );
    }
}

#[tokio::test]
async fn a_recovery_code_replaces_the_lost_device_once() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let lost = activate(&server, ProtocolVersion::V3_2).await;
    let (code, puk) = lost
        .recovery
        .clone()
        .expect("activation issues a recovery code");
    RecoveryCode::parse(&code).expect("a well-formed recovery code");
    assert_eq!(puk.len(), 10);

    let (status, body, request) = recover(&server, &app, &format!("R:{code}"), &puk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = request.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(
        new.status(&server).await.state,
        ActivationState::Active,
        "no commit needed"
    );
    assert_eq!(lost.status(&server).await.state, ActivationState::Removed);
    let detail = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": new.activation_id}),
        )
        .await;
    assert_eq!(detail["userId"], "alice");
    assert_ne!(
        new.recovery.as_ref().unwrap().0,
        code,
        "the new activation gets its own code"
    );

    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "used up: {body}");
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");
}

#[tokio::test]
async fn five_wrong_puks_block_the_code() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let (code, puk) = device.recovery.clone().unwrap();
    block_with_wrong_puks(&server, &app, &code, &puk).await;
    let (status, _, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "blocked: even the right PUK is refused"
    );
    assert_eq!(
        device.status(&server).await.state,
        ActivationState::Active,
        "the device stays"
    );
    let (status, body, _) = recover(&server, &app, "AAAAA-AAAAA-AAAAA-AAAAA", &puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");
}

#[tokio::test]
async fn recovery_codes_can_be_switched_off() {
    let server = TestServer::start_with(Config {
        recovery_codes: false,
        ..Config::in_memory()
    })
    .await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    assert!(device.recovery.is_none());
}

#[tokio::test]
async fn the_device_confirms_its_recovery_code() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (code, _) = device.recovery.clone().unwrap();
    let body = json!({"recoveryCode": code}).to_string();
    let confirmed = device
        .signed_encrypted(
            &server,
            "/pa/v3/recovery/confirm",
            "/pa/recovery/confirm",
            powerauth::ecies::SharedInfo1::ConfirmRecoveryCode,
            body.as_bytes(),
            powerauth::signature::SignatureType::PossessionKnowledge,
        )
        .await
        .unwrap();
    assert_eq!(confirmed, json!({"alreadyConfirmed": true}));
    let foreign = json!({"recoveryCode": "AAAAA-AAAAA-AAAAA-AAAAA"}).to_string();
    let (status, body) = device
        .signed_encrypted(
            &server,
            "/pa/v3/recovery/confirm",
            "/pa/recovery/confirm",
            powerauth::ecies::SharedInfo1::ConfirmRecoveryCode,
            foreign.as_bytes(),
            powerauth::signature::SignatureType::PossessionKnowledge,
        )
        .await
        .expect_err("not this user's code");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).1, "POWER_AUTH_RECOVERY_CONFIRM_ERROR");
}

/// A `/rest/v3` call that must fail: returns `(code, localizedMessage)`.
async fn rest_err(server: &TestServer, path: &str, request: Value) -> (String, String) {
    let (status, body) = server.rest(path, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    let (code, _) = error_parts(&body);
    let detail = body["responseObject"]["localizedMessage"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (code, detail)
}

/// The printing center's side: its own key pair, and the postcard key the sandbox made.
struct PrintingCenter {
    private: PrivateKey,
}

impl PrintingCenter {
    fn new() -> Self {
        Self {
            private: PrivateKey::make(&SystemRandom::new()),
        }
    }

    fn public_b64(&self) -> String {
        b64(self.private.public_key().to_uncompressed())
    }

    /// Derives the code and PUKs from `/rest/v3/recovery/create`'s answer and the
    /// sandbox's postcard public key, as `docs/Recovery-Postcard.md` says.
    fn print(&self, postcard_public_key: &str, created: &Value) -> RecoveryInfo {
        let server = PublicKey::from_b64(postcard_public_key).unwrap();
        let secret = self.private.ecdh(&server);
        let seed = RecoverySeed {
            nonce: b64_decode_array(created["nonce"].as_str().unwrap()).unwrap(),
            puk_derivation_indexes: created["puks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["pukDerivationIndex"].as_i64().unwrap())
                .collect(),
        };
        RecoveryInfo::derive(&secret[..], seed)
    }
}

/// Enables postcards for `tokensim` with `center`'s key; returns the postcard public key.
async fn enable_postcards(server: &TestServer, center: &PrintingCenter, multiple: bool) -> String {
    let updated = server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": true,
                   "recoveryPostcardEnabled": true, "allowMultipleRecoveryCodes": multiple,
                   "remotePostcardPublicKey": center.public_b64()}),
        )
        .await;
    assert_eq!(updated, json!({"updated": true}));
    let detail = server
        .rest_ok(
            "/rest/v3/recovery/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    detail["postcardPublicKey"].as_str().unwrap().to_owned()
}

async fn create_postcard(server: &TestServer, user: &str, puk_count: i64) -> Value {
    server
        .rest_ok(
            "/rest/v3/recovery/create",
            json!({"applicationId": "tokensim", "userId": user, "pukCount": puk_count}),
        )
        .await
}

async fn lookup(server: &TestServer, request: Value) -> Vec<Value> {
    server.rest_ok("/rest/v3/recovery/lookup", request).await["recoveryCodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// `/pa/v3/recovery/confirm` from `device`: `Ok(alreadyConfirmed)` or the refusal.
async fn device_confirms(
    server: &TestServer,
    device: &mut Device,
    code: &str,
) -> Result<bool, (StatusCode, Value)> {
    let body = json!({"recoveryCode": code}).to_string();
    device
        .signed_encrypted(
            server,
            "/pa/v3/recovery/confirm",
            "/pa/recovery/confirm",
            SharedInfo1::ConfirmRecoveryCode,
            body.as_bytes(),
            SignatureType::PossessionKnowledge,
        )
        .await
        .map(|answer| answer["alreadyConfirmed"].as_bool().unwrap())
}

#[tokio::test]
async fn recovery_config_detail_and_update() {
    let server = TestServer::start().await;
    let detail = server
        .rest_ok(
            "/rest/v3/recovery/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(
        detail,
        json!({"applicationId": "tokensim", "activationRecoveryEnabled": true,
               "recoveryPostcardEnabled": false, "allowMultipleRecoveryCodes": false,
               "postcardPublicKey": null, "remotePostcardPublicKey": null})
    );

    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, false).await;
    let key = PublicKey::from_b64(&postcard_key).expect("a P-256 point");
    assert_eq!(key.to_uncompressed().len(), 65);
    let detail = server
        .rest_ok(
            "/rest/v3/recovery/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(detail["recoveryPostcardEnabled"], true);
    assert_eq!(detail["remotePostcardPublicKey"], center.public_b64());

    // Postcards off and on again: the key pair stays; no remote key keeps the old one.
    for enabled in [false, true] {
        server
            .rest_ok(
                "/rest/v3/recovery/config/update",
                json!({"applicationId": "tokensim", "activationRecoveryEnabled": true,
                       "recoveryPostcardEnabled": enabled}),
            )
            .await;
    }
    let detail = server
        .rest_ok(
            "/rest/v3/recovery/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(detail["postcardPublicKey"], postcard_key.as_str());
    assert_eq!(detail["remotePostcardPublicKey"], center.public_b64());
    assert_eq!(detail["activationRecoveryEnabled"], true);

    // An empty remote key removes it; a bad one is refused and changes nothing.
    for bad in ["not base64!", "AAAA", &b64([4u8; 65])] {
        let (code, detail) = rest_err(
            &server,
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "recoveryPostcardEnabled": true,
                   "remotePostcardPublicKey": bad}),
        )
        .await;
        assert_eq!(code, "ERR0010", "{bad}: {detail}");
        assert!(detail.contains("remotePostcardPublicKey"), "{detail}");
    }
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": true,
                   "recoveryPostcardEnabled": true, "remotePostcardPublicKey": ""}),
        )
        .await;
    let detail = server
        .rest_ok(
            "/rest/v3/recovery/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(detail["remotePostcardPublicKey"], Value::Null);

    for path in [
        "/rest/v3/recovery/config/detail",
        "/rest/v3/recovery/config/update",
    ] {
        let (code, _) = rest_err(&server, path, json!({"applicationId": "nope"})).await;
        assert_eq!(code, "ERR0024", "{path}");
        let (code, _) = rest_err(&server, path, json!({})).await;
        assert_eq!(code, "ERR0024", "{path}");
    }
}

#[tokio::test]
async fn a_printed_postcard_recovers_the_user_puk_by_puk() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, false).await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;

    let created = create_postcard(&server, "alice", 3).await;
    assert_eq!(created["userId"], "alice");
    assert_eq!(created["status"], "CREATED");
    let id = created["recoveryCodeId"].as_i64().unwrap();
    let indexes: Vec<_> = created["puks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["pukIndex"].as_i64().unwrap(), p["status"].clone()))
        .collect();
    assert_eq!(
        indexes,
        [
            (1, json!("VALID")),
            (2, json!("VALID")),
            (3, json!("VALID"))
        ]
    );
    assert!(
        created.get("recoveryCode").is_none(),
        "only the printing center learns the code"
    );

    let printed = center.print(&postcard_key, &created);
    let code = printed.recovery_code.as_str().to_owned();
    let puks: Vec<String> = printed
        .puks
        .iter()
        .map(|p| p.expose_str().to_owned())
        .collect();
    assert_eq!(
        created["recoveryCodeMasked"],
        format!("XXXXX-XXXXX-XXXXX-{}", &code[18..])
    );
    // A key the sandbox does not share derives another code.
    let stranger = PrintingCenter::new().print(&postcard_key, &created);
    assert_ne!(stranger.recovery_code, printed.recovery_code);

    // Not confirmed yet: the code cannot recover.
    let (status, body, _) = recover(&server, &app, &code, &puks[0]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");

    assert_eq!(
        device_confirms(&server, &mut device, &format!("R:{code}")).await,
        Ok(false)
    );
    assert_eq!(device_confirms(&server, &mut device, &code).await, Ok(true));
    let found = lookup(&server, json!({"userId": "alice", "activationId": null})).await;
    let postcard = found
        .iter()
        .find(|c| c["recoveryCodeId"] == id)
        .expect("the postcard code is listed");
    assert_eq!(postcard["status"], "ACTIVE");
    assert_eq!(postcard["activationId"], Value::Null);
    assert_eq!(postcard["applicationId"], "tokensim");

    // PUK 1 recovers; the code stays ACTIVE and PUK 2 is next.
    let (status, body, request) = recover(&server, &app, &code, &puks[0]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let recovered = request.finish(&app, ProtocolVersion::V3_3, &body);
    assert_eq!(
        recovered.status(&server).await.state,
        ActivationState::Active
    );
    assert_eq!(
        device.status(&server).await.state,
        ActivationState::Active,
        "a postcard code is bound to no activation, so none is removed"
    );
    let (status, body, _) = recover(&server, &app, &code, &puks[0]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "PUK 1 is used: {body}");
    assert_eq!(body["responseObject"]["currentRecoveryPukIndex"], 2);
    let used = lookup(
        &server,
        json!({"userId": "alice", "recoveryPukStatus": "USED"}),
    )
    .await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["recoveryCodeId"], id);
    assert_eq!(used[0]["status"], "ACTIVE");
    assert_eq!(
        used[0]["puks"],
        json!([{"pukIndex": 1, "pukDerivationIndex": 0, "status": "USED"}])
    );

    let (status, body, _) = recover(&server, &app, &code, &puks[1]).await;
    assert_eq!(status, StatusCode::OK, "PUK 2 recovers: {body}");
    let (status, body, _) = recover(&server, &app, &code, &puks[1]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["responseObject"]["currentRecoveryPukIndex"], 3);

    // The last PUK recovers too; after it the code has no PUK left to name.
    let (status, body, _) = recover(&server, &app, &code, &puks[2]).await;
    assert_eq!(status, StatusCode::OK, "PUK 3 recovers: {body}");
    let (status, body, _) = recover(&server, &app, &code, &puks[2]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "INVALID_RECOVERY_CODE");
    assert!(
        body["responseObject"]
            .get("currentRecoveryPukIndex")
            .is_none(),
        "no index once every PUK is used: {body}"
    );
}

#[tokio::test]
async fn wrong_puks_block_a_postcard_code() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, false).await;
    let mut device = activate(&server, ProtocolVersion::V3_2).await;
    let created = create_postcard(&server, "alice", 2).await;
    let printed = center.print(&postcard_key, &created);
    let code = printed.recovery_code.as_str();
    assert_eq!(device_confirms(&server, &mut device, code).await, Ok(false));
    let right = printed.puks[0].expose_str();
    block_with_wrong_puks(&server, &app, code, right).await;
    let (status, _, _) = recover(&server, &app, code, right).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "blocked");
    let id = created["recoveryCodeId"].clone();
    let blocked = lookup(
        &server,
        json!({"userId": "alice", "recoveryCodeStatus": "BLOCKED"}),
    )
    .await;
    assert_eq!(blocked.len(), 1);
    assert_eq!(blocked[0]["recoveryCodeId"], id);
    assert_eq!(
        blocked[0]["puks"],
        json!([{"pukIndex": 1, "pukDerivationIndex": 0, "status": "INVALID"},
               {"pukIndex": 2, "pukDerivationIndex": 0, "status": "VALID"}])
    );
    // A blocked code cannot be confirmed again either.
    let (status, body) = device_confirms(&server, &mut device, code)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_parts(&body).1, "POWER_AUTH_RECOVERY_CONFIRM_ERROR");
}

#[tokio::test]
async fn postcard_creation_refuses_what_the_server_refuses() {
    let server = TestServer::start().await;
    let create = |user: &str, count: i64| json!({"applicationId": "tokensim", "userId": user, "pukCount": count});
    // Postcards are off by default.
    let (code, detail) = rest_err(&server, "/rest/v3/recovery/create", create("alice", 1)).await;
    assert_eq!(code, "ERR0024");
    assert!(detail.contains("postcards are disabled"), "{detail}");
    // On, but without the printing center's key.
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": true,
                   "recoveryPostcardEnabled": true}),
        )
        .await;
    let (code, _) = rest_err(&server, "/rest/v3/recovery/create", create("alice", 1)).await;
    assert_eq!(code, "ERR0029");
    let center = PrintingCenter::new();
    enable_postcards(&server, &center, false).await;
    for (request, why) in [
        (create("alice", 0), "no PUK"),
        (create("alice", 101), "over 100 PUKs"),
        (
            json!({"applicationId": "tokensim", "userId": "alice"}),
            "no pukCount",
        ),
        (
            json!({"applicationId": "nope", "userId": "alice", "pukCount": 1}),
            "unknown application",
        ),
        (
            json!({"applicationId": "tokensim", "pukCount": 1}),
            "no user",
        ),
        (create("", 1), "empty user"),
    ] {
        let (code, _) = rest_err(&server, "/rest/v3/recovery/create", request).await;
        assert_eq!(code, "ERR0024", "{why}");
    }
    let first = create_postcard(&server, "alice", 100).await;
    assert_eq!(first["puks"].as_array().unwrap().len(), 100);
    let (code, _) = rest_err(&server, "/rest/v3/recovery/create", create("alice", 1)).await;
    assert_eq!(code, "ERR0025", "one live postcard per user");
    create_postcard(&server, "bob", 1).await;
    // Revoked, it no longer stands in the way.
    let revoked = server
        .rest_ok(
            "/rest/v3/recovery/revoke",
            json!({"recoveryCodeIds": [first["recoveryCodeId"]]}),
        )
        .await;
    assert_eq!(revoked, json!({"revoked": true}));
    let second = create_postcard(&server, "alice", 1).await;
    assert_ne!(second["recoveryCodeId"], first["recoveryCodeId"]);
    // Several allowed: no revoke needed.
    enable_postcards(&server, &center, true).await;
    create_postcard(&server, "alice", 1).await;
    // Activation recovery off: no postcards either.
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": false,
                   "recoveryPostcardEnabled": true}),
        )
        .await;
    let (code, detail) = rest_err(&server, "/rest/v3/recovery/create", create("carol", 1)).await;
    assert_eq!(code, "ERR0024");
    assert!(
        detail.contains("activation recovery is disabled"),
        "{detail}"
    );
}

#[tokio::test]
async fn lookup_filters_and_revoke() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (issued_code, issued_puk) = device.recovery.clone().unwrap();
    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, true).await;
    let first = create_postcard(&server, "alice", 2).await;
    let second = create_postcard(&server, "alice", 1).await;
    create_postcard(&server, "bob", 1).await;

    let alice = lookup(&server, json!({"userId": "alice"})).await;
    let ids: Vec<_> = alice.iter().map(|c| c["recoveryCodeId"].clone()).collect();
    assert_eq!(alice.len(), 3, "{alice:?}");
    assert_eq!(ids[0], second["recoveryCodeId"], "newest first");
    assert_eq!(ids[1], first["recoveryCodeId"]);
    let issued = &alice[2];
    assert_eq!(issued["activationId"], device.activation_id.as_str());
    assert_eq!(issued["status"], "ACTIVE");
    assert_eq!(
        issued["recoveryCodeMasked"],
        format!("XXXXX-XXXXX-XXXXX-{}", &issued_code[18..])
    );
    assert_eq!(
        lookup(
            &server,
            json!({"applicationId": "tokensim", "userId": "alice"})
        )
        .await,
        alice
    );
    let by_activation = lookup(&server, json!({"activationId": device.activation_id})).await;
    assert_eq!(by_activation, vec![issued.clone()]);
    assert_eq!(
        lookup(
            &server,
            json!({"applicationId": "tokensim", "userId": "alice", "activationId": device.activation_id})
        )
        .await,
        vec![issued.clone()]
    );
    let created = lookup(
        &server,
        json!({"userId": "alice", "recoveryCodeStatus": "CREATED"}),
    )
    .await;
    assert_eq!(created.len(), 2);
    assert!(
        lookup(&server, json!({"userId": "nobody"}))
            .await
            .is_empty()
    );
    for (request, why) in [
        (json!({"applicationId": "tokensim"}), "an application alone"),
        (json!({}), "nothing"),
        (
            json!({"applicationId": "nope", "userId": "alice"}),
            "unknown application",
        ),
        (
            json!({"userId": "alice", "recoveryCodeStatus": "LOST"}),
            "unknown status",
        ),
        (
            json!({"userId": "alice", "recoveryPukStatus": "SPENT"}),
            "unknown PUK status",
        ),
    ] {
        let (code, _) = rest_err(&server, "/rest/v3/recovery/lookup", request).await;
        assert_eq!(code, "ERR0024", "{why}");
    }

    // Revoke the first postcard and the code issued with the activation.
    let revoke =
        json!({"recoveryCodeIds": [first["recoveryCodeId"], issued["recoveryCodeId"], 999_999]});
    assert_eq!(
        server
            .rest_ok("/rest/v3/recovery/revoke", revoke.clone())
            .await,
        json!({"revoked": true})
    );
    assert_eq!(
        server.rest_ok("/rest/v3/recovery/revoke", revoke).await,
        json!({"revoked": false}),
        "already revoked"
    );
    let revoked = lookup(
        &server,
        json!({"userId": "alice", "recoveryCodeStatus": "REVOKED"}),
    )
    .await;
    assert_eq!(revoked.len(), 2);
    for code in &revoked {
        assert!(
            code["puks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["status"] == "INVALID"),
            "{code}"
        );
    }
    let valid = lookup(
        &server,
        json!({"userId": "alice", "recoveryPukStatus": "VALID"}),
    )
    .await;
    assert_eq!(valid.len(), 1, "only the second postcard has a VALID PUK");
    assert_eq!(valid[0]["recoveryCodeId"], second["recoveryCodeId"]);
    for (request, why) in [
        (json!({"recoveryCodeIds": []}), "empty"),
        (json!({}), "missing"),
        (json!({"recoveryCodeIds": [-1]}), "negative"),
        (json!({"recoveryCodeIds": [null]}), "null"),
        (json!({"recoveryCodeIds": ["1"]}), "not a number"),
    ] {
        let (code, _) = rest_err(&server, "/rest/v3/recovery/revoke", request).await;
        assert_eq!(code, "ERR0024", "{why}");
    }

    // Revoked codes neither recover nor confirm.
    let (status, body, _) = recover(&server, &app, &issued_code, &issued_puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let printed = center.print(&postcard_key, &first);
    let refused = device_confirms(&server, &mut device, printed.recovery_code.as_str()).await;
    assert_eq!(refused.unwrap_err().0, StatusCode::UNAUTHORIZED);
    assert_eq!(device.status(&server).await.state, ActivationState::Active);
}

/// What an intermediate server forwards to `/rest/v3/recovery/confirm`: the device's
/// activation-scope ECIES request with the activation id and application key.
async fn forwarded_confirm(
    server: &TestServer,
    device: &Device,
    code: &str,
) -> (Value, powerauth::ecies::ResponseDecryptor) {
    let temporary = device.activation_temporary_key(server).await;
    let encryptor = Encryptor::new(
        device.protocol,
        SharedInfo1::ConfirmRecoveryCode,
        &device.app.application_key,
        &device.app.application_secret,
        device.activation_scope(),
    )
    .unwrap();
    let plaintext = json!({"recoveryCode": code}).to_string();
    let now = u64::try_from(server.clock_ms()).unwrap();
    let recipient: Recipient<'_> = temporary.recipient();
    let (request, decryptor) = encryptor
        .encrypt_request(recipient, plaintext.as_bytes(), &SystemRandom::new(), now)
        .unwrap();
    let mut forwarded: Value = serde_json::from_str(&request.to_json()).unwrap();
    forwarded["activationId"] = json!(device.activation_id);
    forwarded["applicationKey"] = json!(device.app.application_key);
    forwarded["protocolVersion"] = json!(device.protocol.to_string());
    (forwarded, decryptor)
}

/// Confirms `code` through `/rest/v3/recovery/confirm`: the status, the body and the
/// decrypted `alreadyConfirmed` of a success.
async fn rest_confirm(
    server: &TestServer,
    device: &Device,
    code: &str,
) -> (StatusCode, Value, Option<bool>) {
    let (forwarded, decryptor) = forwarded_confirm(server, device, code).await;
    let (status, body) = server.rest("/rest/v3/recovery/confirm", forwarded).await;
    let answer = (status == StatusCode::OK).then(|| {
        let object = &body["responseObject"];
        assert_eq!(object["activationId"], device.activation_id.as_str());
        assert_eq!(object["userId"], "alice");
        let response = EncryptedResponse::from_json(object.to_string().as_bytes()).unwrap();
        let plain: Value =
            serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap();
        plain["alreadyConfirmed"].as_bool().unwrap()
    });
    (status, body, answer)
}

#[tokio::test]
async fn an_intermediate_server_confirms_through_the_server_api() {
    let server = TestServer::start().await;
    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, true).await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let created = create_postcard(&server, "alice", 1).await;
    let code = center.print(&postcard_key, &created).recovery_code;

    let (status, body, answer) = rest_confirm(&server, &device, code.as_str()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(answer, Some(false));
    let (_, _, answer) = rest_confirm(&server, &device, &code.to_qr()).await;
    assert_eq!(answer, Some(true));

    let (status, body, _) = rest_confirm(&server, &device, "AAAAA-AAAAA-AAAAA-AAAAA").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERR0027", "unknown code: {body}");
    let (_, body, _) = rest_confirm(&server, &device, "not a code").await;
    assert_eq!(error_parts(&body).0, "ERR0024");
    let bobs = create_postcard(&server, "bob", 1).await;
    let bobs = center.print(&postcard_key, &bobs).recovery_code;
    let (_, body, _) = rest_confirm(&server, &device, bobs.as_str()).await;
    assert_eq!(
        error_parts(&body).0,
        "ERR0024",
        "another user's code: {body}"
    );

    let (mut tampered, _) = forwarded_confirm(&server, &device, code.as_str()).await;
    tampered["mac"] = json!(b64([0u8; 32]));
    let (err, _) = rest_err(&server, "/rest/v3/recovery/confirm", tampered.clone()).await;
    assert_eq!(err, "ERR0018", "a wrong MAC");
    tampered["temporaryKeyId"] = json!("none");
    let (err, _) = rest_err(&server, "/rest/v3/recovery/confirm", tampered.clone()).await;
    assert_eq!(err, "ERR0045", "an unknown temporary key");
    tampered["activationId"] = json!("nope");
    let (err, _) = rest_err(&server, "/rest/v3/recovery/confirm", tampered.clone()).await;
    assert_eq!(err, "ERR0009");
    let (err, _) = rest_err(
        &server,
        "/rest/v3/recovery/confirm",
        json!({"activationId": device.activation_id}),
    )
    .await;
    assert_eq!(err, "ERR0024");

    let (forwarded, _) = forwarded_confirm(&server, &device, code.as_str()).await;
    server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": device.activation_id}),
        )
        .await;
    let (err, detail) = rest_err(&server, "/rest/v3/recovery/confirm", forwarded).await;
    assert_eq!(err, "ERR0008", "blocked activation: {detail}");
}

#[tokio::test]
async fn activation_recovery_switched_off_per_application() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (code, puk) = device.recovery.clone().unwrap();
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": false}),
        )
        .await;
    let second = activate(&server, ProtocolVersion::V3_3).await;
    assert!(second.recovery.is_none(), "no code issued");
    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERR_ACTIVATION", "{body}");
    let refused = device_confirms(&server, &mut device, &code).await;
    assert_eq!(refused.unwrap_err().0, StatusCode::UNAUTHORIZED);
    // On again: the code issued before still works.
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": true}),
        )
        .await;
    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// What an intermediate server forwards to `/rest/v3/activation/recovery/create` after
/// peeling layer 1 of a `RECOVERY` activation: code, PUK and the device's layer 2 (3.3,
/// to a temporary key); and the layer-2 response decryptor.
async fn recovery_create_request(
    server: &TestServer,
    app: &AppConfig,
    code: &str,
    puk: &str,
) -> (
    Value,
    powerauth::ecies::ResponseDecryptor,
    powerauth::KeyPair,
) {
    let now = u64::try_from(server.clock_ms()).unwrap();
    let temporary = crate::device::application_temporary_key(server, app)
        .await
        .expect("a temporary key");
    let (device_keys, layer2, decryptor) =
        crate::device::layer2_request(app, ProtocolVersion::V3_3, temporary.recipient(), None, now);
    let mut request: Value = serde_json::from_str(&layer2.to_json()).unwrap();
    request["recoveryCode"] = json!(code);
    request["puk"] = json!(puk);
    request["applicationKey"] = json!(app.application_key);
    request["protocolVersion"] = json!("3.3");
    request["generateRecoveryCodes"] = json!(true);
    (request, decryptor, device_keys)
}

#[tokio::test]
async fn an_intermediate_server_recovers_through_the_server_api() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let lost = activate(&server, ProtocolVersion::V3_3).await;
    let (code, puk) = lost.recovery.clone().unwrap();
    server
        .rest_ok(
            "/rest/v3/activation/flags/create",
            json!({"activationId": lost.activation_id, "activationFlags": ["VIP"]}),
        )
        .await;
    let (request, _, _) = recovery_create_request(&server, &app, &code, wrong_puk(&puk)).await;
    let (status, body) = server
        .rest("/rest/v3/activation/recovery/create", request)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_parts(&body),
        ("ERR0028".to_owned(), "Invalid recovery code.".to_owned())
    );
    assert_eq!(body["responseObject"]["currentRecoveryPukIndex"], 1);

    let (request, decryptor, device_keys) =
        recovery_create_request(&server, &app, &format!("R:{code}"), &puk).await;
    let created = server
        .rest_ok("/rest/v3/activation/recovery/create", request)
        .await;
    assert_eq!(created["activationStatus"], "PENDING_COMMIT");
    assert_eq!(created["userId"], "alice");
    assert_eq!(created["applicationId"], "tokensim");
    let id = created["activationId"].as_str().unwrap().to_owned();
    let response = EncryptedResponse::from_json(created.to_string().as_bytes()).unwrap();
    let plain: Value =
        serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap();
    assert_eq!(plain["activationId"], id.as_str());
    let new_code = plain["activationRecovery"]["recoveryCode"]
        .as_str()
        .expect("generateRecoveryCodes: a fresh code for the new activation");
    assert_ne!(new_code, code);
    assert_eq!(lost.status(&server).await.state, ActivationState::Removed);
    let flags = server
        .rest_ok(
            "/rest/v3/activation/flags/list",
            json!({"activationId": id}),
        )
        .await;
    assert_eq!(flags["activationFlags"], json!(["VIP"]), "flags inherited");
    server
        .rest_ok("/rest/v3/activation/commit", json!({"activationId": id}))
        .await;
    let server_public_key =
        PublicKey::from_b64(plain["serverPublicKey"].as_str().unwrap()).unwrap();
    let recovered = Device {
        protocol: ProtocolVersion::V3_3,
        app: app.clone(),
        recovery: None,
        activation_id: id,
        keys: powerauth::ActivationKeys::derive_from_ecdh(&device_keys.private, &server_public_key),
        ctr_data: powerauth::CtrData::from_slice(
            &powerauth::encoding::b64_decode(plain["ctrData"].as_str().unwrap()).unwrap(),
        )
        .unwrap(),
        server_public_key,
        device_key: device_keys.clone(),
    };
    assert_eq!(
        recovered.status(&server).await.state,
        ActivationState::Active
    );

    // Used up, unknown, not confirmed, switched off, unknown application key: ERR0024.
    let center = PrintingCenter::new();
    let postcard_key = enable_postcards(&server, &center, false).await;
    let unconfirmed = create_postcard(&server, "alice", 1).await;
    let unconfirmed = center.print(&postcard_key, &unconfirmed);
    for (code, puk, why) in [
        (code.clone(), puk.clone(), "used up"),
        ("AAAAA-AAAAA-AAAAA-AAAAA".to_owned(), puk.clone(), "unknown"),
        ("not a code".to_owned(), puk.clone(), "malformed"),
        (
            unconfirmed.recovery_code.to_string(),
            unconfirmed.puks[0].expose_str().to_owned(),
            "not confirmed",
        ),
    ] {
        let (request, _, _) = recovery_create_request(&server, &app, &code, &puk).await;
        let (err, _) = rest_err(&server, "/rest/v3/activation/recovery/create", request).await;
        assert_eq!(err, "ERR0024", "{why}");
    }
    let (mut request, _, _) = recovery_create_request(&server, &app, new_code, "0123456789").await;
    request["applicationKey"] = json!(b64([7u8; 16]));
    let (err, _) = rest_err(&server, "/rest/v3/activation/recovery/create", request).await;
    assert_eq!(err, "ERR0024", "unknown application key");
    server
        .rest_ok(
            "/rest/v3/recovery/config/update",
            json!({"applicationId": "tokensim", "activationRecoveryEnabled": false}),
        )
        .await;
    let (request, _, _) = recovery_create_request(&server, &app, new_code, "0123456789").await;
    let (err, detail) = rest_err(&server, "/rest/v3/activation/recovery/create", request).await;
    assert_eq!(err, "ERR0024");
    assert!(detail.contains("disabled"), "{detail}");
}

#[tokio::test]
async fn removing_an_activation_can_revoke_its_recovery_codes() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let kept = activate(&server, ProtocolVersion::V3_3).await;
    let revoked = activate(&server, ProtocolVersion::V3_3).await;
    for (device, revoke) in [(&kept, false), (&revoked, true)] {
        let removed = server
            .rest_ok(
                "/rest/v3/activation/remove",
                json!({"activationId": device.activation_id, "revokeRecoveryCodes": revoke}),
            )
            .await;
        assert_eq!(removed["removed"], true);
    }
    let codes = lookup(&server, json!({"activationId": revoked.activation_id})).await;
    assert_eq!(codes[0]["status"], "REVOKED");
    assert_eq!(codes[0]["puks"][0]["status"], "INVALID");
    let (code, puk) = revoked.recovery.clone().unwrap();
    let (status, _, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "revoked with its activation"
    );

    let codes = lookup(&server, json!({"activationId": kept.activation_id})).await;
    assert_eq!(
        codes[0]["status"], "ACTIVE",
        "kept: the user may still recover"
    );
    let (code, puk) = kept.recovery.clone().unwrap();
    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn concurrent_postcards_for_one_user_make_one_code() {
    let server = TestServer::start().await;
    let center = PrintingCenter::new();
    enable_postcards(&server, &center, false).await;
    let request = json!({"applicationId": "tokensim", "userId": "alice", "pukCount": 2});
    let answers = futures_util::future::join_all(
        (0..8).map(|_| server.rest("/rest/v3/recovery/create", request.clone())),
    )
    .await;
    let made = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(made, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::BAD_REQUEST);
        assert_eq!(error_parts(body).0, "ERR0025", "{body}");
    }
    assert_eq!(lookup(&server, json!({"userId": "alice"})).await.len(), 1);
}

/// A recovery whose layer 2 cannot be decrypted is refused before the code is looked at,
/// as PowerAuth Server decrypts first: the PUK is not spent and the lost device's
/// activation is not retired, on `/pa/v3` and on the server API alike.
#[tokio::test]
async fn an_undecryptable_layer_2_spends_no_puk_and_keeps_the_activation() {
    let server = TestServer::start().await;
    let app = AppConfig::default_of(&server).await;
    let lost = activate(&server, ProtocolVersion::V3_3).await;
    let (code, puk) = lost.recovery.clone().unwrap();
    let tamper = |envelope: &mut Value| envelope["mac"] = json!(b64([0u8; 32]));

    let request = activation_request_edited(
        &server,
        &app,
        ProtocolVersion::V3_3,
        "RECOVERY",
        json!({"recoveryCode": code, "puk": puk}),
        None,
        tamper,
    )
    .await;
    let (status, body) = request.send(&server).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(lost.status(&server).await.state, ActivationState::Active);

    let (mut request, _, _) = recovery_create_request(&server, &app, &code, &puk).await;
    tamper(&mut request);
    let (err, _) = rest_err(&server, "/rest/v3/activation/recovery/create", request).await;
    assert_eq!(err, "ERR0024");
    assert_eq!(lost.status(&server).await.state, ActivationState::Active);

    // The code's only PUK is still the first one: the right request recovers with it.
    let (status, body, _) = recover(&server, &app, &code, &puk).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(lost.status(&server).await.state, ActivationState::Removed);
}
