//! What PowerAuth Server keeps per application besides its keys: configuration items
//! (a key and a list of JSON values) and role changes (the roles themselves are read
//! with `Store::application_roles`). Lists come back sorted in Rust, so both databases
//! answer in the same order whatever their collation.

use super::{Store, StoreError};
use serde_json::Value;
use sqlx::Row;

impl Store {
    /// The configuration items of `application_id`, by key.
    pub(crate) async fn application_configs(
        &self,
        application_id: &str,
    ) -> Result<Vec<(String, Vec<Value>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT config_key, config_values FROM application_configs WHERE application_id = $1",
        )
        .bind(application_id)
        .fetch_all(self.pool())
        .await?;
        let mut items = rows
            .iter()
            .map(|row| {
                let key: String = row.try_get("config_key")?;
                let values: String = row.try_get("config_values")?;
                let values = serde_json::from_str(&values)
                    .map_err(|_| StoreError::Corrupt("config_values"))?;
                Ok((key, values))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        items.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(items)
    }

    /// Saves the configuration item `key` of `application_id`, replacing its values.
    pub(crate) async fn save_application_config(
        &self,
        application_id: &str,
        key: &str,
        values: &[Value],
    ) -> Result<(), StoreError> {
        let values =
            serde_json::to_string(values).map_err(|_| StoreError::Corrupt("config_values"))?;
        sqlx::query(
            "INSERT INTO application_configs (application_id, config_key, config_values) \
             VALUES ($1, $2, $3) ON CONFLICT (application_id, config_key) \
             DO UPDATE SET config_values = excluded.config_values",
        )
        .bind(application_id)
        .bind(key)
        .bind(values)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes the configuration item `key` of `application_id`, if there is one.
    pub(crate) async fn remove_application_config(
        &self,
        application_id: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM application_configs WHERE application_id = $1 AND config_key = $2",
        )
        .bind(application_id)
        .bind(key)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Changes the roles of `application_id` in one transaction: `replace` drops the
    /// current ones first, then `add` are added and `remove` taken away. Returns the
    /// roles afterwards, sorted.
    pub(crate) async fn change_application_roles(
        &self,
        application_id: &str,
        replace: bool,
        add: &[String],
        remove: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin().await?;
        if replace {
            sqlx::query("DELETE FROM application_roles WHERE application_id = $1")
                .bind(application_id)
                .execute(&mut *tx)
                .await?;
        }
        for role in add {
            sqlx::query(
                "INSERT INTO application_roles (application_id, role) VALUES ($1, $2) \
                 ON CONFLICT (application_id, role) DO NOTHING",
            )
            .bind(application_id)
            .bind(role)
            .execute(&mut *tx)
            .await?;
        }
        for role in remove {
            sqlx::query("DELETE FROM application_roles WHERE application_id = $1 AND role = $2")
                .bind(application_id)
                .bind(role)
                .execute(&mut *tx)
                .await?;
        }
        let mut roles = sqlx::query("SELECT role FROM application_roles WHERE application_id = $1")
            .bind(application_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get::<String, _>("role"))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        roles.sort();
        Ok(roles)
    }
}
