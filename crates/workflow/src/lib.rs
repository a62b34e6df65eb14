//! Safe changes to routers: **plan → approval token → apply**.
//!
//! An assistant (or an operator) may propose any change: the [planner](planner) reads each
//! device, resolves the request to exact RouterOS changes, records the state they were computed
//! from, their inverse and their risk, and stores the plan. Nothing touches a router until a
//! human approved exactly that plan — `routeros-mcp plan approve` (or MCP elicitation, or policy
//! for low risk in lab) mints a single-use, expiring approval token bound to the plan's content
//! hash. [`Workflow::apply`] then, device by device (canary first): takes the device's write
//! lock, checks for drift, arms a device-side auto-revert (for every plan but a low-risk one
//! made only of changes that cannot affect reachability), applies with a write-ahead journal,
//! verifies by reading back and over a fresh connection, and confirms. Any failure rolls back
//! what was applied, in reverse, on every device already changed; a crash mid-apply is resolved
//! at the next start ([`Workflow::recover`]).
//!
//! Every plan, decision, apply step, rollback and recovery is audited.

mod apply;
pub mod capabilities;
pub mod clock;
pub mod desired;
mod device_ops;
mod error;
mod journal;
mod lifecycle;
mod lock;
pub mod menus;
mod metrics;
pub mod model;
pub mod planner;
mod recovery;
mod repo;
pub mod risk;
pub mod rollout;
pub mod script;
pub mod token;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use domain::Environment;
use fleet::Fleet;
use serde::Serialize;
use serde_json::json;
use store::{AuditContext, Store};
use vault::{MasterKey, SigningKey};

pub use apply::{ApplyReport, DeviceOutcome, DeviceResult};
pub use error::{TokenError, WorkflowError};
pub use journal::Step;
pub use lifecycle::{Outcome, PlanEvent, Refused};
pub use metrics::Metrics;
pub use model::{Action, Change, ItemRef, Plan, PlanKind, PlanStatus, Props, Risk};
pub use planner::{ChangeRequest, DeviceRequest, Op, PlanRequest, Selector};
pub use recovery::{ReconcileReport, RecoveryReport};
pub use repo::{JournalEntry, PlanFilter, ProjectPlanFilter};
pub use rollout::{Control, Progress, Rollout, RolloutSpec};

/// Which plans may be approved without a human, and whether an MCP client's user may approve,
/// for one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalPolicy {
    /// Risks approved automatically when the plan is proposed (never critical).
    pub auto_approve: Vec<Risk>,
    /// Whether `plan.apply` may ask the client's user to approve (MCP elicitation).
    pub elicitation: bool,
}

/// How the workflow behaves (from configuration).
#[derive(Debug, Clone)]
pub struct WorkflowConfig {
    /// `MCP_ENABLE_PLAN_APPLY`: when false every apply is refused (plans stay viewable).
    pub enable_apply: bool,
    /// `MCP_PLAN_APPROVAL_TIMEOUT_SECONDS`: how long an approval token is valid.
    pub approval_timeout: Duration,
    /// `MCP_PLAN_CONFIRM_TIMEOUT_SECONDS`: how long the device-side auto-revert waits for the
    /// server's confirmation. A change is sent only while more than a call's deadline plus one
    /// second of it is left (see `apply`).
    pub confirm_timeout: Duration,
    /// How long an apply waits for a device another apply is writing.
    pub lock_timeout: Duration,
    /// How long a rollback keeps retrying a device that does not answer (at least the confirm
    /// timeout plus a margin of up to 30 s, so an armed auto-revert has fired by then). A device
    /// still silent after that leaves the plan `failed` until `reconcile` sees it again.
    pub rollback_timeout: Duration,
    /// Approval policy per environment (the strictest environment among a plan's devices).
    pub policies: BTreeMap<Environment, ApprovalPolicy>,
    /// Where token expiry reads the time ([`clock::SystemClock`] but in tests).
    pub clock: Arc<dyn clock::Clock>,
    /// Who is told when a plan waits for approval, is decided, and ends
    /// (`ROUTEROS_MCP_WEBHOOK_URL`; see [`Workflow::recorded`]). `None`: nobody.
    pub notifier: Option<webhook::Notifier>,
    /// Told when a plan has been applied, with the plan's id and devices — how the backups take
    /// the snapshot that marks what the product applied. `None`: nobody.
    pub after_apply: Option<AfterApply>,
    /// Each catalog tool's tier, which decides whether its plans need `allow_basic_writes` or
    /// `allow_professional_workflows` on their devices (see [`capabilities`]). A tool not in
    /// it is judged by its plan's risk alone.
    pub tool_tiers: BTreeMap<String, domain::Tier>,
}

