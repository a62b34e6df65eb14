//! Applying an approved plan, device by device, canary first — and undoing it when anything
//! fails. Every step is journaled before it runs; the journal is what crash recovery reads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use domain::DeviceId;
use routeros::{DeviceClient, MenuPath, PrintQuery};
use serde::Serialize;
use serde_json::{Value, json};
use store::AuditContext;

use crate::device_ops::{self, transient};
use crate::error::{TokenError, WorkflowError};
use crate::journal::Step;
use crate::lifecycle::{Outcome, PlanEvent};
use crate::lock::LockKey;
use crate::model::{Action, Change, Plan, PlanStatus, Props};
use crate::{Workflow, repo, script, token};

/// What happened on one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceResult {
    /// Every change written, verified and confirmed.
    Applied,
    /// Nothing was written (drift, busy, unreachable before the first write, or an earlier
    /// device failed).
    Untouched,
    /// Changes were written, then undone: the device is as before the plan.
    RolledBack,
    /// The device could not be restored (or could not be checked): an operator must look.
    Failed,
}

/// One device's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceOutcome {
    pub device: String,
    pub device_id: DeviceId,
    pub result: DeviceResult,
    /// Changes that were written (before any rollback).
    pub changes_applied: usize,
    /// Why it did not simply apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The outcome of an apply.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub plan_id: String,
    pub status: PlanStatus,
    pub devices: Vec<DeviceOutcome>,
    pub message: String,
    pub duration_ms: u128,
}

/// A device whose changes were all applied and confirmed (kept in case a later device fails).
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) device_id: DeviceId,
    pub(crate) name: String,
    created: HashMap<u32, String>,
    pub(crate) applied: usize,
}

/// Why a device failed, and how far it got.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) outcome: DeviceOutcome,
}

/// Writes in progress on one device.
struct Run<'a> {
    wf: &'a Workflow,
    plan: &'a Plan,
    device_id: DeviceId,
    name: String,
    client: Arc<DeviceClient>,
    changes: Vec<&'a Change>,
    /// Seqs whose write was attempted (journaled as intent).
    attempted: Vec<u32>,
    created: HashMap<u32, String>,
    armed: bool,
    /// The soonest the auto-revert armed by this run can start on the device (`None`: none
    /// armed here). No change is sent that might be answered after it.
    revert_due: Option<Instant>,
    /// Who asked for the apply (or the recovery): every audited step is recorded as theirs.
    audit: AuditContext,
}

/// How much sooner than its interval after being created a scheduler entry can first run:
/// RouterOS stamps the entry's start time to the second and counts the interval from there.
const START_TIME_RESOLUTION: Duration = Duration::from_secs(1);

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << attempt.min(5)))
}

impl Workflow {
    pub(crate) async fn journal_step(
        &self,
        plan: &str,
        device: Option<&DeviceId>,
        seq: Option<u32>,
        step: Step,
        detail: Value,
    ) -> Result<(), WorkflowError> {
        repo::journal_append(
            self.store(),
            plan,
            device,
            seq,
            step.as_str(),
            &detail,
            &self.inner.instance,
        )
        .await?;
        // Inside a tool call this line carries the call's correlation id (its span's field).
        let device = device.map(ToString::to_string);
        tracing::info!(
            plan,
            device = device.as_deref(),
            seq,
            step = step.as_str(),
            "plan step"
        );
        self.maybe_halt().await;
        Ok(())
    }

