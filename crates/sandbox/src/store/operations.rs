//! Operation templates and operations. Operation updates compare-and-swap on `revision`.

use super::{Store, StoreError, flag};
use sqlx::Row;
use sqlx::any::AnyRow;

/// How an operation is built and what approving it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// `id` in PowerAuth Server's template API.
    pub template_id: i64,
    /// `templateName`.
    pub template_name: String,
    /// `operationType`, the mobile JSON's `name`.
    pub operation_type: String,
    /// `data` with `${parameter}` placeholders.
    pub data_template: String,
    /// Allowed signature types, server names (`POSSESSION_KNOWLEDGE`).
    pub signature_types: Vec<String>,
    /// Failed approvals after which the operation is `FAILED`.
    pub max_failure_count: i64,
    /// Lifetime of a new operation, seconds.
    pub expiration_seconds: i64,
    /// Risk flags (`X`, `F`, `C`).
    pub risk_flags: Option<String>,
    /// Whether operations carry a TOTP proximity seed.
    pub proximity_check_enabled: bool,
    /// `formData` JSON with placeholders.
    pub form_data: serde_json::Value,
    /// `ui` JSON.
    pub ui: Option<serde_json::Value>,
}

/// Lifecycle of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationStatus {
    /// Waiting for the user.
    Pending,
    /// Approved with a valid signature.
    Approved,
    /// Rejected by the user.
    Rejected,
    /// Canceled by the backend.
    Canceled,
    /// Not decided in time.
    Expired,
    /// Too many failed approvals.
    Failed,
}

impl OperationStatus {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Canceled => "CANCELED",
            Self::Expired => "EXPIRED",
            Self::Failed => "FAILED",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Approved,
            Self::Rejected,
            Self::Canceled,
            Self::Expired,
            Self::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// UUID v4.
    pub operation_id: String,
    /// Compare-and-swap token.
    pub revision: i64,
    /// The user, `None` until claimed.
    pub user_id: Option<String>,
    /// The application.
    pub application_id: String,
    /// Restricts approval to one activation.
    pub activation_id: Option<String>,
    /// Backend's own id.
    pub external_id: Option<String>,
    /// Required activation flag.
    pub activation_flag: Option<String>,
    /// Template it was made from.
    pub template_name: String,
    /// `operationType`.
    pub operation_type: String,
    /// The exact string the device signs.
    pub data: String,
    /// Template parameters.
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// Backend data.
    pub additional_data: serde_json::Map<String, serde_json::Value>,
    /// Lifecycle state.
    pub status: OperationStatus,
    /// Why it ended (e.g. a cancel reason).
    pub status_reason: Option<String>,
    /// Allowed signature types (server names).
    pub signature_types: Vec<String>,
    /// Failed approvals so far.
    pub failure_count: i64,
    /// Failed approvals allowed.
    pub max_failure_count: i64,
    /// Risk flags.
    pub risk_flags: Option<String>,
    /// Base64 TOTP seed when a proximity check is on.
    pub totp_seed: Option<String>,
    /// Unix ms.
    pub timestamp_created: i64,
    /// Unix ms.
    pub timestamp_expires: i64,
    /// Unix ms, once final.
    pub timestamp_finalized: Option<i64>,
}

const TEMPLATE_COLUMNS: &str = "template_id, template_name, operation_type, data_template, \
    signature_types, max_failure_count, expiration_seconds, risk_flags, proximity_check_enabled, \
    form_data, ui";

/// What [`Store::remove_template`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateRemoval {
    /// The template is gone.
    Removed,
    /// No template has that id.
    NotFound,
    /// This many `PENDING` operations still use it; nothing changed.
    InUse(i64),
}

const COLUMNS: &str = "operation_id, revision, user_id, application_id, activation_id, external_id, \
    activation_flag, template_name, operation_type, data, parameters, additional_data, status, \
    status_reason, signature_types, failure_count, max_failure_count, risk_flags, totp_seed, \
    timestamp_created, timestamp_expires, timestamp_finalized";

