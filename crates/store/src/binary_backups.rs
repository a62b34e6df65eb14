//! The SQL of `binary_backups`: devices' `/system backup save` files, sealed. The `backup`
//! crate takes, seals and opens them; this module records them. A new row lands in one
//! transaction with its audit event, so a stored backup always says who asked for it.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AuditContext, Store, StoreError, audit};

/// A `binary_backups` row.
#[derive(Clone, PartialEq, Eq)]
pub struct BinaryBackupRow {
    pub id: String,
    pub device_id: String,
    pub taken_at: String,
    pub requested_by: String,
    /// The file's name on the device while it existed there.
    pub file_name: String,
    pub size_bytes: i64,
    /// SHA-256 (hex) of the file as the device wrote it.
    pub file_sha256: String,
    pub routeros_version: Option<String>,
    pub key_id: String,
    /// base64 of the sealed file ('' in listings).
    pub content: String,
    /// hex.
    pub content_nonce: String,
    /// base64 of the sealed password ('' in listings).
    pub password: String,
    /// hex.
    pub password_nonce: String,
}

impl std::fmt::Debug for BinaryBackupRow {
    // Ciphertexts are never printed (nor needed to tell rows apart).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinaryBackupRow")
            .field("id", &self.id)
            .field("device_id", &self.device_id)
            .field("taken_at", &self.taken_at)
            .field("requested_by", &self.requested_by)
            .field("size_bytes", &self.size_bytes)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, device_id, taken_at, requested_by, file_name, size_bytes, file_sha256, \
     routeros_version, key_id, content, content_nonce, password, password_nonce";

/// Without the ciphertexts (listings).
const HEAD_COLUMNS: &str = "id, device_id, taken_at, requested_by, file_name, size_bytes, \
     file_sha256, routeros_version, key_id, '' AS content, content_nonce, '' AS password, \
     password_nonce";

fn row(r: &AnyRow) -> Result<BinaryBackupRow, sqlx::Error> {
    Ok(BinaryBackupRow {
        id: r.try_get(0)?,
        device_id: r.try_get(1)?,
        taken_at: r.try_get(2)?,
        requested_by: r.try_get(3)?,
        file_name: r.try_get(4)?,
        size_bytes: r.try_get(5)?,
        file_sha256: r.try_get(6)?,
        routeros_version: r.try_get(7)?,
        key_id: r.try_get(8)?,
        content: r.try_get(9)?,
        content_nonce: r.try_get(10)?,
        password: r.try_get(11)?,
        password_nonce: r.try_get(12)?,
    })
}

impl Store {
    /// Records a binary backup together with the audit event `action` (details as given).
    pub async fn binary_backup_insert(
        &self,
        b: &BinaryBackupRow,
        ctx: &AuditContext,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO binary_backups ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        )))
        .bind(&b.id)
        .bind(&b.device_id)
        .bind(&b.taken_at)
        .bind(&b.requested_by)
        .bind(&b.file_name)
        .bind(b.size_bytes)
        .bind(&b.file_sha256)
        .bind(&b.routeros_version)
        .bind(&b.key_id)
        .bind(&b.content)
        .bind(&b.content_nonce)
        .bind(&b.password)
        .bind(&b.password_nonce)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            action,
            &format!("device:{}", b.device_id),
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One binary backup with its ciphertexts.
    pub async fn binary_backup_get(&self, id: &str) -> Result<Option<BinaryBackupRow>, StoreError> {
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM binary_backups WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(row).transpose()?)
    }

    /// The device's binary backups newest first, without ciphertexts.
    pub async fn binary_backup_list(
        &self,
        device_id: &str,
        limit: i64,
    ) -> Result<Vec<BinaryBackupRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM binary_backups WHERE device_id = $1 \
             ORDER BY taken_at DESC, id DESC LIMIT $2"
        )))
        .bind(device_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(row).collect::<Result<_, _>>()?)
    }

    /// Deletes the device's binary backups beyond the newest `keep` and those taken before
    /// `older_than`, never the newest one. Returns how many were deleted.
    pub async fn binary_backup_prune(
        &self,
        device_id: &str,
        keep: usize,
        older_than: Option<&str>,
    ) -> Result<u64, StoreError> {
        let heads = self.binary_backup_list(device_id, i64::MAX).await?;
        let mut deleted = 0;
        for (i, b) in heads.iter().enumerate().skip(1) {
            if i >= keep.max(1) || older_than.is_some_and(|t| b.taken_at.as_str() < t) {
                deleted += sqlx::query("DELETE FROM binary_backups WHERE id = $1")
                    .bind(&b.id)
                    .execute(self.pool())
                    .await?
                    .rows_affected();
            }
        }
        Ok(deleted)
    }
}