    /// Applies an approved plan with its approval token.
    pub async fn apply(
        &self,
        plan_id: &str,
        approval_token: &str,
        ctx: &AuditContext,
    ) -> Result<ApplyReport, WorkflowError> {
        if !self.inner.config.enable_apply {
            return Err(WorkflowError::Refused(
                "applying plans is switched off on this server (MCP_ENABLE_PLAN_APPLY=false); plans can still be proposed and viewed"
                    .into(),
            ));
        }
        let started = Instant::now();
        let claims = token::verify(&self.inner.signer, approval_token)?;
        if claims.plan_id != plan_id {
            return Err(TokenError::OtherPlan {
                token_plan: claims.plan_id,
                plan: plan_id.to_owned(),
            }
            .into());
        }
        let plan = repo::load_plan(self.store(), plan_id).await?;
        if self.inner.config.clock.now().timestamp() >= claims.expires_at {
            let at = chrono::DateTime::from_timestamp(claims.expires_at, 0)
                .map(store::time::format)
                .unwrap_or_default();
            return Err(TokenError::Expired { expired_at: at }.into());
        }
        let hash = token::hash(approval_token);
        // Held until the outcome is recorded: recovery in another process skips this plan.
        let plan_lock = match self
            .inner
            .locks
            .try_acquire(
                self.store(),
                &LockKey::Plan(plan.id.clone()),
                &self.holder(),
            )
            .await?
        {
            Ok(l) => l,
            Err(who) => {
                return Err(WorkflowError::Refused(format!(
                    "plan {plan_id} is being applied right now{}",
                    who.map(|w| format!(" ({w})")).unwrap_or_default()
                )));
            }
        };
        let mut tx = self.store().begin_write().await?;
        match repo::approval_by_token(&mut tx, &hash).await? {
            None => return Err(TokenError::Unknown.into()),
            Some((_, Some(used_at))) => return Err(TokenError::Reused { used_at }.into()),
            Some((for_plan, None)) if for_plan != plan_id => {
                return Err(TokenError::OtherPlan {
                    token_plan: for_plan,
                    plan: plan_id.to_owned(),
                }
                .into());
            }
            Some(_) => {}
        }
        plan.status
            .on(PlanEvent::StartApply)
            .map_err(|r| WorkflowError::Refused(r.for_plan(plan_id)))?;
        if plan.compute_hash() != claims.plan_hash || plan.content_hash != claims.plan_hash {
            return Err(TokenError::PlanChanged {
                plan: plan_id.to_owned(),
            }
            .into());
        }
        let now = store::time::now();
        if !repo::use_token(&mut tx, &hash, &now).await? {
            return Err(TokenError::Reused { used_at: now }.into());
        }
        repo::transition(&mut tx, plan_id, plan.status, PlanEvent::StartApply, None).await?;
        store::append_audit_in(
            &mut tx,
            ctx,
            "plan.apply",
            &format!("plan:{plan_id}"),
            json!({"approver": claims.approver, "devices": plan.devices.len(), "changes": plan.changes.len(), "risk": plan.risk}),
        )
        .await?;
        tx.commit().await?;
        self.recorded(&plan, PlanStatus::Applying, crate::Said::default())
            .await;

        let report = self.rollout(&plan, ctx).await;
        let report = ApplyReport {
            duration_ms: started.elapsed().as_millis(),
            ..report
        };
        let finished = self.finish(&plan, &report, ctx).await;
        plan_lock.release().await;
        finished?;
        crate::lock::Locks::discard_plan(self.store(), &plan.id);
        if let Some(m) = &self.inner.metrics {
            m.apply_duration.observe(started.elapsed().as_secs_f64());
        }
        Ok(report)
    }

    /// Records the final status and outcome.
    pub(crate) async fn finish(
        &self,
        plan: &Plan,
        report: &ApplyReport,
        ctx: &AuditContext,
    ) -> Result<(), WorkflowError> {
        let outcome = json!({"message": report.message, "devices": report.devices, "duration_ms": report.duration_ms});
        let mut tx = self.store().begin_write().await?;
        let ended = match report.status {
            PlanStatus::Applied => Outcome::Applied,
            PlanStatus::RolledBack => Outcome::RolledBack,
            PlanStatus::Failed => Outcome::Failed,
            s @ (PlanStatus::Pending
            | PlanStatus::Approved
            | PlanStatus::Applying
            | PlanStatus::Rejected
            | PlanStatus::Cancelled) => {
                return Err(WorkflowError::Invalid(format!(
                    "an apply cannot end with the plan {s}"
                )));
            }
        };
        repo::transition(
            &mut tx,
            &plan.id,
            PlanStatus::Applying,
            PlanEvent::Finish(ended),
            Some(&outcome),
        )
        .await?;
        let action = ended.audit_action();
        store::append_audit_in(&mut tx, ctx, action, &format!("plan:{}", plan.id), outcome).await?;
        tx.commit().await?;
        self.recorded(plan, report.status, crate::Said::reason(&report.message))
            .await;
        Ok(())
    }

