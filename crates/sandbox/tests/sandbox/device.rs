//! A mobile device built from `crates/powerauth`, driving the sandbox the way the SDK
//! does: temporary keys (3.3), the two-layer activation, status polling.

use crate::common::TestServer;
use powerauth::ecies::{
    ENCRYPTION_HEADER_NAME, EncryptedRequest, EncryptedResponse, EncryptionHeader, Encryptor,
    Recipient, Scope, SharedInfo1,
};
use powerauth::encoding::{b64, b64_decode};
use powerauth::signature::{Authorization, FactorKeys, RequestToSign, SignatureType};
use powerauth::status::{ActivationStatusBlob, StatusExchange, make_status_challenge};
use powerauth::temporary_key::{TemporaryKeyRequest, TemporaryPublicKey};
use powerauth::{
    ActivationKeys, CtrData, KeyPair, ProtocolVersion, PublicKey, SymmetricKey, SystemRandom,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a mobile app is built with.
#[derive(Clone)]
pub struct AppConfig {
    pub application_key: String,
    pub application_secret: String,
    pub master_public_key: PublicKey,
}

impl AppConfig {
    /// The default application's first version, read from `/rest/v3/application/detail`.
    pub async fn default_of(server: &TestServer) -> Self {
        let detail = server
            .rest_ok(
                "/rest/v3/application/detail",
                json!({"applicationId": "tokensim"}),
            )
            .await;
        let version = &detail["versions"][0];
        Self {
            application_key: version["applicationKey"].as_str().unwrap().to_owned(),
            application_secret: version["applicationSecret"].as_str().unwrap().to_owned(),
            master_public_key: PublicKey::from_b64(detail["masterPublicKey"].as_str().unwrap())
                .unwrap(),
        }
    }
}

/// An activated device.
pub struct Device {
    pub protocol: ProtocolVersion,
    pub app: AppConfig,
    /// `(recoveryCode, puk)` when the server issued them.
    pub recovery: Option<(String, String)>,
    pub activation_id: String,
    pub keys: ActivationKeys,
    pub ctr_data: CtrData,
    pub server_public_key: PublicKey,
    /// `KEY_DEVICE_PRIVATE` and its public half (ECDSA signing of data).
    pub device_key: KeyPair,
}

/// `/rest/v3/activation/init` for `user`; returns (activationId, activationCode, signature).
pub async fn init(server: &TestServer, user: &str, extra: Value) -> (String, String, String) {
    let mut request = json!({"userId": user, "applicationId": "tokensim"});
    if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
        request.extend(extra.clone());
    }
    let response = server.rest_ok("/rest/v3/activation/init", request).await;
    (
        response["activationId"].as_str().unwrap().to_owned(),
        response["activationCode"].as_str().unwrap().to_owned(),
        response["activationSignature"].as_str().unwrap().to_owned(),
    )
}

/// `/pa/v3/keystore/create` in application scope, verified as the SDK verifies it.
pub async fn application_temporary_key(
    server: &TestServer,
    app: &AppConfig,
) -> Result<TemporaryPublicKey, (StatusCode, Value)> {
    let rng = SystemRandom::new();
    let request = TemporaryKeyRequest::new(
        &app.application_key,
        &app.application_secret,
        Scope::Application,
        &rng,
    )
    .unwrap();
    let (status, body) = server
        .post(
            "/pa/v3/keystore/create",
            &json!({"requestObject": {"jwt": request.jwt()}}),
        )
        .await;
    if status != StatusCode::OK {
        return Err((status, body));
    }
    let jwt = body["responseObject"]["jwt"].as_str().unwrap();
    Ok(request
        .verify_response(jwt, &app.master_public_key)
        .expect("the sandbox's temporary key JWT verifies with the master key"))
}

/// The bodies and header of one `/pa/v3/activation/create`, kept so tests can tamper.
pub struct ActivationRequest {
    pub header: String,
    pub body: String,
    device: KeyPair,
    layer1: powerauth::ecies::ResponseDecryptor,
    layer2: powerauth::ecies::ResponseDecryptor,
}

