//! The OAuth tables (migration `0009_oauth.sql`). Every secret is looked up by its digest
//! ([`digest`]); state changes are compare-and-swaps, as everywhere in the store.

use crate::store::{Store, StoreError};
use sqlx::Row;

/// SHA-256 of a secret (client secret, token, device code, user code), Base64: the only
/// form in which the database sees one.
pub(crate) fn digest(secret: &str) -> String {
    powerauth::encoding::b64(ring::digest::digest(
        &ring::digest::SHA256,
        secret.as_bytes(),
    ))
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct Client {
    /// `client_id`.
    pub client_id: String,
    /// Digest of the secret; `None` for a public client.
    pub secret_digest: Option<String>,
    /// `client_name`.
    pub client_name: String,
    /// Grant types it may use.
    pub grant_types: Vec<String>,
    /// Scopes it may ask for.
    pub scope: Vec<String>,
}

impl Client {
    /// Whether the client may use `grant_type`.
    pub fn allows(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// `ACCESS` or `REFRESH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer access token.
    Access,
    /// A refresh token.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Access => "ACCESS",
            Self::Refresh => "REFRESH",
        }
    }
}

/// A token as stored.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Access or refresh.
    pub kind: TokenKind,
    /// The grant it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The device, for a device authorization grant.
    pub device_id: Option<String>,
    /// Space-separated scope.
    pub scope: String,
    /// Expiry, Unix ms; `None` for refresh tokens.
    pub expires_ms: Option<i64>,
    /// Revoked (RFC 7009).
    pub revoked: bool,
}

/// A new token to store.
#[derive(Debug)]
pub struct NewToken<'a> {
    /// The token's digest.
    pub digest: String,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The grant.
    pub grant_id: &'a str,
    /// The client.
    pub client_id: &'a str,
    /// The device, if any.
    pub device_id: Option<&'a str>,
    /// Space-separated scope.
    pub scope: &'a str,
    /// Expiry, Unix ms.
    pub expires_ms: Option<i64>,
}

/// The state of a device authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; tokens not yet handed out.
    Approved,
    /// The user denied.
    Denied,
    /// Tokens were handed out (the device code is spent).
    Issued,
}

impl DeviceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Denied => "DENIED",
            Self::Issued => "ISSUED",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "PENDING" => Self::Pending,
            "APPROVED" => Self::Approved,
            "DENIED" => Self::Denied,
            "ISSUED" => Self::Issued,
            _ => return Err(StoreError::Corrupt("oauth_device_authorizations.status")),
        })
    }
}

/// A device authorization as stored.
#[derive(Debug, Clone)]
pub struct DeviceAuthorization {
    /// Digest of the device code (the row's key).
    pub device_code_digest: String,
    /// The client that asked.
    pub client_id: String,
    /// The device's id.
    pub device_id: String,
    /// Space-separated scope.
    pub scope: String,
    /// Where it stands.
    pub status: DeviceStatus,
    /// The polling interval the device must keep, seconds.
    pub interval_seconds: i64,
    /// The last poll, Unix ms.
    pub last_poll_ms: Option<i64>,
    /// Expiry, Unix ms.
    pub expires_ms: i64,
    /// Created, Unix ms.
    pub created_ms: i64,
}

/// A pending device authorization as the verification page lists it, with its client's
/// name (never its user code).
#[derive(Debug, Clone)]
pub struct PendingDevice {
    /// The device's id.
    pub device_id: String,
    /// The client's name.
    pub client_name: String,
    /// Space-separated scope.
    pub scope: String,
    /// Expiry, Unix ms.
    pub expires_ms: i64,
}

/// How long expired device authorizations and access tokens are kept: an hour.
pub(crate) const KEEP_EXPIRED_MS: i64 = 60 * 60 * 1000;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

const DEVICE_COLUMNS: &str = "device_code_digest, client_id, device_id, scope, status, \
     interval_seconds, timestamp_last_poll, timestamp_expires, timestamp_created";

fn device_row(row: &sqlx::any::AnyRow) -> Result<DeviceAuthorization, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(DeviceAuthorization {
        device_code_digest: row.try_get("device_code_digest")?,
        client_id: row.try_get("client_id")?,
        device_id: row.try_get("device_id")?,
        scope: row.try_get("scope")?,
        status: DeviceStatus::parse(&status)?,
        interval_seconds: row.try_get("interval_seconds")?,
        last_poll_ms: row.try_get("timestamp_last_poll")?,
        expires_ms: row.try_get("timestamp_expires")?,
        created_ms: row.try_get("timestamp_created")?,
    })
}

