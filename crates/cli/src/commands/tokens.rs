//! `tokensim tokens`: create, list, remove, and the token header.

use tokensim_device::Fault;

use super::{Ctx, Ran, Result, factors};
use crate::cli::TokensCommand;
use crate::output::Output;

pub(super) async fn tokens(ctx: &Ctx<'_>, command: TokensCommand) -> Result<Output> {
    let runner = ctx.runner();
    match command {
        TokensCommand::Create { name, factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let mut dev = ctx.device()?;
            let ran = tokensim_api::create_token(&runner, &mut dev, &name, &factors).await?;
            Ran::from(ran).output(|created| {
                Output::typed(
                    format!("token {:?} created: {}", created.name, created.token_id),
                    &created,
                )
            })
        }
        TokensCommand::List => {
            runner.no_fault("tokens list")?;
            let dev = ctx.device()?;
            let list = tokensim_api::list_tokens(&runner, &dev)?;
            let mut text = String::new();
            if list.tokens.is_empty() {
                text.push_str("no tokens: tokensim tokens create makes one\n");
            }
            for t in &list.tokens {
                text.push_str(&format!(
                    "{:<24} {}  {}\n",
                    t.name, t.token_id, t.signature_type
                ));
            }
            Output::typed(text, &list)
        }
        TokensCommand::Remove { name } => {
            let mut dev = ctx.device()?;
            let ran = tokensim_api::remove_token(&runner, &mut dev, &name).await?;
            Ran::from(ran)
                .output(|removed| Output::typed(format!("token {name:?} removed"), &removed))
        }
        TokensCommand::Header { name } => {
            // Only a clock skew means something here: the header's timestamp moves.
            if !matches!(runner.fault(), None | Some(Fault::ClockSkew(_))) {
                runner.no_fault("tokens header")?;
            }
            let dev = ctx.device()?;
            let header = tokensim_api::token_header(&runner, &dev, &name)?;
            Output::typed(format!("{}: {}", header.header, header.value), &header)
        }
    }
}
