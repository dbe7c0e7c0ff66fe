//! `tokensim ecies`: a generic ECIES exchange with any endpoint of the device's server, so
//! a developer can try their own encrypted endpoints (or the sandbox's `/exchange/v3/*`).

use super::{Ctx, Result, factors};
use crate::cli::{EciesArgs, EciesScopeArg};
use crate::error::{Class, ErrorKind, Failure};
use crate::output::Output;
use powerauth::encoding::b64;
use serde::Serialize;
use serde_json::Value;
use tokensim_device::EciesScope;

/// The bytes `--data` names: the text, or the file after `@`.
fn data_bytes(data: &str) -> Result<Vec<u8>> {
    match data.strip_prefix('@') {
        Some(file) => {
            let path = std::path::Path::new(file);
            std::fs::read(path).map_err(|e| Failure::io("read", path, &e))
        }
        None => Ok(data.as_bytes().to_vec()),
    }
}

/// What `tokensim --json ecies` prints: the exchange and the server's decrypted answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exchanged<'a> {
    /// `application` or `activation`.
    scope: &'static str,
    path: &'a str,
    /// The `--sign` URI id, when the exchange was signed.
    signed_uri_id: Option<&'a str>,
    /// The answer as JSON, when it is JSON.
    response: Option<Value>,
    response_text: &'a str,
    response_base64: String,
}

pub(super) async fn run(ctx: &Ctx<'_>, args: EciesArgs) -> Result<Output> {
    if !args.path.starts_with('/') {
        return Err(Failure::new(
            Class::Usage,
            ErrorKind::BadPath,
            format!("--path {:?} is not a path", args.path),
        )
        .hint("give the path under the device's server URL, e.g. --path /exchange/v3/activation"));
    }
    let scope = match args.scope {
        EciesScopeArg::Application => EciesScope::Application,
        EciesScopeArg::Activation => EciesScope::Activation,
    };
    if args.sign.is_some() && scope == EciesScope::Application {
        return Err(Failure::new(
            Class::Usage,
            ErrorKind::SignNeedsActivationScope,
            "a signed exchange is encrypted in activation scope",
        )
        .hint("use --scope activation with --sign"));
    }
    let plaintext = data_bytes(&args.data)?;
    let factors = match &args.sign {
        Some(_) => Some(factors(args.factors.factors, &args.factors.pin)?),
        None => None,
    };
    let knowledge = factors.as_ref().is_some_and(|f| {
        f.signature_type
            .factors()
            .contains(&powerauth::signature::Factor::Knowledge)
    });
    let mut dev = ctx.device()?;
    let path = args.path.clone();
    let sign = args.sign.clone();
    let ran = ctx
        .call_with(&mut dev, knowledge, async |s| match (&sign, &factors) {
            (Some(uri_id), Some(factors)) => {
                s.signed_encrypted_exchange(&path, uri_id, factors, &plaintext)
                    .await
            }
            _ => s.encrypted_exchange(scope, &path, &plaintext).await,
        })
        .await?;
    ran.output(|answer| {
        let text = String::from_utf8_lossy(&answer).into_owned();
        let parsed: Option<Value> = serde_json::from_slice(&answer).ok();
        let exchanged = Exchanged {
            scope: scope.as_str(),
            path: &args.path,
            signed_uri_id: args.sign.as_deref(),
            response: parsed,
            response_text: &text,
            response_base64: b64(&answer),
        };
        Output::typed(text.clone(), &exchanged)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_text_or_a_file() {
        assert_eq!(data_bytes("{\"a\":1}").unwrap(), b"{\"a\":1}");
        let dir = std::env::temp_dir().join(format!("tokensim-ecies-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("body.bin");
        std::fs::write(&file, [0u8, 159, 146, 150]).unwrap();
        assert_eq!(
            data_bytes(&format!("@{}", file.display())).unwrap(),
            [0u8, 159, 146, 150]
        );
        assert!(data_bytes("@/no/such/file/here").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
