//! Sign and sign-data: the `X-PowerAuth-Authorization` header over a request (or data),
//! optionally verified by the server. The header is computed here; the counter advances and
//! is saved like for any signature.

use powerauth::signature::{AuthorizationHeader, RequestData};
use serde::Serialize;
use tokensim_device::Error as DeviceError;
use tokensim_device::Factors;
use tokensim_device::signing::DataSignature;

use crate::{Class, Error, ErrorKind, Leased, Result, Runner};

/// What to sign.
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// The HTTP method (upper-cased here).
    pub method: &'a str,
    /// The endpoint's URI id, e.g. `/pa/signature/validate`.
    pub uri_id: &'a str,
    /// The request body (or the data).
    pub body: &'a [u8],
    /// The factors to sign with.
    pub factors: &'a Factors,
    /// Ask the server whether the signature is valid.
    pub verify: bool,
}

/// The signature header, as `tokensim sign --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signed {
    /// The header's name, `X-PowerAuth-Authorization`.
    pub header: &'static str,
    /// The header's value.
    pub value: String,
    /// The server's verdict, when asked (always `true` here: `false` is an error).
    pub verified: Option<bool>,
}

/// Signs `request` with the device. No fault applies: the header is computed locally and the
/// verification asks the server API, not the device API. A signature the server calls
/// invalid is an error of kind `signature-invalid`.
pub async fn sign(
    runner: &Runner<'_>,
    dev: &mut Leased,
    request: SignRequest<'_>,
) -> Result<Signed> {
    runner.no_fault("sign").map_err(|e| e.hint(
        "sign computes the header locally and --verify asks the server API, not the device API; inject faults on a call the device makes: status, vault unlock, ops approve, tokens create",
    ))?;
    let method = request.method.to_ascii_uppercase();
    let SignRequest {
        uri_id,
        body,
        factors,
        verify,
        ..
    } = request;
    let (value, verified) = runner
        .plain(dev, async |s| {
            let header = s.sign(factors, &method, uri_id, body)?;
            if !verify {
                return Ok((header, None));
            }
            let parsed = AuthorizationHeader::parse(&header)
                .map_err(|e| DeviceError::Protocol(e.to_string()))?;
            let request_data = RequestData::new(&method, uri_id, &parsed.nonce, body)
                .as_str()
                .to_owned();
            let signature = DataSignature {
                header: parsed,
                request_data,
            };
            let valid = s.verify_data_signature(&signature).await?;
            Ok((header, Some(valid)))
        })
        .await?;
    if verified == Some(false) {
        return Err(Error::new(
            Class::Rejected,
            ErrorKind::SignatureInvalid,
            "the server says the signature is not valid",
        )
        .hint("check the PIN and the factors; `tokensim status` shows failed attempts and counter sync"));
    }
    Ok(Signed {
        header: AuthorizationHeader::NAME,
        value,
        verified,
    })
}
