//! Users of the Cloud API: an admin who manages users and applications, integration
//! users who drive registrations and operations. Passwords are stored as Argon2id PHC
//! strings only.

use super::{Store, StoreError};
use sqlx::Row;

/// What a Cloud API user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// Manages users and applications (`/admin/*`) and may also use the integration API.
    Admin,
    /// Uses the integration API (`/v2/*`).
    Integration,
}

impl Role {
    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Integration => "INTEGRATION",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "ADMIN" => Some(Role::Admin),
            "INTEGRATION" => Some(Role::Integration),
            _ => None,
        }
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The login name.
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// Argon2id PHC string of the password.
    pub password_hash: String,
    /// When the user was created, Unix ms.
    pub timestamp_created: i64,
}

impl Store {
    /// Creates a user. Returns `false` when the name is taken.
    pub async fn create_user(&self, user: &User) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO users (username, role, password_hash, timestamp_created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(&user.username)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.timestamp_created)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Creates a user or replaces its role and password.
    pub(crate) async fn put_user(&self, user: &User) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (username, role, password_hash, timestamp_created) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (username) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
        )
        .bind(&user.username)
        .bind(user.role.as_str())
        .bind(&user.password_hash)
        .bind(user.timestamp_created)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One user by name.
    pub async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        sqlx::query("SELECT username, role, password_hash, timestamp_created FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await?
            .as_ref()
            .map(user_from_row)
            .transpose()
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        sqlx::query(
            "SELECT username, role, password_hash, timestamp_created FROM users ORDER BY username",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    /// Deletes a user. Returns `false` when there was none.
    pub(crate) async fn delete_user(&self, username: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        username: row.try_get("username")?,
        role: Role::parse(&role).ok_or(StoreError::Corrupt("users.role"))?,
        password_hash: row.try_get("password_hash")?,
        timestamp_created: row.try_get("timestamp_created")?,
    })
}
