//! Signed requests (digest §5): any method, resource id and body with any factors, the
//! signature check `/pa/v3/signature/validate`, and counter resynchronisation.

use crate::client::{Reply, Request, envelope};
use crate::session::{Factors, Session};
use crate::{Error, Result};
use powerauth::signature::{AuthorizationHeader, RequestData, canonicalize_query};
use serde_json::{Value, json};

/// The signature check endpoint and its resource id.
pub const VALIDATE_PATH: &str = "/pa/v3/signature/validate";
/// The resource id of `/pa/v3/signature/validate`.
pub const VALIDATE_URI_ID: &str = "/pa/signature/validate";

/// A request to sign and send: what a tester types.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path under the server URL.
    pub path: String,
    /// Resource id signed (not the path), e.g. `/pa/signature/validate`.
    pub uri_id: String,
    /// Exact body bytes.
    pub body: Vec<u8>,
}

impl Session<'_> {
    /// Signs and sends `request`; returns the raw answer (any status). A GET signs its
    /// canonicalised query string (digest §16.14), other methods the body.
    pub async fn send_signed(
        &mut self,
        request: &SignedRequest,
        factors: &Factors,
    ) -> Result<Reply> {
        let signed_body = if request.method == reqwest::Method::GET {
            let query = request.path.split_once('?').map_or("", |(_, q)| q);
            canonicalize_query(query)
                .map_err(|e| Error::Protocol(format!("the query string cannot be signed: {e}")))?
                .into_bytes()
        } else {
            request.body.clone()
        };
        let header = self.sign(
            factors,
            request.method.as_str(),
            &request.uri_id,
            &signed_body,
        )?;
        let mut http = Request::post("signed request", &request.path, request.body.clone())
            .header(crate::client::AUTHORIZATION, header);
        http.method = request.method.clone();
        self.execute(http).await
    }

    /// `POST /pa/v3/signature/validate` with `{"reason": reason}`: proves the factors
    /// online (a wrong PIN costs an attempt).
    pub async fn validate_signature(&mut self, factors: &Factors, reason: &str) -> Result<()> {
        let body = envelope::request_body(&json!({ "reason": reason }));
        let request = self.signed_post(
            "signature/validate",
            VALIDATE_PATH,
            VALIDATE_URI_ID,
            factors,
            body,
        )?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, "signature/validate").map(|_| ())
    }

    /// The SDK's resynchronisation: a possession signature with reason
    /// `COUNTER_SYNCHRONIZATION` moves the server's counter up to the device's.
    pub async fn synchronize_counter(&mut self) -> Result<()> {
        self.validate_signature(&Factors::possession(), "COUNTER_SYNCHRONIZATION")
            .await
    }
}

/// A signature over data, computed without sending it: for checking against the
/// server's `/rest/v3/signature/verify`.
#[derive(Debug, Clone)]
pub struct DataSignature {
    /// The parsed `X-PowerAuth-Authorization` header.
    pub header: AuthorizationHeader,
    /// `REQUEST_DATA` the server needs (`POST&uriId&nonce&body`).
    pub request_data: String,
}

impl Session<'_> {
    /// Signs `data` as the body of a `POST` to `uri_id` (counter advanced and saved).
    pub fn sign_data(
        &mut self,
        factors: &Factors,
        uri_id: &str,
        data: &[u8],
    ) -> Result<DataSignature> {
        let value = self.sign(factors, "POST", uri_id, data)?;
        let header =
            AuthorizationHeader::parse(&value).map_err(|e| Error::Protocol(e.to_string()))?;
        let request_data = RequestData::new("POST", uri_id, &header.nonce, data)
            .as_str()
            .to_owned();
        Ok(DataSignature {
            header,
            request_data,
        })
    }

    /// Asks the server's `/rest/v3/signature/verify` whether `signature` is valid; returns
    /// `signatureValid` (a `false` costs a failed attempt for non-possession types).
    pub async fn verify_data_signature(&mut self, signature: &DataSignature) -> Result<bool> {
        const WHAT: &str = "signature/verify";
        let header = &signature.header;
        let object = json!({
            "activationId": header.activation_id,
            "applicationKey": header.application_key,
            "data": signature.request_data,
            "signature": header.signature,
            "signatureType": header.signature_type.server_name(),
            "signatureVersion": header.version.as_str(),
        });
        let request = Request::post(
            WHAT,
            "/rest/v3/signature/verify",
            envelope::request_body(&object),
        );
        let reply = self.execute(request).await?;
        let response = envelope::response_object(&reply, WHAT)?;
        response
            .get("signatureValid")
            .and_then(Value::as_bool)
            .ok_or_else(|| Error::invalid(WHAT, "signatureValid is missing"))
    }
}
