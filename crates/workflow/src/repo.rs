//! The workflow's tables (`plans`, `plan_changes`, `plan_approvals`, `plan_journal`) over both
//! backends, through the store's pool and write lock.

use std::str::FromStr;

use domain::{DeviceId, Environment};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use store::Store;

use crate::error::WorkflowError;
use crate::lifecycle::PlanEvent;
use crate::model::{Change, Plan, PlanDevice, PlanKind, PlanStatus, Risk};

fn parse<T: FromStr>(value: &str, plan: &str) -> Result<T, WorkflowError> {
    value
        .parse()
        .map_err(|_| WorkflowError::Corrupt(plan.to_owned()))
}

fn json<T: serde::de::DeserializeOwned>(text: &str, plan: &str) -> Result<T, WorkflowError> {
    serde_json::from_str(text).map_err(|_| WorkflowError::Corrupt(plan.to_owned()))
}

pub(crate) async fn insert_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &Plan,
) -> Result<(), WorkflowError> {
    sqlx::query(
        "INSERT INTO plans (id, project_id, title, tool, kind, rollback_of, status, risk, risk_reasons, \
         environment, content_hash, created_by, created_at, updated_at, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL)",
    )
    .bind(&plan.id)
    .bind(&plan.project_id)
    .bind(&plan.title)
    .bind(&plan.tool)
    .bind(plan.kind.as_str())
    .bind(plan.rollback_of.as_deref())
    .bind(plan.status.as_str())
    .bind(plan.risk.as_str())
    .bind(serde_json::to_string(&plan.risk_reasons).unwrap_or_default())
    .bind(plan.environment.as_str())
    .bind(&plan.content_hash)
    .bind(&plan.created_by)
    .bind(&plan.created_at)
    .bind(&plan.updated_at)
    .execute(&mut **tx)
    .await?;
    for c in &plan.changes {
        sqlx::query(
            "INSERT INTO plan_changes (plan_id, seq, device_id, device_order, menu, action, target, \
             properties, state_read, preconditions, inverse, description) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&plan.id)
        .bind(i64::from(c.seq))
        .bind(c.device_id.to_string())
        .bind(i64::from(c.device_order))
        .bind(&c.menu)
        .bind(c.action.as_str())
        .bind(c.target.as_deref())
        .bind(serde_json::to_string(&c.write).unwrap_or_default())
        .bind(
            c.state_read
                .as_ref()
                .map(|s| serde_json::to_string(s).unwrap_or_default()),
        )
        .bind(serde_json::to_string(&c.preconditions).unwrap_or_default())
        .bind(serde_json::to_string(&c.inverse).unwrap_or_default())
        .bind(&c.description)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

const PLAN_COLUMNS: &str = "id, project_id, title, tool, kind, rollback_of, status, risk, risk_reasons, \
     environment, content_hash, created_by, created_at, updated_at, outcome";

fn plan_row(row: &AnyRow) -> Result<Plan, WorkflowError> {
    let id: String = row.try_get(0)?;
    let kind: String = row.try_get(4)?;
    let status: String = row.try_get(6)?;
    let risk: String = row.try_get(7)?;
    let reasons: String = row.try_get(8)?;
    let environment: String = row.try_get(9)?;
    let outcome: Option<String> = row.try_get(14)?;
    Ok(Plan {
        project_id: row.try_get(1)?,
        title: row.try_get(2)?,
        tool: row.try_get(3)?,
        kind: parse::<PlanKind>(&kind, &id)?,
        rollback_of: row.try_get(5)?,
        status: parse::<PlanStatus>(&status, &id)?,
        risk: parse::<Risk>(&risk, &id)?,
        risk_reasons: json(&reasons, &id)?,
        environment: parse::<Environment>(&environment, &id)?,
        content_hash: row.try_get(10)?,
        created_by: row.try_get(11)?,
        created_at: row.try_get(12)?,
        updated_at: row.try_get(13)?,
        outcome: outcome.map(|o| serde_json::from_str(&o).unwrap_or(Value::String(o))),
        devices: Vec::new(),
        changes: Vec::new(),
        id,
    })
}

/// A plan with its changes and devices (in rollout order).
pub(crate) async fn load_plan(store: &Store, id: &str) -> Result<Plan, WorkflowError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| WorkflowError::PlanNotFound(id.to_owned()))?;
    let mut plan = plan_row(&row)?;
    let rows = sqlx::query(
        "SELECT c.seq, c.device_id, c.device_order, c.menu, c.action, c.target, c.properties, \
         c.state_read, c.preconditions, c.inverse, c.description, d.name, d.environment \
         FROM plan_changes c JOIN devices d ON d.id = c.device_id \
         WHERE c.plan_id = $1 ORDER BY c.seq",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    for row in rows {
        let seq: i64 = row.try_get(0)?;
        let device: String = row.try_get(1)?;
        let order: i64 = row.try_get(2)?;
        let action: String = row.try_get(4)?;
        let write: String = row.try_get(6)?;
        let state_read: Option<String> = row.try_get(7)?;
        let pre: String = row.try_get(8)?;
        let inverse: String = row.try_get(9)?;
        let name: String = row.try_get(11)?;
        let env: String = row.try_get(12)?;
        let device_id: DeviceId = parse(&device, id)?;
        let device_order = u32::try_from(order).map_err(|_| WorkflowError::Corrupt(id.into()))?;
        if !plan.devices.iter().any(|d| d.device_id == device_id) {
            plan.devices.push(PlanDevice {
                device_id,
                name,
                environment: parse(&env, id)?,
            });
        }
        plan.changes.push(Change {
            seq: u32::try_from(seq).map_err(|_| WorkflowError::Corrupt(id.into()))?,
            device_id,
            device_order,
            menu: row.try_get(3)?,
            action: parse(&action, id)?,
            target: row.try_get(5)?,
            write: json(&write, id)?,
            state_read: state_read.map(|s| json(&s, id)).transpose()?,
            preconditions: json(&pre, id)?,
            inverse: json(&inverse, id)?,
            description: row.try_get(10)?,
        });
    }
    // Devices in rollout order.
    plan.devices.sort_by_key(|d| {
        plan.changes
            .iter()
            .find(|c| c.device_id == d.device_id)
            .map_or(u32::MAX, |c| c.device_order)
    });
    Ok(plan)
}

/// Which plans to list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub status: Option<PlanStatus>,
    /// Only plans that change this device.
    pub device_id: Option<DeviceId>,
    pub limit: u32,
}

/// Plans matching `filter`, newest first (without their changes).
pub(crate) async fn list_plans(
    store: &Store,
    filter: &PlanFilter,
) -> Result<Vec<Plan>, WorkflowError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PLAN_COLUMNS} FROM plans p \
         WHERE ($1 IS NULL OR status = $1) \
           AND ($2 IS NULL OR EXISTS (SELECT 1 FROM plan_changes c WHERE c.plan_id = p.id AND c.device_id = $2)) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    )))
    .bind(filter.status.map(PlanStatus::as_str))
    .bind(filter.device_id.map(|d| d.to_string()))
    .bind(i64::from(filter.limit.max(1)))
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(plan_row).collect()
}

