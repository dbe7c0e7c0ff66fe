//! The Cloud API's `Authorization: Basic …` header, as any client may send it: parsing
//! never panics; credentials that parse come back the same from the header a client would
//! build of them; a name with a control character (NUL included) never parses.

use axum::http::HeaderValue;
use powerauth::encoding::b64;
use sandbox::cloud::auth::parse_basic;

/// One input: the header value's bytes (what HTTP lets through: no CR, LF or NUL).
pub fn run(data: &[u8]) {
    let Ok(header) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Ok((username, password)) = parse_basic(&header) else {
        return;
    };
    assert!(!username.contains(':'), "the name ends at the first colon");
    assert!(!username.chars().any(char::is_control));
    let rebuilt = format!("Basic {}", b64(format!("{username}:{password}").as_bytes()));
    let again = parse_basic(&HeaderValue::from_str(&rebuilt).expect("Base64 is a header"));
    assert_eq!(again.ok(), Some((username, password)));
}
