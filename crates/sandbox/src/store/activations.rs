//! Activations: the server's record of one device binding, from `/rest/v3/activation/init`
//! to removal. Updates are compare-and-swap on `revision` ([`Store::save_activation`]).

use super::{Store, StoreError};
use powerauth::encoding::{b64, b64_decode};
use powerauth::status::ActivationState;
use powerauth::{CtrData, KeyPair, PrivateKey, PublicKey};
use sqlx::Row;
use sqlx::any::AnyRow;

/// When the activation OTP, if any, is checked and the record becomes `ACTIVE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CommitPhase {
    /// Key exchange leaves the record `PENDING_COMMIT`; `/rest/v3/activation/commit` (with
    /// the OTP, if one was set) makes it `ACTIVE`.
    OnCommit,
    /// The OTP (if set) comes in layer 2 and a valid key exchange makes the record `ACTIVE`.
    OnKeyExchange,
}

impl CommitPhase {
    fn as_str(self) -> &'static str {
        match self {
            CommitPhase::OnCommit => "ON_COMMIT",
            CommitPhase::OnKeyExchange => "ON_KEY_EXCHANGE",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "ON_COMMIT" => Some(CommitPhase::OnCommit),
            "ON_KEY_EXCHANGE" => Some(CommitPhase::OnKeyExchange),
            _ => None,
        }
    }
}

/// One activation record. `Debug` never prints keys (the `powerauth` key types redact).
#[derive(Debug, Clone)]
pub struct Activation {
    /// UUID v4.
    pub activation_id: String,
    /// Bumped by every save; the compare-and-swap token.
    pub revision: i64,
    /// Owning application.
    pub application_id: String,
    /// The user the activation belongs to.
    pub user_id: String,
    /// An external user id given at commit or block, if any.
    pub external_id: Option<String>,
    /// Lifecycle state.
    pub state: ActivationState,
    /// `XXXXX-XXXXX-XXXXX-XXXXX`.
    pub activation_code: String,
    /// Base64 DER ECDSA signature of the code by the master key.
    pub activation_signature: String,
    /// Additional OTP the device or the commit must present, if any.
    pub activation_otp: Option<String>,
    /// When the OTP is checked.
    pub commit_phase: CommitPhase,
    /// Name the device gave itself.
    pub activation_name: Option<String>,
    /// `KEY_DEVICE_PUBLIC`, once the key exchange happened.
    pub device_public_key: Option<PublicKey>,
    /// `KEY_SERVER_PRIVATE` / `KEY_SERVER_PUBLIC`, once the key exchange happened.
    pub server_key_pair: Option<KeyPair>,
    /// `CTR_DATA`, once the key exchange happened.
    pub ctr_data: Option<CtrData>,
    /// Numeric counter (signatures verified so far, look-ahead included).
    pub counter: i64,
    /// Major protocol version of the record (3).
    pub major_version: i64,
    /// Failed signature attempts since the last success.
    pub failed_attempts: i64,
    /// Failed attempts that block the activation.
    pub max_failed_attempts: i64,
    /// `ios`, `android`, `hw`, `unknown`…
    pub platform: Option<String>,
    /// Device model text.
    pub device_info: Option<String>,
    /// Free text the device sent.
    pub extras: Option<String>,
    /// Activation flags.
    pub flags: Vec<String>,
    /// Why the activation is blocked.
    pub blocked_reason: Option<String>,
    /// Unix ms.
    pub timestamp_created: i64,
    /// Until when a `CREATED` / `PENDING_COMMIT` record may be completed, Unix ms.
    pub timestamp_expires: i64,
    /// Last successful use, Unix ms.
    pub timestamp_last_used: i64,
    /// Last state change, Unix ms.
    pub timestamp_last_change: i64,
}

const COLUMNS: &str = "activation_id, revision, application_id, user_id, external_id, state, \
    activation_code, activation_signature, activation_otp, commit_phase, activation_name, \
    device_public_key, server_private_key, server_public_key, ctr_data, counter, major_version, \
    failed_attempts, max_failed_attempts, platform, device_info, extras, flags, blocked_reason, \
    timestamp_created, timestamp_expires, timestamp_last_used, timestamp_last_change";

