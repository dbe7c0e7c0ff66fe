//! Applications (master key pair) and their versions (APP_KEY / APP_SECRET).

use super::{Store, StoreError, flag};
use powerauth::encoding::{b64, b64_decode};
use powerauth::{KeyPair, PrivateKey, PublicKey};
use sqlx::Row;
use sqlx::any::AnyRow;

/// An application: a name and its master key pair (`KEY_SERVER_MASTER_*`).
#[derive(Debug, Clone)]
pub struct Application {
    /// The application's name, which PowerAuth Server calls `applicationId`.
    pub application_id: String,
    /// The master key pair; the public half ships in the mobile SDK configuration.
    pub master: KeyPair,
}

/// One version of an application: the credentials one build of the mobile app carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationVersion {
    /// The application it belongs to.
    pub application_id: String,
    /// The version's name (`applicationVersionId`).
    pub version_id: String,
    /// `APP_KEY`, Base64 of 16 bytes.
    pub application_key: String,
    /// `APP_SECRET`, Base64 of 16 bytes.
    pub application_secret: String,
    /// Whether activations and signatures with this version's key are accepted.
    pub supported: bool,
}

impl Store {
    /// Creates an application with its first version, in one transaction. Returns
    /// `false` (and writes nothing) when an application of that name exists.
    pub async fn create_application(
        &self,
        application: &Application,
        first_version: &ApplicationVersion,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO applications (application_id, master_private_key, master_public_key, timestamp_created) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (application_id) DO NOTHING",
        )
        .bind(&application.application_id)
        .bind(b64(&application.master.private.expose_bytes()[..]))
        .bind(b64(application.master.public.to_uncompressed()))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        insert_version(&mut tx, first_version, now_ms).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a version. Returns `false` when the application already has a version of
    /// that name.
    pub(crate) async fn create_version(
        &self,
        version: &ApplicationVersion,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let inserted = insert_version(&mut tx, version, now_ms).await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Every application, oldest first.
    pub async fn applications(&self) -> Result<Vec<Application>, StoreError> {
        sqlx::query(
            "SELECT application_id, master_private_key, master_public_key FROM applications \
             ORDER BY timestamp_created, application_id",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(application_from_row)
        .collect()
    }

    /// One application by name.
    pub async fn application(
        &self,
        application_id: &str,
    ) -> Result<Option<Application>, StoreError> {
        if let Some(application) = self.applications.get(application_id) {
            return Ok(Some(application));
        }
        let application = sqlx::query(
            "SELECT application_id, master_private_key, master_public_key FROM applications WHERE application_id = $1",
        )
        .bind(application_id)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(application_from_row)
        .transpose()?;
        if let Some(application) = &application {
            self.applications.put(application);
        }
        Ok(application)
    }

    /// The versions of an application, oldest first.
    pub async fn versions(
        &self,
        application_id: &str,
    ) -> Result<Vec<ApplicationVersion>, StoreError> {
        sqlx::query(
            "SELECT application_id, version_id, application_key, application_secret, supported \
             FROM application_versions WHERE application_id = $1 ORDER BY timestamp_created, version_id",
        )
        .bind(application_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(version_from_row)
        .collect()
    }

    /// The version that owns an `APP_KEY`.
    pub(crate) async fn version_by_key(
        &self,
        application_key: &str,
    ) -> Result<Option<ApplicationVersion>, StoreError> {
        sqlx::query(
            "SELECT application_id, version_id, application_key, application_secret, supported \
             FROM application_versions WHERE application_key = $1",
        )
        .bind(application_key)
        .fetch_optional(self.pool())
        .await?
        .as_ref()
        .map(version_from_row)
        .transpose()
    }

    /// Marks a version supported or not. Returns the updated version, or `None` when it
    /// does not exist.
    pub(crate) async fn set_version_supported(
        &self,
        application_id: &str,
        version_id: &str,
        supported: bool,
    ) -> Result<Option<ApplicationVersion>, StoreError> {
        let updated = sqlx::query(
            "UPDATE application_versions SET supported = $1 WHERE application_id = $2 AND version_id = $3",
        )
        .bind(flag(supported))
        .bind(application_id)
        .bind(version_id)
        .execute(self.pool())
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        Ok(self
            .versions(application_id)
            .await?
            .into_iter()
            .find(|v| v.version_id == version_id))
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    version: &ApplicationVersion,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO application_versions \
         (application_id, version_id, application_key, application_secret, supported, timestamp_created) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id, version_id) DO NOTHING",
    )
    .bind(&version.application_id)
    .bind(&version.version_id)
    .bind(&version.application_key)
    .bind(&version.application_secret)
    .bind(flag(version.supported))
    .bind(now_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Applications already read, by name. Rows of `applications` are never updated or
/// deleted, so an entry cannot go stale; a name not found is not remembered (another
/// process sharing the database may create it). Bounded: starts over when full.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    entries: std::sync::RwLock<std::collections::HashMap<String, Application>>,
}

impl Cache {
    const CAPACITY: usize = 1024;

    fn get(&self, application_id: &str) -> Option<Application> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(application_id).cloned()
    }

    fn put(&self, application: &Application) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(application.application_id.clone(), application.clone());
    }
}

fn application_from_row(row: &AnyRow) -> Result<Application, StoreError> {
    let private: String = row.try_get("master_private_key")?;
    let private = b64_decode(&private)
        .ok()
        .and_then(|bytes| PrivateKey::from_bytes(&bytes).ok())
        .ok_or(StoreError::Corrupt("applications.master_private_key"))?;
    let public: String = row.try_get("master_public_key")?;
    let public = PublicKey::from_b64(&public)
        .map_err(|_| StoreError::Corrupt("applications.master_public_key"))?;
    Ok(Application {
        application_id: row.try_get("application_id")?,
        // Both halves were written together; no multiplication to rebuild the public one.
        master: KeyPair::from_parts(private, public),
    })
}

fn version_from_row(row: &AnyRow) -> Result<ApplicationVersion, StoreError> {
    Ok(ApplicationVersion {
        application_id: row.try_get("application_id")?,
        version_id: row.try_get("version_id")?,
        application_key: row.try_get("application_key")?,
        application_secret: row.try_get("application_secret")?,
        supported: row.try_get::<i64, _>("supported")? != 0,
    })
}
