//! PowerAuth Server's own API (`/rest/v3`): `{"requestObject": …}` in,
//! `{"status": "OK", "responseObject": …}` out, no authentication (inside the bank), or
//! HTTP Basic when the server secures its REST API ([`Rest::with_basic`]; a sandbox
//! started with `--allow-remote` asks for a Cloud API user's).

use crate::http::{parse, send_value};
use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// PowerAuth Server's `/rest/v3` at one URL.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    url: String,
    basic: Option<(String, String)>,
}

impl std::fmt::Debug for Rest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rest")
            .field("url", &self.url)
            .field("user", &self.basic.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

/// `application/detail`: the application and its versions.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationDetail {
    /// The application id.
    pub application_id: String,
    /// Base64 of the master public key.
    pub master_public_key: String,
    /// Its versions.
    pub versions: Vec<ApplicationVersion>,
}

/// One application version.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationVersion {
    /// The version id (`default`).
    pub application_version_id: String,
    /// `APP_KEY`.
    pub application_key: String,
    /// `APP_SECRET`.
    pub application_secret: String,
    /// The SDK's configuration string.
    pub mobile_sdk_config: String,
    /// Whether devices may use it.
    pub supported: bool,
}

impl ApplicationDetail {
    /// The `mobileSdkConfig` of the first supported version.
    pub fn mobile_sdk_config(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.supported)
            .map(|v| v.mobile_sdk_config.as_str())
    }
}

/// What `activation/init` asks for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitActivation {
    /// The user.
    pub user_id: String,
    /// The application.
    pub application_id: String,
    /// `ON_COMMIT` (default) or `ON_KEY_EXCHANGE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_phase: Option<String>,
    /// An activation OTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation_otp: Option<String>,
}

/// `activation/init`'s answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitedActivation {
    /// The activation id.
    pub activation_id: String,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub activation_code: String,
    /// Base64 ECDSA signature of the code.
    pub activation_signature: String,
}

impl InitedActivation {
    /// `CODE#SIGNATURE`, the QR code's text.
    pub fn qr(&self) -> String {
        format!("{}#{}", self.activation_code, self.activation_signature)
    }
}

/// What `operation/create` asks for.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRestOperation {
    /// The user; `None` for one a device claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The applications.
    pub applications: Vec<String>,
    /// The template name.
    pub template_name: String,
    /// Template parameters.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub parameters: Map<String, Value>,
}

/// An operation as `/rest/v3` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestOperation {
    /// The id.
    pub id: String,
    /// The user.
    pub user_id: Option<String>,
    /// `PENDING`, `APPROVED`, …
    pub status: String,
    /// Why it ended.
    pub status_reason: Option<String>,
    /// The template's operation type.
    pub operation_type: String,
    /// The signed data.
    pub data: String,
}

impl Rest {
    /// `/rest/v3` of the server at `url`.
    pub fn new(http: reqwest::Client, url: &str) -> Self {
        Self {
            http,
            url: url.trim_end_matches('/').to_owned(),
            basic: None,
        }
    }

    /// The same API behind HTTP Basic: every call sends `user` and `password`.
    #[must_use]
    pub fn with_basic(mut self, user: &str, password: &str) -> Self {
        self.basic = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// The server URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Any call: `path` (`/rest/v3/…`) with `request` as the `requestObject`; the
    /// `responseObject` as `T`.
    pub async fn call<T: DeserializeOwned>(&self, path: &str, request: Value) -> Result<T> {
        let what = format!("POST {path}");
        let mut post = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&json!({ "requestObject": request }));
        if let Some((user, password)) = &self.basic {
            post = post.basic_auth(user, Some(password));
        }
        let body = send_value(post, &what, &self.url).await?;
        if body["status"] != "OK" {
            return Err(Error::Malformed {
                what,
                detail: format!("status {}, not \"OK\"", body["status"]),
            });
        }
        let Some(object) = body.get("responseObject").cloned() else {
            return Err(Error::Malformed {
                what,
                detail: "no responseObject".to_owned(),
            });
        };
        parse(object, &what)
    }

    /// `application/detail`.
    pub async fn application_detail(&self, application_id: &str) -> Result<ApplicationDetail> {
        self.call(
            "/rest/v3/application/detail",
            json!({"applicationId": application_id}),
        )
        .await
    }

    /// `application/list`: the ids of every application.
    pub async fn application_ids(&self) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Summary {
            application_id: String,
        }
        #[derive(Deserialize)]
        struct List {
            applications: Vec<Summary>,
        }
        let list: List = self.call("/rest/v3/application/list", json!({})).await?;
        Ok(list
            .applications
            .into_iter()
            .map(|a| a.application_id)
            .collect())
    }

    /// `activation/init`.
    pub async fn init_activation(&self, request: &InitActivation) -> Result<InitedActivation> {
        self.call("/rest/v3/activation/init", to_value(request)?)
            .await
    }

    /// `activation/commit`.
    pub async fn commit_activation(&self, activation_id: &str) -> Result<()> {
        #[derive(Deserialize)]
        struct Committed {
            activated: bool,
        }
        let committed: Committed = self
            .call(
                "/rest/v3/activation/commit",
                json!({"activationId": activation_id}),
            )
            .await?;
        if !committed.activated {
            return Err(Error::Malformed {
                what: "POST /rest/v3/activation/commit".to_owned(),
                detail: "activated is false".to_owned(),
            });
        }
        Ok(())
    }

    /// `operation/create`.
    pub async fn create_operation(&self, request: &NewRestOperation) -> Result<RestOperation> {
        self.call("/rest/v3/operation/create", to_value(request)?)
            .await
    }

    /// `operation/detail`.
    pub async fn operation(&self, operation_id: &str) -> Result<RestOperation> {
        self.call(
            "/rest/v3/operation/detail",
            json!({"operationId": operation_id}),
        )
        .await
    }

    /// `operation/list`: the user's operations in `applications`.
    pub async fn operations_of(
        &self,
        user_id: &str,
        applications: &[&str],
    ) -> Result<Vec<RestOperation>> {
        self.call(
            "/rest/v3/operation/list",
            json!({"userId": user_id, "applications": applications}),
        )
        .await
    }
}

fn to_value(request: &impl Serialize) -> Result<Value> {
    serde_json::to_value(request).map_err(|e| Error::Malformed {
        what: "request".to_owned(),
        detail: e.to_string(),
    })
}
