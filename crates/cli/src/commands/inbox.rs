//! `tokensim inbox`: the message inbox.

use super::{Ctx, Ran, Result};
use crate::cli::InboxCommand;
use crate::output::Output;

pub(super) async fn inbox(ctx: &Ctx<'_>, command: InboxCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    let runner = ctx.runner();
    match command {
        InboxCommand::List { unread } => {
            let ran = tokensim_api::inbox_list(&runner, &mut dev, 100, unread).await?;
            Ran::from(ran).output(|list| {
                let mut text = String::new();
                if list.messages.is_empty() {
                    text.push_str("no messages\n");
                }
                for m in &list.messages {
                    text.push_str(&format!(
                        "{} {} {}  {}\n",
                        if m.read { " " } else { "*" },
                        m.id,
                        m.subject,
                        m.summary
                    ));
                }
                Output::typed(text, &list)
            })
        }
        InboxCommand::Read { id } => {
            let ran = tokensim_api::inbox_read(&runner, &mut dev, &id).await?;
            Ran::from(ran).output(|read| {
                let m = &read.message;
                Output::typed(
                    format!(
                        "{}\n{}\n\n{}\n",
                        m.subject,
                        m.summary,
                        m.body.as_deref().unwrap_or("")
                    ),
                    &read,
                )
            })
        }
    }
}