    async fn rollout(&self, plan: &Plan, ctx: &AuditContext) -> ApplyReport {
        if let Some(spec) = &plan.rollout {
            return self.staged(plan, spec, ctx).await;
        }
        let mut done: Vec<Done> = Vec::new();
        let mut outcomes: Vec<DeviceOutcome> = Vec::new();
        let mut failed_at = None;
        for device in &plan.devices {
            match self.apply_device(plan, &device.device_id, ctx).await {
                Ok(d) => {
                    outcomes.push(DeviceOutcome {
                        device: d.name.clone(),
                        device_id: d.device_id,
                        result: DeviceResult::Applied,
                        changes_applied: d.applied,
                        reason: None,
                    });
                    done.push(d);
                }
                Err(f) => {
                    failed_at = Some(f.outcome.device.clone());
                    outcomes.push(f.outcome);
                    break;
                }
            }
        }
        let Some(failed) = failed_at else {
            return ApplyReport {
                plan_id: plan.id.clone(),
                status: PlanStatus::Applied,
                message: format!(
                    "applied {} change(s) on {} device(s)",
                    plan.changes.len(),
                    plan.devices.len()
                ),
                devices: outcomes,
                duration_ms: 0,
            };
        };
        // Undo the devices already changed, newest first.
        for d in done.iter().rev() {
            let result = self
                .rollback_done(plan, d, &format!("device {failed} failed"), ctx)
                .await;
            if let Some(o) = outcomes.iter_mut().find(|o| o.device_id == d.device_id) {
                match result {
                    Ok(()) => {
                        o.result = DeviceResult::RolledBack;
                        o.reason = Some(format!("rolled back because device {failed} failed"));
                    }
                    Err(e) => {
                        o.result = DeviceResult::Failed;
                        o.reason = Some(format!(
                            "could not be rolled back after device {failed} failed: {e}"
                        ));
                    }
                }
            }
        }
        for device in &plan.devices {
            if !outcomes.iter().any(|o| o.device_id == device.device_id) {
                outcomes.push(DeviceOutcome {
                    device: device.name.clone(),
                    device_id: device.device_id,
                    result: DeviceResult::Untouched,
                    changes_applied: 0,
                    reason: Some(format!("not started: device {failed} failed first")),
                });
            }
        }
        let any_failed = outcomes.iter().any(|o| o.result == DeviceResult::Failed);
        let reasons: Vec<String> = outcomes
            .iter()
            .filter(|o| o.result != DeviceResult::Applied)
            .filter_map(|o| o.reason.as_ref().map(|r| format!("{}: {r}", o.device)))
            .collect();
        ApplyReport {
            plan_id: plan.id.clone(),
            status: if any_failed {
                PlanStatus::Failed
            } else {
                PlanStatus::RolledBack
            },
            message: if any_failed {
                format!(
                    "the plan failed and at least one device could not be restored; an operator must check it. {}",
                    reasons.join("; ")
                )
            } else {
                format!(
                    "the plan failed; every device is as it was before. {}",
                    reasons.join("; ")
                )
            },
            devices: outcomes,
            duration_ms: 0,
        }
    }

    pub(crate) async fn apply_device(
        &self,
        plan: &Plan,
        device_id: &DeviceId,
        ctx: &AuditContext,
    ) -> Result<Done, Failure> {
        let name = plan.device_name(device_id).to_owned();
        let untouched = |reason: String| Failure {
            outcome: DeviceOutcome {
                device: name.clone(),
                device_id: *device_id,
                result: DeviceResult::Untouched,
                changes_applied: 0,
                reason: Some(reason),
            },
        };
        let changes: Vec<&Change> = plan.changes_of(device_id).collect();
        let client = match self.client_of(device_id).await {
            Ok(c) => c,
            Err(e) => return Err(untouched(e.to_string())),
        };
        let lock = self
            .inner
            .locks
            .device(
                self.store(),
                device_id,
                &name,
                &self.holder(),
                self.inner.config.lock_timeout,
            )
            .await
            .map_err(|e| untouched(e.to_string()))?;
        let mut run = Run {
            wf: self,
            plan,
            device_id: *device_id,
            name: name.clone(),
            client,
            changes,
            attempted: Vec::new(),
            created: HashMap::new(),
            armed: false,
            revert_due: None,
            audit: ctx.clone(),
        };
        let result = run.go().await;
        let _ = self
            .journal_step(&plan.id, Some(device_id), None, Step::Unlock, json!({}))
            .await;
        lock.release().await;
        result
    }

