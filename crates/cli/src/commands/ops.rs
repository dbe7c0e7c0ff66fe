//! `tokensim ops`: list, show, history, claim, approve, reject.

use serde_json::Value;
use tokensim_device::operations::{ProximityCheck, render_operation};

use super::{Ctx, Ran, Result, factors};
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
    let runner = ctx.runner();
    match command {
        OpsCommand::List => {
            let ran = tokensim_api::list_operations(&runner, &mut dev).await?;
            Ran::from(ran).output(|list| {
                let mut text = String::new();
                if list.operations.is_empty() {
                    text.push_str("no pending operations\n");
                }
                for op in &list.operations {
                    text.push_str(&operation_line(op));
                    text.push('\n');
                }
                Output::typed(text, &list)
            })
        }
        OpsCommand::Show { id } => {
            let ran = tokensim_api::operation_detail(&runner, &mut dev, &id).await?;
            Ran::from(ran).output(|shown| Output::typed(render_operation(&shown.operation), &shown))
        }
        OpsCommand::History { factors: f } => {
            let factors = factors(f.factors, &f.pin)?;
            let ran = tokensim_api::operation_history(&runner, &mut dev, &factors).await?;
            Ran::from(ran).output(|list| {
                let text: String = list
                    .operations
                    .iter()
                    .map(|op| format!("{}\n", operation_line(op)))
                    .collect();
                Output::typed(text, &list)
            })
        }
        OpsCommand::Claim { id } => {
            let ran = tokensim_api::claim_operation(&runner, &mut dev, &id).await?;
            Ran::from(ran).output(|claimed| {
                Output::typed(
                    format!(
                        "{}\nclaimed operation {id}",
                        render_operation(&claimed.operation)
                    ),
                    &claimed,
                )
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
            let proximity = proximity_otp.map(|otp| ProximityCheck {
                otp,
                kind: proximity_source.as_protocol().to_owned(),
                timestamp_received: humantime::format_rfc3339_millis(received).to_string(),
                timestamp_sent: humantime::format_rfc3339_millis(std::time::SystemTime::now())
                    .to_string(),
            });
            let ran = tokensim_api::approve_operation(
                &runner,
                &mut dev,
                &id,
                &factors,
                proximity.as_ref(),
            )
            .await?;
            Ran::from(ran).output(|approved| {
                Output::typed(
                    format!(
                        "{}\napproved operation {id}",
                        render_operation(&approved.operation)
                    ),
                    &approved,
                )
            })
        }
        OpsCommand::Reject { id, reason } => {
            let ran = tokensim_api::reject_operation(&runner, &mut dev, &id, &reason).await?;
            Ran::from(ran).output(|rejected| {
                Output::typed(format!("rejected operation {id} ({reason})"), &rejected)
            })
        }
    }
}