/// Layer 2 alone (what `/rest/v3/activation/prepare` receives): a fresh device key pair,
/// the sealed request and its decryptor.
pub fn layer2_request(
    app: &AppConfig,
    protocol: ProtocolVersion,
    recipient: Recipient<'_>,
    otp: Option<&str>,
    now: u64,
) -> (
    KeyPair,
    EncryptedRequest,
    powerauth::ecies::ResponseDecryptor,
) {
    let rng = SystemRandom::new();
    let device = KeyPair::make(&rng);
    let mut plain = json!({
        "devicePublicKey": b64(device.public.to_compressed()),
        "activationName": "Test phone",
        "platform": "android",
        "deviceInfo": "Pixel 9",
    });
    if let Some(otp) = otp {
        plain["activationOtp"] = json!(otp);
    }
    let encryptor = Encryptor::new(
        protocol,
        SharedInfo1::ActivationLayer2,
        &app.application_key,
        &app.application_secret,
        Scope::Application,
    )
    .unwrap();
    let (request, decryptor) = encryptor
        .encrypt_request(recipient, plain.to_string().as_bytes(), &rng, now)
        .unwrap();
    (device, request, decryptor)
}

/// Builds the two-layer request for `code` in `protocol`.
pub async fn activation_request(
    server: &TestServer,
    app: &AppConfig,
    protocol: ProtocolVersion,
    code: &str,
    otp: Option<&str>,
) -> ActivationRequest {
    activation_request_as(server, app, protocol, "CODE", json!({"code": code}), otp).await
}

/// Builds the two-layer request with a layer-1 `type` and `identityAttributes`.
pub async fn activation_request_as(
    server: &TestServer,
    app: &AppConfig,
    protocol: ProtocolVersion,
    activation_type: &str,
    identity_attributes: Value,
    otp: Option<&str>,
) -> ActivationRequest {
    activation_request_edited(
        server,
        app,
        protocol,
        activation_type,
        identity_attributes,
        otp,
        |_| {},
    )
    .await
}

/// [`activation_request_as`] with `edit` applied to the layer-2 envelope's JSON before
/// layer 1 seals it (to tamper with it).
pub async fn activation_request_edited(
    server: &TestServer,
    app: &AppConfig,
    protocol: ProtocolVersion,
    activation_type: &str,
    identity_attributes: Value,
    otp: Option<&str>,
    edit: impl FnOnce(&mut Value),
) -> ActivationRequest {
    let rng = SystemRandom::new();
    let now = u64::try_from(server.clock_ms()).unwrap();
    let temporary = if protocol.uses_temporary_keys() {
        Some(
            application_temporary_key(server, app)
                .await
                .expect("a temporary key"),
        )
    } else {
        None
    };
    let recipient = match &temporary {
        Some(key) => key.recipient(),
        None => Recipient::Static(&app.master_public_key),
    };
    let (device, layer2_request, layer2_decryptor) =
        layer2_request(app, protocol, recipient, otp, now);
    let mut activation_data = serde_json::from_str::<Value>(&layer2_request.to_json()).unwrap();
    edit(&mut activation_data);
    let layer1_plain = json!({
        "type": activation_type,
        "identityAttributes": identity_attributes,
        "activationData": activation_data,
    });
    let layer1 = Encryptor::new(
        protocol,
        SharedInfo1::ApplicationScopeGeneric,
        &app.application_key,
        &app.application_secret,
        Scope::Application,
    )
    .unwrap();
    let (layer1_request, layer1_decryptor) = layer1
        .encrypt_request(recipient, layer1_plain.to_string().as_bytes(), &rng, now)
        .unwrap();
    ActivationRequest {
        header: EncryptionHeader::application(&app.application_key, protocol).to_string(),
        body: layer1_request.to_json(),
        device,
        layer1: layer1_decryptor,
        layer2: layer2_decryptor,
    }
}

impl ActivationRequest {
    /// Sends the request as built; returns the status and the raw JSON body.
    pub async fn send(&self, server: &TestServer) -> (StatusCode, Value) {
        let response = server
            .client
            .post(server.url("/pa/v3/activation/create"))
            .header(ENCRYPTION_HEADER_NAME, &self.header)
            .header("content-type", "application/json")
            .body(self.body.clone())
            .send()
            .await
            .unwrap();
        crate::common::read(response).await
    }