    pub(crate) async fn client_of(
        &self,
        device_id: &DeviceId,
    ) -> Result<Arc<DeviceClient>, WorkflowError> {
        let device = self.store().device_by_id(device_id).await?;
        Ok(self.inner.fleet.client(&device).await?)
    }

    /// Undoes a device that was fully applied (a later device failed).
    pub(crate) async fn rollback_done(
        &self,
        plan: &Plan,
        d: &Done,
        reason: &str,
        ctx: &AuditContext,
    ) -> Result<(), String> {
        let client = self
            .client_of(&d.device_id)
            .await
            .map_err(|e| e.to_string())?;
        let lock = self
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
            .map_err(|e| e.to_string())?;
        let mut run = Run {
            wf: self,
            plan,
            device_id: d.device_id,
            name: d.name.clone(),
            client,
            changes: plan.changes_of(&d.device_id).collect(),
            attempted: plan.changes_of(&d.device_id).map(|c| c.seq).collect(),
            created: d.created.clone(),
            armed: false,
            revert_due: None,
            audit: ctx.clone(),
        };
        let result = run.rollback("canary_failed", reason).await;
        let _ = self
            .journal_step(&plan.id, Some(&d.device_id), None, Step::Unlock, json!({}))
            .await;
        lock.release().await;
        result
    }
}

