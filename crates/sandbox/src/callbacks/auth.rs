//! The `authentication` object of a callback URL: PowerAuth Server's
//! `HttpAuthenticationPrivate` in requests (secrets included), `HttpAuthenticationPublic`
//! in answers (each secret replaced by whether it is set). The JSON key of the OAuth 2.0
//! part is `oauth2`, as Jackson names Lombok's `getOAuth2()` and Wultra's docs write it.

use serde::{Deserialize, Serialize};

/// What a request may set (`HttpAuthenticationPrivate`). Absent parts are disabled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PrivateAuth {
    /// Client certificate (mTLS) from Java key stores.
    #[serde(deserialize_with = "null_as_default")]
    pub certificate: Certificate,
    /// HTTP Basic.
    #[serde(deserialize_with = "null_as_default")]
    pub http_basic: HttpBasic,
    /// OAuth 2.0 client credentials.
    #[serde(rename = "oauth2", deserialize_with = "null_as_default")]
    pub oauth2: OAuth2,
}

/// `HttpAuthenticationPrivate.Certificate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Certificate {
    pub enabled: bool,
    pub use_custom_key_store: bool,
    pub key_store_location: Option<String>,
    pub key_store_password: Option<String>,
    pub key_alias: Option<String>,
    pub key_password: Option<String>,
    pub use_custom_trust_store: bool,
    pub trust_store_location: Option<String>,
    pub trust_store_password: Option<String>,
}

/// `HttpAuthenticationPrivate.HttpBasic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct HttpBasic {
    pub enabled: bool,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// `HttpAuthenticationPrivate.OAuth2`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct OAuth2 {
    pub enabled: bool,
    pub token_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl PrivateAuth {
    /// PowerAuth Server's update rule: a secret the update leaves out (`null`) keeps the
    /// stored one.
    pub(crate) fn keep_secrets_of(&mut self, existing: &PrivateAuth) {
        fn keep(new: &mut Option<String>, old: &Option<String>) {
            if new.is_none() {
                new.clone_from(old);
            }
        }
        keep(
            &mut self.certificate.key_store_password,
            &existing.certificate.key_store_password,
        );
        keep(
            &mut self.certificate.key_password,
            &existing.certificate.key_password,
        );
        keep(
            &mut self.certificate.trust_store_password,
            &existing.certificate.trust_store_password,
        );
        keep(&mut self.http_basic.password, &existing.http_basic.password);
        keep(
            &mut self.oauth2.client_secret,
            &existing.oauth2.client_secret,
        );
    }

    /// The answer's view: which secrets are set, never the secrets.
    pub(crate) fn public(&self) -> PublicAuth {
        let c = &self.certificate;
        let b = &self.http_basic;
        let o = &self.oauth2;
        PublicAuth {
            certificate: PublicCertificate {
                enabled: c.enabled,
                use_custom_key_store: c.use_custom_key_store,
                key_store_location: c.key_store_location.clone(),
                key_store_password_set: c.key_store_password.is_some(),
                key_alias: c.key_alias.clone(),
                key_password_set: c.key_password.is_some(),
                use_custom_trust_store: c.use_custom_trust_store,
                trust_store_location: c.trust_store_location.clone(),
                trust_store_password_set: c.trust_store_password.is_some(),
            },
            http_basic: PublicHttpBasic {
                enabled: b.enabled,
                username: b.username.clone(),
                password_set: b.password.is_some(),
            },
            oauth2: PublicOAuth2 {
                enabled: o.enabled,
                token_uri: o.token_uri.clone(),
                client_id: o.client_id.clone(),
                client_secret_set: o.client_secret.is_some(),
                scope: o.scope.clone(),
            },
        }
    }
}

/// `HttpAuthenticationPublic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublicAuth {
    pub certificate: PublicCertificate,
    pub http_basic: PublicHttpBasic,
    #[serde(rename = "oauth2")]
    pub oauth2: PublicOAuth2,
}

/// `HttpAuthenticationPublic.Certificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublicCertificate {
    pub enabled: bool,
    pub use_custom_key_store: bool,
    pub key_store_location: Option<String>,
    pub key_store_password_set: bool,
    pub key_alias: Option<String>,
    pub key_password_set: bool,
    pub use_custom_trust_store: bool,
    pub trust_store_location: Option<String>,
    pub trust_store_password_set: bool,
}

/// `HttpAuthenticationPublic.HttpBasic`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublicHttpBasic {
    pub enabled: bool,
    pub username: Option<String>,
    pub password_set: bool,
}

/// `HttpAuthenticationPublic.OAuth2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PublicOAuth2 {
    pub enabled: bool,
    pub token_uri: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_set: bool,
    pub scope: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_public_view_says_which_secrets_are_set_and_shows_none() {
        let private: PrivateAuth = serde_json::from_value(json!({
            "httpBasic": {"enabled": true, "username": "hook", "password": "s3cret"},
            "oauth2": {"enabled": false, "clientId": "id", "clientSecret": "another-s3cret"}
        }))
        .unwrap();
        let public = serde_json::to_value(private.public()).unwrap();
        assert_eq!(
            public["httpBasic"],
            json!({"enabled": true, "username": "hook", "passwordSet": true})
        );
        assert_eq!(public["oauth2"]["clientSecretSet"], true);
        assert_eq!(public["certificate"]["keyStorePasswordSet"], false);
        assert!(!public.to_string().contains("s3cret"), "{public}");
    }

    #[test]
    fn an_update_without_a_secret_keeps_the_stored_one() {
        let existing: PrivateAuth = serde_json::from_value(json!({
            "httpBasic": {"enabled": true, "username": "hook", "password": "old"}
        }))
        .unwrap();
        let mut update: PrivateAuth = serde_json::from_value(json!({
            "httpBasic": {"enabled": true, "username": "hook2"}, "certificate": null
        }))
        .unwrap();
        update.keep_secrets_of(&existing);
        assert_eq!(update.http_basic.password.as_deref(), Some("old"));
        assert_eq!(update.http_basic.username.as_deref(), Some("hook2"));
    }
}
