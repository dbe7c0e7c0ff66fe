//! The PowerAuth Cloud API (`/powerauth-cloud`), HTTP Basic, in Wultra's shapes: system
//! users and applications (`/admin`), registrations, operations, signature and token
//! checks, push and inbox (`/v2`).

use crate::Result;
use crate::http::{send, send_value};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A Cloud API login at one server.
#[derive(Clone)]
pub struct Cloud {
    http: reqwest::Client,
    url: String,
    user: String,
    password: String,
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cloud")
            .field("url", &self.url)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A system user; `password` only in the answer that created it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemUser {
    /// The login name.
    pub username: String,
    /// The generated password, shown once.
    pub password: Option<String>,
    /// Whether it may log in.
    pub enabled: bool,
    /// `ROLE_USER`, `ROLE_ADMIN`.
    pub role: Vec<String>,
    /// The applications it may use.
    pub applications: Vec<String>,
}

/// An application: what a mobile app is built with.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// The application id.
    pub id: String,
    /// Where the mobile app reaches the Standard RESTful API.
    pub service_base_url: String,
    /// Base64 of the master public key (65-byte point).
    pub master_server_public_key: String,
    /// `APP_KEY`.
    pub app_key: String,
    /// `APP_SECRET`.
    pub app_secret: String,
    /// The three above in the SDK's one string.
    pub mobile_sdk_config: String,
    /// Application roles.
    pub roles: Vec<String>,
}

/// What a new registration asks for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRegistration {
    /// The end user.
    pub user_id: String,
    /// The application.
    pub app_id: String,
    /// `ON_COMMIT` (default) or `ON_KEY_EXCHANGE` (active right after the key exchange).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_phase: Option<String>,
    /// An activation OTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Activation flags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// A created registration: what the device scans.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRegistration {
    /// The activation id.
    pub registration_id: String,
    /// `activationCode#activationCodeSignature`, the QR code's text.
    pub activation_qr_code_data: String,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub activation_code: String,
    /// Base64 ECDSA signature of the code.
    pub activation_code_signature: String,
}

/// A registration as the back end sees it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// The activation id.
    pub registration_id: String,
    /// `CREATED`, `PENDING_COMMIT`, `ACTIVE`, `BLOCKED`, `REMOVED`.
    pub registration_status: String,
    /// The application.
    pub application_id: String,
    /// The end user.
    pub user_id: String,
    /// Why it is blocked.
    pub blocked_reason: Option<String>,
    /// The name the device gave itself.
    pub name: Option<String>,
    /// `ios`, `android`, …
    pub platform: Option<String>,
    /// Activation flags.
    pub flags: Vec<String>,
    /// Epoch ms.
    pub timestamp_created: i64,
    /// Epoch ms.
    pub timestamp_last_used: i64,
    /// While PENDING_COMMIT: the fingerprint to compare with the phone's.
    pub activation_fingerprint: Option<String>,
}

#[derive(Deserialize)]
struct RegistrationList {
    registrations: Vec<Registration>,
}

/// A state change of a registration (`PUT /v2/registrations/{id}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationChange {
    /// ACTIVE → BLOCKED.
    Block,
    /// BLOCKED → ACTIVE.
    Unblock,
    /// Any → REMOVED.
    Remove,
}

impl RegistrationChange {
    fn as_str(self) -> &'static str {
        match self {
            RegistrationChange::Block => "BLOCK",
            RegistrationChange::Unblock => "UNBLOCK",
            RegistrationChange::Remove => "REMOVE",
        }
    }
}

/// What a new operation asks for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOperation {
    /// The user; `None` for a non-personalized operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The template, e.g. `login` or `payment`.
    pub template: String,
    /// Template parameters.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
    /// The language of the first push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Require a proximity TOTP.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub proximity_check_enabled: bool,
    /// No push.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub silent: bool,
}

/// An operation as the back end sees it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The id.
    pub operation_id: String,
    /// The user, when personalized.
    pub user_id: Option<String>,
    /// `PENDING`, `APPROVED`, `REJECTED`, `CANCELED`, `EXPIRED`, `FAILED`.
    pub status: String,
    /// Why it ended that way, when known.
    pub status_reason: Option<String>,
    /// The template's operation type.
    pub operation_type: String,
    /// The template.
    pub template: String,
    /// Template parameters.
    pub parameters: Map<String, Value>,
    /// Failed approvals.
    pub failure_count: i64,
    /// Failed approvals allowed.
    pub max_failure_count: i64,
    /// Epoch ms.
    pub timestamp_created: i64,
    /// Epoch ms.
    pub timestamp_expires: i64,
    /// The proximity TOTP to show, when the operation has a proximity check.
    pub proximity_otp: Option<String>,
}

