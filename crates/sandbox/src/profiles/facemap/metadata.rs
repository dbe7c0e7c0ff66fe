//! The `enrollmentMetadata` part of a facemap initiate request, read from untrusted bytes.
//!
//! Jumio's sample sends the object wrapped, `{"enrollmentMetadata": {…}}`; the object alone
//! is accepted too. Unknown fields are ignored. Lengths and ranges are Jumio's (the web
//! initiate table): `enrollmentTransactionReference` 1–36, `callbackUrl` 255, `successUrl`
//! 2047, `errorUrl` 255, `userReference` 100, `locale` one of the documented values,
//! `tokenLifetimeInMinutes` 5–86400. URLs must be `http` or `https` (Jumio asks for HTTPS
//! without IP addresses or ports; a local sandbox's receivers are `http://127.0.0.1:PORT`,
//! so that rule is relaxed here).

use serde::Deserialize;
use serde_json::Value;

/// The locales Jumio's Authentication renders (`Supported locale values`).
pub const LOCALES: &[&str] = &[
    "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-MX", "et", "fi", "fr", "hu", "hy", "it",
    "ja", "ka", "ko", "lt", "nl", "no", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sv", "tr", "vi",
    "zh-CN", "zh-HK",
];

/// The smallest and largest `tokenLifetimeInMinutes` Jumio accepts.
pub const TOKEN_LIFETIME_MINUTES: std::ops::RangeInclusive<i64> = 5..=86_400;

/// A checked `enrollmentMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnrollmentMetadata {
    /// The enrollment (ID verification) the face is compared with. Required.
    pub enrollment_transaction_reference: String,
    /// The caller's reference for the user.
    pub user_reference: Option<String>,
    /// Where the final state is POSTed.
    pub callback_url: Option<String>,
    /// Web: where the user goes after a successful capture.
    pub success_url: Option<String>,
    /// Web: where the user goes after an error.
    pub error_url: Option<String>,
    /// Web: the language of the capture page.
    pub locale: Option<String>,
    /// Web: how long the redirect URL stays valid.
    pub token_lifetime_in_minutes: Option<i64>,
}

impl EnrollmentMetadata {
    /// Whether the request is a web one: any of the web-only fields is set. A web
    /// transaction answers a `redirectUrl` and reports `scanSource` `WEB`.
    pub(crate) fn is_web(&self) -> bool {
        self.success_url.is_some()
            || self.error_url.is_some()
            || self.locale.is_some()
            || self.token_lifetime_in_minutes.is_some()
    }
}

/// Why the part was refused; the text says which field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enrollmentMetadata: {0}")]
pub struct MetadataError(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    enrollment_transaction_reference: Option<Value>,
    user_reference: Option<Value>,
    callback_url: Option<Value>,
    success_url: Option<Value>,
    error_url: Option<Value>,
    locale: Option<Value>,
    token_lifetime_in_minutes: Option<Value>,
}

/// Parses and checks the part's bytes.
pub fn parse(bytes: &[u8]) -> Result<EnrollmentMetadata, MetadataError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| MetadataError(format!("not JSON ({e})")))?;
    let Value::Object(mut object) = value else {
        return Err(MetadataError("must be a JSON object".to_owned()));
    };
    let inner = match object.remove("enrollmentMetadata") {
        Some(Value::Object(inner)) => inner,
        Some(_) => {
            return Err(MetadataError(
                "\"enrollmentMetadata\" must be a JSON object".to_owned(),
            ));
        }
        None => object,
    };
    let raw: Raw =
        serde_json::from_value(Value::Object(inner)).map_err(|e| MetadataError(e.to_string()))?;
    let reference = text(
        "enrollmentTransactionReference",
        raw.enrollment_transaction_reference,
        36,
    )?
    .filter(|r| !r.trim().is_empty())
    .ok_or_else(|| {
        MetadataError("enrollmentTransactionReference is required (1 to 36 characters)".to_owned())
    })?;
    let locale = text("locale", raw.locale, 5)?;
    if let Some(locale) = &locale
        && !LOCALES.contains(&locale.as_str())
    {
        return Err(MetadataError(format!(
            "locale {locale:?} is not supported; use one of {}",
            LOCALES.join(", ")
        )));
    }
    let token_lifetime_in_minutes = match raw.token_lifetime_in_minutes {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(m) if TOKEN_LIFETIME_MINUTES.contains(&m) => Some(m),
            _ => return Err(lifetime_error()),
        },
        Some(_) => return Err(lifetime_error()),
    };
    Ok(EnrollmentMetadata {
        enrollment_transaction_reference: reference,
        user_reference: text("userReference", raw.user_reference, 100)?,
        callback_url: url("callbackUrl", raw.callback_url, 255)?,
        success_url: url("successUrl", raw.success_url, 2047)?,
        error_url: url("errorUrl", raw.error_url, 255)?,
        locale,
        token_lifetime_in_minutes,
    })
}

