//! Application callbacks, as PowerAuth Server has them: an application's callback URLs
//! (`/rest/v3/application/callback/*`) are POSTed a JSON payload whenever one of its
//! activations or operations changes state, so a backend learns at once what it would
//! otherwise poll for.
//!
//! What is sent (PowerAuth Server's `CallbackUrlBehavior`):
//! - `ACTIVATION_STATUS_CHANGE` URLs get `{"type":"ACTIVATION","activationId":…}` plus the
//!   URL's `attributes` among `userId`, `activationName`, `deviceInfo`, `platform`,
//!   `protocol`, `activationFlags`, `activationStatus`, `blockedReason`, `applicationId`,
//!   each time an activation's state changes (`CREATED`, `PENDING_COMMIT`, `ACTIVE`,
//!   `BLOCKED`, `REMOVED`, expiry included).
//! - `OPERATION_STATUS_CHANGE` URLs get `{"type":"OPERATION","operationId":…}` plus the
//!   attributes among `userId`, `applications`, `operationType`, `parameters`,
//!   `additionalData`, `activationFlag`, `status`, `data`, `failureCount`,
//!   `maxFailureCount`, `signatureType`, `externalId`, `timestampCreated`,
//!   `timestampExpires`, `timestampFinalized` (epoch milliseconds, as Jackson writes a
//!   `java.util.Date`), when an operation is created, fails an approval attempt, or ends
//!   (`APPROVED`, `REJECTED`, `CANCELED`, `EXPIRED`, `FAILED`).
//!
//! How ([`Callbacks`]): the request that changed the state only puts a snapshot of the
//! change on a bounded queue and goes on; a background task turns it into one event per
//! matching URL (stored), and delivers each with at most `max_in_flight` deliveries at
//! once, a connect and a response timeout per attempt, and retries with PowerAuth
//! Server's exponential backoff (`initialBackoff` × 1.5ⁿ, at most 32 s) up to the URL's
//! `maxAttempts` (default 1, as in PowerAuth Server); after `failure_threshold` failed
//! attempts in a row a URL's new events are logged `FAILED` unsent until
//! `failure_reset_timeout` has passed. Any answer below 400 counts as
//! delivered (WebClient's rule; redirects are not followed). Every attempt is logged in
//! the database (time, URL, HTTP status or error, attempt number): the console's delivery
//! log. Finished events are deleted after the URL's `retentionPeriod` (default 30 days).
//! Events a stop interrupted are delivered again at the next start, with the same
//! `Idempotency-Key` (PowerAuth Server's scheduler reruns them the same way).
//!
//! What it refuses: the queue never grows past `queue_capacity`; changes beyond it are
//! dropped and counted ([`Callbacks::dropped`]), never delaying a request. Client
//! certificates from Java key stores (`authentication.certificate`) cannot be used here:
//! such a URL's attempts fail with an error saying so. URLs in logs have their user
//! info and query values masked; `tracing` logs show only the origin.

pub(crate) mod auth;
mod delivery;
pub(crate) mod duration;

pub(crate) use delivery::Callbacks;
pub(crate) use delivery::{backoff, describe};

use crate::store::{Activation, Operation};
use powerauth::status::ActivationState;
use serde_json::{Map, Value, json};

/// `CallbackUrlType.ACTIVATION_STATUS_CHANGE`.
pub(crate) const ACTIVATION_STATUS_CHANGE: &str = "ACTIVATION_STATUS_CHANGE";
/// `CallbackUrlType.OPERATION_STATUS_CHANGE`.
pub(crate) const OPERATION_STATUS_CHANGE: &str = "OPERATION_STATUS_CHANGE";

/// A state change to report, copied when it happened (never any key material).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// An activation's state changed.
    Activation(ActivationChange),
    /// An operation was created or its state or failure count changed.
    Operation(OperationChange),
}

