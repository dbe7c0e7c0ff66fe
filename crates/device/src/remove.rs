//! Activation removal (digest §9.4): `POST /pa/v3/activation/remove`, signed 2FA.

use crate::Result;
use crate::client::envelope;
use crate::session::{Factors, Session};

/// The removal endpoint.
pub const REMOVE_PATH: &str = "/pa/v3/activation/remove";

impl Session<'_> {
    /// Removes the activation on the server (signed with `factors`, normally the PIN).
    /// The caller then deletes the device from its store; until then it stays usable
    /// for status calls, which report `REMOVED`.
    pub async fn remove_activation(&mut self, factors: &Factors) -> Result<()> {
        const WHAT: &str = "activation/remove";
        let body = envelope::request_body(&serde_json::json!({}));
        let request =
            self.signed_post(WHAT, REMOVE_PATH, "/pa/activation/remove", factors, body)?;
        let reply = self.execute(request).await?;
        envelope::response_object(&reply, WHAT)?;
        if let Some(status) = &mut self.device.last_status {
            status.state = "REMOVED".to_owned();
        }
        Ok(())
    }
}
