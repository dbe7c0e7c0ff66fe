//! `/rest/v3` as a real intermediate server (enrollment-server, a restful-integration
//! app) calls it. Each request is built from the field list of PowerAuth Server's Java
//! model (`powerauth-client-model`), every field present and typed as Jackson writes it
//! (absent values as `null`), and each answer is read by the field names of the response
//! model.

use crate::common::{TestServer, error_parts};
use crate::device::{AppConfig, Device, activate};
use powerauth::ProtocolVersion;
use powerauth::ecies::{EncryptedResponse, Encryptor, Recipient, ResponseDecryptor, SharedInfo1};
use powerauth::encoding::{b64, b64_decode};
use powerauth::signature::{AuthorizationHeader, RequestData, SignatureType};
use powerauth::status::{ActivationStatusBlob, StatusExchange, make_status_challenge};
use powerauth::temporary_key::TemporaryKeyRequest;
use powerauth::{SystemRandom, vault::decrypt_vault_key};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn assert_code(status: StatusCode, body: &Value, code: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(body).0, code, "{body}");
}

/// The ECIES fields of a PowerAuth Server request model, for `device` in `shared_info1`,
/// with the temporary key a 3.3 SDK would use, and the response decryptor.
async fn envelope(
    server: &TestServer,
    device: &Device,
    shared_info1: SharedInfo1,
    plaintext: &[u8],
) -> (Value, ResponseDecryptor) {
    let temporary = if device.protocol.uses_temporary_keys() {
        Some(device.activation_temporary_key(server).await)
    } else {
        None
    };
    let recipient = match &temporary {
        Some(key) => key.recipient(),
        None => Recipient::Static(&device.server_public_key),
    };
    let encryptor = Encryptor::new(
        device.protocol,
        shared_info1,
        &device.app.application_key,
        &device.app.application_secret,
        device.activation_scope(),
    )
    .unwrap();
    let now = u64::try_from(server.clock_ms()).unwrap();
    let (request, decryptor) = encryptor
        .encrypt_request(recipient, plaintext, &SystemRandom::new(), now)
        .unwrap();
    let sent: Value = serde_json::from_str(&request.to_json()).unwrap();
    let fields = json!({
        "temporaryKeyId": sent.get("temporaryKeyId").cloned().unwrap_or(Value::Null),
        "ephemeralPublicKey": sent["ephemeralPublicKey"],
        "encryptedData": sent["encryptedData"],
        "mac": sent["mac"],
        "nonce": sent.get("nonce").cloned().unwrap_or(Value::Null),
        "timestamp": sent.get("timestamp").cloned().unwrap_or(Value::Null),
    });
    (fields, decryptor)
}

fn merged(mut a: Value, b: &Value) -> Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

fn opened(decryptor: ResponseDecryptor, response: &Value) -> Value {
    let fields: serde_json::Map<String, Value> = ["encryptedData", "mac", "nonce", "timestamp"]
        .iter()
        .filter(|f| !response[**f].is_null())
        .map(|f| ((*f).to_owned(), response[*f].clone()))
        .collect();
    let response = EncryptedResponse::try_from(fields).unwrap();
    serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap()
}

/// `TemporaryPublicKeyRequest {jwt}` → `TemporaryPublicKeyResponse {jwt}`, then
/// `RemoveTemporaryPublicKeyRequest {id}` → `{id, removed}`.
#[tokio::test]
async fn keystore_create_and_remove() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let rng = SystemRandom::new();
    for scope in [None, Some(&device)] {
        let app = AppConfig::default_of(&server).await;
        let request = match scope {
            None => TemporaryKeyRequest::new(
                &app.application_key,
                &app.application_secret,
                powerauth::ecies::Scope::Application,
                &rng,
            ),
            Some(device) => TemporaryKeyRequest::new(
                &app.application_key,
                &app.application_secret,
                device.activation_scope(),
                &rng,
            ),
        }
        .unwrap();
        let created = server
            .rest_ok("/rest/v3/keystore/create", json!({"jwt": request.jwt()}))
            .await;
        let signer = match scope {
            None => &app.master_public_key,
            Some(device) => &device.server_public_key,
        };
        let key = request
            .verify_response(created["jwt"].as_str().unwrap(), signer)
            .expect("signed by the scope's server key");
        let removed = server
            .rest_ok("/rest/v3/keystore/remove", json!({"id": key.id}))
            .await;
        assert_eq!(removed, json!({"id": key.id, "removed": true}));
    }
    let (status, body) = server
        .rest("/rest/v3/keystore/create", json!({"jwt": "a.b.c"}))
        .await;
    assert_code(status, &body, "ERR0024");
}