/// What an activation callback may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationChange {
    pub(crate) activation_id: String,
    pub(crate) application_id: String,
    pub(crate) user_id: String,
    pub(crate) activation_name: Option<String>,
    pub(crate) device_info: Option<String>,
    pub(crate) platform: Option<String>,
    pub(crate) flags: Vec<String>,
    pub(crate) status: ActivationState,
    pub(crate) blocked_reason: Option<String>,
}

impl From<&Activation> for ActivationChange {
    fn from(a: &Activation) -> Self {
        Self {
            activation_id: a.activation_id.clone(),
            application_id: a.application_id.clone(),
            user_id: a.user_id.clone(),
            activation_name: a.activation_name.clone(),
            device_info: a.device_info.clone(),
            platform: a.platform.clone(),
            flags: a.flags.clone(),
            status: a.state,
            blocked_reason: a.blocked_reason.clone(),
        }
    }
}

/// What an operation callback may carry.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationChange {
    pub(crate) operation_id: String,
    pub(crate) application_id: String,
    pub(crate) user_id: Option<String>,
    pub(crate) operation_type: String,
    pub(crate) parameters: Map<String, Value>,
    pub(crate) additional_data: Map<String, Value>,
    pub(crate) activation_flag: Option<String>,
    pub(crate) status: String,
    pub(crate) data: String,
    pub(crate) failure_count: i64,
    pub(crate) max_failure_count: i64,
    pub(crate) signature_types: Vec<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) timestamp_created: i64,
    pub(crate) timestamp_expires: i64,
    pub(crate) timestamp_finalized: Option<i64>,
}

impl From<&Operation> for OperationChange {
    fn from(o: &Operation) -> Self {
        Self {
            operation_id: o.operation_id.clone(),
            application_id: o.application_id.clone(),
            user_id: o.user_id.clone(),
            operation_type: o.operation_type.clone(),
            parameters: o.parameters.clone(),
            additional_data: o.additional_data.clone(),
            activation_flag: o.activation_flag.clone(),
            status: o.status.as_str().to_owned(),
            data: o.data.clone(),
            failure_count: o.failure_count,
            max_failure_count: o.max_failure_count,
            signature_types: o.signature_types.clone(),
            external_id: o.external_id.clone(),
            timestamp_created: o.timestamp_created,
            timestamp_expires: o.timestamp_expires,
            timestamp_finalized: o.timestamp_finalized,
        }
    }
}

impl Change {
    /// The application whose URLs get it.
    pub fn application_id(&self) -> &str {
        match self {
            Change::Activation(a) => &a.application_id,
            Change::Operation(o) => &o.application_id,
        }
    }

    /// The URL type that receives it.
    pub fn callback_type(&self) -> &'static str {
        match self {
            Change::Activation(_) => ACTIVATION_STATUS_CHANGE,
            Change::Operation(_) => OPERATION_STATUS_CHANGE,
        }
    }

    /// The payload's `type`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Change::Activation(_) => "ACTIVATION",
            Change::Operation(_) => "OPERATION",
        }
    }

    /// The activationId or operationId.
    pub fn subject_id(&self) -> &str {
        match self {
            Change::Activation(a) => &a.activation_id,
            Change::Operation(o) => &o.operation_id,
        }
    }

    /// The state it changed to.
    pub fn subject_status(&self) -> String {
        match self {
            Change::Activation(a) => a.status.name().to_owned(),
            Change::Operation(o) => o.status.clone(),
        }
    }

    /// The JSON body for a URL with these `attributes`: `type` and the id always, each
    /// listed attribute the change knows (`null` when unset), as PowerAuth Server builds
    /// it. Unknown attribute names are ignored, as there.
    pub fn payload(&self, attributes: &[String]) -> Value {
        let mut body = Map::new();
        body.insert("type".to_owned(), json!(self.event_type()));
        let wants = |name: &str| attributes.iter().any(|a| a == name);
        let mut put = |name: &str, value: Value| {
            if wants(name) {
                body.insert(name.to_owned(), value);
            }
        };
        match self {
            Change::Activation(a) => {
                put("userId", json!(a.user_id));
                put("activationName", json!(a.activation_name));
                put("deviceInfo", json!(a.device_info));
                put("platform", json!(a.platform));
                put("protocol", json!("powerauth"));
                put("activationFlags", json!(a.flags));
                put("activationStatus", json!(a.status.name()));
                put("blockedReason", json!(a.blocked_reason));
                put("applicationId", json!(a.application_id));
                body.insert("activationId".to_owned(), json!(a.activation_id));
            }
            Change::Operation(o) => {
                put("userId", json!(o.user_id));
                put("applications", json!([o.application_id]));
                put("operationType", json!(o.operation_type));
                put("parameters", Value::Object(o.parameters.clone()));
                put("additionalData", Value::Object(o.additional_data.clone()));
                put("activationFlag", json!(o.activation_flag));
                put("status", json!(o.status));
                put("data", json!(o.data));
                put("failureCount", json!(o.failure_count));
                put("maxFailureCount", json!(o.max_failure_count));
                put("signatureType", json!(o.signature_types));
                put("externalId", json!(o.external_id));
                put("timestampCreated", json!(o.timestamp_created));
                put("timestampExpires", json!(o.timestamp_expires));
                put("timestampFinalized", json!(o.timestamp_finalized));
                body.insert("operationId".to_owned(), json!(o.operation_id));
            }
        }
        Value::Object(body)
    }
}