#[derive(Deserialize)]
struct OperationList {
    operations: Vec<Operation>,
}

/// An inbox message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxMessage {
    /// The id.
    pub id: String,
    /// The recipient.
    pub user_id: String,
    /// `text` or `html`.
    pub r#type: String,
    /// Subject.
    pub subject: String,
    /// Summary.
    pub summary: String,
    /// Body.
    pub body: String,
    /// Read yet.
    pub read: bool,
    /// Epoch ms.
    pub timestamp: i64,
}

/// The verdict on an online signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignatureVerdict {
    /// Whether it matched (once: a replay does not).
    pub signature_valid: bool,
    /// The registration the header named.
    pub registration_id: String,
    /// Its state (`REMOVED` when unknown).
    pub registration_status: String,
    /// Its user, when it could be used.
    pub user_id: Option<String>,
    /// The factors used, when it could be used.
    pub signature_type: Option<String>,
    /// Attempts left, when it could be used.
    pub remaining_attempts: Option<i64>,
}

/// The verdict on a token header.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenVerdict {
    /// Whether the token is valid.
    pub token_valid: bool,
    /// The user, when valid.
    pub user_id: Option<String>,
    /// The registration, when valid.
    pub registration_id: Option<String>,
    /// The factors the token was made with, when valid.
    pub signature_type: Option<String>,
}

/// A new system user with its generated password.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The user.
    pub user: SystemUser,
    /// The password, shown once.
    pub password: String,
}

#[derive(Deserialize)]
struct Status {
    status: String,
}

