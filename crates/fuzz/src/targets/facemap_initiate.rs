//! The facemap profile's initiate, from untrusted bytes: the `enrollmentMetadata` JSON part's
//! parser on its own, and whole `multipart/form-data` bodies through the sandbox's router
//! (axum's `Multipart`, the part limits, the metadata checks, the handler on an in-memory
//! database; the harness of [`super::sandbox_request`]).
//!
//! The first byte chooses: even, the rest is an `enrollmentMetadata` part for
//! `metadata::parse`; odd, the rest is the body of an authenticated initiate with
//! `Content-Type: multipart/form-data; boundary=X`.
//!
//! What the parser promises (its module docs), checked on every accepted part:
//! `enrollmentTransactionReference` has 1 to 36 characters and is not blank, the locale is one
//! Jumio documents, `tokenLifetimeInMinutes` is within 5 to 86400, the URLs are `http` or
//! `https` within their lengths, and no field holds a control character. The router's
//! promise is `sandbox_request`'s: never a 5xx, an error body is JSON.

use sandbox::profiles::facemap::INITIATE_PATH;
use sandbox::profiles::facemap::metadata::{self, LOCALES, TOKEN_LIFETIME_MINUTES};

/// One input (see the module documentation for its layout).
pub fn run(data: &[u8]) {
    let Some((mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        metadata_part(rest);
    } else {
        let mut request = format!(
            "POST {INITIATE_PATH}\nAuthorization: {{facemap}}\nUser-Agent: fuzz\nContent-Type: multipart/form-data; boundary=X\n\n"
        )
        .into_bytes();
        request.extend_from_slice(rest);
        super::sandbox_request::run(&request);
    }
}

fn metadata_part(bytes: &[u8]) {
    let Ok(parsed) = metadata::parse(bytes) else {
        return;
    };
    let reference = &parsed.enrollment_transaction_reference;
    assert!(
        (1..=36).contains(&reference.chars().count()) && !reference.trim().is_empty(),
        "reference {reference:?}"
    );
    if let Some(locale) = &parsed.locale {
        assert!(LOCALES.contains(&locale.as_str()), "locale {locale:?}");
    }
    if let Some(minutes) = parsed.token_lifetime_in_minutes {
        assert!(
            TOKEN_LIFETIME_MINUTES.contains(&minutes),
            "lifetime {minutes}"
        );
    }
    for (url, max) in [
        (&parsed.callback_url, 255),
        (&parsed.success_url, 2047),
        (&parsed.error_url, 255),
    ] {
        if let Some(url) = url {
            assert!(url.chars().count() <= max, "url of {} chars", url.len());
            // The URL parser skips leading spaces and reads the scheme in any case.
            let scheme = url.trim_start().to_ascii_lowercase();
            assert!(
                scheme.starts_with("http:") || scheme.starts_with("https:"),
                "url {url:?}"
            );
        }
    }
    for text in [Some(reference), parsed.user_reference.as_ref()]
        .into_iter()
        .flatten()
    {
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }
}
