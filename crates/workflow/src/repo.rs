//! The workflow's plan model over the store's plan tables: turns [`Plan`]s, approvals and
//! journal rows into the rows `store::plans` records (the SQL lives there, with the migrations
//! that create the tables) and back, and decides every status change through the lifecycle
//! before the store records it.

use std::str::FromStr;

use domain::DeviceId;
use serde_json::Value;
use sqlx::{Any, Transaction};
use store::Store;
use store::plans::{self as rows, Moved};

use crate::error::WorkflowError;
use crate::lifecycle::PlanEvent;
use crate::model::{Change, Plan, PlanDevice, PlanStatus};

fn parse<T: FromStr>(value: &str, plan: &str) -> Result<T, WorkflowError> {
    value
        .parse()
        .map_err(|_| WorkflowError::Corrupt(plan.to_owned()))
}

fn json<T: serde::de::DeserializeOwned>(text: &str, plan: &str) -> Result<T, WorkflowError> {
    serde_json::from_str(text).map_err(|_| WorkflowError::Corrupt(plan.to_owned()))
}

fn text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The project of the device a plan is filed under.
pub(crate) async fn project_of_device(
    store: &Store,
    device: &DeviceId,
) -> Result<String, WorkflowError> {
    Ok(rows::project_of_device(store, &device.to_string()).await?)
}

pub(crate) async fn insert_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &Plan,
) -> Result<(), WorkflowError> {
    let row = rows::PlanRow {
        id: plan.id.clone(),
        project_id: plan.project_id.clone(),
        title: plan.title.clone(),
        tool: plan.tool.clone(),
        kind: plan.kind.as_str().to_owned(),
        rollback_of: plan.rollback_of.clone(),
        status: plan.status.as_str().to_owned(),
        risk: plan.risk.as_str().to_owned(),
        risk_reasons: text(&plan.risk_reasons),
        environment: plan.environment.as_str().to_owned(),
        content_hash: plan.content_hash.clone(),
        created_by: plan.created_by.clone(),
        created_at: plan.created_at.clone(),
        updated_at: plan.updated_at.clone(),
        outcome: None,
    };
    let changes: Vec<rows::ChangeRow> = plan
        .changes
        .iter()
        .map(|c| rows::ChangeRow {
            seq: i64::from(c.seq),
            device_id: c.device_id.to_string(),
            device_order: i64::from(c.device_order),
            menu: c.menu.clone(),
            action: c.action.as_str().to_owned(),
            target: c.target.clone(),
            properties: text(&c.write),
            state_read: c.state_read.as_ref().map(text),
            preconditions: text(&c.preconditions),
            inverse: text(&c.inverse),
            description: c.description.clone(),
            device_name: String::new(),
            device_environment: String::new(),
        })
        .collect();
    rows::insert_plan(tx, &row, &changes).await?;
    if let Some(spec) = &plan.rollout {
        rows::insert_rollout(tx, &plan.id, &text(spec)).await?;
    }
    Ok(())
}

fn plan_of(row: rows::PlanRow) -> Result<Plan, WorkflowError> {
    let id = row.id;
    Ok(Plan {
        project_id: row.project_id,
        title: row.title,
        tool: row.tool,
        kind: parse(&row.kind, &id)?,
        rollback_of: row.rollback_of,
        status: parse(&row.status, &id)?,
        risk: parse(&row.risk, &id)?,
        risk_reasons: json(&row.risk_reasons, &id)?,
        environment: parse(&row.environment, &id)?,
        content_hash: row.content_hash,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        outcome: row
            .outcome
            .map(|o| serde_json::from_str(&o).unwrap_or(Value::String(o))),
        devices: Vec::new(),
        changes: Vec::new(),
        rollout: None,
        id,
    })
}

