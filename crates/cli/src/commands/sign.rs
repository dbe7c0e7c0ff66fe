//! `tokensim sign` and `sign-data`: the signature header, optionally verified by the server.

use powerauth::signature::{AuthorizationHeader, RequestData};
use serde_json::json;
use tokensim_device::Error as DeviceError;
use tokensim_device::signing::DataSignature;

use super::{Ctx, Result, factors};
use crate::cli::{FactorArgs, SignArgs, SignDataArgs};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;

pub(super) async fn sign(ctx: &Ctx<'_>, args: SignArgs) -> Result<Output> {
    let body = match (&args.body_file, &args.body) {
        (Some(file), _) => std::fs::read(file).map_err(|e| Failure::io("read", file, &e))?,
        (None, Some(body)) => body.clone().into_bytes(),
        (None, None) => Vec::new(),
    };
    signed(
        ctx,
        &args.method,
        &args.uri_id,
        body,
        &args.factors,
        args.verify,
    )
    .await
}

pub(super) async fn sign_data(ctx: &Ctx<'_>, args: SignDataArgs) -> Result<Output> {
    let data = match (&args.file, &args.data) {
        (Some(file), _) => std::fs::read(file).map_err(|e| Failure::io("read", file, &e))?,
        (None, Some(data)) => data.clone().into_bytes(),
        (None, None) => unreachable!("clap requires --data or --file"),
    };
    signed(ctx, "POST", &args.uri_id, data, &args.factors, args.verify).await
}

async fn signed(
    ctx: &Ctx<'_>,
    method: &str,
    uri_id: &str,
    body: Vec<u8>,
    factor_args: &FactorArgs,
    verify: bool,
) -> Result<Output> {
    if ctx.g.fault.is_some() {
        return Err(ctx.no_fault("sign").unwrap_err().hint(
            "sign computes the header locally and --verify asks the server API, not the device API; inject faults on a call the device makes: status, vault unlock, ops approve, tokens create",
        ));
    }
    let factors = factors(factor_args.factors, &factor_args.pin)?;
    let mut dev = ctx.device()?;
    let method = method.to_ascii_uppercase();
    let ran = ctx
        .call(&mut dev, async |s| {
            let header = s.sign(&factors, &method, uri_id, &body)?;
            if !verify {
                return Ok((header, None));
            }
            let parsed = AuthorizationHeader::parse(&header)
                .map_err(|e| DeviceError::Protocol(e.to_string()))?;
            let request_data = RequestData::new(&method, uri_id, &parsed.nonce, &body)
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
    ran.output(|(header, valid)| {
        if valid == Some(false) {
            return Err(Failure::new(
                Class::Rejected,
                ErrorKind::SignatureInvalid,
                "the server says the signature is not valid",
            )
            .hint("check the PIN and the factors; `tokensim status` shows failed attempts and counter sync"));
        }
        let mut text = format!("{}: {header}\n", AuthorizationHeader::NAME);
        if valid == Some(true) {
            text.push_str("the server verified the signature: valid\n");
        }
        Ok(Output::new(
            text,
            json!({ "header": AuthorizationHeader::NAME, "value": header, "verified": valid }),
        ))
    })
}
