//! Profile `signed-token` (issue 16 §4): a phone whose vendor SDK attaches the user to the
//! device (`attach`) and reports events (`identify`), carrying a signed token on each when
//! the vendor project requires it.
//!
//! Tokens are HS256 JWTs `{"user": ID}` (for identify, the event id) from the bank's app
//! server (`POST /profiles/signed-token/app/sign`), which self-signs them with the project's
//! API secret or, with `source: vendor`, gets them from the vendor's counted sign endpoint.
//! The attach token is kept in the user's store and renewed only when its own expiry (by the
//! device's clock) has passed; an identify token is asked for each event.
//!
//! Faults: `expired-token` (a token born expired, `tokenLifetimeSeconds: 0`, not stored),
//! `wrong-secret` (a token self-signed with a secret that is not the project's), and the
//! shared transport faults of [`super::ProfileClient`].

use super::{FaultCheck, ProfileClient, ProfileRecord, field, unverified_claims};
use crate::{Error, Fault, FaultReport, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// The test vendor's projects (the sandbox's).
pub const PROJECTS_PATH: &str = "/profiles/signed-token/projects";

/// Makes a vendor project on the server (the sandbox's test vendor) with `settings`
/// (`requireSignedTokens`, `signRatePerMinute`, `tokenLifetimeSeconds`); its id.
pub async fn create_project(pc: &ProfileClient, settings: &Value) -> Result<String> {
    let label = "profile/signed-token/project";
    let made = pc
        .send(
            label,
            reqwest::Method::POST,
            PROJECTS_PATH,
            Vec::new(),
            Some(settings),
        )
        .await?;
    field(&made, "projectId", label)
}

/// The profile's name.
pub const PROFILE: &str = "signed-token";
/// The app server's sign endpoint.
pub const APP_SIGN_PATH: &str = "/profiles/signed-token/app/sign";

/// Where the app server gets tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Self-signed with the project's API secret.
    #[serde(rename = "self")]
    SelfSigned,
    /// The vendor's sign endpoint (counted).
    Vendor,
}

impl Source {
    /// The app server's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SelfSigned => "self",
            Source::Vendor => "vendor",
        }
    }
}

/// Where an account goes after its token changed.
pub type Save<'a> = dyn FnMut(&SignedTokenAccount) -> Result<()> + Send + 'a;

/// A device of profile `signed-token`.
#[derive(Clone)]
pub struct SignedTokenAccount {
    /// The server's base URL.
    pub server_url: String,
    /// The vendor project.
    pub project_id: String,
    /// The user the device attaches.
    pub user: String,
    /// Where the app server gets tokens.
    pub source: Source,
    /// When the kept attach token expires, Unix seconds.
    pub token_expires_at: Option<i64>,
    token: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for SignedTokenAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedTokenAccount")
            .field("server_url", &self.server_url)
            .field("project_id", &self.project_id)
            .field("user", &self.user)
            .field("source", &self.source)
            .field("token_expires_at", &self.token_expires_at)
            .finish_non_exhaustive()
    }
}

/// What the vendor answered to attach or identify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// `attach` or `identify`.
    pub call: String,
    /// The user (attach) or event id (identify).
    pub subject: String,
    /// Whether the call carried a token.
    pub signed: bool,
    /// Whether the device asked the app server for a new token first.
    pub refreshed: bool,
}

impl Accepted {
    /// `signed` or `unsigned`, as the CLI and the app say it.
    pub fn signing(&self) -> &'static str {
        if self.signed { "signed" } else { "unsigned" }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    project_id: String,
    source: Source,
    token_expires_at: Option<i64>,
}

#[derive(Serialize, Deserialize, Default)]
struct SecretPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl Drop for SecretPart {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        if let Some(token) = &mut self.token {
            token.zeroize();
        }
    }
}

impl SignedTokenAccount {
    /// A device for `user` in `project_id` at `server_url` (no call is made).
    pub fn new(server_url: &str, project_id: &str, user: &str, source: Source) -> Self {
        Self {
            server_url: server_url.trim_end_matches('/').to_owned(),
            project_id: project_id.to_owned(),
            user: user.to_owned(),
            source,
            token_expires_at: None,
            token: None,
        }
    }