impl Run<'_> {
    async fn journal(
        &self,
        seq: Option<u32>,
        step: Step,
        detail: Value,
    ) -> Result<(), WorkflowError> {
        let audited = step.audited().then(|| {
            let change = seq.and_then(|s| self.changes.iter().find(|c| c.seq == s));
            json!({
                "device": self.name,
                "seq": seq,
                "change": change.map(|c| c.description.clone()),
                "detail": detail.clone(),
            })
        });
        self.wf
            .journal_step(&self.plan.id, Some(&self.device_id), seq, step, detail)
            .await?;
        if let Some(details) = audited {
            self.wf
                .store()
                .append_audit(
                    &self.audit,
                    &format!("plan.step.{step}"),
                    &format!("plan:{}", self.plan.id),
                    details,
                )
                .await?;
        }
        Ok(())
    }

    fn failure(&self, result: DeviceResult, reason: String) -> Failure {
        Failure {
            outcome: DeviceOutcome {
                device: self.name.clone(),
                device_id: self.device_id,
                result,
                changes_applied: self.attempted.len(),
                reason: Some(reason),
            },
        }
    }

    /// Rolls back and turns the result into the device's failure.
    async fn fail(&mut self, why: &str, reason: String) -> Failure {
        match self.rollback(why, &reason).await {
            Ok(()) => self.failure(
                DeviceResult::RolledBack,
                format!("{reason}; rolled back, the device is as before"),
            ),
            Err(e) => self.failure(
                DeviceResult::Failed,
                format!("{reason}; the rollback did not complete: {e}"),
            ),
        }
    }

    /// The apply on one router, step by step: each step journals before it acts, and a failing
    /// step undoes what was written before it returns the router's failure.
    async fn go(&mut self) -> Result<Done, Failure> {
        self.announce_lock().await?;
        self.check_drift().await?;
        if self.plan.arms_auto_revert() {
            self.arm_revert().await?;
        }
        for change in self.changes.clone() {
            self.write(change).await?;
        }
        self.verify().await?;
        if self.armed {
            self.confirm().await?;
        }
        let _ = self.journal(None, Step::Confirmed, json!({})).await;
        Ok(Done {
            device_id: self.device_id,
            name: self.name.clone(),
            created: self.created.clone(),
            applied: self.attempted.len(),
        })
    }

    fn journal_failed(&self, e: &WorkflowError) -> Failure {
        self.failure(
            DeviceResult::Untouched,
            format!("could not write the journal, nothing was changed: {e}"),
        )
    }

    /// Step: the router's lock is held (taken by the caller); say so in the journal.
    async fn announce_lock(&mut self) -> Result<(), Failure> {
        self.journal(
            None,
            Step::Lock,
            json!({"instance": self.wf.inner.instance}),
        )
        .await
        .map_err(|e| self.journal_failed(&e))?;
        Ok(())
    }

    /// Step: everything the plan read still holds; otherwise nothing is written.
    async fn check_drift(&mut self) -> Result<(), Failure> {
        // The router as it is now, not as a read a few seconds ago found it.
        self.client.invalidate_cache();
        match device_ops::drift(&self.client, &self.changes).await {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                let _ = self
                    .journal(None, Step::Drift, json!({"found": found}))
                    .await;
                return Err(self.failure(
                    DeviceResult::Untouched,
                    format!(
                        "the device changed since the plan was made, nothing was changed: {}. Propose the change again",
                        found.join("; ")
                    ),
                ));
            }
            Err(e) => {
                let _ = self
                    .journal(
                        None,
                        Step::DriftCheckFailed,
                        json!({"error": e.to_string()}),
                    )
                    .await;
                return Err(self.failure(
                    DeviceResult::Untouched,
                    format!(
                        "could not check the device before changing it, nothing was changed: {e}"
                    ),
                ));
            }
        }
        self.journal(None, Step::DriftOk, json!({}))
            .await
            .map_err(|e| self.journal_failed(&e))?;
        Ok(())
    }

    /// Step: the device-side auto-revert is armed.
    async fn arm_revert(&mut self) -> Result<(), Failure> {
        // An ambiguous failure may leave the entry behind: it only runs idempotent undo
        // steps for changes that never happened, then removes itself.
        if let Err(e) = self.arm().await {
            let _ = self.remove_revert_entry().await;
            return Err(self.failure(
                DeviceResult::Untouched,
                format!("could not arm the device-side auto-revert, nothing was changed: {e}"),
            ));
        }
        Ok(())
    }

    /// Step: one change is written (announced first, recorded after).
    async fn write(&mut self, change: &Change) -> Result<(), Failure> {
        self.within_revert_window(change).await?;
        if let Err(e) = self
            .journal(
                Some(change.seq),
                Step::Intent,
                json!({"description": change.description}),
            )
            .await
        {
            return Err(self
                .fail(
                    "journal_failed",
                    format!("could not write the journal: {e}"),
                )
                .await);
        }
        self.attempted.push(change.seq);
        match device_ops::perform(&self.client, change).await {
            Ok(created) => {
                if let Some(id) = &created {
                    self.created.insert(change.seq, id.clone());
                }
                let _ = self
                    .journal(Some(change.seq), Step::Done, json!({"created": created}))
                    .await;
                if self.armed && change.action == Action::Add {
                    // Teach the revert script the new item's id (best effort: it also finds
                    // the item by its properties).
                    let _ = self.rearm().await;
                }
            }
            Err(e) => {
                let _ = self
                    .journal(
                        Some(change.seq),
                        Step::Failed,
                        json!({"error": e.to_string()}),
                    )
                    .await;
                return Err(self
                    .fail(
                        "write_failed",
                        format!("change {} ({}) failed: {e}", change.seq, change.description),
                    )
                    .await);
            }
        }
        Ok(())
    }

    /// Refuses to send a change the device might take after its auto-revert has started: that
    /// change would be left in place, unprotected, when the revert has already run (and if it
    /// cut the server off, nothing would restore the device). A change sent now is taken at
    /// the latest when the call's deadline ends, so there must be that much left before the
    /// revert can start. Refusing rolls back what was written; nothing more is sent.
    async fn within_revert_window(&mut self, change: &Change) -> Result<(), Failure> {
        let Some(due) = self.revert_due else {
            return Ok(());
        };
        let deadline = self.wf.inner.fleet.connections().limits().timeout;
        if Instant::now() + deadline <= due {
            return Ok(());
        }
        let reason = format!(
            "change {} ({}) was not sent: the device-side auto-revert may start before the device answers it (a call may take {} s), so it would not be protected (MCP_PLAN_CONFIRM_TIMEOUT_SECONDS is too short for this apply)",
            change.seq,
            change.description,
            deadline.as_secs_f64()
        );
        let _ = self
            .journal(
                Some(change.seq),
                Step::ConfirmFailed,
                json!({"error": reason.clone()}),
            )
            .await;
        Err(self.fail("confirm_failed", reason).await)
    }

    /// Every change read back: what does not hold as planned, in words.
    async fn read_back(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for change in &self.changes {
            match device_ops::verify(
                &self.client,
                change,
                self.created.get(&change.seq).map(String::as_str),
            )
            .await
            {
                Ok(p) => problems.extend(p),
                Err(e) => problems.push(format!(
                    "{}: could not be read back: {e}",
                    change.description
                )),
            }
        }
        problems
    }

    /// Step: every change reads back as planned and the router answers a new connection.
    async fn verify(&mut self) -> Result<(), Failure> {
        // Verify: read every change back, then reach the device over a fresh connection.
        let _ = self.journal(None, Step::Verify, json!({})).await;
        let problems = self.read_back().await;
        if !problems.is_empty() {
            let _ = self
                .journal(None, Step::VerifyFailed, json!({"problems": problems}))
                .await;
            return Err(self
                .fail(
                    "verify_failed",
                    format!("verification failed: {}", problems.join("; ")),
                )
                .await);
        }
        if let Err(e) = self.fresh_connection().await {
            let _ = self
                .journal(
                    None,
                    Step::VerifyFailed,
                    json!({"fresh_connection": e.to_string()}),
                )
                .await;
            return Err(self
                .fail(
                    "management_path_lost",
                    format!("the device does not answer a new connection after the change: {e}"),
                )
                .await);
        }
        let _ = self.journal(None, Step::Verified, json!({})).await;
        Ok(())
    }

    /// Step: the auto-revert is stood down and removed, and the changes still hold.
    async fn confirm(&mut self) -> Result<(), Failure> {
        // Confirm: first make the auto-revert unable to run (disable it, and read back that
        // it never started), only then remove it; a revert that started in between means
        // the device is going back, and the apply is rolled back instead of recorded.
        let confirm_failed = |e: String| json!({"error": e});
        match self.stand_down().await {
            Ok(true) => {}
            Ok(false) => {
                let _ = self
                    .journal(
                        None,
                        Step::ConfirmFailed,
                        confirm_failed("the auto-revert already ran".into()),
                    )
                    .await;
                return Err(self
                    .fail(
                        "confirm_failed",
                        "the device-side auto-revert ran before the change could be confirmed (MCP_PLAN_CONFIRM_TIMEOUT_SECONDS is too short for this apply)".into(),
                    )
                    .await);
            }
            Err(e) => {
                let _ = self
                    .journal(None, Step::ConfirmFailed, confirm_failed(e.to_string()))
                    .await;
                return Err(self
                    .fail(
                        "confirm_failed",
                        format!("could not confirm (disable the auto-revert entry): {e}"),
                    )
                    .await);
            }
        }
        if let Err(e) = self.remove_revert_entry().await {
            let _ = self
                .journal(None, Step::ConfirmFailed, confirm_failed(e.to_string()))
                .await;
            return Err(self
                .fail(
                    "confirm_failed",
                    format!("could not confirm (remove the auto-revert entry): {e}"),
                )
                .await);
        }
        self.armed = false;
        // And the changes still hold: nothing reverted them while confirming.
        let problems = self.read_back().await;
        if !problems.is_empty() {
            let _ = self
                .journal(
                    None,
                    Step::ConfirmFailed,
                    json!({"problems": problems.clone()}),
                )
                .await;
            return Err(self
                .fail(
                    "confirm_failed",
                    format!(
                        "the changes did not hold while confirming: {}",
                        problems.join("; ")
                    ),
                )
                .await);
        }
        Ok(())
    }

    fn scheduler() -> Result<MenuPath, WorkflowError> {
        MenuPath::parse("system/scheduler").map_err(WorkflowError::Invalid)
    }

    fn revert_script(&self) -> String {
        let created = self.created.clone();
        script::revert_script(&self.plan.id, &self.changes, &move |seq| {
            created.get(&seq).cloned()
        })
    }

    async fn arm(&mut self) -> Result<(), WorkflowError> {
        let secs = self.wf.inner.config.confirm_timeout.as_secs().max(1);
        self.journal(None, Step::Arm, json!({"confirm_timeout_seconds": secs}))
            .await?;
        // With only an interval, RouterOS starts the entry now and runs it first one interval
        // later; the script removes the entry, so it runs at most once.
        let props = Props::from([
            ("name".into(), script::entry_name(&self.plan.id)),
            ("interval".into(), format!("{secs}s")),
            ("on-event".into(), self.revert_script()),
            (
                "comment".into(),
                format!("routeros-mcp auto-revert of plan {}", self.plan.id),
            ),
        ]);
        self.armed = true;
        // The entry is created no sooner than the request leaves.
        let sent = Instant::now();
        let created = self.client.add(&Self::scheduler()?, &props, None).await?;
        self.revert_due =
            Some(sent + Duration::from_secs(secs).saturating_sub(START_TIME_RESOLUTION));
        self.journal(
            None,
            Step::Armed,
            json!({"entry": created.get(".id"), "confirm_timeout_seconds": secs}),
        )
        .await?;
        Ok(())
    }

    async fn rearm(&self) -> Result<(), WorkflowError> {
        let menu = Self::scheduler()?;
        let entries = self
            .client
            .print(
                &menu,
                &PrintQuery::all().filter("name", &script::entry_name(&self.plan.id)),
            )
            .await?;
        if let Some(id) = entries.first().and_then(|e| e.get(".id")) {
            let id = routeros::RosId::parse(id).map_err(WorkflowError::Invalid)?;
            self.client
                .set(
                    &menu,
                    Some(&id),
                    &Props::from([("on-event".into(), self.revert_script())]),
                )
                .await?;
        }
        Ok(())
    }

    /// Disables the plan's auto-revert entry so it can no longer start: true when it never
    /// ran (its `run-count` is still 0 after the entry was disabled), false when it ran or is
    /// running (it is gone, or it counted a run).
    async fn stand_down(&self) -> Result<bool, WorkflowError> {
        let menu = Self::scheduler()?;
        let ran = |e: &Props| e.get("run-count").is_some_and(|n| n.trim() != "0");
        let entries = self
            .client
            .print(
                &menu,
                &PrintQuery::all().filter("name", &script::entry_name(&self.plan.id)),
            )
            .await?;
        let Some(entry) = entries.first() else {
            return Ok(false);
        };
        if ran(entry) {
            return Ok(false);
        }
        let Some(id) = entry.get(".id") else {
            return Err(WorkflowError::Invalid(
                "the auto-revert entry has no id".into(),
            ));
        };
        let id = routeros::RosId::parse(id).map_err(WorkflowError::Invalid)?;
        match self
            .client
            .set(
                &menu,
                Some(&id),
                &Props::from([("disabled".into(), "true".into())]),
            )
            .await
        {
            Ok(()) => {}
            Err(e) if matches!(e.kind, routeros::ErrorKind::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        match self.client.get(&menu, &id).await {
            Ok(entry) => Ok(!ran(&entry)),
            Err(e) if matches!(e.kind, routeros::ErrorKind::NotFound(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn remove_revert_entry(&self) -> Result<(), WorkflowError> {
        device_ops::ensure(
            &self.client,
            &crate::model::Inverse::Absent {
                menu: "system/scheduler".into(),
                id: None,
                matching: Props::from([("name".into(), script::entry_name(&self.plan.id))]),
            },
            None,
            None,
        )
        .await
        .map(|_| ())
    }

    async fn fresh_connection(&self) -> Result<(), WorkflowError> {
        let store = self.wf.store();
        let device = store.device_by_id(&self.device_id).await?;
        let target = self
            .wf
            .inner
            .fleet
            .target(&device, fleet::TrustMode::Registry)
            .await?;
        let fresh = self.wf.inner.fleet.connections().uncached(
            target,
            device.driver,
            device.routeros_version.as_deref(),
        );
        let menu = MenuPath::parse("system/identity").map_err(WorkflowError::Invalid)?;
        fresh.print(&menu, &PrintQuery::all()).await?;
        Ok(())
    }

    /// Undoes the attempted changes, newest first, retrying while the device does not answer
    /// (an armed auto-revert restores it meanwhile); then checks the device is as before.
    async fn rollback(&mut self, why: &str, reason: &str) -> Result<(), String> {
        if let Some(m) = &self.wf.inner.metrics {
            m.rollbacks.with_label_values(&[why]).inc();
        }
        let _ = self
            .journal(
                None,
                Step::Rollback,
                json!({"reason": reason, "trigger": why}),
            )
            .await;
        let config = &self.wf.inner.config;
        // Long enough for an armed auto-revert to have fired and the device to answer again.
        let margin = config.rollback_timeout.min(Duration::from_secs(30));
        let window = config.rollback_timeout.max(config.confirm_timeout + margin);
        let deadline = Instant::now() + window;
        let attempted: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| self.attempted.contains(&c.seq))
            .copied()
            .collect();
        let mut errors = Vec::new();
        // What was deliberately not undone (someone changed it after the plan wrote it), and
        // the changes concerned: left for a person, so not expected back either.
        let mut left_alone = Vec::new();
        let mut drifted = Vec::new();
        for change in attempted.iter().rev() {
            let created = self.created.get(&change.seq).cloned();
            for inv in &change.inverse {
                let mut attempt = 0;
                loop {
                    // An auto-revert may have changed the router by itself: look afresh.
                    self.client.invalidate_cache();
                    match device_ops::ensure(&self.client, inv, created.as_deref(), Some(change))
                        .await
                    {
                        Ok(left) => {
                            if !left.is_empty() {
                                drifted.push(change.seq);
                                let _ = self
                                    .journal(
                                        Some(change.seq),
                                        Step::UndoSkipped,
                                        json!({"left_alone": left}),
                                    )
                                    .await;
                                left_alone.extend(left);
                            }
                            break;
                        }
                        Err(e) if transient(&e) && Instant::now() < deadline => {
                            tokio::time::sleep(backoff(attempt)).await;
                            attempt += 1;
                        }
                        Err(e) => {
                            errors.push(format!("undoing change {}: {e}", change.seq));
                            break;
                        }
                    }
                }
            }
            let _ = self
                .journal(Some(change.seq), Step::Undone, json!({}))
                .await;
        }
        if self.armed {
            let mut attempt = 0;
            loop {
                match self.remove_revert_entry().await {
                    Ok(()) => break,
                    Err(e) if transient(&e) && Instant::now() < deadline => {
                        tokio::time::sleep(backoff(attempt)).await;
                        attempt += 1;
                    }
                    Err(e) => {
                        errors.push(format!("removing the auto-revert entry: {e}"));
                        break;
                    }
                }
            }
        }
        // The proof: every change that ran is undone on the device (but what was left alone).
        let created = self.created.clone();
        let lookup = move |seq: u32| created.get(&seq).cloned();
        let expected: Vec<&Change> = attempted
            .iter()
            .filter(|c| !drifted.contains(&c.seq))
            .copied()
            .collect();
        let mut attempt = 0;
        let check = loop {
            match device_ops::restored(&self.client, &expected, &lookup).await {
                Ok(p) => break Ok(p),
                Err(e) if transient(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => break Err(e),
            }
        };
        match check {
            Ok(problems) if problems.is_empty() && errors.is_empty() && left_alone.is_empty() => {
                let _ = self.journal(None, Step::RolledBack, json!({})).await;
                Ok(())
            }
            Ok(problems) => {
                let all: Vec<String> = errors
                    .into_iter()
                    .chain(problems)
                    .chain(
                        left_alone
                            .into_iter()
                            .map(|l| format!("left for a person: {l}")),
                    )
                    .collect();
                let _ = self
                    .journal(None, Step::RollbackFailed, json!({"problems": all}))
                    .await;
                Err(all.join("; "))
            }
            Err(e) => {
                let text = format!("the device could not be checked after the rollback: {e}");
                let _ = self
                    .journal(
                        None,
                        Step::RollbackFailed,
                        json!({"problems": [text.clone()]}),
                    )
                    .await;
                Err(text)
            }
        }
    }
}

/// Rolls back one device's attempted changes (crash recovery).
pub(crate) async fn rollback_device(
    wf: &Workflow,
    plan: &Plan,
    device_id: &DeviceId,
    attempted: Vec<u32>,
    created: HashMap<u32, String>,
    armed: bool,
    ctx: &AuditContext,
) -> Result<(), String> {
    let client = wf.client_of(device_id).await.map_err(|e| e.to_string())?;
    let mut run = Run {
        wf,
        plan,
        device_id: *device_id,
        name: plan.device_name(device_id).to_owned(),
        client,
        changes: plan.changes_of(device_id).collect(),
        attempted,
        created,
        armed,
        revert_due: None,
        audit: ctx.clone(),
    };
    run.rollback("recovery", "recovering an interrupted apply")
        .await
}

/// Removes a confirmed device's revert entry if it is still there (crash recovery).
pub(crate) async fn confirm_device(
    wf: &Workflow,
    plan: &Plan,
    device_id: &DeviceId,
    ctx: &AuditContext,
) -> Result<(), WorkflowError> {
    let client = wf.client_of(device_id).await?;
    let run = Run {
        wf,
        plan,
        device_id: *device_id,
        name: plan.device_name(device_id).to_owned(),
        client,
        changes: Vec::new(),
        attempted: Vec::new(),
        created: HashMap::new(),
        armed: true,
        revert_due: None,
        audit: ctx.clone(),
    };
    run.remove_revert_entry().await
}