impl Cloud {
    /// The Cloud API of the server at `server_url` (without `/powerauth-cloud`), as `user`.
    pub fn new(http: reqwest::Client, server_url: &str, user: &str, password: &str) -> Self {
        Self {
            http,
            url: server_url.trim_end_matches('/').to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<T> {
        let what = format!("{method} /powerauth-cloud{path}");
        let mut request = self
            .http
            .request(method, format!("{}/powerauth-cloud{path}", self.url))
            .query(query)
            .basic_auth(&self.user, Some(&self.password));
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request, &what, &self.url).await
    }

    /// An action answered with `{"status":"OK"}`.
    async fn act(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<()> {
        let what = format!("{method} /powerauth-cloud{path}");
        let status: Status = self.call(method, path, query, body).await?;
        if status.status != "OK" {
            return Err(crate::Error::Malformed {
                what,
                detail: format!("status {:?}, not \"OK\"", status.status),
            });
        }
        Ok(())
    }

    /// `POST /admin/users`: a new integration user and its generated password.
    pub async fn create_user(&self, username: &str) -> Result<NewUser> {
        let user: SystemUser = self
            .call(
                Method::POST,
                "/admin/users",
                &[],
                Some(json!({"username": username})),
            )
            .await?;
        let password = user
            .password
            .clone()
            .ok_or_else(|| crate::Error::Malformed {
                what: "POST /powerauth-cloud/admin/users".to_owned(),
                detail: "no password in the answer".to_owned(),
            })?;
        Ok(NewUser { user, password })
    }

    /// `POST /admin/users/{username}/applications/{appId}`.
    pub async fn assign_application(&self, username: &str, app_id: &str) -> Result<SystemUser> {
        self.call(
            Method::POST,
            &format!("/admin/users/{username}/applications/{app_id}"),
            &[],
            None,
        )
        .await
    }

    /// `POST /admin/applications`.
    pub async fn create_application(&self, id: &str) -> Result<Application> {
        self.call(
            Method::POST,
            "/admin/applications",
            &[],
            Some(json!({"id": id})),
        )
        .await
    }

    /// `GET /admin/applications/{id}`.
    pub async fn application(&self, id: &str) -> Result<Application> {
        self.call(Method::GET, &format!("/admin/applications/{id}"), &[], None)
            .await
    }

    /// `POST /v2/registrations`.
    pub async fn create_registration(
        &self,
        request: &NewRegistration,
    ) -> Result<CreatedRegistration> {
        let body = serde_json::to_value(request).map_err(|e| crate::Error::Malformed {
            what: "POST /powerauth-cloud/v2/registrations".to_owned(),
            detail: e.to_string(),
        })?;
        self.call(Method::POST, "/v2/registrations", &[], Some(body))
            .await
    }

    /// `GET /v2/registrations?userId=`: the user's registrations but REMOVED ones.
    pub async fn registrations(&self, user_id: &str) -> Result<Vec<Registration>> {
        let list: RegistrationList = self
            .call(
                Method::GET,
                "/v2/registrations",
                &[("userId", user_id)],
                None,
            )
            .await?;
        Ok(list.registrations)
    }

    /// `GET /v2/registrations/{id}`.
    pub async fn registration(&self, id: &str) -> Result<Registration> {
        self.call(Method::GET, &format!("/v2/registrations/{id}"), &[], None)
            .await
    }

    /// `POST /v2/registrations/{id}/commit`.
    pub async fn commit_registration(&self, id: &str) -> Result<()> {
        self.act(
            Method::POST,
            &format!("/v2/registrations/{id}/commit"),
            &[],
            Some(json!({})),
        )
        .await
    }

    /// `DELETE /v2/registrations/{id}`.
    pub async fn remove_registration(&self, id: &str) -> Result<()> {
        self.act(
            Method::DELETE,
            &format!("/v2/registrations/{id}"),
            &[],
            None,
        )
        .await
    }

    /// `PUT /v2/registrations/{id}` with `change` (and `blockReason` for a block).
    pub async fn change_registration(
        &self,
        id: &str,
        change: RegistrationChange,
        block_reason: Option<&str>,
    ) -> Result<()> {
        let mut body = json!({"change": change.as_str()});
        if let Some(reason) = block_reason {
            body["blockReason"] = json!(reason);
        }
        self.act(
            Method::PUT,
            &format!("/v2/registrations/{id}"),
            &[],
            Some(body),
        )
        .await
    }

    /// `POST /v2/operations`.
    pub async fn create_operation(&self, request: &NewOperation) -> Result<Operation> {
        let body = serde_json::to_value(request).map_err(|e| crate::Error::Malformed {
            what: "POST /powerauth-cloud/v2/operations".to_owned(),
            detail: e.to_string(),
        })?;
        self.call(Method::POST, "/v2/operations", &[], Some(body))
            .await
    }

    /// `GET /v2/operations/{id}`.
    pub async fn operation(&self, id: &str) -> Result<Operation> {
        self.call(Method::GET, &format!("/v2/operations/{id}"), &[], None)
            .await
    }

    /// `DELETE /v2/operations/{id}[?statusReason=]`.
    pub async fn cancel_operation(&self, id: &str, status_reason: Option<&str>) -> Result<()> {
        let query: Vec<(&str, &str)> = status_reason
            .map(|r| ("statusReason", r))
            .into_iter()
            .collect();
        self.act(
            Method::DELETE,
            &format!("/v2/operations/{id}"),
            &query,
            None,
        )
        .await
    }

    /// `GET /v2/operations?userId=`: every operation of the user (the sandbox's extension;
    /// Wultra's Cloud has no operation list).
    pub async fn operations_of(&self, user_id: &str) -> Result<Vec<Operation>> {
        let list: OperationList = self
            .call(Method::GET, "/v2/operations", &[("userId", user_id)], None)
            .await?;
        Ok(list.operations)
    }

    /// `POST /v2/signature/verify` of a signed POST body.
    pub async fn verify_signature(
        &self,
        method: &str,
        uri_id: &str,
        auth_header: &str,
        request_body_b64: &str,
    ) -> Result<SignatureVerdict> {
        let body = json!({
            "method": method, "uriId": uri_id, "authHeader": auth_header, "requestBody": request_body_b64,
        });
        self.call(Method::POST, "/v2/signature/verify", &[], Some(body))
            .await
    }

    /// `POST /v2/token/verify`.
    pub async fn verify_token(&self, auth_header: &str) -> Result<TokenVerdict> {
        self.call(
            Method::POST,
            "/v2/token/verify",
            &[],
            Some(json!({"authHeader": auth_header})),
        )
        .await
    }

    /// `POST /v2/messages/send`: a push to the user's devices (only `registration_id`'s
    /// when given).
    pub async fn send_push(
        &self,
        user_id: &str,
        registration_id: Option<&str>,
        title: &str,
        message: &str,
    ) -> Result<()> {
        let mut body = json!({"userId": user_id, "title": title, "message": message});
        if let Some(id) = registration_id {
            body["registrationId"] = json!(id);
        }
        self.act(Method::POST, "/v2/messages/send", &[], Some(body))
            .await
    }

    /// `POST /v2/inbox/messages`.
    pub async fn post_inbox_message(
        &self,
        user_id: &str,
        r#type: &str,
        subject: &str,
        summary: &str,
        body: &str,
    ) -> Result<InboxMessage> {
        let request = json!({
            "userId": user_id, "type": r#type, "subject": subject, "summary": summary, "body": body,
        });
        self.call(Method::POST, "/v2/inbox/messages", &[], Some(request))
            .await
    }

    /// Any call, its JSON answer as is (for what the typed calls do not cover).
    pub async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let what = format!("{method} /powerauth-cloud{path}");
        let mut request = self
            .http
            .request(method, format!("{}/powerauth-cloud{path}", self.url))
            .basic_auth(&self.user, Some(&self.password));
        if let Some(body) = body {
            request = request.json(&body);
        }
        send_value(request, &what, &self.url).await
    }
}