fn lifetime_error() -> MetadataError {
    MetadataError(format!(
        "tokenLifetimeInMinutes must be a whole number from {} to {}",
        TOKEN_LIFETIME_MINUTES.start(),
        TOKEN_LIFETIME_MINUTES.end()
    ))
}

/// An optional string field of at most `max` characters, without control characters.
fn text(name: &str, value: Option<Value>, max: usize) -> Result<Option<String>, MetadataError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.chars().count() > max {
                return Err(MetadataError(format!(
                    "{name} is longer than {max} characters"
                )));
            }
            if s.chars().any(char::is_control) {
                return Err(MetadataError(format!(
                    "{name} must not contain control characters"
                )));
            }
            Ok(Some(s))
        }
        Some(_) => Err(MetadataError(format!("{name} must be a string"))),
    }
}

fn url(name: &str, value: Option<Value>, max: usize) -> Result<Option<String>, MetadataError> {
    let Some(text) = text(name, value, max)? else {
        return Ok(None);
    };
    let parsed =
        reqwest::Url::parse(&text).map_err(|_| MetadataError(format!("{name} is not a URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(MetadataError(format!(
            "{name} must be an http or https URL with a host"
        )));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn jumio_sample_wrapped_and_bare() {
        let wrapped = br#"{"enrollmentMetadata": {
            "enrollmentTransactionReference": "1b6ab5b1-3e1c-4b8c-9d6e-5a1f3c2b7d10",
            "userReference": "user_1234",
            "callbackUrl": "https://www.yourcompany.com/callback"}}"#;
        let parsed = parse(wrapped).unwrap();
        assert_eq!(
            parsed.enrollment_transaction_reference,
            "1b6ab5b1-3e1c-4b8c-9d6e-5a1f3c2b7d10"
        );
        assert_eq!(parsed.user_reference.as_deref(), Some("user_1234"));
        assert!(!parsed.is_web());
        let bare = br#"{"enrollmentTransactionReference": "e-1", "successUrl": "https://x.test/s",
            "errorUrl": "https://x.test/e", "tokenLifetimeInMinutes": 5, "locale": "de", "extra": 1}"#;
        let parsed = parse(bare).unwrap();
        assert!(parsed.is_web());
        assert_eq!(parsed.token_lifetime_in_minutes, Some(5));
        assert_eq!(parsed.locale.as_deref(), Some("de"));
    }

    #[test]
    fn refusals_name_the_field() {
        for (body, field) in [
            (&br#"{}"#[..], "enrollmentTransactionReference"),
            (
                br#"{"enrollmentTransactionReference": ""}"#,
                "enrollmentTransactionReference",
            ),
            (
                br#"{"enrollmentTransactionReference": 7}"#,
                "enrollmentTransactionReference",
            ),
            (
                br#"{"enrollmentTransactionReference": "0123456789012345678901234567890123456"}"#,
                "enrollmentTransactionReference",
            ),
            (
                br#"{"enrollmentTransactionReference": "e", "locale": "xx"}"#,
                "locale",
            ),
            (
                br#"{"enrollmentTransactionReference": "e", "tokenLifetimeInMinutes": 4}"#,
                "tokenLifetimeInMinutes",
            ),
            (
                br#"{"enrollmentTransactionReference": "e", "tokenLifetimeInMinutes": "5"}"#,
                "tokenLifetimeInMinutes",
            ),
            (
                br#"{"enrollmentTransactionReference": "e", "callbackUrl": "ftp://x"}"#,
                "callbackUrl",
            ),
            (
                br#"{"enrollmentTransactionReference": "e", "errorUrl": "nope"}"#,
                "errorUrl",
            ),
            (br#"{"enrollmentMetadata": []}"#, "enrollmentMetadata"),
            (b"[1]", "object"),
            (b"\xff", "JSON"),
        ] {
            let error = parse(body).unwrap_err().to_string();
            assert!(error.contains(field), "{error} should name {field}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn any_short_reference_round_trips(reference in "[A-Za-z0-9-]{1,36}") {
            let body = serde_json::json!({"enrollmentMetadata": {"enrollmentTransactionReference": reference}});
            let parsed = parse(body.to_string().as_bytes()).unwrap();
            prop_assert_eq!(parsed.enrollment_transaction_reference, reference);
        }
    }
}