    /// Decrypts a successful answer into an activated device.
    pub fn finish(self, app: &AppConfig, protocol: ProtocolVersion, body: &Value) -> Device {
        let layer1 = EncryptedResponse::from_json(body.to_string().as_bytes()).unwrap();
        let plain = self
            .layer1
            .decrypt_response(&layer1)
            .expect("layer 1 decrypts");
        let plain: Value = serde_json::from_slice(&plain).unwrap();
        let layer2 =
            EncryptedResponse::try_from(plain["activationData"].as_object().unwrap().clone())
                .unwrap();
        let plain = self
            .layer2
            .decrypt_response(&layer2)
            .expect("layer 2 decrypts");
        let plain: Value = serde_json::from_slice(&plain).unwrap();
        let server_public_key =
            PublicKey::from_b64(plain["serverPublicKey"].as_str().unwrap()).unwrap();
        let ctr_data =
            CtrData::from_slice(&b64_decode(plain["ctrData"].as_str().unwrap()).unwrap()).unwrap();
        let recovery = plain["activationRecovery"].as_object().map(|r| {
            (
                r["recoveryCode"].as_str().unwrap().to_owned(),
                r["puk"].as_str().unwrap().to_owned(),
            )
        });
        Device {
            protocol,
            app: app.clone(),
            recovery,
            activation_id: plain["activationId"].as_str().unwrap().to_owned(),
            keys: ActivationKeys::derive_from_ecdh(&self.device.private, &server_public_key),
            ctr_data,
            server_public_key,
            device_key: self.device,
        }
    }
}

/// init + create + (optionally) commit: a device in `protocol` whose record is ACTIVE.
pub async fn activate(server: &TestServer, protocol: ProtocolVersion) -> Device {
    activate_user(server, protocol, "alice").await
}

/// An active device of `user`.
pub async fn activate_user(server: &TestServer, protocol: ProtocolVersion, user: &str) -> Device {
    let app = AppConfig::default_of(server).await;
    let (activation_id, code, _) = init(server, user, json!({})).await;
    let request = activation_request(server, &app, protocol, &code, None).await;
    let (status, body) = request.send(server).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "activation/create in {protocol}: {body}"
    );
    let device = request.finish(&app, protocol, &body);
    assert_eq!(device.activation_id, activation_id);
    server
        .rest_ok(
            "/rest/v3/activation/commit",
            json!({"activationId": activation_id}),
        )
        .await;
    device
}

impl Device {
    /// `/pa/v3/activation/status`, decrypted and parsed.
    pub async fn status(&self, server: &TestServer) -> ActivationStatusBlob {
        let rng = SystemRandom::new();
        let challenge =
            (self.protocol != ProtocolVersion::V3_0).then(|| make_status_challenge(&rng));
        let mut request = json!({"activationId": self.activation_id});
        if let Some(challenge) = challenge {
            request["challenge"] = json!(b64(challenge));
        }
        let (status, body) = server.rest("/pa/v3/activation/status", request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let response = &body["responseObject"];
        assert_eq!(response["activationId"], self.activation_id.as_str());
        let nonce = response["nonce"].as_str().map(|n| b64_decode(n).unwrap());
        let exchange = StatusExchange::from_response(challenge, nonce.as_deref()).unwrap();
        let blob = b64_decode(response["encryptedStatusBlob"].as_str().unwrap()).unwrap();
        ActivationStatusBlob::decrypt(&blob, &self.keys.transport, &exchange)
            .expect("the status blob decrypts with KEY_TRANSPORT")
    }
}

impl Device {
    /// Signs a request as the SDK does, advancing `ctr_data`; returns the header value.
    pub fn sign(
        &mut self,
        method: &str,
        uri_id: &str,
        body: &[u8],
        signature_type: SignatureType,
    ) -> String {
        sign(
            &self.app,
            &self.activation_id,
            self.protocol,
            &FactorKeys::from(&self.keys),
            &mut self.ctr_data,
            &RequestToSign {
                method,
                uri_id,
                body,
            },
            signature_type,
        )
    }

    /// Signs `possession_knowledge` with a wrong knowledge key: what a wrong PIN produces.
    pub fn sign_wrong_pin(&mut self, uri_id: &str, body: &[u8]) -> String {
        let wrong = SymmetricKey::from_bytes([0x55; 16]);
        let keys = FactorKeys {
            possession: Some(&self.keys.possession),
            knowledge: Some(&wrong),
            biometry: None,
        };
        sign(
            &self.app,
            &self.activation_id,
            self.protocol,
            &keys,
            &mut self.ctr_data,
            &RequestToSign {
                method: "POST",
                uri_id,
                body,
            },
            SignatureType::PossessionKnowledge,
        )
    }