impl Store {
    /// Registers a client.
    pub async fn oauth_insert_client(
        &self,
        client: &Client,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO oauth_clients (client_id, secret_digest, client_name, grant_types, scope, timestamp_created) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&client.client_id)
        .bind(client.secret_digest.as_deref())
        .bind(&client.client_name)
        .bind(client.grant_types.join(" "))
        .bind(client.scope.join(" "))
        .bind(now_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A client by id.
    pub async fn oauth_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(
            "SELECT client_id, secret_digest, client_name, grant_types, scope FROM oauth_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let grant_types: String = row.try_get("grant_types")?;
        let scope: String = row.try_get("scope")?;
        Ok(Some(Client {
            client_id: row.try_get("client_id")?,
            secret_digest: row.try_get("secret_digest")?,
            client_name: row.try_get("client_name")?,
            grant_types: words(&grant_types),
            scope: words(&scope),
        }))
    }

    /// Stores issued tokens in one transaction.
    pub async fn oauth_insert_tokens(
        &self,
        tokens: &[NewToken<'_>],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for token in tokens {
            sqlx::query(
                "INSERT INTO oauth_tokens (token_digest, kind, grant_id, client_id, device_id, scope, timestamp_expires, revoked, timestamp_created) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
            )
            .bind(&token.digest)
            .bind(token.kind.as_str())
            .bind(token.grant_id)
            .bind(token.client_id)
            .bind(token.device_id)
            .bind(token.scope)
            .bind(token.expires_ms)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A token by its digest.
    pub async fn oauth_token(&self, token_digest: &str) -> Result<Option<TokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT kind, grant_id, client_id, device_id, scope, timestamp_expires, revoked FROM oauth_tokens WHERE token_digest = $1",
        )
        .bind(token_digest)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind")?;
        let revoked: i64 = row.try_get("revoked")?;
        Ok(Some(TokenRow {
            kind: match kind.as_str() {
                "ACCESS" => TokenKind::Access,
                "REFRESH" => TokenKind::Refresh,
                _ => return Err(StoreError::Corrupt("oauth_tokens.kind")),
            },
            grant_id: row.try_get("grant_id")?,
            client_id: row.try_get("client_id")?,
            device_id: row.try_get("device_id")?,
            scope: row.try_get("scope")?,
            expires_ms: row.try_get("timestamp_expires")?,
            revoked: revoked != 0,
        }))
    }

    /// Revokes one token.
    pub async fn oauth_revoke_token(&self, token_digest: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE oauth_tokens SET revoked = 1 WHERE token_digest = $1")
            .bind(token_digest)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Revokes every token of a grant (its refresh token and the access tokens made from it).
    pub async fn oauth_revoke_grant(&self, grant_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE oauth_tokens SET revoked = 1 WHERE grant_id = $1")
            .bind(grant_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Stores a new device authorization. At most every sweep interval, first deletes the
    /// device authorizations and access tokens that expired more than [`KEEP_EXPIRED_MS`]
    /// ago (until then a poll still hears `expired_token`, a bearer `invalid_token`).
    pub async fn oauth_insert_device(
        &self,
        device: &DeviceAuthorization,
        user_code_digest: &str,
    ) -> Result<(), StoreError> {
        if self.sweep_due(crate::store::sweep::Table::OAuth, device.created_ms) {
            let before = device.created_ms - KEEP_EXPIRED_MS;
            sqlx::query("DELETE FROM oauth_device_authorizations WHERE timestamp_expires < $1")
                .bind(before)
                .execute(self.pool())
                .await?;
            sqlx::query(
                "DELETE FROM oauth_tokens WHERE kind = 'ACCESS' AND timestamp_expires < $1",
            )
            .bind(before)
            .execute(self.pool())
            .await?;
        }
        sqlx::query(
            "INSERT INTO oauth_device_authorizations (device_code_digest, user_code_digest, client_id, device_id, scope, status, interval_seconds, timestamp_last_poll, timestamp_expires, timestamp_created) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&device.device_code_digest)
        .bind(user_code_digest)
        .bind(&device.client_id)
        .bind(&device.device_id)
        .bind(&device.scope)
        .bind(device.status.as_str())
        .bind(device.interval_seconds)
        .bind(device.last_poll_ms)
        .bind(device.expires_ms)
        .bind(device.created_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A device authorization by the digest of its device code.
    pub async fn oauth_device(
        &self,
        device_code_digest: &str,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM oauth_device_authorizations WHERE device_code_digest = $1"
        ))
        .bind(device_code_digest)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(device_row).transpose()
    }

    /// A device authorization by the digest of its user code.
    pub async fn oauth_device_by_user_code(
        &self,
        user_code_digest: &str,
    ) -> Result<Option<DeviceAuthorization>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM oauth_device_authorizations WHERE user_code_digest = $1"
        ))
        .bind(user_code_digest)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(device_row).transpose()
    }

    /// Records a poll and the interval the device must keep from now on.
    pub async fn oauth_device_polled(
        &self,
        device_code_digest: &str,
        now_ms: i64,
        interval_seconds: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE oauth_device_authorizations SET timestamp_last_poll = $2, interval_seconds = $3 WHERE device_code_digest = $1",
        )
        .bind(device_code_digest)
        .bind(now_ms)
        .bind(interval_seconds)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Moves a device authorization from `from` to `to`; `false` when it was no longer in
    /// `from` (someone else won).
    pub async fn oauth_device_transition(
        &self,
        device_code_digest: &str,
        from: DeviceStatus,
        to: DeviceStatus,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE oauth_device_authorizations SET status = $3 WHERE device_code_digest = $1 AND status = $2",
        )
        .bind(device_code_digest)
        .bind(from.as_str())
        .bind(to.as_str())
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Device authorizations waiting for the user, newest first.
    pub async fn oauth_pending_devices(
        &self,
        now_ms: i64,
    ) -> Result<Vec<PendingDevice>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.device_id, c.client_name, d.scope, d.timestamp_expires \
             FROM oauth_device_authorizations d JOIN oauth_clients c ON c.client_id = d.client_id \
             WHERE d.status = 'PENDING' AND d.timestamp_expires > $1 \
             ORDER BY d.timestamp_created DESC, d.device_id LIMIT 500",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PendingDevice {
                    device_id: row.try_get("device_id")?,
                    client_name: row.try_get("client_name")?,
                    scope: row.try_get("scope")?,
                    expires_ms: row.try_get("timestamp_expires")?,
                })
            })
            .collect()
    }
}
