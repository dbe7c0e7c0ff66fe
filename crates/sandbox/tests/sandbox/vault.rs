//! `/pa/v3/vault/unlock` and `/pa/v3/user/info` with a device built from `crates/powerauth`.

use crate::common::TestServer;
use crate::common::error_parts;
use crate::device::activate;
use powerauth::ProtocolVersion;
use powerauth::ecies::SharedInfo1;
use powerauth::encoding::b64_decode;
use powerauth::signature::SignatureType;
use powerauth::vault::decrypt_vault_key;
use reqwest::StatusCode;

const PATH: &str = "/pa/v3/vault/unlock";
const URI_ID: &str = "/pa/vault/unlock";
const BODY: &[u8] = br#"{"reason":"ADD_BIOMETRY"}"#;

#[tokio::test]
async fn the_vault_key_unwraps_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let mut device = activate(&server, protocol).await;
        let plain = device
            .signed_encrypted(
                &server,
                PATH,
                URI_ID,
                SharedInfo1::VaultUnlock,
                BODY,
                SignatureType::PossessionKnowledge,
            )
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        let wrapped = b64_decode(plain["encryptedVaultEncryptionKey"].as_str().unwrap()).unwrap();
        let vault = decrypt_vault_key(&device.keys.transport, &wrapped).unwrap();
        assert_eq!(vault, device.keys.vault, "{protocol}: KEY_ENCRYPTION_VAULT");
    }
}

#[tokio::test]
async fn possession_alone_cannot_unlock() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_3).await;
    let (status, body) = device
        .signed_encrypted(
            &server,
            PATH,
            URI_ID,
            SharedInfo1::VaultUnlock,
            BODY,
            SignatureType::Possession,
        )
        .await
        .expect_err("possession is not enough");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERR_SECURE_VAULT");
}

#[tokio::test]
async fn a_wrong_encryption_scope_is_refused() {
    let server = TestServer::start().await;
    let mut device = activate(&server, ProtocolVersion::V3_2).await;
    // Encrypted for token creation, sent to the vault.
    let (status, body) = device
        .signed_encrypted(
            &server,
            PATH,
            URI_ID,
            SharedInfo1::CreateToken,
            BODY,
            SignatureType::PossessionKnowledge,
        )
        .await
        .expect_err("sharedInfo1 separates endpoints");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERR_SECURE_VAULT");
}

#[tokio::test]
async fn user_info_in_every_version() {
    let server = TestServer::start().await;
    for protocol in ProtocolVersion::ALL {
        let device = activate(&server, protocol).await;
        let claims = device
            .encrypted(&server, "/pa/v3/user/info", b"{}")
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(claims["sub"], "alice", "{protocol}");
    }
    let device = activate(&server, ProtocolVersion::V3_3).await;
    server
        .rest_ok(
            "/rest/v3/activation/block",
            serde_json::json!({"activationId": device.activation_id}),
        )
        .await;
    let (status, body) = device
        .encrypted(&server, "/pa/v3/user/info", b"{}")
        .await
        .expect_err("a blocked activation has no user info");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_parts(&body).0, "ERR_USER_INFO");
}

#[tokio::test]
async fn activation_detail_and_rename() {
    let server = TestServer::start().await;
    for protocol in [ProtocolVersion::V3_1, ProtocolVersion::V3_3] {
        let mut device = activate(&server, protocol).await;
        let (token_id, token_secret) = device
            .create_token(&server, SignatureType::PossessionKnowledge)
            .await
            .unwrap();
        let token = powerauth::token::TokenHeader::make(
            &token_id,
            &token_secret,
            protocol,
            u64::try_from(server.clock_ms()).unwrap(),
            &powerauth::SystemRandom::new(),
        );
        let detail = device
            .encrypted_with_header(
                &server,
                "/pa/v3/activation/detail",
                b"{}",
                Some(("X-PowerAuth-Token", token.to_header_value())),
            )
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(detail["status"], "OK");
        assert_eq!(detail["responseObject"]["activationName"], "Test phone");

        let renamed = device
            .sign_then_encrypt(
                &server,
                "/pa/v3/activation/rename",
                "/pa/activation/rename",
                SharedInfo1::ActivationScopeGeneric,
                br#"{"activationName":"Work phone"}"#,
                SignatureType::PossessionKnowledge,
            )
            .await
            .unwrap_or_else(|e| panic!("{protocol}: {e:?}"));
        assert_eq!(renamed["responseObject"]["activationName"], "Work phone");
        let status = server
            .rest_ok(
                "/rest/v3/activation/status",
                serde_json::json!({"activationId": device.activation_id}),
            )
            .await;
        assert_eq!(status["activationName"], "Work phone");
    }
    let device = activate(&server, ProtocolVersion::V3_3).await;
    let (status, _) = device
        .encrypted(&server, "/pa/v3/activation/detail", b"{}")
        .await
        .expect_err("detail needs a token");
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
