//! Device credentials: sealed storage, versioned rotation, and master-key rotation.
//!
//! Each credential version is sealed under the master key and bound to `(device id, version)`,
//! so a ciphertext moved to another row does not open. Exactly one version per device is current;
//! retired versions keep their metadata but lose their ciphertext. Master-key rotation re-seals
//! every current credential in a single transaction: it either completes, or the old key keeps
//! working for everything.

use domain::{DeviceId, DeviceStatus};
use serde_json::json;
use sqlx::{Any, Transaction};
use vault::{KeyId, MasterKey, Sealed, SecretString};

use crate::audit::{self, AuditContext};
use crate::devices::{Device, fetch_device};
use crate::{Store, StoreError, time};

/// A device's current login, decrypted. `Debug` redacts the password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: SecretString,
    pub version: i64,
}

/// Progress of a master-key rotation, reported after each credential.
#[derive(Debug, Clone, Copy)]
pub struct RotationProgress {
    pub done: usize,
    pub total: usize,
}

/// The associated data binding a sealed password to its row.
pub(crate) fn credential_context(device: &DeviceId, version: i64) -> String {
    format!("device-credential|device={device}|version={version}")
}

pub(crate) async fn insert_credential(
    tx: &mut Transaction<'static, Any>,
    device: &DeviceId,
    version: i64,
    username: &str,
    sealed: &Sealed,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO device_credentials (device_id, version, username, key_id, nonce, ciphertext, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(device.to_string())
    .bind(version)
    .bind(username)
    .bind(sealed.key_id.as_str())
    .bind(sealed.nonce.as_slice())
    .bind(sealed.ciphertext.as_slice())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

type CredentialRow = (
    String,
    i64,
    String,
    String,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);
type CurrentRow = (i64, String, String, Option<Vec<u8>>, Option<Vec<u8>>);

fn sealed_from(key_id: String, nonce: Option<Vec<u8>>, ciphertext: Option<Vec<u8>>) -> Sealed {
    Sealed {
        key_id: KeyId::from_stored(key_id),
        nonce: nonce.unwrap_or_default(),
        ciphertext: ciphertext.unwrap_or_default(),
    }
}

impl Store {
    /// The current credentials of a device, decrypted with `key`.
    pub async fn credentials(
        &self,
        device: &Device,
        key: &MasterKey,
    ) -> Result<Credentials, StoreError> {
        let row: Option<CurrentRow> = sqlx::query_as(
            "SELECT version, username, key_id, nonce, ciphertext FROM device_credentials \
             WHERE device_id = $1 AND retired_at IS NULL",
        )
        .bind(device.id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let (version, username, key_id, nonce, ciphertext) =
            row.ok_or_else(|| StoreError::NoCredentials(device.name.to_string()))?;
        let password = key.open(
            &sealed_from(key_id, nonce, ciphertext),
            &credential_context(&device.id, version),
        )?;
        Ok(Credentials {
            username,
            password,
            version,
        })
    }

    /// Stores a new credential version (the previous one is retired and its secret wiped).
    pub async fn rotate_credentials(
        &self,
        device: &DeviceId,
        username: Option<&str>,
        password: &SecretString,
        key: &MasterKey,
        ctx: &AuditContext,
    ) -> Result<Credentials, StoreError> {
        let mut tx = self.begin_write().await?;
        let current = fetch_device(&mut *tx, device).await?;
        if current.status == DeviceStatus::Decommissioned {
            return Err(StoreError::Decommissioned(current.name.to_string()));
        }
        let (version, old_username) = match (current.credential_version, &current.username) {
            (Some(v), Some(u)) => (v, u.clone()),
            _ => return Err(StoreError::NoCredentials(current.name.to_string())),
        };
        let username = username.map_or(old_username, str::to_owned);
        let next = version + 1;
        let now = time::now();
        sqlx::query(
            "UPDATE device_credentials SET retired_at = $1, nonce = NULL, ciphertext = NULL \
             WHERE device_id = $2 AND retired_at IS NULL",
        )
        .bind(&now)
        .bind(device.to_string())
        .execute(&mut *tx)
        .await?;
        let sealed = key.seal(password, &credential_context(device, next))?;
        insert_credential(&mut tx, device, next, &username, &sealed, &now).await?;
        audit::append(
            &mut tx,
            ctx,
            "device.rotate_credentials",
            &current.audit_target(),
            json!({ "name": current.name.as_str(), "username": username, "version": next }),
        )
        .await?;
        tx.commit().await?;
        Ok(Credentials {
            username,
            password: password.clone(),
            version: next,
        })
    }

    /// Checks that every current credential opens under `key`; returns how many there are.
    pub async fn verify_master_key(&self, key: &MasterKey) -> Result<usize, StoreError> {
        let rows: Vec<CredentialRow> = sqlx::query_as(
            "SELECT device_id, version, username, key_id, nonce, ciphertext FROM device_credentials \
             WHERE retired_at IS NULL ORDER BY device_id",
        )
        .fetch_all(&self.pool)
        .await?;
        for (device_id, version, _, key_id, nonce, ciphertext) in &rows {
            let device: DeviceId = crate::parse_column(device_id, "device_credentials.device_id")?;
            key.open(
                &sealed_from(key_id.clone(), nonce.clone(), ciphertext.clone()),
                &credential_context(&device, *version),
            )?;
        }
        Ok(rows.len())
    }

    /// Re-seals every current credential from `old` to `new` in one transaction.
    ///
    /// `progress` is called after each credential; returning `Err` stops the rotation and
    /// rolls everything back (the CLI uses it to report progress; tests to interrupt it).
    pub async fn rotate_master_key(
        &self,
        old: &MasterKey,
        new: &MasterKey,
        ctx: &AuditContext,
        mut progress: impl FnMut(RotationProgress) -> Result<(), String>,
    ) -> Result<usize, StoreError> {
        let mut tx = self.begin_write().await?;
        let rows: Vec<CredentialRow> = sqlx::query_as(
            "SELECT device_id, version, username, key_id, nonce, ciphertext FROM device_credentials \
             WHERE retired_at IS NULL ORDER BY device_id",
        )
        .fetch_all(&mut *tx)
        .await?;
        let total = rows.len();
        for (done, (device_id, version, _, key_id, nonce, ciphertext)) in
            rows.into_iter().enumerate()
        {
            let device: DeviceId = crate::parse_column(&device_id, "device_credentials.device_id")?;
            let context = credential_context(&device, version);
            let plain = old.open(&sealed_from(key_id, nonce, ciphertext), &context)?;
            let sealed = new.seal(&plain, &context)?;
            sqlx::query(
                "UPDATE device_credentials SET key_id = $1, nonce = $2, ciphertext = $3 \
                 WHERE device_id = $4 AND version = $5",
            )
            .bind(sealed.key_id.as_str())
            .bind(sealed.nonce.as_slice())
            .bind(sealed.ciphertext.as_slice())
            .bind(&device_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            progress(RotationProgress {
                done: done + 1,
                total,
            })
            .map_err(StoreError::Aborted)?;
        }
        audit::append(
            &mut tx,
            ctx,
            "key.rotate",
            "vault:master-key",
            json!({ "from": old.id().as_str(), "to": new.id().as_str(), "credentials": total }),
        )
        .await?;
        tx.commit().await?;
        Ok(total)
    }

    /// Key ids under which current credentials are sealed, with counts (for `check`).
    pub async fn credential_key_ids(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT key_id, COUNT(*) FROM device_credentials WHERE retired_at IS NULL \
             GROUP BY key_id ORDER BY key_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