    /// POSTs `body` to `path` with a signature over it (`uri_id`).
    pub async fn post_signed(
        &mut self,
        server: &TestServer,
        path: &str,
        uri_id: &str,
        body: &str,
        signature_type: SignatureType,
    ) -> (StatusCode, Value) {
        let header = self.sign("POST", uri_id, body.as_bytes(), signature_type);
        post_with_authorization(server, path, &header, body).await
    }
}

/// POSTs `body` with an `X-PowerAuth-Authorization` header.
pub async fn post_with_authorization(
    server: &TestServer,
    path: &str,
    header: &str,
    body: &str,
) -> (StatusCode, Value) {
    let response = server
        .client
        .post(server.url(path))
        .header("X-PowerAuth-Authorization", header)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    crate::common::read(response).await
}

fn sign(
    app: &AppConfig,
    activation_id: &str,
    version: ProtocolVersion,
    keys: &FactorKeys<'_>,
    ctr_data: &mut CtrData,
    request: &RequestToSign<'_>,
    signature_type: SignatureType,
) -> String {
    Authorization {
        activation_id,
        application_key: &app.application_key,
        application_secret: &app.application_secret,
        version,
        signature_type,
    }
    .sign(keys, ctr_data, request, &SystemRandom::new())
    .unwrap()
    .to_header_value()
}

impl Device {
    /// The activation scope with this device's `KEY_TRANSPORT`.
    pub fn activation_scope(&self) -> Scope<'_> {
        Scope::Activation {
            activation_id: &self.activation_id,
            transport_key: &self.keys.transport,
        }
    }

