//! The checks every request passes before it is routed. The sandbox serves programs on this
//! machine (the device engine, the CLI, test clients, its own web console), so a web page
//! open in a browser must not be able to drive it:
//!
//! - `Host` must name this machine (`localhost`, a loopback address): a page that rebinds
//!   its own domain name to 127.0.0.1 sends its own name, and is refused (DNS rebinding).
//! - `Origin`, when a browser sends one, must be the sandbox's own (the web console and the
//!   Swagger UI it serves): a page elsewhere cannot make requests in a tester's name.
//! - A body of the kinds a page may send anywhere without asking first (a form,
//!   `text/plain`) is refused with 415: every API here takes JSON.
//!
//! With [`Config::allow_remote`](crate::Config::allow_remote) any `Host` is served (the
//! sandbox is reached by other names), the `Origin` check stays, and `/rest/v3` asks for
//! the Basic credentials of a Cloud API user, as a PowerAuth Server with its REST API
//! secured does. See docs/security.md.

use crate::cloud::auth::Authenticated;
use crate::error::Error;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let remote = state.config.allow_remote;
    // RFC 6749, 7009 and 8628 endpoints take forms by definition; they still pass the Host
    // and Origin checks, and each asks for client authentication of its own.
    let form_endpoint = request.method() == Method::POST
        && crate::profiles::oauth::FORM_ENDPOINTS.contains(&request.uri().path());
    let checked = if form_endpoint {
        let mut headers = request.headers().clone();
        headers.remove(header::CONTENT_TYPE);
        check(request.method(), &headers, remote)
    } else if crate::profiles::takes_multipart(request.uri().path()) {
        // The profiles' multipart endpoints authenticate every call with Basic credentials a
        // web page does not have; their own checks answer a wrong content type.
        check_hosts(request.headers(), remote)
    } else {
        check(request.method(), request.headers(), remote)
    };
    if let Err(error) = checked {
        tracing::warn!(%error, path = %request.uri().path(), "request refused");
        return error.into_response();
    }
    if remote && request.uri().path().starts_with("/rest/") {
        let (mut parts, body) = request.into_parts();
        if let Err(error) = Authenticated::from_request_parts(&mut parts, &state).await {
            return error.into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    next.run(request).await
}

/// Whether a request with these headers may be served; `remote` is
/// [`Config::allow_remote`](crate::Config::allow_remote).
pub(crate) fn check(method: &Method, headers: &HeaderMap, remote: bool) -> Result<(), Error> {
    check_hosts(headers, remote)?;
    check_content_type(method, headers)
}

/// The `Host` and `Origin` checks alone.
pub(crate) fn check_hosts(headers: &HeaderMap, remote: bool) -> Result<(), Error> {
    let host = header_text(headers, header::HOST);
    if !remote
        && let Some(host) = host
        && !is_local_host(host)
    {
        return Err(Error::Refused(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host:?} is not this machine: the sandbox answers requests to localhost or a loopback address only (start it with --allow-remote to serve other names)"
            ),
        ));
    }
    if let Some(origin) = header_text(headers, header::ORIGIN) {
        let same = origin_authority(origin)
            .is_some_and(|authority| host.is_some_and(|host| authority.eq_ignore_ascii_case(host)));
        if !same {
            return Err(Error::Refused(
                StatusCode::FORBIDDEN,
                format!(
                    "requests from web pages of other origins ({origin}) are refused: call the sandbox from a program, or from its own web console"
                ),
            ));
        }
    }
    Ok(())
}

/// Refuses the content types a web page may send without asking first.
fn check_content_type(method: &Method, headers: &HeaderMap) -> Result<(), Error> {
    if matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && let Some(content_type) = header_text(headers, header::CONTENT_TYPE)
    {
        let media = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if matches!(
            media.as_str(),
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        ) {
            return Err(Error::Refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Content-Type {media} is not accepted: send the body as application/json"),
            ));
        }
    }
    Ok(())
}

/// A header's value as text; a value that is not text counts as absent for `Host` and
/// `Origin` (and as a mismatch, as no authority equals it).
fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers
        .get(name)
        .map(|value| value.to_str().unwrap_or("\u{fffd}"))
}

/// `localhost`, a name under `.localhost`, or a loopback IP address, with or without a port.
pub(crate) fn is_local_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1] or [::1]:8780
        match rest.split_once(']') {
            Some((address, "")) => address,
            Some((address, port)) if port.strip_prefix(':').is_some_and(is_port) => address,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host,
        }
    };
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn is_port(digits: &str) -> bool {
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `host[:port]` of an `Origin` (`http://127.0.0.1:8780`); `None` for `null` or
/// anything that is not an http(s) origin.
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hosts() {
        for host in [
            "localhost",
            "LOCALHOST:8780",
            "127.0.0.1",
            "127.0.0.1:8780",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:8780",
            "app.localhost:80",
            "localhost.",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "attacker.example",
            "attacker.example:8780",
            "localhost.attacker.example",
            "10.0.0.1:8780",
            "[::2]:80",
            "127.0.0.1:80x",
            "127.0.0.1:",
            "[::1]x",
            "",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }
}