impl Store {
    /// A template by name.
    pub async fn template(&self, name: &str) -> Result<Option<Template>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM operation_templates WHERE template_name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(template_from_row)
        .transpose()
    }

    /// A template by id.
    pub(crate) async fn template_by_id(
        &self,
        template_id: i64,
    ) -> Result<Option<Template>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM operation_templates WHERE template_id = $1"
        ))
        .bind(template_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(template_from_row)
        .transpose()
    }

    /// Every template, by id.
    pub(crate) async fn templates(&self) -> Result<Vec<Template>, StoreError> {
        sqlx::query(&format!(
            "SELECT {TEMPLATE_COLUMNS} FROM operation_templates ORDER BY template_id"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(template_from_row)
        .collect()
    }

    /// Stores `template` under the next free id (its `template_id` is ignored) and
    /// returns it with that id; `None` when the name is taken.
    pub(crate) async fn insert_template(
        &self,
        template: &Template,
    ) -> Result<Option<Template>, StoreError> {
        let mut tx = self.begin().await?;
        if self.backend() == super::Backend::Postgres {
            // Id allocation reads then writes: one creator at a time.
            sqlx::query("LOCK TABLE operation_templates IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let taken =
            sqlx::query("SELECT template_id FROM operation_templates WHERE template_name = $1")
                .bind(&template.template_name)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if taken {
            return Ok(None);
        }
        let next: i64 = sqlx::query(
            "SELECT COALESCE(MAX(template_id), 0) + 1 AS next FROM operation_templates",
        )
        .fetch_one(&mut *tx)
        .await?
        .try_get("next")?;
        let saved = Template {
            template_id: next,
            ..template.clone()
        };
        sqlx::query(&format!(
            "INSERT INTO operation_templates ({TEMPLATE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(saved.template_id)
        .bind(&saved.template_name)
        .bind(&saved.operation_type)
        .bind(&saved.data_template)
        .bind(json_text(&saved.signature_types))
        .bind(saved.max_failure_count)
        .bind(saved.expiration_seconds)
        .bind(&saved.risk_flags)
        .bind(flag(saved.proximity_check_enabled))
        .bind(json_text(&saved.form_data))
        .bind(saved.ui.as_ref().map(json_text::<serde_json::Value>))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(saved))
    }

    /// Replaces what the template API may change of template `template.template_id`
    /// (not its name, form data or UI); `false` when there is no such template.
    pub(crate) async fn update_template(&self, template: &Template) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE operation_templates SET operation_type = $2, data_template = $3, \
             signature_types = $4, max_failure_count = $5, expiration_seconds = $6, \
             risk_flags = $7, proximity_check_enabled = $8 WHERE template_id = $1",
        )
        .bind(template.template_id)
        .bind(&template.operation_type)
        .bind(&template.data_template)
        .bind(json_text(&template.signature_types))
        .bind(template.max_failure_count)
        .bind(template.expiration_seconds)
        .bind(&template.risk_flags)
        .bind(flag(template.proximity_check_enabled))
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes template `template_id` unless a `PENDING` operation still uses it.
    pub(crate) async fn remove_template(
        &self,
        template_id: i64,
    ) -> Result<TemplateRemoval, StoreError> {
        let mut tx = self.begin().await?;
        let Some(row) =
            sqlx::query("SELECT template_name FROM operation_templates WHERE template_id = $1")
                .bind(template_id)
                .fetch_optional(&mut *tx)
                .await?
        else {
            return Ok(TemplateRemoval::NotFound);
        };
        let name: String = row.try_get("template_name")?;
        let pending: i64 = sqlx::query(
            "SELECT COUNT(*) AS pending FROM operations WHERE template_name = $1 AND status = $2",
        )
        .bind(&name)
        .bind(OperationStatus::Pending.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get("pending")?;
        if pending > 0 {
            return Ok(TemplateRemoval::InUse(pending));
        }
        sqlx::query("DELETE FROM operation_templates WHERE template_id = $1")
            .bind(template_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TemplateRemoval::Removed)
    }

    /// Pending operations past their expiry, soonest expired first, at most `limit`.
    pub(crate) async fn expired_pending_operations(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT operation_id FROM operations WHERE status = 'PENDING' AND timestamp_expires < $1 \
             ORDER BY timestamp_expires LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row.try_get("operation_id").map_err(StoreError::from))
            .collect()
    }

    /// Stores a new operation.
    pub(crate) async fn insert_operation(&self, o: &Operation) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO operations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        );
        sqlx::query(&sql)
            .bind(&o.operation_id)
            .bind(o.revision)
            .bind(&o.user_id)
            .bind(&o.application_id)
            .bind(&o.activation_id)
            .bind(&o.external_id)
            .bind(&o.activation_flag)
            .bind(&o.template_name)
            .bind(&o.operation_type)
            .bind(&o.data)
            .bind(json_text(&o.parameters))
            .bind(json_text(&o.additional_data))
            .bind(o.status.as_str())
            .bind(&o.status_reason)
            .bind(json_text(&o.signature_types))
            .bind(o.failure_count)
            .bind(o.max_failure_count)
            .bind(&o.risk_flags)
            .bind(&o.totp_seed)
            .bind(o.timestamp_created)
            .bind(o.timestamp_expires)
            .bind(o.timestamp_finalized)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Saves the mutable fields if the operation is unchanged since read; bumps
    /// `o.revision`. Returns `false` when another writer saved first.
    pub(crate) async fn save_operation(&self, o: &mut Operation) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE operations SET revision = $1, user_id = $2, status = $3, status_reason = $4, \
             failure_count = $5, additional_data = $6, timestamp_finalized = $7 \
             WHERE operation_id = $8 AND revision = $9",
        )
        .bind(o.revision + 1)
        .bind(&o.user_id)
        .bind(o.status.as_str())
        .bind(&o.status_reason)
        .bind(o.failure_count)
        .bind(json_text(&o.additional_data))
        .bind(o.timestamp_finalized)
        .bind(&o.operation_id)
        .bind(o.revision)
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 1 {
            o.revision += 1;
        }
        Ok(updated == 1)
    }

    /// One operation by id.
    pub async fn operation(&self, operation_id: &str) -> Result<Option<Operation>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM operations WHERE operation_id = $1");
        sqlx::query(&sql)
            .bind(operation_id)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(operation_from_row)
            .transpose()
    }

    /// A user's operations, newest first, optionally only `PENDING` ones (as stored:
    /// expiry is applied by the caller).
    pub(crate) async fn operations_of_user(
        &self,
        user_id: &str,
        pending_only: bool,
    ) -> Result<Vec<Operation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM operations WHERE user_id = $1 AND (status = 'PENDING' OR $2 = 0) \
             ORDER BY timestamp_created DESC, operation_id"
        );
        sqlx::query(&sql)
            .bind(user_id)
            .bind(flag(pending_only))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(operation_from_row)
            .collect()
    }

    /// Operations created with `external_id`, newest first.
    pub(crate) async fn operations_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Vec<Operation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM operations WHERE external_id = $1 \
             ORDER BY timestamp_created DESC, operation_id"
        );
        sqlx::query(&sql)
            .bind(external_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(operation_from_row)
            .collect()
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    column: &'static str,
) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|_| StoreError::Corrupt(column))
}

