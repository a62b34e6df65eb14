//! The SQL of the configuration backup tables (`config_snapshots`, `config_drift`,
//! `config_checks`), kept with the migration that creates them. Rows are plain columns; the
//! `backup` crate normalizes exports, decides causes and drift, and seals content — this module
//! records them. Drift first seen lands in one transaction with its audit event, and the row's
//! absence is checked in the same statement, so two checks racing record it (and audit it) once.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AuditContext, Store, StoreError, audit};

/// A `config_snapshots` row.
#[derive(Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub id: String,
    pub device_id: String,
    pub taken_at: String,
    /// SHA-256 (hex) of the normalized export.
    pub content_hash: String,
    /// The normalized export, or base64 of its ciphertext when `key_id` is set.
    pub content: String,
    pub key_id: Option<String>,
    /// Hex, with `key_id`.
    pub nonce: Option<String>,
    pub line_count: i64,
    pub routeros_version: Option<String>,
    /// `schedule`, `operator`, `plan` or `drift_check`.
    pub trigger_kind: String,
    /// `baseline`, `plan` or `outside`.
    pub cause: String,
    pub plan_id: Option<String>,
    pub changed_by: Option<String>,
    /// JSON array of menus.
    pub changed_menus: String,
}

impl std::fmt::Debug for SnapshotRow {
    // The content may hold a whole configuration (or its ciphertext): never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotRow")
            .field("id", &self.id)
            .field("device_id", &self.device_id)
            .field("taken_at", &self.taken_at)
            .field("content_hash", &self.content_hash)
            .field("encrypted", &self.key_id.is_some())
            .field("cause", &self.cause)
            .finish_non_exhaustive()
    }
}

const SNAPSHOT_COLUMNS: &str = "id, device_id, taken_at, content_hash, content, key_id, nonce, \
     line_count, routeros_version, trigger_kind, cause, plan_id, changed_by, changed_menus";

/// The columns without the content (listings): the content column reads as ''.
const HEAD_COLUMNS: &str = "id, device_id, taken_at, content_hash, '' AS content, key_id, nonce, \
     line_count, routeros_version, trigger_kind, cause, plan_id, changed_by, changed_menus";

fn snapshot_row(row: &AnyRow) -> Result<SnapshotRow, sqlx::Error> {
    Ok(SnapshotRow {
        id: row.try_get(0)?,
        device_id: row.try_get(1)?,
        taken_at: row.try_get(2)?,
        content_hash: row.try_get(3)?,
        content: row.try_get(4)?,
        key_id: row.try_get(5)?,
        nonce: row.try_get(6)?,
        line_count: row.try_get(7)?,
        routeros_version: row.try_get(8)?,
        trigger_kind: row.try_get(9)?,
        cause: row.try_get(10)?,
        plan_id: row.try_get(11)?,
        changed_by: row.try_get(12)?,
        changed_menus: row.try_get(13)?,
    })
}

/// A `config_drift` row: a device out of line with the last state the product accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftRow {
    pub device_id: String,
    /// When the first snapshot that differs from the baseline was taken.
    pub since: String,
    pub baseline_id: String,
    pub snapshot_id: String,
    /// JSON array of menus that differ.
    pub menus: String,
    pub checked_at: String,
}

/// A `config_checks` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRow {
    pub device_id: String,
    pub checked_at: String,
    /// `ok` or `failed`.
    pub status: String,
    pub error: Option<String>,
}

/// A plan the product applied on a device, with who approved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPlan {
    pub plan_id: String,
    pub approver: Option<String>,
    pub applied_at: String,
}