/// Moves a plan that is `from` by `event` (see [`PlanStatus::on`]) and records `outcome` if
/// given. The `UPDATE` checks the old status itself, so of two processes moving one plan at once
/// exactly one succeeds; the other gets a `conflict` naming the status it found.
pub(crate) async fn transition(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    from: PlanStatus,
    event: PlanEvent,
    outcome: Option<&Value>,
) -> Result<PlanStatus, WorkflowError> {
    let to = from
        .on(event)
        .map_err(|refused| WorkflowError::Refused(refused.for_plan(id)))?;
    let done = sqlx::query(
        "UPDATE plans SET status = $1, updated_at = $2, outcome = COALESCE($3, outcome) \
         WHERE id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(store::time::now())
    .bind(outcome.map(Value::to_string))
    .bind(id)
    .bind(from.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(to);
    }
    let now: Option<String> = sqlx::query_scalar("SELECT status FROM plans WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    match now {
        None => Err(WorkflowError::PlanNotFound(id.to_owned())),
        Some(now) => Err(WorkflowError::Conflict(format!(
            "plan {id} could not be recorded as {to}: it is {now} now, not {from} (another server process changed it); look at `routeros-mcp plan show {id}`"
        ))),
    }
}

/// An approval or rejection as stored.
#[derive(Debug, Clone)]
pub(crate) struct ApprovalRow {
    pub id: String,
    pub plan_id: String,
    pub decision: &'static str,
    pub approver: String,
    pub via: &'static str,
    pub reason: Option<String>,
    pub plan_hash: String,
    pub token_hash: Option<String>,
    pub expires_at: Option<String>,
    pub created_at: String,
}

pub(crate) async fn insert_approval(
    tx: &mut Transaction<'static, Any>,
    a: &ApprovalRow,
) -> Result<(), WorkflowError> {
    sqlx::query(
        "INSERT INTO plan_approvals (id, plan_id, decision, approver, via, reason, plan_hash, token_hash, \
         expires_at, created_at, used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
    )
    .bind(&a.id)
    .bind(&a.plan_id)
    .bind(a.decision)
    .bind(&a.approver)
    .bind(a.via)
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
pub(crate) async fn approval_by_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
) -> Result<Option<(String, Option<String>)>, WorkflowError> {
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
pub(crate) async fn use_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
    now: &str,
) -> Result<bool, WorkflowError> {
    let done = sqlx::query(
        "UPDATE plan_approvals SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A plan's decisions, oldest first: (decision, approver, via, reason, created_at, used_at).
pub(crate) async fn approvals(store: &Store, plan_id: &str) -> Result<Vec<Value>, WorkflowError> {
    let rows = sqlx::query(
        "SELECT decision, approver, via, reason, created_at, expires_at, used_at FROM plan_approvals \
         WHERE plan_id = $1 ORDER BY created_at, id",
    )
    .bind(plan_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(serde_json::json!({
                "decision": r.try_get::<String, _>(0)?,
                "by": r.try_get::<String, _>(1)?,
                "via": r.try_get::<String, _>(2)?,
                "reason": r.try_get::<Option<String>, _>(3)?,
                "at": r.try_get::<String, _>(4)?,
                "expires_at": r.try_get::<Option<String>, _>(5)?,
                "used_at": r.try_get::<Option<String>, _>(6)?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(WorkflowError::from)
}

/// One journal row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JournalEntry {
    pub id: i64,
    pub plan_id: String,
    pub device_id: Option<String>,
    pub seq: Option<i64>,
    pub step: String,
    pub detail: Value,
    /// The server process that wrote it.
    pub instance: String,
    pub at: String,
}

/// Appends a journal row in its own statement (committed before the step it announces runs).
pub(crate) async fn journal_append(
    store: &Store,
    plan_id: &str,
    device: Option<&DeviceId>,
    seq: Option<u32>,
    step: &str,
    detail: &Value,
    instance: &str,
) -> Result<(), WorkflowError> {
    sqlx::query(
        "INSERT INTO plan_journal (plan_id, device_id, seq, step, detail, instance, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(plan_id)
    .bind(device.map(ToString::to_string))
    .bind(seq.map(i64::from))
    .bind(step)
    .bind(detail.to_string())
    .bind(instance)
    .bind(store::time::now())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// A plan's journal, in order.
pub(crate) async fn journal(
    store: &Store,
    plan_id: &str,
) -> Result<Vec<JournalEntry>, WorkflowError> {
    let rows = sqlx::query(
        "SELECT id, plan_id, device_id, seq, step, detail, instance, at FROM plan_journal \
         WHERE plan_id = $1 ORDER BY id",
    )
    .bind(plan_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let detail: String = r.try_get(5)?;
            Ok(JournalEntry {
                id: r.try_get(0)?,
                plan_id: r.try_get(1)?,
                device_id: r.try_get(2)?,
                seq: r.try_get(3)?,
                step: r.try_get(4)?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::String(detail)),
                instance: r.try_get(6)?,
                at: r.try_get(7)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(WorkflowError::from)
}

/// Ids of plans in `status`, oldest first.
pub(crate) async fn plans_in(
    store: &Store,
    status: PlanStatus,
) -> Result<Vec<String>, WorkflowError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM plans WHERE status = $1 ORDER BY created_at")
            .bind(status.as_str())
            .fetch_all(store.pool())
            .await?,
    )
}