/// `CreateTokenRequest` → `CreateTokenResponse` (the encrypted `{tokenId, tokenSecret}`),
/// then `RemoveTokenRequest {tokenId, activationId}` → `{removed}`.
#[tokio::test]
async fn token_create_and_remove_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let device = activate(&server, protocol).await;
        let (fields, decryptor) = envelope(&server, &device, SharedInfo1::CreateToken, b"{}").await;
        let request = merged(
            json!({
                "activationId": device.activation_id,
                "applicationKey": device.app.application_key,
                "signatureType": "POSSESSION_KNOWLEDGE",
                "protocolVersion": protocol.as_str(),
            }),
            &fields,
        );
        let response = server
            .rest_ok("/rest/v3/token/create", request.clone())
            .await;
        for field in ["encryptedData", "mac", "nonce", "timestamp"] {
            assert!(
                response.get(field).is_some(),
                "{protocol}: {field} in {response}"
            );
        }
        let token = opened(decryptor, &response);
        let token_id = token["tokenId"].as_str().unwrap().to_owned();
        assert_eq!(
            b64_decode(token["tokenSecret"].as_str().unwrap())
                .unwrap()
                .len(),
            16
        );

        // The same request again is a replay.
        let (status, body) = server.rest("/rest/v3/token/create", request).await;
        assert_code(status, &body, "ERR0018");

        let remove = json!({"tokenId": token_id, "activationId": device.activation_id});
        let removed = server
            .rest_ok("/rest/v3/token/remove", remove.clone())
            .await;
        assert_eq!(removed, json!({"removed": true}), "{protocol}");
        let again = server.rest_ok("/rest/v3/token/remove", remove).await;
        assert_eq!(again, json!({"removed": false}));
    }
    let device = activate(&server, ProtocolVersion::V3_1).await;
    let (fields, _) = envelope(&server, &device, SharedInfo1::CreateToken, b"{}").await;
    let unknown = merged(
        json!({"activationId": "00000000-0000-4000-8000-000000000000",
               "applicationKey": device.app.application_key,
               "signatureType": "POSSESSION", "protocolVersion": "3.1"}),
        &fields,
    );
    let (status, body) = server.rest("/rest/v3/token/create", unknown).await;
    assert_code(status, &body, "ERR0009");
}

/// `VaultUnlockRequest` (the signature the intermediate server read, `signedData` the
/// normalized request data) → `VaultUnlockResponse {encryptedData, mac, nonce, timestamp,
/// signatureValid}`; the encrypted payload holds `encryptedVaultEncryptionKey`.
#[tokio::test]
async fn vault_unlock_checks_the_signature_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let mut device = activate(&server, protocol).await;
        let body = br#"{"reason":"ADD_BIOMETRY"}"#;
        let (fields, decryptor) = envelope(&server, &device, SharedInfo1::VaultUnlock, body).await;
        let encrypted_body = fields.to_string();
        let header = device.sign(
            "POST",
            "/pa/vault/unlock",
            encrypted_body.as_bytes(),
            SignatureType::PossessionKnowledge,
        );
        let parsed = AuthorizationHeader::parse(&header).unwrap();
        let data = RequestData::new(
            "POST",
            "/pa/vault/unlock",
            &parsed.nonce,
            encrypted_body.as_bytes(),
        );
        let request = merged(
            json!({
                "activationId": device.activation_id,
                "applicationKey": device.app.application_key,
                "signedData": data.as_str(),
                "signature": parsed.signature,
                "signatureType": "POSSESSION_KNOWLEDGE",
                "signatureVersion": protocol.as_str(),
            }),
            &fields,
        );
        let response = server.rest_ok("/rest/v3/vault/unlock", request).await;
        assert_eq!(response["signatureValid"], true, "{protocol}: {response}");
        let payload = opened(decryptor, &response);
        let wrapped = b64_decode(payload["encryptedVaultEncryptionKey"].as_str().unwrap()).unwrap();
        let vault = decrypt_vault_key(&device.keys.transport, &wrapped).unwrap();
        assert_eq!(vault, device.keys.vault, "{protocol}");

        // A wrong signature: valid false, no key, an attempt counted.
        let (fields, decryptor) = envelope(&server, &device, SharedInfo1::VaultUnlock, body).await;
        let wrong = device.sign_wrong_pin("/pa/vault/unlock", fields.to_string().as_bytes());
        let wrong = AuthorizationHeader::parse(&wrong).unwrap();
        let data = RequestData::new("POST", "/pa/vault/unlock", &wrong.nonce, b"{}");
        let request = merged(
            json!({
                "activationId": device.activation_id,
                "applicationKey": device.app.application_key,
                "signedData": data.as_str(),
                "signature": wrong.signature,
                "signatureType": "POSSESSION_KNOWLEDGE",
                "signatureVersion": protocol.as_str(),
            }),
            &fields,
        );
        let response = server
            .rest_ok("/rest/v3/vault/unlock", request.clone())
            .await;
        assert_eq!(response["signatureValid"], false);
        assert_eq!(
            opened(decryptor, &response)["encryptedVaultEncryptionKey"],
            Value::Null
        );
        let status = server
            .rest_ok(
                "/rest/v3/activation/status",
                json!({"activationId": device.activation_id, "challenge": null}),
            )
            .await;
        assert_eq!(status["failedAttempts"], 1, "{protocol}");

        // Only POSSESSION_KNOWLEDGE unlocks (PowerAuth Server's default).
        let mut biometry = request;
        biometry["signatureType"] = json!("POSSESSION_BIOMETRY");
        let (status, body) = server.rest("/rest/v3/vault/unlock", biometry).await;
        assert_code(status, &body, "ERR0012");
    }
}