fn template_from_row(row: &AnyRow) -> Result<Template, StoreError> {
    let ui: Option<String> = row.try_get("ui")?;
    Ok(Template {
        template_id: row.try_get("template_id")?,
        template_name: row.try_get("template_name")?,
        operation_type: row.try_get("operation_type")?,
        data_template: row.try_get("data_template")?,
        signature_types: json_column(row, "signature_types")?,
        max_failure_count: row.try_get("max_failure_count")?,
        expiration_seconds: row.try_get("expiration_seconds")?,
        risk_flags: row.try_get("risk_flags")?,
        proximity_check_enabled: row.try_get::<i64, _>("proximity_check_enabled")? != 0,
        form_data: json_column(row, "form_data")?,
        ui: ui
            .map(|text| serde_json::from_str(&text).map_err(|_| StoreError::Corrupt("ui")))
            .transpose()?,
    })
}

fn operation_from_row(row: &AnyRow) -> Result<Operation, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(Operation {
        operation_id: row.try_get("operation_id")?,
        revision: row.try_get("revision")?,
        user_id: row.try_get("user_id")?,
        application_id: row.try_get("application_id")?,
        activation_id: row.try_get("activation_id")?,
        external_id: row.try_get("external_id")?,
        activation_flag: row.try_get("activation_flag")?,
        template_name: row.try_get("template_name")?,
        operation_type: row.try_get("operation_type")?,
        data: row.try_get("data")?,
        parameters: json_column(row, "parameters")?,
        additional_data: json_column(row, "additional_data")?,
        status: OperationStatus::parse(&status).ok_or(StoreError::Corrupt("operations.status"))?,
        status_reason: row.try_get("status_reason")?,
        signature_types: json_column(row, "signature_types")?,
        failure_count: row.try_get("failure_count")?,
        max_failure_count: row.try_get("max_failure_count")?,
        risk_flags: row.try_get("risk_flags")?,
        totp_seed: row.try_get("totp_seed")?,
        timestamp_created: row.try_get("timestamp_created")?,
        timestamp_expires: row.try_get("timestamp_expires")?,
        timestamp_finalized: row.try_get("timestamp_finalized")?,
    })
}