impl Store {
    /// Inserts a new record. Returns `false` (nothing written) when the id, or the code
    /// among live records of the application, is taken.
    pub(crate) async fn insert_activation(&self, a: &Activation) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO activations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28) \
             ON CONFLICT DO NOTHING"
        );
        let inserted = bind_all(sqlx::query(&sql), a)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(inserted == 1)
    }

    /// Writes every mutable field of `a` if nobody saved the record since it was read
    /// (same `revision`), and bumps `a.revision`. Returns `false` when another writer got
    /// there first: reload and decide again.
    pub(crate) async fn save_activation(&self, a: &mut Activation) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE activations SET revision = $1, user_id = $2, external_id = $3, state = $4, \
             activation_otp = $5, activation_name = $6, device_public_key = $7, \
             server_private_key = $8, server_public_key = $9, ctr_data = $10, counter = $11, \
             major_version = $12, failed_attempts = $13, max_failed_attempts = $14, platform = $15, \
             device_info = $16, extras = $17, flags = $18, blocked_reason = $19, \
             timestamp_expires = $20, timestamp_last_used = $21, timestamp_last_change = $22 \
             WHERE activation_id = $23 AND revision = $24",
        )
        .bind(a.revision + 1)
        .bind(&a.user_id)
        .bind(&a.external_id)
        .bind(a.state.name())
        .bind(&a.activation_otp)
        .bind(&a.activation_name)
        .bind(a.device_public_key.as_ref().map(|k| b64(k.encoded())))
        .bind(private_b64(a))
        .bind(public_b64(a))
        .bind(a.ctr_data.as_ref().map(|c| b64(c.expose_bytes())))
        .bind(a.counter)
        .bind(a.major_version)
        .bind(a.failed_attempts)
        .bind(a.max_failed_attempts)
        .bind(&a.platform)
        .bind(&a.device_info)
        .bind(&a.extras)
        .bind(flags_json(&a.flags))
        .bind(&a.blocked_reason)
        .bind(a.timestamp_expires)
        .bind(a.timestamp_last_used)
        .bind(a.timestamp_last_change)
        .bind(&a.activation_id)
        .bind(a.revision)
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 1 {
            a.revision += 1;
        }
        Ok(updated == 1)
    }

    /// One record by id.
    pub async fn activation(&self, activation_id: &str) -> Result<Option<Activation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM activations WHERE activation_id = $1");
        sqlx::query(&sql)
            .bind(activation_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(activation_from_row)
            .transpose()
    }

    /// `CREATED` and `PENDING_COMMIT` records past their expiry, soonest expired first, at
    /// most `limit`.
    pub(crate) async fn expired_unfinished_activations(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT activation_id FROM activations WHERE state IN ('CREATED', 'PENDING_COMMIT') \
             AND timestamp_expires < $1 ORDER BY timestamp_expires LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row.try_get("activation_id").map_err(StoreError::from))
            .collect()
    }

    /// The record in state `CREATED` that carries `code` in `application_id`.
    pub(crate) async fn created_activation_by_code(
        &self,
        application_id: &str,
        code: &str,
    ) -> Result<Option<Activation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM activations \
             WHERE application_id = $1 AND activation_code = $2 AND state = 'CREATED'"
        );
        sqlx::query(&sql)
            .bind(application_id)
            .bind(code)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(activation_from_row)
            .transpose()
    }

    /// A user's activations, newest first.
    pub(crate) async fn activations_of_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<Activation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM activations WHERE user_id = $1 \
             ORDER BY timestamp_created DESC, activation_id"
        );
        sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(activation_from_row)
            .collect()
    }
}

fn private_b64(a: &Activation) -> Option<String> {
    a.server_key_pair
        .as_ref()
        .map(|pair| b64(&pair.private.expose_bytes()[..]))
}

fn public_b64(a: &Activation) -> Option<String> {
    a.server_key_pair
        .as_ref()
        .map(|pair| b64(pair.public.to_uncompressed()))
}

fn flags_json(flags: &[String]) -> String {
    serde_json::to_string(flags).unwrap_or_else(|_| "[]".to_owned())
}

