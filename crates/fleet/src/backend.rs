//! The bank's side of a fleet: creating registrations (activation codes) and payment
//! operations on the server, and reading back what the server recorded.
//!
//! Two dialects: the Cloud API (`/powerauth-cloud/v2`, HTTP Basic) when credentials are
//! given, or the PowerAuth server's own `/rest/v3` (unauthenticated, as inside a bank's
//! network; what the embedded sandbox is driven with, since the Cloud API's password
//! hashing would cost more than the activation itself). Both create activations that
//! commit on key exchange, so a device is `ACTIVE` right after its activation call.

use crate::args::Credentials;
use crate::{Error, Result};
use serde_json::{Value, json};

/// The IBAN of every payment a fleet creates.
pub const PAYMENT_IBAN: &str = "CZ6508000000192000145399";

/// How the fleet talks to the server's backend API.
#[derive(Debug, Clone)]
pub struct Backend {
    http: reqwest::Client,
    url: String,
    app_id: String,
    cloud: Option<Credentials>,
}

/// A registration: what the device scans.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The activation id.
    pub activation_id: String,
    /// `CODE#SIGNATURE`.
    pub qr: String,
}

impl Backend {
    /// A backend at `url` (no trailing slash) for `app_id`, through the Cloud API when
    /// `cloud` credentials are given.
    pub fn new(http: reqwest::Client, url: &str, app_id: &str, cloud: Option<Credentials>) -> Self {
        Self {
            http,
            url: url.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            cloud,
        }
    }

    /// `cloud` or `rest`.
    pub fn dialect(&self) -> &'static str {
        if self.cloud.is_some() {
            "Cloud API"
        } else {
            "/rest/v3"
        }
    }

    /// The `mobileSdkConfig` of the application's first supported version, from
    /// `/rest/v3/application/detail`.
    pub async fn mobile_sdk_config(&self) -> Result<String> {
        let detail = self
            .rest(
                "/rest/v3/application/detail",
                json!({"applicationId": self.app_id}),
            )
            .await?;
        detail["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["supported"].as_bool().unwrap_or(true))
            .and_then(|v| v["mobileSdkConfig"].as_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Config(format!(
                    "the application {:?} has no supported version with a mobileSdkConfig; pass --config",
                    self.app_id
                ))
            })
    }

    /// Checks the server answers and accepts the credentials, before any device starts.
    pub async fn preflight(&self, user_id: &str) -> Result<()> {
        if self.cloud.is_some() {
            self.operation_statuses(user_id).await.map(|_| ())
        } else {
            self.rest("/rest/v3/application/list", json!({}))
                .await
                .map(|_| ())
        }
    }

    /// A new activation for `user_id`, committed on key exchange.
    pub async fn register(&self, user_id: &str) -> Result<Registration> {
        if self.cloud.is_some() {
            let created = self
                .cloud_call(
                    reqwest::Method::POST,
                    "/powerauth-cloud/v2/registrations",
                    &[],
                    Some(json!({"userId": user_id, "appId": self.app_id, "commitPhase": "ON_KEY_EXCHANGE"})),
                )
                .await?;
            Ok(Registration {
                activation_id: text(&created, "registrationId", "registration")?,
                qr: text(&created, "activationQrCodeData", "registration")?,
            })
        } else {
            let init = self
                .rest(
                    "/rest/v3/activation/init",
                    json!({
                        "userId": user_id,
                        "applicationId": self.app_id,
                        "commitPhase": "ON_KEY_EXCHANGE",
                    }),
                )
                .await?;
            Ok(Registration {
                activation_id: text(&init, "activationId", "activation/init")?,
                qr: format!(
                    "{}#{}",
                    text(&init, "activationCode", "activation/init")?,
                    text(&init, "activationSignature", "activation/init")?
                ),
            })
        }
    }

    /// A payment operation for `user_id`; returns its id.
    pub async fn create_payment(&self, user_id: &str, amount: &str) -> Result<String> {
        let parameters = json!({"amount": amount, "currency": "CZK", "iban": PAYMENT_IBAN});
        if self.cloud.is_some() {
            let created = self
                .cloud_call(
                    reqwest::Method::POST,
                    "/powerauth-cloud/v2/operations",
                    &[],
                    Some(json!({
                        "userId": user_id,
                        "template": "payment",
                        "parameters": parameters,
                    })),
                )
                .await?;
            text(&created, "operationId", "operation")
        } else {
            let created = self
                .rest(
                    "/rest/v3/operation/create",
                    json!({
                        "userId": user_id,
                        "applications": [self.app_id],
                        "templateName": "payment",
                        "parameters": parameters,
                    }),
                )
                .await?;
            text(&created, "id", "operation/create")
        }
    }

    /// The status the server records for every operation of `user_id`, by id.
    pub async fn operation_statuses(&self, user_id: &str) -> Result<Vec<(String, String)>> {
        let (list, id_field) = if self.cloud.is_some() {
            let list = self
                .cloud_call(
                    reqwest::Method::GET,
                    "/powerauth-cloud/v2/operations",
                    &[("userId", user_id)],
                    None,
                )
                .await?;
            let list = list.get("operations").cloned().unwrap_or(list);
            (list, "operationId")
        } else {
            let list = self
                .rest(
                    "/rest/v3/operation/list",
                    json!({"userId": user_id, "applications": [self.app_id]}),
                )
                .await?;
            (list, "id")
        };
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| {
                Some((
                    o[id_field].as_str()?.to_owned(),
                    o["status"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    async fn rest(&self, path: &str, request: Value) -> Result<Value> {
        let what = format!("POST {path}");
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&json!({ "requestObject": request }))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| self.unreachable(e))?;
        let body: Value = serde_json::from_slice(&body).map_err(|_| Error::Backend {
            what: what.clone(),
            status,
            detail: format!(
                "not JSON ({}): is this a PowerAuth server?",
                String::from_utf8_lossy(&body[..body.len().min(120)])
            ),
        })?;
        if status != 200 || body["status"] != "OK" {
            return Err(Error::Backend {
                what,
                status,
                detail: error_detail(&body),
            });
        }
        Ok(body["responseObject"].clone())
    }

    async fn cloud_call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value> {
        let credentials = self.cloud.as_ref().ok_or_else(|| {
            Error::Options("the Cloud API needs --admin user:password".to_owned())
        })?;
        let what = format!("{method} {path}");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .query(query)
            .basic_auth(&credentials.user, Some(credentials.password()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| self.unreachable(e))?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| self.unreachable(e))?;
        let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !(200..300).contains(&status) {
            let mut detail = error_detail(&value);
            if status == 401 {
                detail.push_str(": check the --admin credentials");
            }
            return Err(Error::Backend {
                what,
                status,
                detail,
            });
        }
        Ok(value)
    }

    fn unreachable(&self, error: reqwest::Error) -> Error {
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        Error::Unreachable {
            url: self.url.clone(),
            detail,
        }
    }
}

fn text(value: &Value, field: &str, what: &str) -> Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Backend {
            what: what.to_owned(),
            status: 200,
            detail: format!("the answer has no {field}"),
        })
}

fn error_detail(body: &Value) -> String {
    let object = &body["responseObject"];
    match (object["code"].as_str(), object["message"].as_str()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => {
            let text = body.to_string();
            text.chars().take(200).collect()
        }
    }
}
