//! Crash recovery, and the undoing of applied plans.
//!
//! At startup, before the server takes calls, every plan left `applying` (the process died
//! mid-apply) is resolved from its journal and the devices' actual state: if every device was
//! verified and confirmed, the plan is finished (`applied`, any leftover auto-revert entry
//! removed); otherwise every device that was touched is rolled back (`rolled_back`, or `failed`
//! when a device could not be restored). Each recovery is audited.

use std::collections::HashMap;

use domain::DeviceId;
use serde::Serialize;
use serde_json::json;
use store::AuditContext;

use crate::Workflow;
use crate::apply::{ApplyReport, DeviceOutcome, DeviceResult, confirm_device, rollback_device};
use crate::error::WorkflowError;
use crate::model::{Action, Inverse, ItemRef, Plan, PlanStatus, Props};
use crate::planner::{ChangeRequest, DeviceRequest, Op, PlanRequest, Selector};
use crate::repo::{self, JournalEntry};

/// What recovery did with one plan.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryReport {
    pub plan_id: String,
    pub status: PlanStatus,
    pub message: String,
}

/// What the journal says about one device of a plan.
#[derive(Debug, Default)]
struct DeviceJournal {
    locked: bool,
    armed: bool,
    attempted: Vec<u32>,
    created: HashMap<u32, String>,
    confirmed: bool,
    rolled_back: bool,
}

fn read_journal(entries: &[JournalEntry]) -> HashMap<String, DeviceJournal> {
    let mut by_device: HashMap<String, DeviceJournal> = HashMap::new();
    for e in entries {
        let Some(device) = &e.device_id else {
            continue;
        };
        let d = by_device.entry(device.clone()).or_default();
        let seq = e.seq.and_then(|s| u32::try_from(s).ok());
        match e.step.as_str() {
            "lock" => d.locked = true,
            "arm" => d.armed = true,
            "intent" => {
                if let Some(s) = seq
                    && !d.attempted.contains(&s)
                {
                    d.attempted.push(s);
                }
            }
            "done" => {
                if let (Some(s), Some(id)) = (seq, e.detail.get("created").and_then(|c| c.as_str()))
                {
                    d.created.insert(s, id.to_owned());
                }
            }
            "confirmed" => d.confirmed = true,
            "rolled_back" => d.rolled_back = true,
            _ => {}
        }
    }
    by_device
}

impl Workflow {
    /// Resolves every plan left `applying`. Call before serving.
    pub async fn recover(&self, ctx: &AuditContext) -> Result<Vec<RecoveryReport>, WorkflowError> {
        let mut reports = Vec::new();
        for id in repo::plans_in(self.store(), PlanStatus::Applying).await? {
            let plan = repo::load_plan(self.store(), &id).await?;
            // Another live server may be applying it: wait for each device's lock first.
            let mut locks = Vec::new();
            let mut busy = false;
            for d in &plan.devices {
                match self
                    .inner
                    .locks
                    .acquire(
                        self.store(),
                        &d.device_id,
                        &d.name,
                        self.inner.config.lock_timeout,
                    )
                    .await
                {
                    Ok(l) => locks.push(l),
                    Err(_) => {
                        busy = true;
                        break;
                    }
                }
            }
            let report = if busy {
                None
            } else {
                // Still applying once we hold every lock: nobody is working on it.
                let current = repo::load_plan(self.store(), &id).await?;
                if current.status == PlanStatus::Applying {
                    Some(self.recover_plan(&current, ctx).await?)
                } else {
                    None
                }
            };
            for l in locks {
                l.release().await;
            }
            if let Some(r) = report {
                reports.push(r);
            }
        }
        Ok(reports)
    }