/// `GetActivationStatusRequest {activationId, challenge}` → `encryptedStatusBlob` and
/// `encryptedStatusBlobNonce`, which the SDK decrypts with its challenge.
#[tokio::test]
async fn activation_status_with_a_challenge_carries_the_sdk_blob() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let challenge = make_status_challenge(&SystemRandom::new());
    let status = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": device.activation_id, "challenge": b64(challenge)}),
        )
        .await;
    assert_eq!(status["activationStatus"], "ACTIVE");
    let nonce = b64_decode(status["encryptedStatusBlobNonce"].as_str().unwrap()).unwrap();
    let exchange = StatusExchange::from_response(Some(challenge), Some(&nonce)).unwrap();
    let blob = b64_decode(status["encryptedStatusBlob"].as_str().unwrap()).unwrap();
    let blob = ActivationStatusBlob::decrypt(&blob, &device.keys.transport, &exchange).unwrap();
    assert_eq!(blob.state, powerauth::status::ActivationState::Active);

    let plain = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": device.activation_id, "challenge": null}),
        )
        .await;
    assert!(plain["encryptedStatusBlob"].is_string());
    assert_eq!(plain["encryptedStatusBlobNonce"], Value::Null);
    let (status, body) = server
        .rest(
            "/rest/v3/activation/status",
            json!({"activationId": device.activation_id, "challenge": "short"}),
        )
        .await;
    assert_code(status, &body, "ERR0011");
}

/// `UpdateActivationNameRequest {activationId, activationName, externalUserId}` →
/// `{activationId, activationName, activationStatus}`; CREATED, BLOCKED and REMOVED
/// activations cannot be renamed (ERR0008).
#[tokio::test]
async fn activation_name_update() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_2).await;
    let request = json!({"activationId": device.activation_id, "activationName": "Work phone",
                         "externalUserId": "operator-1"});
    let renamed = server
        .rest_ok("/rest/v3/activation/name/update", request.clone())
        .await;
    assert_eq!(
        renamed,
        json!({"activationId": device.activation_id, "activationName": "Work phone",
               "activationStatus": "ACTIVE"})
    );
    let status = server
        .rest_ok(
            "/rest/v3/activation/status",
            json!({"activationId": device.activation_id, "challenge": null}),
        )
        .await;
    assert_eq!(status["activationName"], "Work phone");
    server
        .rest_ok(
            "/rest/v3/activation/block",
            json!({"activationId": device.activation_id, "reason": "LOST", "externalUserId": null}),
        )
        .await;
    let (status, body) = server
        .rest("/rest/v3/activation/name/update", request.clone())
        .await;
    assert_code(status, &body, "ERR0008");
    let mut blank = request;
    blank["externalUserId"] = json!(" ");
    let (status, body) = server.rest("/rest/v3/activation/name/update", blank).await;
    assert_code(status, &body, "ERR0024");
}

