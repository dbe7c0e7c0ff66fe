//! Signed requests (digest §5): any method, resource id and body with any factors, the
//! signature check `/pa/v3/signature/validate`, and counter resynchronisation.

use crate::Result;
use crate::client::{Reply, Request, envelope};
use crate::session::{Factors, Session};
use serde_json::json;

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
    /// Signs and sends `request`; returns the raw answer (any status).
    pub async fn send_signed(
        &mut self,
        request: &SignedRequest,
        factors: &Factors,
    ) -> Result<Reply> {
        let signed_body: &[u8] = if request.method == reqwest::Method::GET {
            b""
        } else {
            &request.body
        };
        let header = self.sign(
            factors,
            request.method.as_str(),
            &request.uri_id,
            signed_body,
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
