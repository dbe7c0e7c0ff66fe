//! The offline signature of an operation QR code: verified, signed, shown for retyping. No
//! request is sent; the counter advances and is saved.

use serde::Serialize;
use tokensim_device::Factors;

use crate::{Leased, Ran, Result, Runner};

/// What the device shows after signing an offline operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineSigned {
    /// The operation id from the QR.
    pub operation_id: String,
    /// The title from the QR.
    pub title: String,
    /// The message from the QR.
    pub message: String,
    /// The operation data string.
    pub operation_data: String,
    /// The signature as the backend expects it (`NNNNNNNN-NNNNNNNN`).
    pub signature: String,
    /// The same, grouped by four for retyping.
    pub display: String,
}

/// Verifies the offline QR `text` (a trailing line break is ignored) and signs it with
/// `factors`.
pub async fn sign_offline(
    runner: &Runner<'_>,
    dev: &mut Leased,
    text: &str,
    factors: &Factors,
) -> Result<Ran<OfflineSigned>> {
    let text = text.trim_end_matches(['\r', '\n']);
    let ran = runner
        .call_with(dev, crate::knows(factors), async |s| {
            s.sign_offline(text, factors)
        })
        .await?;
    Ok(ran.map(|code| OfflineSigned {
        operation_id: code.operation_id,
        title: code.title,
        message: code.message,
        operation_data: code.operation_data,
        signature: code.signature,
        display: code.display,
    }))
}