    /// `/pa/v3/keystore/create` in activation scope (3.3).
    pub async fn activation_temporary_key(&self, server: &TestServer) -> TemporaryPublicKey {
        let request = TemporaryKeyRequest::new(
            &self.app.application_key,
            &self.app.application_secret,
            self.activation_scope(),
            &SystemRandom::new(),
        )
        .unwrap();
        let (status, body) = server
            .post(
                "/pa/v3/keystore/create",
                &json!({"requestObject": {"jwt": request.jwt()}}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        request
            .verify_response(
                body["responseObject"]["jwt"].as_str().unwrap(),
                &self.server_public_key,
            )
            .expect("signed by KEY_SERVER_PRIVATE")
    }

    /// A signed, activation-scope encrypted POST whose signature covers the encrypted
    /// body (token create, vault unlock, recovery confirm: `@PowerAuth` alone): encrypt
    /// `plaintext`, sign the encrypted body, decrypt the answer.
    pub async fn signed_encrypted(
        &mut self,
        server: &TestServer,
        path: &str,
        uri_id: &str,
        shared_info1: SharedInfo1,
        plaintext: &[u8],
        signature_type: SignatureType,
    ) -> Result<Value, (StatusCode, Value)> {
        let request = (path, uri_id, shared_info1, plaintext, signature_type);
        self.signed_and_encrypted(server, request, Covers::EncryptedBody)
            .await
    }

    /// Sign-then-encrypt, as Wultra's mobile SDK and cmd-tool do it for an endpoint with
    /// `@PowerAuth` and `@PowerAuthEncryption` (`/exchange/v3/signed*`, activation
    /// rename): sign `plaintext`, encrypt it, decrypt the answer.
    pub async fn sign_then_encrypt(
        &mut self,
        server: &TestServer,
        path: &str,
        uri_id: &str,
        shared_info1: SharedInfo1,
        plaintext: &[u8],
        signature_type: SignatureType,
    ) -> Result<Value, (StatusCode, Value)> {
        let request = (path, uri_id, shared_info1, plaintext, signature_type);
        self.signed_and_encrypted(server, request, Covers::Plaintext)
            .await
    }

    /// Encrypts and signs `(path, uri_id, sharedInfo1, plaintext, signature type)`, the
    /// signature covering what `covers` says.
    pub async fn signed_and_encrypted(
        &mut self,
        server: &TestServer,
        (path, uri_id, shared_info1, plaintext, signature_type): (
            &str,
            &str,
            SharedInfo1,
            &[u8],
            SignatureType,
        ),
        covers: Covers,
    ) -> Result<Value, (StatusCode, Value)> {
        let rng = SystemRandom::new();
        let temporary = if self.protocol.uses_temporary_keys() {
            Some(self.activation_temporary_key(server).await)
        } else {
            None
        };
        let recipient = match &temporary {
            Some(key) => key.recipient(),
            None => Recipient::Static(&self.server_public_key),
        };
        let encryptor = Encryptor::new(
            self.protocol,
            shared_info1,
            &self.app.application_key,
            &self.app.application_secret,
            self.activation_scope(),
        )
        .unwrap();
        let now = u64::try_from(server.clock_ms()).unwrap();
        let (request, decryptor) = encryptor
            .encrypt_request(recipient, plaintext, &rng, now)
            .unwrap();
        let body = request.to_json();
        let signed = match covers {
            Covers::EncryptedBody => body.as_bytes(),
            Covers::Plaintext => plaintext,
        };
        let header = self.sign("POST", uri_id, signed, signature_type);
        let (status, response) = post_with_authorization(server, path, &header, &body).await;
        if status != StatusCode::OK {
            return Err((status, response));
        }
        let response = EncryptedResponse::from_json(response.to_string().as_bytes()).unwrap();
        Ok(serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap())
    }

    /// `/pa/v3/token/create`: encrypt `{}`, sign the encrypted body, decrypt the answer.
    pub async fn create_token(
        &mut self,
        server: &TestServer,
        signature_type: SignatureType,
    ) -> Result<(String, SymmetricKey), (StatusCode, Value)> {
        let plain = self
            .signed_encrypted(
                server,
                "/pa/v3/token/create",
                "/pa/token/create",
                SharedInfo1::CreateToken,
                b"{}",
                signature_type,
            )
            .await?;
        let secret = b64_decode(plain["tokenSecret"].as_str().unwrap()).unwrap();
        Ok((
            plain["tokenId"].as_str().unwrap().to_owned(),
            SymmetricKey::from_slice(&secret).unwrap(),
        ))
    }
}

impl Device {
    /// An activation-scope encrypted POST without a signature (`X-PowerAuth-Encryption`
    /// names the activation), e.g. `/pa/v3/user/info`.
    pub async fn encrypted(
        &self,
        server: &TestServer,
        path: &str,
        plaintext: &[u8],
    ) -> Result<Value, (StatusCode, Value)> {
        self.encrypted_with_header(server, path, plaintext, None)
            .await
    }

    /// [`Self::encrypted`] with one more header (a token, for activation detail).
    pub async fn encrypted_with_header(
        &self,
        server: &TestServer,
        path: &str,
        plaintext: &[u8],
        extra: Option<(&str, String)>,
    ) -> Result<Value, (StatusCode, Value)> {
        let rng = SystemRandom::new();
        let temporary = if self.protocol.uses_temporary_keys() {
            Some(self.activation_temporary_key(server).await)
        } else {
            None
        };
        let recipient = match &temporary {
            Some(key) => key.recipient(),
            None => Recipient::Static(&self.server_public_key),
        };
        let encryptor = Encryptor::new(
            self.protocol,
            SharedInfo1::ActivationScopeGeneric,
            &self.app.application_key,
            &self.app.application_secret,
            self.activation_scope(),
        )
        .unwrap();
        let now = u64::try_from(server.clock_ms()).unwrap();
        let (request, decryptor) = encryptor
            .encrypt_request(recipient, plaintext, &rng, now)
            .unwrap();
        let header = EncryptionHeader::activation(
            &self.app.application_key,
            &self.activation_id,
            self.protocol,
        );
        let mut builder = server
            .client
            .post(server.url(path))
            .header(ENCRYPTION_HEADER_NAME, header.to_string())
            .header("content-type", "application/json")
            .body(request.to_json());
        if let Some((name, value)) = extra {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.unwrap();
        let (status, body) = crate::common::read(response).await;
        if status != StatusCode::OK {
            return Err((status, body));
        }
        let response = EncryptedResponse::from_json(body.to_string().as_bytes()).unwrap();
        Ok(serde_json::from_slice(&decryptor.decrypt_response(&response).unwrap()).unwrap())
    }
}

/// What the signature of a signed, encrypted request covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// The encrypted body as sent.
    EncryptedBody,
    /// The plaintext before encryption (sign-then-encrypt).
    Plaintext,
}