    /// Whether an attach token is kept.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the kept token must be replaced: none kept, or its own expiry has passed by
    /// the device's clock.
    pub fn needs_refresh(&self, now_seconds: i64) -> bool {
        self.token.is_none() || self.token_expires_at.is_none_or(|exp| exp <= now_seconds)
    }

    /// A token for `user` from the app server (valid `lifetime` s when given).
    async fn sign(
        &self,
        pc: &ProfileClient,
        user: &str,
        lifetime: Option<i64>,
    ) -> Result<(Zeroizing<String>, i64)> {
        let mut body =
            json!({ "projectId": self.project_id, "user": user, "source": self.source.as_str() });
        if let Some(seconds) = lifetime {
            body["tokenLifetimeSeconds"] = json!(seconds);
        }
        let answer = pc
            .send(
                "profile/signed-token/sign",
                reqwest::Method::POST,
                APP_SIGN_PATH,
                Vec::new(),
                Some(&body),
            )
            .await?;
        let token = Zeroizing::new(field(&answer, "token", "profile/signed-token/sign")?);
        let expires_at = answer
            .body
            .get("expiresAt")
            .and_then(Value::as_i64)
            .or_else(|| unverified_claims(&token)?.get("exp")?.as_i64())
            .ok_or_else(|| {
                Error::invalid(
                    "profile/signed-token/sign",
                    "the field expiresAt is missing",
                )
            })?;
        Ok((token, expires_at))
    }

    /// Asks the app server for a new attach token, keeps it and saves the account.
    pub async fn refresh(&mut self, pc: &ProfileClient, persist: &mut Save<'_>) -> Result<()> {
        let (token, expires_at) = self.sign(pc, &self.user.clone(), None).await?;
        self.token = Some(token);
        self.token_expires_at = Some(expires_at);
        persist(self)
    }

    /// `attach` with the kept token, renewed first only when its own expiry has passed.
    /// With `signed: false` the call carries no token (a project that does not require
    /// one accepts it).
    pub async fn attach(
        &mut self,
        pc: &ProfileClient,
        signed: bool,
        persist: &mut Save<'_>,
    ) -> Result<Accepted> {
        super::check_fault(PROFILE, pc.fault())?;
        let user = self.user.clone();
        let (token, refreshed) = match (signed, pc.fault()) {
            (false, _) => (None, false),
            (true, Some(Fault::ExpiredToken)) => {
                (Some(self.sign(pc, &user, Some(0)).await?.0), false)
            }
            (true, Some(Fault::WrongSecret)) => (Some(forge(&user, pc.now_seconds())?), false),
            (true, _) => {
                let refreshed = self.needs_refresh(pc.now_seconds());
                if refreshed {
                    self.refresh(pc, persist).await?;
                }
                (self.token.clone(), refreshed)
            }
        };
        self.send(pc, "attach", &user, token.as_ref(), refreshed)
            .await
    }

    /// `identify` for `event_id`, with a token for that event from the app server.
    pub async fn identify(
        &mut self,
        pc: &ProfileClient,
        event_id: &str,
        signed: bool,
    ) -> Result<Accepted> {
        super::check_fault(PROFILE, pc.fault())?;
        let token = match (signed, pc.fault()) {
            (false, _) => None,
            (true, Some(Fault::ExpiredToken)) => Some(self.sign(pc, event_id, Some(0)).await?.0),
            (true, Some(Fault::WrongSecret)) => Some(forge(event_id, pc.now_seconds())?),
            (true, _) => Some(self.sign(pc, event_id, None).await?.0),
        };
        self.send(pc, "identify", event_id, token.as_ref(), false)
            .await
    }