/// A URL fit for a log: user info replaced by `***`, each query value by `***`, no
/// fragment. Scheme, host, port and path stay, so a tester can tell URLs apart.
pub(crate) fn masked_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return "(not a URL)".to_owned();
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_password(None);
        let _ = parsed.set_username("***");
    }
    if parsed.query().is_some() {
        let keys: Vec<String> = parsed
            .query_pairs()
            .map(|(key, _)| format!("{key}=***"))
            .collect();
        parsed.set_query(Some(&keys.join("&")));
    }
    parsed.set_fragment(None);
    parsed.to_string()
}

/// Only `scheme://host:port`, for `tracing` logs.
pub(crate) fn url_origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(not a URL)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activation() -> ActivationChange {
        ActivationChange {
            activation_id: "a-1".to_owned(),
            application_id: "app".to_owned(),
            user_id: "alice".to_owned(),
            activation_name: None,
            device_info: Some("Pixel".to_owned()),
            platform: Some("android".to_owned()),
            flags: vec!["F".to_owned()],
            status: ActivationState::Blocked,
            blocked_reason: Some("MAX_FAILED_ATTEMPTS".to_owned()),
        }
    }

    #[test]
    fn only_type_and_id_without_attributes() {
        let payload = Change::Activation(activation()).payload(&[]);
        assert_eq!(
            payload,
            json!({"type": "ACTIVATION", "activationId": "a-1"})
        );
    }

    #[test]
    fn listed_attributes_are_added_unset_ones_as_null_unknown_ones_ignored() {
        let attributes: Vec<String> = [
            "activationStatus",
            "activationName",
            "blockedReason",
            "nope",
        ]
        .map(String::from)
        .to_vec();
        let payload = Change::Activation(activation()).payload(&attributes);
        assert_eq!(
            payload,
            json!({"type": "ACTIVATION", "activationId": "a-1", "activationStatus": "BLOCKED",
                   "activationName": null, "blockedReason": "MAX_FAILED_ATTEMPTS"})
        );
    }

    #[test]
    fn logged_urls_hide_credentials_and_query_values() {
        assert_eq!(
            masked_url("https://hook:pa55@example.test:8443/cb/x?token=abc&v=1#frag"),
            "https://***@example.test:8443/cb/x?token=***&v=***"
        );
        assert_eq!(masked_url("http://127.0.0.1:9/cb"), "http://127.0.0.1:9/cb");
        assert_eq!(masked_url("not a url"), "(not a URL)");
        assert_eq!(
            url_origin("https://u:p@example.test/a?b=c"),
            "https://example.test"
        );
    }
}