    async fn recover_plan(
        &self,
        plan: &Plan,
        ctx: &AuditContext,
    ) -> Result<RecoveryReport, WorkflowError> {
        let entries = repo::journal(self.store(), &plan.id).await?;
        let journal = read_journal(&entries);
        let state = |d: &DeviceId| journal.get(&d.to_string());
        let complete = plan
            .devices
            .iter()
            .all(|d| state(&d.device_id).is_some_and(|j| j.confirmed));
        let _ = self
            .journal_step(
                &plan.id,
                None,
                None,
                "recovery",
                json!({"instance": self.inner.instance, "complete": complete}),
            )
            .await;
        let mut outcomes = Vec::new();
        let status = if complete {
            for d in &plan.devices {
                let result = confirm_device(self, plan, &d.device_id, ctx).await;
                outcomes.push(DeviceOutcome {
                    device: d.name.clone(),
                    device_id: d.device_id,
                    result: DeviceResult::Applied,
                    changes_applied: plan.changes_of(&d.device_id).count(),
                    reason: result.err().map(|e| {
                        format!("applied; the leftover auto-revert entry could not be removed: {e}")
                    }),
                });
            }
            PlanStatus::Applied
        } else {
            let mut failed = false;
            for d in plan.devices.iter().rev() {
                let Some(j) = state(&d.device_id).filter(|j| j.locked) else {
                    outcomes.push(DeviceOutcome {
                        device: d.name.clone(),
                        device_id: d.device_id,
                        result: DeviceResult::Untouched,
                        changes_applied: 0,
                        reason: Some("not started before the interruption".into()),
                    });
                    continue;
                };
                // Everything, even changes without an intent row, is undone idempotently
                // when the device was armed or confirmed; otherwise what the journal shows.
                let attempted = if j.confirmed || j.rolled_back {
                    plan.changes_of(&d.device_id).map(|c| c.seq).collect()
                } else {
                    j.attempted.clone()
                };
                let n = attempted.len();
                let result = rollback_device(
                    self,
                    plan,
                    &d.device_id,
                    attempted,
                    j.created.clone(),
                    j.armed && !j.confirmed,
                    ctx,
                )
                .await;
                let (result, reason) = match result {
                    Ok(()) => (
                        if n == 0 && !j.armed {
                            DeviceResult::Untouched
                        } else {
                            DeviceResult::RolledBack
                        },
                        "rolled back after the server stopped mid-apply".to_owned(),
                    ),
                    Err(e) => {
                        failed = true;
                        (DeviceResult::Failed, format!("could not be restored: {e}"))
                    }
                };
                outcomes.push(DeviceOutcome {
                    device: d.name.clone(),
                    device_id: d.device_id,
                    result,
                    changes_applied: n,
                    reason: Some(reason),
                });
            }
            if failed {
                PlanStatus::Failed
            } else {
                PlanStatus::RolledBack
            }
        };
        let message = match status {
            PlanStatus::Applied => "recovered: every device had confirmed the plan; marked applied",
            PlanStatus::RolledBack => {
                "recovered: the apply was interrupted; every device touched was rolled back"
            }
            _ => "recovered: the apply was interrupted and a device could not be restored; an operator must check it",
        }
        .to_owned();
        let report = ApplyReport {
            plan_id: plan.id.clone(),
            status,
            devices: outcomes,
            message: message.clone(),
            duration_ms: 0,
        };
        self.finish(plan, &report, ctx).await?;
        self.inner
            .fleet
            .store()
            .append_audit(
                ctx,
                "plan.recover",
                &format!("plan:{}", plan.id),
                json!({"status": status, "devices": report.devices}),
            )
            .await?;
        Ok(RecoveryReport {
            plan_id: plan.id.clone(),
            status,
            message,
        })
    }
}

fn selector(r: &ItemRef) -> Selector {
    match r {
        ItemRef::Id(id) => Selector::Id(id.clone()),
        ItemRef::Match(p) => Selector::Where(p.clone()),
        ItemRef::Singleton => Selector::Singleton,
    }
}

/// The request that undoes an applied plan, built from its changes and what its journal
/// recorded (the ids its adds created). Devices in reverse order, changes newest first.
pub(crate) fn rollback_request(
    plan: &Plan,
    journal: &[JournalEntry],
) -> Result<PlanRequest, WorkflowError> {
    let by_device = read_journal(journal);
    let mut devices = Vec::new();
    for d in plan.devices.iter().rev() {
        let created = by_device
            .get(&d.device_id.to_string())
            .map(|j| j.created.clone())
            .unwrap_or_default();
        let mut changes = Vec::new();
        for c in plan
            .changes_of(&d.device_id)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            let menu = c.menu.clone();
            let target = || {
                c.target
                    .clone()
                    .map(Selector::Id)
                    .unwrap_or(Selector::Singleton)
            };
            let op = match c.action {
                Action::Add => match created.get(&c.seq) {
                    Some(id) => Op::Remove {
                        target: Selector::Recorded {
                            id: id.clone(),
                            matching: c.write.props.clone(),
                        },
                    },
                    None => Op::Remove {
                        target: Selector::Where(c.write.props.clone()),
                    },
                },
                Action::Set => {
                    let before = c.state_read.clone().unwrap_or_default();
                    let mut props = Props::new();
                    let mut unset = Vec::new();
                    for k in c.write.props.keys().chain(c.write.unset.iter()) {
                        match before.get(k) {
                            Some(v) => {
                                props.insert(k.clone(), v.clone());
                            }
                            None => unset.push(k.clone()),
                        }
                    }
                    Op::Set {
                        target: target(),
                        props,
                        unset,
                    }
                }
                Action::Enable => Op::Disable { target: target() },
                Action::Disable => Op::Enable { target: target() },
                Action::Remove => {
                    let (props, place_before) = c
                        .inverse
                        .iter()
                        .find_map(|i| match i {
                            Inverse::Present {
                                props,
                                place_before,
                                ..
                            } => Some((props.clone(), place_before.as_ref().map(selector))),
                            _ => None,
                        })
                        .ok_or_else(|| WorkflowError::Corrupt(plan.id.clone()))?;
                    Op::Add {
                        props,
                        place_before,
                    }
                }
                Action::Move => {
                    let place_before = c.inverse.iter().find_map(|i| match i {
                        Inverse::Position { place_before, .. } => {
                            Some(place_before.as_ref().map(selector))
                        }
                        _ => None,
                    });
                    Op::Move {
                        target: target(),
                        place_before: place_before.flatten(),
                    }
                }
                Action::Command => Op::Remove { target: target() },
            };
            changes.push(ChangeRequest { menu, op });
        }
        devices.push(DeviceRequest {
            device: d.device_id.to_string(),
            changes,
        });
    }
    Ok(PlanRequest {
        title: format!("Roll back: {}", plan.title),
        tool: "plan.rollback".into(),
        devices,
    })
}
