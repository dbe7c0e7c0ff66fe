//! `tokensim inbox`: the message inbox.

use serde_json::json;

use super::{Ctx, Result};
use crate::cli::InboxCommand;
use crate::output::Output;

pub(super) async fn inbox(ctx: &Ctx<'_>, command: InboxCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        InboxCommand::List { unread } => {
            let ran = ctx
                .call(&mut dev, async |s| s.inbox_list(0, 100, unread).await)
                .await?;
            ran.output(|messages| {
                let mut text = String::new();
                if messages.is_empty() {
                    text.push_str("no messages\n");
                }
                for m in &messages {
                    text.push_str(&format!(
                        "{} {} {}  {}\n",
                        if m.read { " " } else { "*" },
                        m.id,
                        m.subject,
                        m.summary
                    ));
                }
                Ok(Output::new(text, json!({ "messages": messages })))
            })
        }
        InboxCommand::Read { id } => {
            let ran = ctx
                .call(&mut dev, async |s| {
                    let message = s.inbox_detail(&id).await?;
                    s.inbox_read(&id).await?;
                    Ok(message)
                })
                .await?;
            ran.output(|m| {
                Ok(Output::new(
                    format!(
                        "{}\n{}\n\n{}\n",
                        m.subject,
                        m.summary,
                        m.body.as_deref().unwrap_or("")
                    ),
                    json!({ "message": m }),
                ))
            })
        }
    }
}
