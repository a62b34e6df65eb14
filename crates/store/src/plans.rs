//! The SQL of the change workflow's tables (`plans`, `plan_changes`, `plan_approvals`,
//! `plan_journal`), kept with the migrations that create them: one owner for one schema. Rows
//! are plain columns (text, numbers, JSON text); the workflow crate turns them into its plan
//! model and decides every status change — this module only records them, checking the old
//! status in the same statement.

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::{Store, StoreError};

/// A `plans` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub tool: String,
    pub kind: String,
    pub rollback_of: Option<String>,
    pub status: String,
    pub risk: String,
    /// JSON list of strings.
    pub risk_reasons: String,
    pub environment: String,
    pub content_hash: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// JSON, once applied.
    pub outcome: Option<String>,
}

/// A `plan_changes` row, with its device's name and environment when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    pub seq: i64,
    pub device_id: String,
    pub device_order: i64,
    pub menu: String,
    pub action: String,
    pub target: Option<String>,
    /// JSON of what is written.
    pub properties: String,
    pub state_read: Option<String>,
    pub preconditions: String,
    pub inverse: String,
    pub description: String,
    /// From `devices` (reads only).
    pub device_name: String,
    /// From `devices` (reads only).
    pub device_environment: String,
}

/// A `plan_approvals` row as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRow {
    pub id: String,
    pub plan_id: String,
    pub decision: String,
    pub approver: String,
    pub via: String,
    pub reason: Option<String>,
    pub plan_hash: String,
    /// SHA-256 of the token, never the token.
    pub token_hash: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
}

/// A decision on a plan as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub decision: String,
    pub approver: String,
    pub via: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub used_at: Option<String>,
}

/// A `plan_journal` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub id: i64,
    pub plan_id: String,
    pub device_id: Option<String>,
    pub seq: Option<i64>,
    pub step: String,
    /// JSON.
    pub detail: String,
    pub instance: String,
    pub at: String,
}

const PLAN_COLUMNS: &str = "id, project_id, title, tool, kind, rollback_of, status, risk, risk_reasons, \
     environment, content_hash, created_by, created_at, updated_at, outcome";

fn plan_row(row: &AnyRow) -> Result<PlanRow, sqlx::Error> {
    Ok(PlanRow {
        id: row.try_get(0)?,
        project_id: row.try_get(1)?,
        title: row.try_get(2)?,
        tool: row.try_get(3)?,
        kind: row.try_get(4)?,
        rollback_of: row.try_get(5)?,
        status: row.try_get(6)?,
        risk: row.try_get(7)?,
        risk_reasons: row.try_get(8)?,
        environment: row.try_get(9)?,
        content_hash: row.try_get(10)?,
        created_by: row.try_get(11)?,
        created_at: row.try_get(12)?,
        updated_at: row.try_get(13)?,
        outcome: row.try_get(14)?,
    })
}

/// The project a device belongs to (a plan is filed under its first device's project).
pub async fn project_of_device(store: &Store, device_id: &str) -> Result<String, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT project_id FROM devices WHERE id = $1")
            .bind(device_id)
            .fetch_one(store.pool())
            .await?,
    )
}