/// `LookupActivationsRequest {userIds, applicationIds, timestampLastUsedBefore,
/// timestampLastUsedAfter, activationStatus, activationFlags}` → `{activations}` of
/// PowerAuth Server's `Activation`.
#[tokio::test]
async fn activation_lookup_filters_as_powerauth_server() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    server
        .rest_ok(
            "/rest/v3/activation/flags/create",
            json!({"activationId": device.activation_id, "activationFlags": ["VIP"]}),
        )
        .await;
    let request = json!({
        "userIds": ["alice", "nobody"],
        "applicationIds": ["tokensim"],
        "timestampLastUsedBefore": "2030-01-01T00:00:00.000+00:00",
        "timestampLastUsedAfter": "2020-01-01T00:00:00.000+00:00",
        "activationStatus": "ACTIVE",
        "activationFlags": ["VIP"],
    });
    let found = server
        .rest_ok("/rest/v3/activation/lookup", request.clone())
        .await;
    let activations = found["activations"].as_array().unwrap();
    assert_eq!(activations.len(), 1, "{found}");
    let item = &activations[0];
    assert_eq!(item["activationId"], device.activation_id.as_str());
    assert_eq!(item["userId"], "alice");
    assert_eq!(item["applicationId"], "tokensim");
    assert_eq!(item["activationFlags"], json!(["VIP"]));
    assert_eq!(item["protocol"], "powerauth");
    assert_eq!(
        item["devicePublicKeyBase64"],
        b64(device.device_key.public.to_compressed())
    );
    for (field, value) in [
        ("activationStatus", json!("BLOCKED")),
        ("activationFlags", json!(["VIP", "OTHER"])),
        ("applicationIds", json!(["other"])),
        ("timestampLastUsedBefore", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut narrowed = request.clone();
        narrowed[field] = value;
        let found = server.rest_ok("/rest/v3/activation/lookup", narrowed).await;
        assert!(
            found["activations"].as_array().unwrap().is_empty(),
            "{field}"
        );
    }
    let mut no_users = request.clone();
    no_users["userIds"] = json!([]);
    let (status, body) = server.rest("/rest/v3/activation/lookup", no_users).await;
    assert_code(status, &body, "ERR0024");
    let mut bad_date = request;
    bad_date["timestampLastUsedAfter"] = json!("yesterday");
    let (status, body) = server.rest("/rest/v3/activation/lookup", bad_date).await;
    assert_code(status, &body, "ERR0011");
}

