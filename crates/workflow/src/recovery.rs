//! Crash recovery, and the undoing of applied plans.
//!
//! At startup, before the server takes calls, every plan left `applying` (the process died
//! mid-apply) is resolved from its journal and the devices' actual state: if every device was
//! verified and confirmed, the plan is finished (`applied`, any leftover auto-revert entry
//! removed); otherwise every device that was touched is rolled back (`rolled_back`, or `failed`
//! when a device could not be restored). Each recovery is audited.
//!
//! A device that could not be checked after a rollback (it stopped answering) leaves its plan
//! `failed`; its armed auto-revert restores it meanwhile. `reconcile` — run at startup and then
//! periodically — looks again once the device answers and records the final state: the plan
//! becomes `rolled_back` when every such device is as before, or stays `failed` with what is
//! still different, for an operator. It only reads: writing to a router long after an approval
//! would act beyond what a person approved.

use std::collections::HashMap;

use domain::DeviceId;
use serde::Serialize;
use serde_json::json;
use store::AuditContext;

use crate::Workflow;
use crate::apply::{ApplyReport, DeviceOutcome, DeviceResult, confirm_device, rollback_device};
use crate::error::WorkflowError;
use crate::journal::Step;
use crate::lifecycle::{Outcome, PlanEvent};
use crate::lock::LockKey;
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

/// What the journal says, per device. A step this server does not know is an error naming it:
/// recovery must not guess what an unknown step did to a router.
fn read_journal(
    plan_id: &str,
    entries: &[JournalEntry],
) -> Result<HashMap<String, DeviceJournal>, WorkflowError> {
    let mut by_device: HashMap<String, DeviceJournal> = HashMap::new();
    for e in entries {
        let step: Step = e.step.parse().map_err(|_| WorkflowError::Journal {
            plan: plan_id.to_owned(),
            detail: format!(
                "the step \"{}\" (row {}), which this server does not know; allowed: {}",
                domain::text::escape(&e.step),
                e.id,
                Step::allowed()
            ),
        })?;
        let Some(device) = &e.device_id else {
            continue;
        };
        let d = by_device.entry(device.clone()).or_default();
        let seq = e.seq.and_then(|s| u32::try_from(s).ok());
        match step {
            Step::Lock => d.locked = true,
            Step::Arm => d.armed = true,
            Step::Intent => {
                if let Some(s) = seq
                    && !d.attempted.contains(&s)
                {
                    d.attempted.push(s);
                }
            }
            Step::Done => {
                if let (Some(s), Some(id)) = (seq, e.detail.get("created").and_then(|c| c.as_str()))
                {
                    d.created.insert(s, id.to_owned());
                }
            }
            Step::Confirmed => d.confirmed = true,
            Step::RolledBack => d.rolled_back = true,
            // Steps that change nothing recovery needs to know: what was locked, armed,
            // attempted, written, confirmed or restored is all above.
            Step::Unlock
            | Step::Drift
            | Step::DriftCheckFailed
            | Step::DriftOk
            | Step::Armed
            | Step::Failed
            | Step::Verify
            | Step::Verified
            | Step::VerifyFailed
            | Step::ConfirmFailed
            | Step::Rollback
            | Step::Undone
            | Step::UndoSkipped
            | Step::RollbackFailed
            | Step::Recovery
            | Step::Reconciled => {}
        }
    }
    Ok(by_device)
}