    async fn send(
        &self,
        pc: &ProfileClient,
        call: &'static str,
        subject: &str,
        token: Option<&Zeroizing<String>>,
        refreshed: bool,
    ) -> Result<Accepted> {
        let key = if call == "attach" { "user" } else { "eventId" };
        let mut body = json!({ "projectId": self.project_id, key: subject });
        if let Some(token) = token {
            body["token"] = json!(token.as_str());
        }
        let (label, path) = if call == "attach" {
            (
                "profile/signed-token/attach",
                "/profiles/signed-token/attach",
            )
        } else {
            (
                "profile/signed-token/identify",
                "/profiles/signed-token/identify",
            )
        };
        let answer = pc
            .send(label, reqwest::Method::POST, path, Vec::new(), Some(&body))
            .await?;
        Ok(Accepted {
            call: call.to_owned(),
            subject: field(&answer, key, label)?,
            signed: answer.body.get("signed").and_then(Value::as_bool) == Some(true),
            refreshed,
        })
    }

    /// [`Self::attach`] (signed) under `fault`, judged.
    pub async fn attach_faulted(
        &mut self,
        pc: &ProfileClient,
        fault: Fault,
        persist: &mut Save<'_>,
    ) -> Result<FaultReport> {
        let check = FaultCheck::start(pc.client(), PROFILE, fault)?;
        let faulted = pc.with_client(check.client());
        let result = self.attach(&faulted, true, persist).await;
        Ok(check.report(&result, |fault| match fault {
            Fault::ExpiredToken => "token_expired",
            _ => "token_invalid",
        }))
    }

    /// The account as the store keeps it.
    pub fn to_parts(&self) -> (ProfileRecord, Zeroizing<Vec<u8>>) {
        let details = Details {
            project_id: self.project_id.clone(),
            source: self.source,
            token_expires_at: self.token_expires_at,
        };
        let record = ProfileRecord {
            profile: PROFILE.to_owned(),
            server_url: self.server_url.clone(),
            subject: self.user.clone(),
            details: serde_json::to_value(details).unwrap_or(Value::Null),
        };
        let secret = SecretPart {
            token: self.token.as_deref().cloned(),
        };
        (
            record,
            Zeroizing::new(serde_json::to_vec(&secret).unwrap_or_default()),
        )
    }

    /// The account from what the store kept.
    pub fn from_parts(record: &ProfileRecord, secret: &[u8]) -> Result<Self> {
        let corrupt = |detail: String| Error::invalid("stored profile account", detail);
        let details: Details = serde_json::from_value(record.details.clone())
            .map_err(|e| corrupt(format!("the record does not read: {e}")))?;
        let secret: SecretPart = serde_json::from_slice(secret)
            .map_err(|e| corrupt(format!("the secret part does not read: {e}")))?;
        Ok(Self {
            server_url: record.server_url.clone(),
            project_id: details.project_id,
            user: record.subject.clone(),
            source: details.source,
            token_expires_at: details.token_expires_at,
            token: secret.token.clone().map(Zeroizing::new),
        })
    }
}

/// A token for `user` signed with a random secret: not the project's.
fn forge(user: &str, now: i64) -> Result<Zeroizing<String>> {
    let mut secret = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| Error::Protocol("no randomness for the forged token".to_owned()))?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "user": user, "iat": now, "exp": now + 3600 }),
        &jsonwebtoken::EncodingKey::from_secret(&secret),
    )
    .map(Zeroizing::new)
    .map_err(|e| Error::Protocol(format!("the forged token could not be signed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_and_refresh_only_after_expiry() {
        let mut account = SignedTokenAccount::new("http://x/", "p", "alice", Source::Vendor);
        assert!(account.needs_refresh(0));
        account.token = Some(Zeroizing::new("tok-secret".to_owned()));
        account.token_expires_at = Some(50);
        assert!(!account.needs_refresh(49));
        assert!(account.needs_refresh(50));
        let (record, secret) = account.to_parts();
        assert!(
            !serde_json::to_string(&record)
                .unwrap()
                .contains("tok-secret")
        );
        let back = SignedTokenAccount::from_parts(&record, &secret).unwrap();
        assert_eq!(back.source, Source::Vendor);
        assert!(back.has_token());
        assert_eq!(back.server_url, "http://x");
        let forged = forge("alice", 10).unwrap();
        assert_eq!(unverified_claims(&forged).unwrap()["user"], "alice");
    }
}