impl Store {
    /// Records a snapshot.
    pub async fn snapshot_insert(&self, s: &SnapshotRow) -> Result<(), StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO config_snapshots ({SNAPSHOT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )))
        .bind(&s.id)
        .bind(&s.device_id)
        .bind(&s.taken_at)
        .bind(&s.content_hash)
        .bind(&s.content)
        .bind(&s.key_id)
        .bind(&s.nonce)
        .bind(s.line_count)
        .bind(&s.routeros_version)
        .bind(&s.trigger_kind)
        .bind(&s.cause)
        .bind(&s.plan_id)
        .bind(&s.changed_by)
        .bind(&s.changed_menus)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// One snapshot with its content.
    pub async fn snapshot_get(&self, id: &str) -> Result<Option<SnapshotRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM config_snapshots WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(snapshot_row).transpose()?)
    }

    /// The device's newest snapshot.
    pub async fn snapshot_latest(
        &self,
        device_id: &str,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM config_snapshots WHERE device_id = $1 \
             ORDER BY taken_at DESC, id DESC LIMIT 1"
        )))
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(snapshot_row).transpose()?)
    }

    /// The device's newest snapshot of a state the product applied or accepted (cause
    /// `baseline` or `plan`): what drift is measured against.
    pub async fn snapshot_baseline(
        &self,
        device_id: &str,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM config_snapshots \
             WHERE device_id = $1 AND cause IN ('baseline', 'plan') \
             ORDER BY taken_at DESC, id DESC LIMIT 1"
        )))
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(snapshot_row).transpose()?)
    }

    /// The device's snapshots newest first, without content: `limit` of them after skipping
    /// `offset`.
    pub async fn snapshot_list(
        &self,
        device_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<SnapshotRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM config_snapshots WHERE device_id = $1 \
             ORDER BY taken_at DESC, id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(device_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(snapshot_row).collect::<Result<_, _>>()?)
    }

    /// How many snapshots the device has.
    pub async fn snapshot_count(&self, device_id: &str) -> Result<i64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM config_snapshots WHERE device_id = $1")
                .bind(device_id)
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }

    /// The oldest snapshot taken after `after` (exclusive), without content.
    pub async fn snapshot_first_after(
        &self,
        device_id: &str,
        after: &str,
    ) -> Result<Option<SnapshotRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {HEAD_COLUMNS} FROM config_snapshots WHERE device_id = $1 AND taken_at > $2 \
             ORDER BY taken_at, id LIMIT 1"
        )))
        .bind(device_id)
        .bind(after)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(snapshot_row).transpose()?)
    }

    /// Deletes the device's snapshots beyond the newest `keep` and those taken before
    /// `older_than`, but never the newest one, its baseline, or one a drift record points at.
    /// Returns how many were deleted.
    pub async fn snapshot_prune(
        &self,
        device_id: &str,
        keep: usize,
        older_than: Option<&str>,
    ) -> Result<u64, StoreError> {
        let heads = self.snapshot_list(device_id, 0, i64::MAX).await?;
        let baseline = self.snapshot_baseline(device_id).await?.map(|b| b.id);
        let drift = self.drift_get(device_id).await?;
        let protected = |id: &str| {
            baseline.as_deref() == Some(id)
                || drift
                    .as_ref()
                    .is_some_and(|d| d.baseline_id == id || d.snapshot_id == id)
        };
        let doomed: Vec<&SnapshotRow> = heads
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(i, s)| {
                *i >= keep.max(1) || older_than.is_some_and(|t| s.taken_at.as_str() < t)
            })
            .map(|(_, s)| s)
            .filter(|s| !protected(&s.id))
            .collect();
        let mut deleted = 0;
        for s in doomed {
            deleted += sqlx::query("DELETE FROM config_snapshots WHERE id = $1")
                .bind(&s.id)
                .execute(self.pool())
                .await?
                .rows_affected();
        }
        Ok(deleted)
    }

    /// Plans the product applied (or applied and then rolled back) with a change on the device,
    /// last updated after `since` (all of them when `None`), newest first.
    pub async fn plans_applied_since(
        &self,
        device_id: &str,
        since: Option<&str>,
    ) -> Result<Vec<AppliedPlan>, StoreError> {
        let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT p.id, \
                    (SELECT a.approver FROM plan_approvals a WHERE a.plan_id = p.id \
                       AND a.decision = 'approved' ORDER BY a.created_at DESC LIMIT 1), \
                    p.updated_at \
             FROM plans p \
             WHERE p.status IN ('applied', 'rolled_back') AND p.updated_at > $2 \
               AND EXISTS (SELECT 1 FROM plan_changes c WHERE c.plan_id = p.id AND c.device_id = $1) \
             ORDER BY p.updated_at DESC",
        )
        .bind(device_id)
        .bind(since.unwrap_or(""))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(plan_id, approver, applied_at)| AppliedPlan {
                plan_id,
                approver,
                applied_at,
            })
            .collect())
    }

    /// The device's drift record.
    pub async fn drift_get(&self, device_id: &str) -> Result<Option<DriftRow>, StoreError> {
        let row: Option<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT device_id, since, baseline_id, snapshot_id, menus, checked_at \
             FROM config_drift WHERE device_id = $1",
        )
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(drift_row))
    }

    /// Every drift record.
    pub async fn drift_list(&self) -> Result<Vec<DriftRow>, StoreError> {
        let rows: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT device_id, since, baseline_id, snapshot_id, menus, checked_at \
             FROM config_drift ORDER BY since, device_id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(drift_row).collect())
    }

    /// Records drift on a device. Where none was recorded, inserts it together with the audit
    /// event `action` (details as given) and returns `true`; otherwise updates what differs and
    /// when it was checked, and returns `false`.
    pub async fn drift_record(
        &self,
        d: &DriftRow,
        ctx: &AuditContext,
        action: &str,
        details: serde_json::Value,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE config_drift SET baseline_id = $2, snapshot_id = $3, menus = $4, checked_at = $5 \
             WHERE device_id = $1",
        )
        .bind(&d.device_id)
        .bind(&d.baseline_id)
        .bind(&d.snapshot_id)
        .bind(&d.menus)
        .bind(&d.checked_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated > 0 {
            tx.commit().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO config_drift (device_id, since, baseline_id, snapshot_id, menus, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&d.device_id)
        .bind(&d.since)
        .bind(&d.baseline_id)
        .bind(&d.snapshot_id)
        .bind(&d.menus)
        .bind(&d.checked_at)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            action,
            &format!("device:{}", d.device_id),
            details,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes the device's drift record (it is back in line) together with the audit event
    /// `action`; returns whether there was one.
    pub async fn drift_clear(
        &self,
        device_id: &str,
        ctx: &AuditContext,
        action: &str,
        details: serde_json::Value,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM config_drift WHERE device_id = $1")
            .bind(device_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            audit::append(
                &mut tx,
                ctx,
                action,
                &format!("device:{device_id}"),
                details,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(removed > 0)
    }

    /// Records that the device's configuration was read for a backup (or failed to be).
    pub async fn check_record(&self, c: &CheckRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO config_checks (device_id, checked_at, status, error) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (device_id) DO UPDATE SET checked_at = $2, status = $3, error = $4",
        )
        .bind(&c.device_id)
        .bind(&c.checked_at)
        .bind(&c.status)
        .bind(&c.error)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The device's last backup check.
    pub async fn check_get(&self, device_id: &str) -> Result<Option<CheckRow>, StoreError> {
        let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT device_id, checked_at, status, error FROM config_checks WHERE device_id = $1",
        )
        .bind(device_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(device_id, checked_at, status, error)| CheckRow {
            device_id,
            checked_at,
            status,
            error,
        }))
    }

    /// Every device's last backup check.
    pub async fn check_list(&self) -> Result<Vec<CheckRow>, StoreError> {
        let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT device_id, checked_at, status, error FROM config_checks ORDER BY device_id",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(device_id, checked_at, status, error)| CheckRow {
                device_id,
                checked_at,
                status,
                error,
            })
            .collect())
    }
}

fn drift_row(
    (device_id, since, baseline_id, snapshot_id, menus, checked_at): (
        String,
        String,
        String,
        String,
        String,
        String,
    ),
) -> DriftRow {
    DriftRow {
        device_id,
        since,
        baseline_id,
        snapshot_id,
        menus,
        checked_at,
    }
}