impl Workflow {
    /// Resolves every plan left `applying`. Call before serving.
    pub async fn recover(&self, ctx: &AuditContext) -> Result<Vec<RecoveryReport>, WorkflowError> {
        let mut reports = Vec::new();
        for id in repo::plans_in(self.store(), PlanStatus::Applying).await? {
            // A live process applying the plan holds its plan lock from before the plan became
            // `applying` until its outcome is recorded: such a plan is not interrupted.
            // (A short wait: a process that just died may take a moment to lose its PostgreSQL lock.)
            let plan_lock = match self
                .inner
                .locks
                .acquire(
                    self.store(),
                    &LockKey::Plan(id.clone()),
                    &self.holder(),
                    std::time::Duration::from_millis(500),
                    |who| {
                        format!(
                            "left alone: another live server process is applying it{}",
                            who.map(|w| format!(" ({w})")).unwrap_or_default()
                        )
                    },
                )
                .await
            {
                Ok(l) => l,
                Err(WorkflowError::Refused(message)) => {
                    reports.push(RecoveryReport {
                        plan_id: id.clone(),
                        status: PlanStatus::Applying,
                        message,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let plan = repo::load_plan(self.store(), &id).await?;
            // Then every device's lock, so no rollback of another plan is writing them.
            let mut locks = Vec::new();
            let mut busy = None;
            for d in &plan.devices {
                match self
                    .inner
                    .locks
                    .device(
                        self.store(),
                        &d.device_id,
                        &d.name,
                        &self.holder(),
                        self.inner.config.lock_timeout,
                    )
                    .await
                {
                    Ok(l) => locks.push(l),
                    Err(e) => {
                        busy = Some(e.to_string());
                        break;
                    }
                }
            }
            let report = match busy {
                Some(why) => Some(RecoveryReport {
                    plan_id: id.clone(),
                    status: PlanStatus::Applying,
                    message: format!("not recovered now: {why}; the next start tries again"),
                }),
                None => {
                    // Still applying once we hold every lock: nobody is working on it.
                    let current = repo::load_plan(self.store(), &id).await?;
                    if current.status == PlanStatus::Applying {
                        match self.recover_plan(&current, ctx).await {
                            Ok(r) => Some(r),
                            // This plan only: the others are still recovered.
                            Err(e @ WorkflowError::Journal { .. }) => Some(RecoveryReport {
                                plan_id: id.clone(),
                                status: PlanStatus::Applying,
                                message: e.to_string(),
                            }),
                            Err(e) => return Err(e),
                        }
                    } else {
                        None
                    }
                }
            };
            for l in locks {
                l.release().await;
            }
            plan_lock.release().await;
            if let Some(r) = report {
                if r.status.is_final() {
                    crate::lock::Locks::discard_plan(self.store(), &r.plan_id);
                }
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
        let journal = read_journal(&plan.id, &entries)?;
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
                Step::Recovery,
                json!({"instance": self.inner.instance, "complete": complete}),
            )
            .await;
        let mut outcomes = Vec::new();
        let ended = if complete {
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
            Outcome::Applied
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
                Outcome::Failed
            } else {
                Outcome::RolledBack
            }
        };
        let message = match ended {
            Outcome::Applied => "recovered: every device had confirmed the plan; marked applied",
            Outcome::RolledBack => {
                "recovered: the apply was interrupted; every device touched was rolled back"
            }
            Outcome::Failed => {
                "recovered: the apply was interrupted and a device could not be restored; an operator must check it"
            }
        }
        .to_owned();
        let status = ended.status();
        let failures: Vec<String> = outcomes
            .iter()
            .filter(|o| o.result == DeviceResult::Failed)
            .filter_map(|o| o.reason.as_ref().map(|r| format!("{}: {r}", o.device)))
            .collect();
        let message = if failures.is_empty() {
            message
        } else {
            format!("{message}. {}", failures.join("; "))
        };
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

/// What `reconcile` found for one plan.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    pub plan_id: String,
    pub status: PlanStatus,
    /// Per device checked: what it was found to be.
    pub devices: Vec<String>,
}

impl Workflow {
    /// Looks again at the devices of `failed` plans that could not be checked after their
    /// rollback, and records what each is now, once it answers. Plans whose devices are all as
    /// before become `rolled_back`. Devices that still do not answer are left for next time.
    pub async fn reconcile(
        &self,
        ctx: &AuditContext,
    ) -> Result<Vec<ReconcileReport>, WorkflowError> {
        let mut reports = Vec::new();
        for id in repo::plans_in(self.store(), PlanStatus::Failed).await? {
            let plan = repo::load_plan(self.store(), &id).await?;
            if let Some(r) = self.reconcile_plan(&plan, ctx).await? {
                reports.push(r);
            }
        }
        Ok(reports)
    }

    async fn reconcile_plan(
        &self,
        plan: &Plan,
        ctx: &AuditContext,
    ) -> Result<Option<ReconcileReport>, WorkflowError> {
        // A device is looked at until it answers once; the outcome records that it did.
        let waiting = |o: &serde_json::Value| {
            o.get("result").and_then(|r| r.as_str()) == Some("failed")
                && o.get("answered_again").is_none()
        };
        let Some(mut outcome) = plan.outcome.clone() else {
            return Ok(None);
        };
        let Some(devices) = outcome
            .get_mut("devices")
            .and_then(|d| d.as_array_mut())
            .filter(|d| d.iter().any(waiting))
        else {
            return Ok(None);
        };
        let entries = repo::journal(self.store(), &plan.id).await?;
        let journal = read_journal(&plan.id, &entries)?;
        let mut checked = Vec::new();
        let mut unresolved = 0;
        for o in devices.iter_mut() {
            if o.get("result").and_then(|r| r.as_str()) != Some("failed") {
                continue;
            }
            if !waiting(o) {
                unresolved += 1;
                continue;
            }
            let Some(device_id) = o
                .get("device_id")
                .and_then(|d| d.as_str())
                .and_then(|d| d.parse::<DeviceId>().ok())
            else {
                continue;
            };
            let j = journal.get(&device_id.to_string());
            let name = plan.device_name(&device_id).to_owned();
            let Some(found) = self.look_again(plan, &device_id, j).await else {
                unresolved += 1;
                continue;
            };
            let now = store::time::now();
            let (result, reason) = match &found {
                Ok(()) => (
                    "rolled_back",
                    format!("answered again at {now}: as before the plan"),
                ),
                Err(problems) => {
                    unresolved += 1;
                    (
                        "failed",
                        format!(
                            "answered again at {now}, still not as before: {problems}; an operator must check it"
                        ),
                    )
                }
            };
            o["result"] = json!(result);
            o["reason"] = json!(reason);
            o["answered_again"] = json!(now);
            let _ = self
                .journal_step(
                    &plan.id,
                    Some(&device_id),
                    None,
                    Step::Reconciled,
                    json!({"result": result, "reason": reason}),
                )
                .await;
            checked.push(format!("{name}: {reason}"));
        }
        if checked.is_empty() {
            return Ok(None);
        }
        let event = PlanEvent::Reconcile {
            restored: unresolved == 0,
        };
        let status = PlanStatus::Failed
            .on(event)
            .map_err(|r| WorkflowError::Refused(r.for_plan(&plan.id)))?;
        if status == PlanStatus::RolledBack {
            outcome["message"] = json!(
                "the devices that could not be checked answered again and are as before the plan"
            );
        }
        let mut tx = self.store().begin_write().await?;
        repo::transition(&mut tx, &plan.id, PlanStatus::Failed, event, Some(&outcome)).await?;
        store::append_audit_in(
            &mut tx,
            ctx,
            "plan.reconcile",
            &format!("plan:{}", plan.id),
            json!({"status": status, "devices": checked}),
        )
        .await?;
        tx.commit().await?;
        if status == PlanStatus::RolledBack {
            let message = outcome["message"].as_str().unwrap_or_default();
            self.recorded(plan, status, crate::Said::reason(message))
                .await;
        }
        Ok(Some(ReconcileReport {
            plan_id: plan.id.clone(),
            status,
            devices: checked,
        }))
    }

    /// `None` while the device does not answer, is busy, or its auto-revert has yet to fire;
    /// else whether it is as before the plan (`Err` lists what differs).
    async fn look_again(
        &self,
        plan: &Plan,
        device_id: &DeviceId,
        journal: Option<&DeviceJournal>,
    ) -> Option<Result<(), String>> {
        let lock = self
            .inner
            .locks
            .device(
                self.store(),
                device_id,
                plan.device_name(device_id),
                &self.holder(),
                std::time::Duration::from_secs(1),
            )
            .await
            .ok()?;
        let client = self.client_of(device_id).await.ok();
        let found = match client {
            None => None,
            Some(client) => {
                // The router as it is now (an auto-revert changes it by itself).
                client.invalidate_cache();
                let changes: Vec<&crate::model::Change> = match journal {
                    Some(j) if !(j.confirmed || j.rolled_back) => plan
                        .changes_of(device_id)
                        .filter(|c| j.attempted.contains(&c.seq))
                        .collect(),
                    _ => plan.changes_of(device_id).collect(),
                };
                let created = journal.map(|j| j.created.clone()).unwrap_or_default();
                let lookup = move |seq: u32| created.get(&seq).cloned();
                match crate::device_ops::revert_pending(&client, &plan.id).await {
                    Ok(true) | Err(_) => None,
                    Ok(false) => {
                        match crate::device_ops::restored(&client, &changes, &lookup).await {
                            Ok(p) if p.is_empty() => Some(Ok(())),
                            Ok(p) => Some(Err(p.join("; "))),
                            Err(_) => None,
                        }
                    }
                }
            }
        };
        lock.release().await;
        found
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
    let by_device = read_journal(&plan.id, journal)?;
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