/// A plan with its changes and devices (in rollout order).
pub(crate) async fn load_plan(store: &Store, id: &str) -> Result<Plan, WorkflowError> {
    let (row, changes) = rows::plan(store, id)
        .await?
        .ok_or_else(|| WorkflowError::PlanNotFound(id.to_owned()))?;
    let mut plan = plan_of(row)?;
    if let Some(r) = rows::rollout(store, id).await? {
        plan.rollout = Some(json(&r.spec, id)?);
    }
    for c in changes {
        let device_id: DeviceId = parse(&c.device_id, id)?;
        let device_order =
            u32::try_from(c.device_order).map_err(|_| WorkflowError::Corrupt(id.into()))?;
        if !plan.devices.iter().any(|d| d.device_id == device_id) {
            plan.devices.push(PlanDevice {
                device_id,
                name: c.device_name,
                environment: parse(&c.device_environment, id)?,
            });
        }
        plan.changes.push(Change {
            seq: u32::try_from(c.seq).map_err(|_| WorkflowError::Corrupt(id.into()))?,
            device_id,
            device_order,
            menu: c.menu,
            action: parse(&c.action, id)?,
            target: c.target,
            write: json(&c.properties, id)?,
            state_read: c.state_read.map(|s| json(&s, id)).transpose()?,
            preconditions: json(&c.preconditions, id)?,
            inverse: json(&c.inverse, id)?,
            description: c.description,
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
    let device = filter.device_id.map(|d| d.to_string());
    rows::list_plans(
        store,
        filter.status.map(PlanStatus::as_str),
        device.as_deref(),
        filter.limit,
    )
    .await?
    .into_iter()
    .map(plan_of)
    .collect()
}

/// Which of one project's plans to list, a page at a time.
#[derive(Debug, Clone, Default)]
pub struct ProjectPlanFilter {
    /// The project's id (`Plan::project_id`).
    pub project_id: String,
    pub status: Option<PlanStatus>,
    /// Only plans older than the one with this (created at, id): the last plan of the page
    /// before.
    pub before: Option<(String, String)>,
    pub limit: u32,
}

/// A page of one project's plans, newest first (without their changes).
pub(crate) async fn list_project_plans(
    store: &Store,
    filter: &ProjectPlanFilter,
) -> Result<Vec<Plan>, WorkflowError> {
    rows::list_project_plans(
        store,
        &filter.project_id,
        filter.status.map(PlanStatus::as_str),
        filter
            .before
            .as_ref()
            .map(|(at, id)| (at.as_str(), id.as_str())),
        filter.limit,
    )
    .await?
    .into_iter()
    .map(plan_of)
    .collect()
}

/// Moves a plan that is `from` by `event` (see [`PlanStatus::on`]) and records `outcome` if
/// given. The store's `UPDATE` checks the old status itself, so of two processes moving one
/// plan at once exactly one succeeds; the other gets a `conflict` naming the status it found.
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
    let outcome = outcome.map(Value::to_string);
    match rows::move_status(tx, id, from.as_str(), to.as_str(), outcome.as_deref()).await? {
        Moved::Yes => Ok(to),
        Moved::Missing => Err(WorkflowError::PlanNotFound(id.to_owned())),
        Moved::No { now } => Err(WorkflowError::Conflict(format!(
            "plan {id} could not be recorded as {to}: it is {now} now, not {from} (another server process changed it); look at `routeros-mcp plan show {id}`"
        ))),
    }
}

/// An approval or rejection as recorded.
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
    Ok(rows::insert_approval(
        tx,
        &rows::ApprovalRow {
            id: a.id.clone(),
            plan_id: a.plan_id.clone(),
            decision: a.decision.to_owned(),
            approver: a.approver.clone(),
            via: a.via.to_owned(),
            reason: a.reason.clone(),
            plan_hash: a.plan_hash.clone(),
            token_hash: a.token_hash.clone(),
            expires_at: a.expires_at.clone(),
            created_at: a.created_at.clone(),
        },
    )
    .await?)
}

/// The approval a token belongs to: (plan id, used at).
pub(crate) async fn approval_by_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
) -> Result<Option<(String, Option<String>)>, WorkflowError> {
    Ok(rows::approval_by_token(tx, token_hash).await?)
}

/// Marks a token used; false when it already was.
pub(crate) async fn use_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
    now: &str,
) -> Result<bool, WorkflowError> {
    Ok(rows::use_token(tx, token_hash, now).await?)
}

/// A plan's decisions, oldest first, as tools and the CLI show them.
pub(crate) async fn approvals(store: &Store, plan_id: &str) -> Result<Vec<Value>, WorkflowError> {
    Ok(rows::decisions(store, plan_id)
        .await?
        .into_iter()
        .map(|d| {
            serde_json::json!({
                "decision": d.decision,
                "by": d.approver,
                "via": d.via,
                "reason": d.reason,
                "at": d.created_at,
                "expires_at": d.expires_at,
                "used_at": d.used_at,
            })
        })
        .collect())
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
    let device = device.map(ToString::to_string);
    Ok(rows::journal_append(
        store,
        plan_id,
        device.as_deref(),
        seq.map(i64::from),
        step,
        &detail.to_string(),
        instance,
    )
    .await?)
}

/// A plan's journal, in order.
pub(crate) async fn journal(
    store: &Store,
    plan_id: &str,
) -> Result<Vec<JournalEntry>, WorkflowError> {
    Ok(rows::journal(store, plan_id)
        .await?
        .into_iter()
        .map(|r| JournalEntry {
            id: r.id,
            plan_id: r.plan_id,
            device_id: r.device_id,
            seq: r.seq,
            step: r.step,
            detail: serde_json::from_str(&r.detail).unwrap_or(Value::String(r.detail)),
            instance: r.instance,
            at: r.at,
        })
        .collect())
}

/// Ids of plans in `status`, oldest first.
pub(crate) async fn plans_in(
    store: &Store,
    status: PlanStatus,
) -> Result<Vec<String>, WorkflowError> {
    Ok(rows::plans_in(store, status.as_str()).await?)
}