/// A callback run when a plan reaches `applied` (see [`WorkflowConfig::after_apply`]). It must
/// return at once (spawn what takes time) and cannot fail the apply.
#[derive(Clone)]
pub struct AfterApply(pub Arc<AfterApplyFn>);

/// What [`AfterApply`] calls: the plan's id and its devices.
pub type AfterApplyFn = dyn Fn(&str, &[domain::DeviceId]) + Send + Sync;

impl std::fmt::Debug for AfterApply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AfterApply(..)")
    }
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        let policy = |auto: &[Risk], elicitation| ApprovalPolicy {
            auto_approve: auto.to_vec(),
            elicitation,
        };
        Self {
            enable_apply: true,
            approval_timeout: Duration::from_secs(3600),
            confirm_timeout: Duration::from_secs(120),
            lock_timeout: Duration::from_secs(60),
            rollback_timeout: Duration::from_secs(180),
            policies: BTreeMap::from([
                (Environment::Lab, policy(&[Risk::Low], true)),
                (Environment::Staging, policy(&[], false)),
                (Environment::Prod, policy(&[], false)),
            ]),
            clock: Arc::new(clock::SystemClock),
            notifier: None,
            after_apply: None,
            tool_tiers: BTreeMap::new(),
        }
    }
}

impl WorkflowConfig {
    pub fn policy(&self, env: Environment) -> ApprovalPolicy {
        self.policies.get(&env).cloned().unwrap_or(ApprovalPolicy {
            auto_approve: Vec::new(),
            elicitation: false,
        })
    }
}

/// A freshly minted approval token (shown once; stored only hashed).
#[derive(Clone, Serialize)]
pub struct IssuedToken {
    pub approval_token: String,
    pub plan_id: String,
    pub approver: String,
    pub expires_at: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("plan_id", &self.plan_id)
            .field("approver", &self.approver)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Refuses control characters in the title and in every property name and value of a request:
/// text that ends up in `plan show`, an approval prompt and on the router must read as it is.
fn check_text(request: &PlanRequest) -> Result<(), WorkflowError> {
    let refuse = |what: String, c: domain::text::ControlChar| {
        WorkflowError::Invalid(format!(
            "{what} contains {c}; titles, property names and values may not contain control characters (newlines, carriage returns, terminal escapes, bidirectional overrides)"
        ))
    };
    if let Some(c) = domain::text::find_control(&request.title) {
        return Err(refuse("the title".into(), c));
    }
    let check_props = |props: &Props| -> Result<(), WorkflowError> {
        for (k, v) in props {
            if let Some(c) = domain::text::find_control(k) {
                return Err(refuse(format!("property name {:?}", k), c));
            }
            if let Some(c) = domain::text::find_control(v) {
                return Err(refuse(
                    format!("the value of {}", domain::text::escape(k)),
                    c,
                ));
            }
        }
        Ok(())
    };
    let check_selector = |s: &Selector| -> Result<(), WorkflowError> {
        match s {
            Selector::Id(id) => match domain::text::find_control(id) {
                Some(c) => Err(refuse("an item id".into(), c)),
                None => Ok(()),
            },
            Selector::Where(p) => check_props(p),
            Selector::Singleton => Ok(()),
            Selector::Recorded { id, matching } => match domain::text::find_control(id) {
                Some(c) => Err(refuse("an item id".into(), c)),
                None => check_props(matching),
            },
        }
    };
    for device in &request.devices {
        for change in &device.changes {
            match &change.op {
                Op::Add {
                    props,
                    place_before,
                } => {
                    check_props(props)?;
                    if let Some(p) = place_before {
                        check_selector(p)?;
                    }
                }
                Op::Set {
                    target,
                    props,
                    unset,
                } => {
                    check_selector(target)?;
                    check_props(props)?;
                    for u in unset {
                        if let Some(c) = domain::text::find_control(u) {
                            return Err(refuse("a property to unset".into(), c));
                        }
                    }
                }
                Op::Remove { target } | Op::Enable { target } | Op::Disable { target } => {
                    check_selector(target)?;
                }
                Op::Move {
                    target,
                    place_before,
                } => {
                    check_selector(target)?;
                    if let Some(p) = place_before {
                        check_selector(p)?;
                    }
                }
                Op::Command { target, command } => {
                    check_selector(target)?;
                    if let Some(c) = domain::text::find_control(command) {
                        return Err(refuse("the command".into(), c));
                    }
                }
            }
        }
    }
    Ok(())
}

/// A proposed plan, with its token when policy approved it at once.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub plan: Plan,
    pub auto_approval: Option<IssuedToken>,
}

