//! `tokensim push`: register for pushes, listen to the push stream.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokensim_device::push::{CloudCredentials, PushMessage, PushStream};

use super::{Ctx, Ran, Result, env_secret};
use crate::cli::PushCommand;
use crate::error::{Class, ErrorKind, Failure};
use crate::output::{Output, emit, emit_stderr, json_line};

/// One line of `tokensim --json push listen`: a push as it arrives.
#[derive(Serialize)]
struct Pushed<'a> {
    push: &'a PushMessage,
}

pub(super) async fn push(ctx: &Ctx<'_>, command: PushCommand) -> Result<Output> {
    let mut dev = ctx.device()?;
    match command {
        PushCommand::Register { platform, token } => {
            let ran =
                tokensim_api::register_push(&ctx.runner(), &mut dev, &platform, token.as_deref())
                    .await?;
            Ran::from(ran).output(|registered| {
                Output::typed(format!("registered for {platform} pushes"), &registered)
            })
        }
        PushCommand::Listen {
            count,
            wait,
            cloud_user,
            cloud_password_env,
        } => {
            ctx.no_fault("push listen")?;
            let password = env_secret(&cloud_password_env).ok_or_else(|| {
                Failure::new(Class::Usage, ErrorKind::NoPassword, "no Cloud API password given")
                    .hint(format!(
                        "set ${cloud_password_env} to the sandbox's {cloud_user} password (tokensim sandbox prints it)"
                    ))
            })?;
            let credentials = CloudCredentials {
                username: cloud_user,
                password,
            };
            let device = &dev.device;
            let mut stream = PushStream::open(
                &ctx.client,
                &device.profile.server_url,
                &device.activation_id,
                &credentials,
            )
            .await?;
            if !ctx.g.quiet {
                emit_stderr(&format!(
                    "listening for pushes to {}…\n",
                    device.activation_id
                ));
            }
            let bar = ctx.spinner("waiting for pushes…");
            let deadline = wait.map(|secs| tokio::time::Instant::now() + Duration::from_secs(secs));
            let mut received = 0u64;
            while count.is_none_or(|count| received < count) {
                let next = match deadline {
                    Some(deadline) => {
                        match tokio::time::timeout_at(deadline, stream.next()).await {
                            Ok(next) => next,
                            Err(_) => break,
                        }
                    }
                    None => stream.next().await,
                };
                let Some(message) = next else { break };
                let message = message?;
                received += 1;
                let line = if ctx.g.json {
                    json_line(&Pushed { push: &message })?
                } else {
                    format!("push {}: {}", message.message_id, message.body)
                };
                bar.suspend(|| emit(&format!("{line}\n")));
            }
            bar.finish_and_clear();
            if let Some(count) = count
                && received < count
            {
                return Err(Failure::new(
                    Class::Error,
                    ErrorKind::Timeout,
                    format!("received {received} of {count} pushes before the stream ended or --wait ran out"),
                )
                .hint("raise --wait, or check that pushes are sent to this device's user"));
            }
            // Pushes were printed as they came; nothing more on stdout.
            Ok(Output::new("", Value::Null))
        }
    }
}