fn bind_all<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    a: &'q Activation,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&a.activation_id)
        .bind(a.revision)
        .bind(&a.application_id)
        .bind(&a.user_id)
        .bind(&a.external_id)
        .bind(a.state.name())
        .bind(&a.activation_code)
        .bind(&a.activation_signature)
        .bind(&a.activation_otp)
        .bind(a.commit_phase.as_str())
        .bind(&a.activation_name)
        .bind(a.device_public_key.as_ref().map(|k| b64(k.encoded())))
        .bind(private_b64(a))
        .bind(public_b64(a))
        .bind(a.ctr_data.as_ref().map(|c| b64(c.expose_bytes())))
        .bind(a.counter)
        .bind(a.major_version)
        .bind(a.failed_attempts)
        .bind(a.max_failed_attempts)
        .bind(&a.platform)
        .bind(&a.device_info)
        .bind(&a.extras)
        .bind(flags_json(&a.flags))
        .bind(&a.blocked_reason)
        .bind(a.timestamp_created)
        .bind(a.timestamp_expires)
        .bind(a.timestamp_last_used)
        .bind(a.timestamp_last_change)
}

fn parse_state(text: &str) -> Option<ActivationState> {
    ActivationState::ALL.into_iter().find(|s| s.name() == text)
}

fn activation_from_row(row: &AnyRow) -> Result<Activation, StoreError> {
    let decode = |column: &'static str| -> Result<Option<Vec<u8>>, StoreError> {
        row.try_get::<Option<String>, _>(column)?
            .map(|text| b64_decode(&text).map_err(|_| StoreError::Corrupt(column)))
            .transpose()
    };
    let device_public_key = decode("device_public_key")?
        .map(|bytes| PublicKey::from_sec1(&bytes))
        .transpose()
        .map_err(|_| StoreError::Corrupt("activations.device_public_key"))?;
    let server_private_key = decode("server_private_key")?
        .map(|bytes| PrivateKey::from_bytes(&bytes))
        .transpose()
        .map_err(|_| StoreError::Corrupt("activations.server_private_key"))?;
    let server_public_key = decode("server_public_key")?
        .map(|bytes| PublicKey::from_sec1(&bytes))
        .transpose()
        .map_err(|_| StoreError::Corrupt("activations.server_public_key"))?;
    // Both halves are written together; no multiplication to rebuild the public one.
    let server_key_pair = match (server_private_key, server_public_key) {
        (Some(private), Some(public)) => Some(KeyPair::from_parts(private, public)),
        (None, None) => None,
        _ => return Err(StoreError::Corrupt("activations.server_public_key")),
    };
    let ctr_data = decode("ctr_data")?
        .map(|bytes| CtrData::from_slice(&bytes).ok_or(StoreError::Corrupt("activations.ctr_data")))
        .transpose()?;
    let state: String = row.try_get("state")?;
    let commit_phase: String = row.try_get("commit_phase")?;
    let flags: String = row.try_get("flags")?;
    Ok(Activation {
        activation_id: row.try_get("activation_id")?,
        revision: row.try_get("revision")?,
        application_id: row.try_get("application_id")?,
        user_id: row.try_get("user_id")?,
        external_id: row.try_get("external_id")?,
        state: parse_state(&state).ok_or(StoreError::Corrupt("activations.state"))?,
        activation_code: row.try_get("activation_code")?,
        activation_signature: row.try_get("activation_signature")?,
        activation_otp: row.try_get("activation_otp")?,
        commit_phase: CommitPhase::parse(&commit_phase)
            .ok_or(StoreError::Corrupt("activations.commit_phase"))?,
        activation_name: row.try_get("activation_name")?,
        device_public_key,
        server_key_pair,
        ctr_data,
        counter: row.try_get("counter")?,
        major_version: row.try_get("major_version")?,
        failed_attempts: row.try_get("failed_attempts")?,
        max_failed_attempts: row.try_get("max_failed_attempts")?,
        platform: row.try_get("platform")?,
        device_info: row.try_get("device_info")?,
        extras: row.try_get("extras")?,
        flags: serde_json::from_str(&flags)
            .map_err(|_| StoreError::Corrupt("activations.flags"))?,
        blocked_reason: row.try_get("blocked_reason")?,
        timestamp_created: row.try_get("timestamp_created")?,
        timestamp_expires: row.try_get("timestamp_expires")?,
        timestamp_last_used: row.try_get("timestamp_last_used")?,
        timestamp_last_change: row.try_get("timestamp_last_change")?,
    })
}
