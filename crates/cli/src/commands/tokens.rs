//! `tokensim tokens`: create, list, remove, and the token header.

use serde_json::{Value, json};
use tokensim_device::{Factors, Fault};

use super::{Ctx, Result, factors, knows};
use crate::cli::TokensCommand;
use crate::output::Output;

pub(super) async fn tokens(ctx: &Ctx<'_>, command: TokensCommand) -> Result<Output> {
    match command {
        TokensCommand::Create { name, factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let mut dev = ctx.device()?;
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.create_token(&name, &factors).await
                })
                .await?;
            ran.output(|token_id| {
                Ok(Output::new(
                    format!("token {name:?} created: {token_id}"),
                    json!({ "name": name, "tokenId": token_id }),
                ))
            })
        }
        TokensCommand::List => {
            ctx.no_fault("tokens list")?;
            let dev = ctx.device()?;
            let tokens: Vec<Value> = dev
                .device
                .tokens
                .iter()
                .map(|(name, t)| {
                    json!({"name": name, "tokenId": t.token_id, "signatureType": t.signature_type.as_str()})
                })
                .collect();
            let mut text = String::new();
            if tokens.is_empty() {
                text.push_str("no tokens: tokensim tokens create makes one\n");
            }
            for (name, t) in &dev.device.tokens {
                text.push_str(&format!(
                    "{name:<24} {}  {}\n",
                    t.token_id,
                    t.signature_type.as_str()
                ));
            }
            Ok(Output::new(text, json!({ "tokens": tokens })))
        }
        TokensCommand::Remove { name } => {
            let mut dev = ctx.device()?;
            let ran = ctx
                .call(&mut dev, async |s| {
                    s.remove_token(&name, &Factors::possession()).await
                })
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("token {name:?} removed"),
                    json!({ "name": name, "removed": true }),
                ))
            })
        }
        TokensCommand::Header { name } => {
            // Only a clock skew means something here: the header's timestamp moves.
            let client = match ctx.g.fault {
                Some(fault @ Fault::ClockSkew(_)) => ctx.client.with_fault(fault),
                Some(_) => {
                    ctx.no_fault("tokens header")?;
                    unreachable!("no_fault refused the fault")
                }
                None => ctx.client.clone(),
            };
            let dev = ctx.device()?;
            let header = dev.device.token_header(&name, &client)?;
            Ok(Output::new(
                format!("{}: {header}", powerauth::token::TokenHeader::NAME),
                json!({ "header": powerauth::token::TokenHeader::NAME, "value": header }),
            ))
        }
    }
}
