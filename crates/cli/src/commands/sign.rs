//! `tokensim sign` and `sign-data`: the signature header, optionally verified by the server.

use tokensim_api::SignRequest;

use super::{Ctx, Result, factors};
use crate::cli::{FactorArgs, SignArgs, SignDataArgs};
use crate::error::Failure;
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
        &body,
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
    signed(ctx, "POST", &args.uri_id, &data, &args.factors, args.verify).await
}

async fn signed(
    ctx: &Ctx<'_>,
    method: &str,
    uri_id: &str,
    body: &[u8],
    factor_args: &FactorArgs,
    verify: bool,
) -> Result<Output> {
    ctx.runner().no_fault("sign").map_err(|e| e.hint(
        "sign computes the header locally and --verify asks the server API, not the device API; inject faults on a call the device makes: status, vault unlock, ops approve, tokens create",
    ))?;
    let factors = factors(factor_args.factors, &factor_args.pin)?;
    let mut dev = ctx.device()?;
    let request = SignRequest {
        method,
        uri_id,
        body,
        factors: &factors,
        verify,
    };
    let signed = tokensim_api::sign(&ctx.runner(), &mut dev, request).await?;
    let mut text = format!("{}: {}\n", signed.header, signed.value);
    if signed.verified == Some(true) {
        text.push_str("the server verified the signature: valid\n");
    }
    Output::typed(text, &signed)
}
