//! `tokensim ops`: list, show, history, claim, approve, reject.

use serde_json::{Value, json};
use tokensim_device::operations::{ProximityCheck, render_operation};

use super::{Ctx, Result, factors, knows};
use crate::cli::OpsCommand;
use crate::output::Output;

fn operation_line(op: &tokensim_device::operations::Operation) -> String {
    let title = op
        .form_data
        .as_ref()
        .and_then(|f| f.get("title"))
        .and_then(Value::as_str)
        .unwrap_or("");
    format!(
        "{}  {:<22} {:<9} {}",
        op.id,
        op.name,
        op.status.as_deref().unwrap_or("-"),
        title
    )
}

pub(super) async fn ops(ctx: &Ctx<'_>, command: OpsCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        OpsCommand::List => {
            let ran = ctx
                .call(&mut dev, async |s| s.list_operations().await)
                .await?;
            ran.output(|list| {
                let mut text = String::new();
                if list.is_empty() {
                    text.push_str("no pending operations\n");
                }
                for op in &list {
                    text.push_str(&operation_line(op));
                    text.push('\n');
                }
                Ok(Output::new(text, json!({ "operations": list })))
            })
        }
        OpsCommand::Show { id } => {
            let ran = ctx
                .call(&mut dev, async |s| s.operation_detail(&id).await)
                .await?;
            ran.output(|op| {
                Ok(Output::new(
                    render_operation(&op),
                    json!({ "operation": op }),
                ))
            })
        }
        OpsCommand::History { factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.operation_history(&factors).await
                })
                .await?;
            ran.output(|list| {
                let text: String = list
                    .iter()
                    .map(|op| format!("{}\n", operation_line(op)))
                    .collect();
                Ok(Output::new(text, json!({ "operations": list })))
            })
        }
        OpsCommand::Claim { id } => {
            let ran = ctx
                .call(&mut dev, async |s| s.claim_operation(&id).await)
                .await?;
            ran.output(|op| {
                Ok(Output::new(
                    format!("{}\nclaimed operation {id}", render_operation(&op)),
                    json!({ "id": id, "claimed": true, "operation": op }),
                ))
            })
        }
        OpsCommand::Approve {
            id,
            factors: f,
            proximity_otp,
            proximity_source,
        } => {
            let received = std::time::SystemTime::now();
            let factors = factors(f.factors, &f.pin)?;
            let operation = ctx
                .plain(&mut dev, async |s| s.operation_detail(&id).await)
                .await?;
            let rendered = render_operation(&operation);
            let proximity = proximity_otp.map(|otp| ProximityCheck {
                otp,
                kind: proximity_source.as_protocol().to_owned(),
                timestamp_received: humantime::format_rfc3339_millis(received).to_string(),
                timestamp_sent: humantime::format_rfc3339_millis(std::time::SystemTime::now())
                    .to_string(),
            });
            let ran = ctx
                .call_with(&mut dev, knows(&factors), async |s| {
                    s.approve_operation(&operation, &factors, proximity.as_ref())
                        .await
                })
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("{rendered}\napproved operation {id}"),
                    json!({ "id": id, "approved": true, "operation": operation }),
                ))
            })
        }
        OpsCommand::Reject { id, reason } => {
            let ran = ctx
                .call(&mut dev, async |s| s.reject_operation(&id, &reason).await)
                .await?;
            ran.output(|()| {
                Ok(Output::new(
                    format!("rejected operation {id} ({reason})"),
                    json!({ "id": id, "rejected": true, "reason": reason }),
                ))
            })
        }
    }
}
