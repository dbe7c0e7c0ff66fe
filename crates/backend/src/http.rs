//! Sending one call and reading its answer as JSON.

use crate::{Error, Result};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Sends `request` and returns the body of a 200 answer as `T`; anything else is an error
/// naming `what`.
pub(crate) async fn send<T: DeserializeOwned>(
    request: reqwest::RequestBuilder,
    what: &str,
    url: &str,
) -> Result<T> {
    let body = send_value(request, what, url).await?;
    parse(body, what)
}

/// The same, returning the JSON value.
pub(crate) async fn send_value(
    request: reqwest::RequestBuilder,
    what: &str,
    url: &str,
) -> Result<Value> {
    let unreachable = |error: reqwest::Error| Error::Unreachable {
        what: what.to_owned(),
        url: url.to_owned(),
        detail: chain(&error),
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(unreachable)?;
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    if status != 200 {
        let object = body.as_ref().map(|b| &b["responseObject"]);
        return Err(Error::Refused {
            what: what.to_owned(),
            status,
            code: object.and_then(|o| o["code"].as_str()).map(str::to_owned),
            message: object
                .and_then(|o| o["message"].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| start(&bytes)),
        });
    }
    body.ok_or_else(|| Error::Malformed {
        what: what.to_owned(),
        detail: format!("not JSON: {}", start(&bytes)),
    })
}

/// `value` as `T`, or a [`Error::Malformed`] naming the missing or mistyped field.
pub(crate) fn parse<T: DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| Error::Malformed {
        what: what.to_owned(),
        detail: e.to_string(),
    })
}

fn start(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned()
}

fn chain(error: &reqwest::Error) -> String {
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CreatedRegistration;
    use serde_json::json;

    #[test]
    fn a_missing_field_is_an_error_not_an_empty_string() {
        let answer = json!({
            "activationQrCodeData": "A#B", "activationCode": "A", "activationCodeSignature": "B",
        });
        let error = parse::<CreatedRegistration>(answer, "POST /v2/registrations").unwrap_err();
        assert!(
            matches!(&error, Error::Malformed { detail, .. } if detail.contains("registrationId")),
            "{error}"
        );
        let wrong_type = json!({
            "registrationId": 5, "activationQrCodeData": "A#B", "activationCode": "A",
            "activationCodeSignature": "B",
        });
        assert!(parse::<CreatedRegistration>(wrong_type, "x").is_err());
    }
}
