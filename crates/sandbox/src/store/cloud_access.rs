//! The Cloud API's administration data: which applications each user may use, and the
//! roles an application was created with.

use super::{Store, StoreError};
use sqlx::Row;

impl Store {
    /// Lets `username` use `application_id`. Returns `false` when it already could.
    pub async fn assign_application(
        &self,
        username: &str,
        application_id: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO user_applications (username, application_id, timestamp_created) \
             VALUES ($1, $2, $3) ON CONFLICT (username, application_id) DO NOTHING",
        )
        .bind(username)
        .bind(application_id)
        .bind(now_ms)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// The applications `username` may use, in the order they were assigned.
    pub(crate) async fn user_applications(
        &self,
        username: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT application_id FROM user_applications WHERE username = $1 \
             ORDER BY timestamp_created, application_id",
        )
        .bind(username)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|row| row.try_get("application_id").map_err(StoreError::from))
        .collect()
    }

    /// Records the roles of a new application.
    pub(crate) async fn set_application_roles(
        &self,
        application_id: &str,
        roles: &[String],
    ) -> Result<(), StoreError> {
        let mut transaction = self.begin().await?;
        sqlx::query("DELETE FROM application_roles WHERE application_id = $1")
            .bind(application_id)
            .execute(&mut *transaction)
            .await?;
        for role in roles {
            sqlx::query(
                "INSERT INTO application_roles (application_id, role) VALUES ($1, $2) \
                 ON CONFLICT (application_id, role) DO NOTHING",
            )
            .bind(application_id)
            .bind(role)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The roles of an application, by name.
    pub(crate) async fn application_roles(
        &self,
        application_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query("SELECT role FROM application_roles WHERE application_id = $1 ORDER BY role")
            .bind(application_id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| row.try_get("role").map_err(StoreError::from))
            .collect()
    }
}