/// How an approval was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalVia {
    /// `routeros-mcp plan approve`.
    Cli,
    /// The MCP client's user, through elicitation.
    Elicitation,
    /// Configuration auto-approved it.
    Policy,
}

impl ApprovalVia {
    fn as_str(self) -> &'static str {
        match self {
            ApprovalVia::Cli => "cli",
            ApprovalVia::Elicitation => "elicitation",
            ApprovalVia::Policy => "policy",
        }
    }
}

/// The workflow engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Workflow {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) fleet: Fleet,
    pub(crate) config: WorkflowConfig,
    pub(crate) signer: SigningKey,
    pub(crate) locks: lock::Locks,
    pub(crate) metrics: Option<Metrics>,
    /// This process, in journal rows.
    pub(crate) instance: String,
    /// Fault injection for tests (`fault-injection` feature): stop for good after this many
    /// more journal rows, as a killed process would, and say so.
    pub(crate) halt: Option<Halt>,
}

/// See [`Inner::halt`].
#[derive(Debug)]
pub(crate) struct Halt {
    rows_left: std::sync::atomic::AtomicUsize,
    halted: Arc<tokio::sync::Notify>,
}

impl Workflow {
    pub fn new(
        fleet: Fleet,
        key: &MasterKey,
        config: WorkflowConfig,
        metrics: Option<Metrics>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                fleet,
                config,
                signer: key.signing_key("plan approval v1"),
                locks: lock::Locks::default(),
                metrics,
                instance: format!("{}:{}", std::process::id(), &token::nonce()[..8]),
                halt: None,
            }),
        }
    }

    /// An engine that stops for good right after writing its `rows`-th journal row — no step,
    /// no cleanup after it — as if its process were killed at that point; the returned `Notify`
    /// fires when it does. Drop the stopped future, then recover with another engine. For the
    /// tests that kill the engine at every journal step.
    #[cfg(feature = "fault-injection")]
    pub fn halting_after_journal_rows(
        fleet: Fleet,
        key: &MasterKey,
        config: WorkflowConfig,
        rows: usize,
    ) -> (Self, Arc<tokio::sync::Notify>) {
        let halted = Arc::new(tokio::sync::Notify::new());
        let mut wf = Self::new(fleet, key, config, None);
        if let Some(inner) = Arc::get_mut(&mut wf.inner) {
            inner.halt = Some(Halt {
                rows_left: std::sync::atomic::AtomicUsize::new(rows),
                halted: Arc::clone(&halted),
            });
        }
        (wf, halted)
    }

    /// Stops here for good if the fault injection says so (see `halting_after_journal_rows`).
    pub(crate) async fn maybe_halt(&self) {
        let Some(halt) = &self.inner.halt else {
            return;
        };
        use std::sync::atomic::Ordering;
        let before = halt
            .rows_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .unwrap_or(0);
        if before == 1 {
            halt.halted.notify_one();
            std::future::pending::<()>().await;
        }
    }

    pub fn config(&self) -> &WorkflowConfig {
        &self.inner.config
    }

    /// How this process names itself in lock files, for refusals other processes print.
    pub(crate) fn holder(&self) -> String {
        format!(
            "held by routeros-mcp process {} ({})",
            std::process::id(),
            self.inner.instance
        )
    }

    fn store(&self) -> &Store {
        self.inner.fleet.store()
    }

    /// Plans a request and stores it (pending, or approved when policy allows).
    pub async fn propose(
        &self,
        request: &PlanRequest,
        ctx: &AuditContext,
    ) -> Result<Proposal, WorkflowError> {
        self.propose_kind(request, PlanKind::Change, None, None, ctx)
            .await
    }

    /// Plans a request over many devices as a staged rollout: canary first, then the waves of
    /// `spec`, with a soak and health gates between waves (see [`rollout`]).
    pub async fn propose_rollout(
        &self,
        request: &PlanRequest,
        spec: RolloutSpec,
        ctx: &AuditContext,
    ) -> Result<Proposal, WorkflowError> {
        if request.devices.len() < 2 {
            return Err(WorkflowError::Invalid(format!(
                "a staged rollout needs at least 2 devices (a canary and a wave); this request names {}",
                request.devices.len()
            )));
        }
        self.propose_kind(request, PlanKind::Change, None, Some(spec), ctx)
            .await
    }

    async fn propose_kind(
        &self,
        request: &PlanRequest,
        kind: PlanKind,
        rollback_of: Option<String>,
        rollout: Option<RolloutSpec>,
        ctx: &AuditContext,
    ) -> Result<Proposal, WorkflowError> {
        check_text(request)?;
        let planned = planner::plan(&self.inner.fleet, request).await?;
        match kind {
            PlanKind::Change => {
                self.check_capabilities(&request.tool, planned.risk, &planned.devices)
                    .await?;
            }
            // Undoing returns the devices to a state a person approved before.
            PlanKind::Rollback => {}
        }
        let project_id = repo::project_of_device(self.store(), &planned.first_device).await?;
        let now = store::time::now();
        let mut plan = Plan {
            id: uuid::Uuid::now_v7().to_string(),
            project_id,
            title: request.title.trim().to_owned(),
            tool: request.tool.clone(),
            kind,
            rollback_of,
            status: PlanStatus::Pending,
            risk: planned.risk,
            risk_reasons: planned.reasons,
            environment: planned.environment,
            content_hash: String::new(),
            created_by: ctx.actor.clone(),
            created_at: now.clone(),
            updated_at: now,
            devices: planned.devices,
            changes: planned.changes,
            outcome: None,
            rollout,
        };
        if plan.title.is_empty() {
            return Err(WorkflowError::Invalid("a plan needs a title".into()));
        }
        plan.content_hash = plan.compute_hash();
        let policy = self.inner.config.policy(plan.environment);
        let auto = plan.risk.may_be_approved_without_a_person()
            && policy.auto_approve.contains(&plan.risk);
        let mut tx = self.store().begin_write().await?;
        repo::insert_plan(&mut tx, &plan).await?;
        store::append_audit_in(
            &mut tx,
            ctx,
            "plan.create",
            &format!("plan:{}", plan.id),
            json!({
                "title": plan.title, "tool": plan.tool, "kind": plan.kind, "risk": plan.risk,
                "rollback_of": plan.rollback_of,
                "devices": plan.devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
                "changes": plan.changes.len(), "content_hash": plan.content_hash,
            }),
        )
        .await?;
        let token = if auto {
            let approver = format!("policy:auto-approve-{}-{}", plan.risk, plan.environment);
            let issued = self
                .issue(&mut tx, &plan, &approver, ApprovalVia::Policy, None, ctx)
                .await?;
            plan.status = PlanStatus::Approved;
            Some(issued)
        } else {
            None
        };
        tx.commit().await?;
        match &token {
            // Nobody waits for it: it was approved as it was proposed.
            Some(approval) => {
                self.count(PlanStatus::Pending);
                self.recorded(&plan, PlanStatus::Approved, Said::by(&approval.approver))
                    .await;
            }
            None => {
                self.recorded(&plan, PlanStatus::Pending, Said::default())
                    .await;
            }
        }
        Ok(Proposal {
            plan,
            auto_approval: token,
        })
    }

    /// Mints and records a token for `plan` inside `tx`, and marks the plan approved.
    async fn issue(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        plan: &Plan,
        approver: &str,
        via: ApprovalVia,
        comment: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<IssuedToken, WorkflowError> {
        let expires = self.inner.config.clock.now()
            + chrono::Duration::from_std(self.inner.config.approval_timeout)
                .unwrap_or(chrono::Duration::hours(1));
        let claims = token::Claims {
            plan_id: plan.id.clone(),
            plan_hash: plan.content_hash.clone(),
            approver: approver.to_owned(),
            expires_at: expires.timestamp(),
            nonce: token::nonce(),
        };
        let text = token::mint(&self.inner.signer, &claims);
        let expires_at = store::time::format(expires);
        repo::insert_approval(
            tx,
            &repo::ApprovalRow {
                id: uuid::Uuid::now_v7().to_string(),
                plan_id: plan.id.clone(),
                decision: "approved",
                approver: approver.to_owned(),
                via: via.as_str(),
                reason: comment.map(str::to_owned),
                plan_hash: plan.content_hash.clone(),
                token_hash: Some(token::hash(&text)),
                expires_at: Some(expires_at.clone()),
                created_at: store::time::now(),
            },
        )
        .await?;
        repo::transition(tx, &plan.id, plan.status, PlanEvent::Approve, None).await?;
        store::append_audit_in(
            tx,
            ctx,
            "plan.approve",
            &format!("plan:{}", plan.id),
            {
                let mut details = json!({"approver": approver, "via": via.as_str(), "expires_at": expires_at, "content_hash": plan.content_hash, "risk": plan.risk});
                if let Some(comment) = comment {
                    details["comment"] = json!(comment);
                }
                details
            },
        )
        .await?;
        Ok(IssuedToken {
            approval_token: text,
            plan_id: plan.id.clone(),
            approver: approver.to_owned(),
            expires_at,
        })
    }

    /// A human approves: mints a token bound to the plan as it is now.
    pub async fn approve(
        &self,
        plan_id: &str,
        approver: &str,
        via: ApprovalVia,
        ctx: &AuditContext,
    ) -> Result<IssuedToken, WorkflowError> {
        self.approve_with_comment(plan_id, approver, via, None, ctx)
            .await
    }

    /// [`Workflow::approve`] with the approver's comment, recorded with the decision (shown
    /// among the plan's decisions as its `reason`) and in the audit event. The comment must be
    /// free of control characters.
    pub async fn approve_with_comment(
        &self,
        plan_id: &str,
        approver: &str,
        via: ApprovalVia,
        comment: Option<&str>,
        ctx: &AuditContext,
    ) -> Result<IssuedToken, WorkflowError> {
        if let Some(c) = comment.and_then(domain::text::find_control) {
            return Err(WorkflowError::Invalid(format!(
                "the comment contains {c}; comments may not contain control characters"
            )));
        }
        if approver.trim().is_empty() || approver.starts_with("mcp:") {
            return Err(WorkflowError::Refused(
                "an approval must come from a person (the CLI or the client's user), not from an MCP session"
                    .into(),
            ));
        }
        let plan = repo::load_plan(self.store(), plan_id).await?;
        plan.status
            .on(PlanEvent::Approve)
            .map_err(|r| WorkflowError::Refused(r.for_plan(plan_id)))?;
        if via != ApprovalVia::Cli && !plan.risk.may_be_approved_without_a_person() {
            return Err(WorkflowError::Refused(format!(
                "plan {plan_id} is {} risk: only an operator can approve it (`routeros-mcp plan approve {plan_id}`), never an MCP client",
                plan.risk
            )));
        }
        if plan.compute_hash() != plan.content_hash {
            return Err(WorkflowError::Refused(format!(
                "plan {plan_id} does not match its recorded content hash (was the database edited?); propose it again"
            )));
        }
        let mut tx = self.store().begin_write().await?;
        let issued = self
            .issue(&mut tx, &plan, approver, via, comment, ctx)
            .await?;
        tx.commit().await?;
        let said = Said {
            by: Some(approver),
            reason: comment,
        };
        self.recorded(&plan, PlanStatus::Approved, said).await;
        Ok(issued)
    }

    /// A human rejects a plan; it can no longer be applied.
    pub async fn reject(
        &self,
        plan_id: &str,
        approver: &str,
        reason: &str,
        ctx: &AuditContext,
    ) -> Result<(), WorkflowError> {
        let plan = repo::load_plan(self.store(), plan_id).await?;
        let mut tx = self.store().begin_write().await?;
        repo::transition(&mut tx, plan_id, plan.status, PlanEvent::Reject, None).await?;
        repo::insert_approval(
            &mut tx,
            &repo::ApprovalRow {
                id: uuid::Uuid::now_v7().to_string(),
                plan_id: plan_id.to_owned(),
                decision: "rejected",
                approver: approver.to_owned(),
                via: ApprovalVia::Cli.as_str(),
                reason: Some(reason.to_owned()),
                plan_hash: plan.content_hash.clone(),
                token_hash: None,
                expires_at: None,
                created_at: store::time::now(),
            },
        )
        .await?;
        store::append_audit_in(
            &mut tx,
            ctx,
            "plan.reject",
            &format!("plan:{plan_id}"),
            json!({"approver": approver, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        let said = Said {
            by: Some(approver),
            reason: Some(reason),
        };
        self.recorded(&plan, PlanStatus::Rejected, said).await;
        Ok(())
    }

    /// Withdraws a plan that was not applied.
    pub async fn cancel(&self, plan_id: &str, ctx: &AuditContext) -> Result<Plan, WorkflowError> {
        let plan = repo::load_plan(self.store(), plan_id).await?;
        let mut tx = self.store().begin_write().await?;
        repo::transition(&mut tx, plan_id, plan.status, PlanEvent::Cancel, None).await?;
        store::append_audit_in(
            &mut tx,
            ctx,
            "plan.cancel",
            &format!("plan:{plan_id}"),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.recorded(&plan, PlanStatus::Cancelled, Said::default())
            .await;
        repo::load_plan(self.store(), plan_id).await
    }

    pub async fn plan(&self, plan_id: &str) -> Result<Plan, WorkflowError> {
        repo::load_plan(self.store(), plan_id).await
    }

    /// Plans, newest first, without their changes.
    pub async fn plans(&self, filter: &PlanFilter) -> Result<Vec<Plan>, WorkflowError> {
        repo::list_plans(self.store(), filter).await
    }

    /// A page of one project's plans, newest first, without their changes.
    pub async fn project_plans(
        &self,
        filter: &ProjectPlanFilter,
    ) -> Result<Vec<Plan>, WorkflowError> {
        repo::list_project_plans(self.store(), filter).await
    }

    /// The decisions taken on a plan (approvals and rejections; never a token).
    pub async fn decisions(&self, plan_id: &str) -> Result<Vec<serde_json::Value>, WorkflowError> {
        repo::approvals(self.store(), plan_id).await
    }

    pub async fn journal(&self, plan_id: &str) -> Result<Vec<JournalEntry>, WorkflowError> {
        repo::journal(self.store(), plan_id).await
    }

    /// Proposes the undoing of an applied plan, as a new plan that needs its own approval.
    pub async fn propose_rollback(
        &self,
        plan_id: &str,
        ctx: &AuditContext,
    ) -> Result<Proposal, WorkflowError> {
        let plan = repo::load_plan(self.store(), plan_id).await?;
        if plan.status != PlanStatus::Applied {
            return Err(WorkflowError::Refused(format!(
                "plan {plan_id} is {}: only applied plans can be rolled back (a failed apply was already rolled back)",
                plan.status
            )));
        }
        let journal = repo::journal(self.store(), plan_id).await?;
        let request = recovery::rollback_request(&plan, &journal)?;
        self.propose_kind(
            &request,
            PlanKind::Rollback,
            Some(plan.id.clone()),
            None,
            ctx,
        )
        .await
    }

    pub(crate) fn count(&self, status: PlanStatus) {
        if let Some(m) = &self.inner.metrics {
            m.plans.with_label_values(&[status.as_str()]).inc();
        }
    }

    /// `plan` reached `status` and it is committed: counted in `mcp_plans_total`, and people are
    /// told on the webhook. Every status change a person cares about passes here, whichever
    /// path made it (the CLI, the admin API, elicitation, policy, an apply, recovery at start,
    /// reconciliation), so each event is sent from this one place. Sending only queues: it
    /// never waits for the receiver, and never fails the change.
    pub(crate) async fn recorded(&self, plan: &Plan, status: PlanStatus, said: Said<'_>) {
        use webhook::Event;
        self.count(status);
        if let (PlanStatus::Applied, Some(hook)) = (status, &self.inner.config.after_apply) {
            let devices: Vec<domain::DeviceId> = plan.devices.iter().map(|d| d.device_id).collect();
            (hook.0)(&plan.id, &devices);
        }
        let Some(notifier) = &self.inner.config.notifier else {
            return;
        };
        let summary = || async {
            // `ORG/PROJECT` as operators name it; the registry id if that cannot be read.
            let project = match self.store().project_ref(&plan.project_id).await {
                Ok(p) => p.to_string(),
                Err(_) => plan.project_id.clone(),
            };
            webhook::PlanSummary {
                id: plan.id.clone(),
                title: plan.title.clone(),
                project,
                risk: plan.risk.to_string(),
                devices: plan.devices.iter().map(|d| d.name.clone()).collect(),
                changes: plan.changes.len(),
            }
        };
        let by = || said.by.unwrap_or("unknown").to_owned();
        let message = || said.reason.unwrap_or_default().to_owned();
        let event = match status {
            PlanStatus::Pending => Event::PlanAwaitingApproval(summary().await),
            PlanStatus::Approved => Event::PlanApproved {
                plan: summary().await,
                by: by(),
                reason: said.reason.map(str::to_owned),
            },
            PlanStatus::Rejected => Event::PlanRejected {
                plan: summary().await,
                by: by(),
                reason: message(),
            },
            PlanStatus::Applied => Event::PlanApplied {
                plan: summary().await,
                message: message(),
            },
            PlanStatus::RolledBack => Event::PlanRolledBack {
                plan: summary().await,
                message: message(),
            },
            PlanStatus::Failed => Event::PlanFailed {
                plan: summary().await,
                message: message(),
            },
            // Nobody waits for these: the apply's end is what people are told, and a plan is
            // cancelled by whoever proposed it.
            PlanStatus::Applying | PlanStatus::Cancelled => return,
        };
        notifier.send(event);
    }
}

/// What is known of a status change beyond the plan and its new status.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Said<'a> {
    /// Who decided (an approval or a rejection).
    pub(crate) by: Option<&'a str>,
    /// The approver's comment, the rejection's reason, or how an apply ended.
    pub(crate) reason: Option<&'a str>,
}

impl<'a> Said<'a> {
    pub(crate) fn by(by: &'a str) -> Self {
        Self {
            by: Some(by),
            reason: None,
        }
    }

    pub(crate) fn reason(reason: &'a str) -> Self {
        Self {
            by: None,
            reason: Some(reason),
        }
    }
}