/// `application/config/{create,detail,remove}` with `CreateApplicationConfigRequest
/// {applicationId, key, values}`, `GetApplicationConfigRequest {applicationId}`,
/// `RemoveApplicationConfigRequest {applicationId, key}`.
#[tokio::test]
async fn application_config_create_detail_remove() {
    let server = TestServer::start().await;
    let values = json!([{"provider": "acme", "clientId": "x"}]);
    let created = server
        .rest_ok(
            "/rest/v3/application/config/create",
            json!({"applicationId": "tokensim", "key": "oauth2_providers", "values": values}),
        )
        .await;
    assert_eq!(
        created,
        json!({"applicationId": "tokensim", "key": "oauth2_providers", "values": values})
    );
    server
        .rest_ok(
            "/rest/v3/application/config/create",
            json!({"applicationId": "tokensim", "key": "fido2_aaguids_allowed", "values": ["a", "b"]}),
        )
        .await;
    let detail = server
        .rest_ok(
            "/rest/v3/application/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(
        detail,
        json!({"applicationId": "tokensim", "applicationConfigs": [
            {"key": "fido2_aaguids_allowed", "values": ["a", "b"]},
            {"key": "oauth2_providers", "values": values},
        ]})
    );
    let (status, body) = server
        .post(
            "/rest/v3/application/config/remove",
            &json!({"requestObject": {"applicationId": "tokensim", "key": "oauth2_providers"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "OK"}));
    let detail = server
        .rest_ok(
            "/rest/v3/application/config/detail",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    assert_eq!(detail["applicationConfigs"].as_array().unwrap().len(), 1);
    let (status, body) = server
        .rest(
            "/rest/v3/application/config/create",
            json!({"applicationId": "tokensim", "key": "colour", "values": []}),
        )
        .await;
    assert_code(status, &body, "ERR0024");
    let (status, body) = server
        .rest(
            "/rest/v3/application/config/create",
            json!({"applicationId": "nope", "key": "oauth2_providers", "values": []}),
        )
        .await;
    assert_code(status, &body, "ERR0015");
}

/// `application/roles/{create,list,update,remove}` with `{applicationId,
/// applicationRoles}`; the roles show in `signature/verify` and `token/validate`.
#[tokio::test]
async fn application_roles_and_where_they_show() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let roles = |roles: Value| json!({"applicationId": "tokensim", "applicationRoles": roles});
    let added = server
        .rest_ok(
            "/rest/v3/application/roles/create",
            roles(json!(["ROLE_B", "ROLE_A"])),
        )
        .await;
    assert_eq!(added, roles(json!(["ROLE_A", "ROLE_B"])));
    let listed = server
        .rest_ok(
            "/rest/v3/application/roles/list",
            json!({"applicationId": "tokensim"}),
        )
        .await;
    // PowerAuth Server's list leaves applicationId unset.
    assert_eq!(
        listed,
        json!({"applicationId": null, "applicationRoles": ["ROLE_A", "ROLE_B"]})
    );
    let header = device.sign("POST", "/x", b"{}", SignatureType::PossessionKnowledge);
    let parsed = AuthorizationHeader::parse(&header).unwrap();
    let verdict = server
        .rest_ok(
            "/rest/v3/signature/verify",
            json!({"activationId": device.activation_id,
                   "applicationKey": device.app.application_key,
                   "data": RequestData::new("POST", "/x", &parsed.nonce, b"{}").as_str(),
                   "signature": parsed.signature, "signatureType": "POSSESSION_KNOWLEDGE",
                   "signatureVersion": "3.3"}),
        )
        .await;
    assert_eq!(verdict["signatureValid"], true);
    assert_eq!(verdict["applicationRoles"], json!(["ROLE_A", "ROLE_B"]));

    let updated = server
        .rest_ok(
            "/rest/v3/application/roles/update",
            roles(json!(["ROLE_C"])),
        )
        .await;
    assert_eq!(updated, roles(json!(["ROLE_C"])));
    let removed = server
        .rest_ok(
            "/rest/v3/application/roles/remove",
            roles(json!(["ROLE_C", "ROLE_X"])),
        )
        .await;
    assert_eq!(removed, roles(json!([])));
    let (status, body) = server
        .rest("/rest/v3/application/roles/create", roles(json!([])))
        .await;
    assert_code(status, &body, "ERR0024");
    let (status, body) = server
        .rest(
            "/rest/v3/application/roles/list",
            json!({"applicationId": "nope"}),
        )
        .await;
    assert_code(status, &body, "ERR0015");
}

/// `VerifyECDSASignatureRequest {activationId, data, signature, signatureFormat}` →
/// `{signatureValid}`, DER and JOSE.
#[tokio::test]
async fn ecdsa_verify_with_the_device_key() {
    let server = TestServer::start().await;
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let rng = ring::rand::SystemRandom::new();
    let data = b"login: alice, 2026-06-01";
    let der = device.device_key.sign_ecdsa(data, &rng);
    let jose = device.device_key.sign_ecdsa_fixed(data, &rng);
    let verify = |signature: &[u8], format: Value, what: &[u8]| {
        json!({"activationId": device.activation_id, "data": b64(what),
               "signature": b64(signature), "signatureFormat": format})
    };
    for (request, valid) in [
        (verify(&der, json!("DER"), data), true),
        (verify(&der, Value::Null, data), true),
        (verify(&jose, json!("JOSE"), data), true),
        (verify(&jose, json!("DER"), data), false),
        (verify(&der, json!("DER"), b"other data"), false),
    ] {
        let answer = server
            .rest_ok("/rest/v3/signature/ecdsa/verify", request.clone())
            .await;
        assert_eq!(answer, json!({"signatureValid": valid}), "{request}");
    }
    let mut unknown = verify(&der, json!("DER"), data);
    unknown["activationId"] = json!("00000000-0000-4000-8000-000000000000");
    let answer = server
        .rest_ok("/rest/v3/signature/ecdsa/verify", unknown)
        .await;
    assert_eq!(answer["signatureValid"], false);
}

/// `OperationExtIdRequest {externalId, applications, pageNumber, pageSize}` → the list of
/// `OperationDetailResponse`, newest first, paged.
#[tokio::test]
async fn operation_list_external() {
    let server = TestServer::start().await;
    let mut ids = Vec::new();
    for external in ["order-1", "order-1", "order-2"] {
        server.clock.advance(1_000);
        let created = server
            .rest_ok(
                "/rest/v3/operation/create",
                json!({"userId": "alice", "applications": ["tokensim"], "templateName": "login",
                       "externalId": external}),
            )
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let request = |page: Value, size: Value| {
        json!({"externalId": "order-1", "applications": ["tokensim"], "pageNumber": page,
               "pageSize": size})
    };
    let all = server
        .rest_ok(
            "/rest/v3/operation/list/external",
            request(json!(0), json!(10)),
        )
        .await;
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[1].as_str(), ids[0].as_str()]);
    assert_eq!(all[0]["externalId"], "order-1");
    let second = server
        .rest_ok(
            "/rest/v3/operation/list/external",
            request(json!(1), json!(1)),
        )
        .await;
    assert_eq!(second[0]["id"], ids[0].as_str());
    let unpaged = server
        .rest_ok(
            "/rest/v3/operation/list/external",
            request(Value::Null, Value::Null),
        )
        .await;
    assert_eq!(unpaged.as_array().unwrap().len(), 2);
    let mut foreign = request(json!(0), json!(10));
    foreign["applications"] = json!(["nope"]);
    let (status, body) = server
        .rest("/rest/v3/operation/list/external", foreign)
        .await;
    assert_code(status, &body, "ERR0015");
}