/// Inserts a plan and its changes (inside the caller's transaction).
pub async fn insert_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &PlanRow,
    changes: &[ChangeRow],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plans (id, project_id, title, tool, kind, rollback_of, status, risk, risk_reasons, \
         environment, content_hash, created_by, created_at, updated_at, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&plan.id)
    .bind(&plan.project_id)
    .bind(&plan.title)
    .bind(&plan.tool)
    .bind(&plan.kind)
    .bind(plan.rollback_of.as_deref())
    .bind(&plan.status)
    .bind(&plan.risk)
    .bind(&plan.risk_reasons)
    .bind(&plan.environment)
    .bind(&plan.content_hash)
    .bind(&plan.created_by)
    .bind(&plan.created_at)
    .bind(&plan.updated_at)
    .bind(plan.outcome.as_deref())
    .execute(&mut **tx)
    .await?;
    for c in changes {
        sqlx::query(
            "INSERT INTO plan_changes (plan_id, seq, device_id, device_order, menu, action, target, \
             properties, state_read, preconditions, inverse, description) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&plan.id)
        .bind(c.seq)
        .bind(&c.device_id)
        .bind(c.device_order)
        .bind(&c.menu)
        .bind(&c.action)
        .bind(c.target.as_deref())
        .bind(&c.properties)
        .bind(c.state_read.as_deref())
        .bind(&c.preconditions)
        .bind(&c.inverse)
        .bind(&c.description)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A plan and its changes in order, if it exists.
pub async fn plan(
    store: &Store,
    id: &str,
) -> Result<Option<(PlanRow, Vec<ChangeRow>)>, StoreError> {
    let Some(row) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    else {
        return Ok(None);
    };
    let plan = plan_row(&row)?;
    let rows = sqlx::query(
        "SELECT c.seq, c.device_id, c.device_order, c.menu, c.action, c.target, c.properties, \
         c.state_read, c.preconditions, c.inverse, c.description, d.name, d.environment \
         FROM plan_changes c JOIN devices d ON d.id = c.device_id \
         WHERE c.plan_id = $1 ORDER BY c.seq",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    let changes = rows
        .iter()
        .map(|r| {
            Ok(ChangeRow {
                seq: r.try_get(0)?,
                device_id: r.try_get(1)?,
                device_order: r.try_get(2)?,
                menu: r.try_get(3)?,
                action: r.try_get(4)?,
                target: r.try_get(5)?,
                properties: r.try_get(6)?,
                state_read: r.try_get(7)?,
                preconditions: r.try_get(8)?,
                inverse: r.try_get(9)?,
                description: r.try_get(10)?,
                device_name: r.try_get(11)?,
                device_environment: r.try_get(12)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Some((plan, changes)))
}

/// Plans newest first (without their changes): of one status, touching one device, at most
/// `limit`.
pub async fn list_plans(
    store: &Store,
    status: Option<&str>,
    device_id: Option<&str>,
    limit: u32,
) -> Result<Vec<PlanRow>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans p \
         WHERE ($1 IS NULL OR status = $1) \
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM plan_changes c WHERE c.plan_id = p.id AND c.device_id = $2)) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    )))
    .bind(status)
    .bind(device_id)
    .bind(i64::from(limit.max(1)))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(plan_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// One page of a project's plans, newest first (without their changes): of one status, older
/// than the plan `before` names as (created at, id), at most `limit`.
pub async fn list_project_plans(
    store: &Store,
    project_id: &str,
    status: Option<&str>,
    before: Option<(&str, &str)>,
    limit: u32,
) -> Result<Vec<PlanRow>, StoreError> {
    let (before_at, before_id) = before.unzip();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans \
         WHERE project_id = $1 \
           AND ($2 IS NULL OR status = $2) \
           AND ($3 IS NULL OR created_at < $3 OR (created_at = $3 AND id < $4)) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    )))
    .bind(project_id)
    .bind(status)
    .bind(before_at)
    .bind(before_id)
    .bind(i64::from(limit.max(1)))
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(plan_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// Ids of plans in `status`, oldest first.
pub async fn plans_in(store: &Store, status: &str) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM plans WHERE status = $1 ORDER BY created_at")
            .bind(status)
            .fetch_all(store.pool())
            .await?,
    )
}

/// What recording a status change found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moved {
    /// The plan was `from` and is now `to`.
    Yes,
    /// The plan is in another status now (another process moved it first).
    No { now: String },
    /// No such plan.
    Missing,
}

/// Records `from` → `to` (and `outcome`, if given) only while the plan is still `from`.
pub async fn move_status(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    from: &str,
    to: &str,
    outcome: Option<&str>,
) -> Result<Moved, StoreError> {
    let done = sqlx::query(
        "UPDATE plans SET status = $1, updated_at = $2, outcome = COALESCE($3, outcome) \
         WHERE id = $4 AND status = $5",
    )
    .bind(to)
    .bind(crate::time::now())
    .bind(outcome)
    .bind(id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Moved::Yes);
    }
    let now: Option<String> = sqlx::query_scalar("SELECT status FROM plans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match now {
        Some(now) => Moved::No { now },
        None => Moved::Missing,
    })
}

/// Records an approval or a rejection.
pub async fn insert_approval(
    tx: &mut Transaction<'static, Any>,
    a: &ApprovalRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plan_approvals (id, plan_id, decision, approver, via, reason, plan_hash, token_hash, \
         expires_at, created_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
    )
    .bind(&a.id)
    .bind(&a.plan_id)
    .bind(&a.decision)
    .bind(&a.approver)
    .bind(&a.via)
    .bind(a.reason.as_deref())
    .bind(&a.plan_hash)
    .bind(a.token_hash.as_deref())
    .bind(a.expires_at.as_deref())
    .bind(&a.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The approval a token belongs to: (plan id, used at).
pub async fn approval_by_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let row = sqlx::query("SELECT plan_id, used_at FROM plan_approvals WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
        None => None,
    })
}

