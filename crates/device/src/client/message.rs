//! [`Request`] and [`Reply`]: one HTTP exchange as data, so flows build requests and
//! read answers without a socket.

use super::envelope;
use crate::Error;
use powerauth::ecies::{EciesError, EncryptedResponse, ResponseDecryptor};

/// One HTTP request, as data.
#[derive(Debug)]
pub struct Request {
    /// What the engine is doing, e.g. `token/create`.
    pub label: &'static str,
    /// `POST`, `GET`, …
    pub method: reqwest::Method,
    /// Path under the server URL, e.g. `/pa/v3/token/create`.
    pub path: String,
    /// Headers besides `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// The exact body bytes (what a signature covers).
    pub body: Vec<u8>,
    /// The plaintext before ECIES encryption, for the inspector.
    pub plaintext: Option<String>,
    /// The decryptor for an ECIES response.
    pub decryptor: Option<ResponseDecryptor>,
}

impl Request {
    /// A JSON `POST` to `path`.
    pub fn post(label: &'static str, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            label,
            method: reqwest::Method::POST,
            path: path.to_owned(),
            headers: Vec::new(),
            body: body.into(),
            plaintext: None,
            decryptor: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The value of a header, if set.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer: status, body and, for ECIES responses, the decrypted plaintext.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: Vec<u8>,
    /// Decrypted body of a 200 ECIES response.
    pub plaintext: Option<Result<Vec<u8>, String>>,
}

impl Reply {
    /// Reads an answer; a 200 body is decrypted with `decryptor` when one is given.
    pub fn read(status: u16, body: Vec<u8>, decryptor: Option<ResponseDecryptor>) -> Self {
        let plaintext = match decryptor {
            Some(decryptor) if status == 200 => Some(
                EncryptedResponse::from_json(&body)
                    .map_err(|e| format!("not an ECIES response: {e}"))
                    .and_then(|response| {
                        decryptor
                            .decrypt_response(&response)
                            .map_err(|e: EciesError| e.to_string())
                    }),
            ),
            _ => None,
        };
        Self {
            status,
            headers: Vec::new(),
            body,
            plaintext,
        }
    }

    /// The decrypted plaintext of a successful ECIES call, or the server's error.
    pub fn decrypted(&self, what: &'static str) -> Result<&[u8], Error> {
        envelope::check_status(self)?;
        match &self.plaintext {
            Some(Ok(plain)) => Ok(plain),
            Some(Err(detail)) => Err(Error::Decryption {
                what,
                detail: detail.clone(),
            }),
            None => Err(Error::invalid(what, "no encrypted body")),
        }
    }
}

/// What came back over the wire.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
}

impl Answer {
    pub(super) fn into_reply(self, decryptor: Option<ResponseDecryptor>) -> Reply {
        let mut reply = Reply::read(self.status, self.body, decryptor);
        reply.headers = self.headers;
        reply
    }
}