/// The operation state errors of PowerAuth Server: approve ERR0037, reject ERR0038,
/// approve/fail and cancel ERR0036 for a finished operation; a reject without a user
/// binds the rejecting one and keeps the reason in `additionalData`.
#[tokio::test]
async fn operation_state_errors_and_a_user_less_reject() {
    let server = TestServer::start().await;
    let create = |user: Value| {
        json!({"userId": user, "applications": ["tokensim"], "templateName": "login",
               "externalId": null, "activationFlag": null, "timestampExpires": null,
               "parameters": {}, "additionalData": {}, "activationId": null,
               "proximityCheckEnabled": false})
    };
    let created = server
        .rest_ok("/rest/v3/operation/create", create(Value::Null))
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let rejected = server
        .rest_ok(
            "/rest/v3/operation/reject",
            json!({"operationId": id, "userId": "alice", "applicationId": "tokensim",
                   "additionalData": {"rejectReason": "UNEXPECTED_OPERATION"}}),
        )
        .await;
    assert_eq!(rejected["result"], "REJECTED");
    assert_eq!(rejected["operation"]["userId"], "alice");
    assert_eq!(
        rejected["operation"]["additionalData"]["rejectReason"],
        "UNEXPECTED_OPERATION"
    );
    assert_eq!(rejected["operation"]["statusReason"], Value::Null);

    let approve = json!({"operationId": id, "userId": "alice", "applicationId": "tokensim",
                         "data": created["data"], "signatureType": "POSSESSION_KNOWLEDGE",
                         "additionalData": {}});
    for (path, request, code) in [
        ("/rest/v3/operation/approve", approve.clone(), "ERR0037"),
        (
            "/rest/v3/operation/reject",
            json!({"operationId": id, "userId": "alice", "applicationId": "tokensim",
                   "additionalData": {}}),
            "ERR0038",
        ),
        (
            "/rest/v3/operation/approve/fail",
            json!({"operationId": id, "additionalData": {}}),
            "ERR0036",
        ),
        (
            "/rest/v3/operation/cancel",
            json!({"operationId": id, "statusReason": "TIMEOUT", "additionalData": {}}),
            "ERR0036",
        ),
    ] {
        let (status, body) = server.rest(path, request).await;
        assert_code(status, &body, code);
    }
    let unknown = "00000000-0000-4000-8000-000000000000";
    let mut approve_unknown = approve.clone();
    approve_unknown["operationId"] = json!(unknown);
    let (status, body) = server
        .rest("/rest/v3/operation/approve", approve_unknown)
        .await;
    assert_code(status, &body, "ERR0037");
    let (status, body) = server
        .rest(
            "/rest/v3/operation/reject",
            json!({"operationId": unknown, "userId": "alice", "applicationId": "tokensim"}),
        )
        .await;
    assert_code(status, &body, "ERR0038");

    // Approval of a user-less operation binds the approving user too.
    let created = server
        .rest_ok("/rest/v3/operation/create", create(Value::Null))
        .await;
    let mut approve = approve;
    approve["operationId"] = created["id"].clone();
    approve["data"] = created["data"].clone();
    let approved = server.rest_ok("/rest/v3/operation/approve", approve).await;
    assert_eq!(approved["result"], "APPROVED");
    assert_eq!(approved["operation"]["userId"], "alice");
}