/// Marks a token used; false when it already was.
pub async fn use_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
    now: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE plan_approvals SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A plan's decisions, oldest first.
pub async fn decisions(store: &Store, plan_id: &str) -> Result<Vec<Decision>, StoreError> {
    let rows = sqlx::query(
        "SELECT decision, approver, via, reason, created_at, expires_at, used_at FROM plan_approvals \
         WHERE plan_id = $1 ORDER BY created_at, id",
    )
    .bind(plan_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(Decision {
                decision: r.try_get(0)?,
                approver: r.try_get(1)?,
                via: r.try_get(2)?,
                reason: r.try_get(3)?,
                created_at: r.try_get(4)?,
                expires_at: r.try_get(5)?,
                used_at: r.try_get(6)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// Appends a journal row in its own statement (committed before the step it announces runs).
pub async fn journal_append(
    store: &Store,
    plan_id: &str,
    device_id: Option<&str>,
    seq: Option<i64>,
    step: &str,
    detail: &str,
    instance: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plan_journal (plan_id, device_id, seq, step, detail, instance, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(plan_id)
    .bind(device_id)
    .bind(seq)
    .bind(step)
    .bind(detail)
    .bind(instance)
    .bind(crate::time::now())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// A plan's journal, in order.
pub async fn journal(store: &Store, plan_id: &str) -> Result<Vec<JournalRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, plan_id, device_id, seq, step, detail, instance, at FROM plan_journal \
         WHERE plan_id = $1 ORDER BY id",
    )
    .bind(plan_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(JournalRow {
                id: r.try_get(0)?,
                plan_id: r.try_get(1)?,
                device_id: r.try_get(2)?,
                seq: r.try_get(3)?,
                step: r.try_get(4)?,
                detail: r.try_get(5)?,
                instance: r.try_get(6)?,
                at: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?)
}

/// A `plan_rollouts` row: how a multi-device plan rolls out, what operators asked of it, and
/// where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutRow {
    pub plan_id: String,
    /// JSON.
    pub spec: String,
    /// `running`, `paused` or `aborting`.
    pub control: String,
    /// Who asked for the current control (none while it was never changed).
    pub control_by: Option<String>,
    /// JSON, once the rollout started.
    pub progress: Option<String>,
    pub updated_at: String,
}

/// Records how a plan rolls out (with the plan, in its transaction).
pub async fn insert_rollout(
    tx: &mut Transaction<'static, Any>,
    plan_id: &str,
    spec: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plan_rollouts (plan_id, spec, control, updated_at) VALUES ($1, $2, 'running', $3)",
    )
    .bind(plan_id)
    .bind(spec)
    .bind(crate::time::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How a plan rolls out, if it is a staged rollout.
pub async fn rollout(store: &Store, plan_id: &str) -> Result<Option<RolloutRow>, StoreError> {
    let row = sqlx::query(
        "SELECT plan_id, spec, control, control_by, progress, updated_at FROM plan_rollouts \
         WHERE plan_id = $1",
    )
    .bind(plan_id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r: AnyRow| {
        Ok(RolloutRow {
            plan_id: r.try_get("plan_id")?,
            spec: r.try_get("spec")?,
            control: r.try_get("control")?,
            control_by: r.try_get("control_by")?,
            progress: r.try_get("progress")?,
            updated_at: r.try_get("updated_at")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| StoreError::from(e))
}

/// Moves a rollout's control from `from` to `to` in one statement (false: it was not `from`).
pub async fn move_rollout_control(
    tx: &mut Transaction<'static, Any>,
    plan_id: &str,
    from: &str,
    to: &str,
    by: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE plan_rollouts SET control = $1, control_by = $2, updated_at = $3 \
         WHERE plan_id = $4 AND control = $5",
    )
    .bind(to)
    .bind(by)
    .bind(crate::time::now())
    .bind(plan_id)
    .bind(from)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records where a rollout is.
pub async fn set_rollout_progress(
    store: &Store,
    plan_id: &str,
    progress: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE plan_rollouts SET progress = $1, updated_at = $2 WHERE plan_id = $3")
        .bind(progress)
        .bind(crate::time::now())
        .bind(plan_id)
        .execute(store.pool())
        .await?;
    Ok(())
}
