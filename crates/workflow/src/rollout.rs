//! Staged rollouts: one plan over many routers applied canary first, then in waves, with a
//! soak between waves during which health gates run on the routers already changed AND on the
//! untouched ones. A failed gate (or a router whose apply fails, or an operator's abort) halts
//! the rollout and reverts every router already changed — through the same rollback as any
//! failed apply, newest first — while untouched routers stay untouched. A router whose revert
//! fails ends `needs_attention`, and the plan `failed` saying which.
//!
//! How a plan rolls out ([`RolloutSpec`]) is part of what its approval vouches for (it is in the
//! content hash). Operators pause, resume and abort a running rollout ([`Workflow::pause`],
//! [`Workflow::resume`], [`Workflow::abort`]); what they asked is recorded in the database, so
//! the process running the rollout sees it at its next device or soak tick. Where the rollout
//! is ([`Progress`]: per router its wave, state and last gate results) is recorded after every
//! step, for `plan.get`.
//!
//! A rollout interrupted by a restart is resolved like any interrupted apply: recovery reverts
//! every router the journal says was touched (the soak and gates that guarded them did not run
//! to their end), and untouched routers stay untouched.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use domain::DeviceId;
use futures::StreamExt;
use routeros::{MenuPath, PrintQuery};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::AuditContext;

use crate::Workflow;
use crate::apply::{ApplyReport, DeviceOutcome, DeviceResult};
use crate::error::WorkflowError;
use crate::model::{Action, Plan, PlanStatus};

/// Soak between waves when a rollout does not say.
pub const DEFAULT_SOAK_SECONDS: u64 = 60;
/// The longest soak a rollout may ask for.
pub const MAX_SOAK_SECONDS: u64 = 3600;
/// The CPU load a gate accepts when a rollout does not say.
pub const DEFAULT_MAX_CPU_PERCENT: u8 = 90;
/// Waves when a rollout gives neither sizes nor percentages: after the canary, up to 10 % of
/// the routers, then 50 %, then all.
pub const DEFAULT_WAVES: [u8; 3] = [10, 50, 100];
/// The most waves a rollout may list.
pub const MAX_WAVES: usize = 20;
/// How many routers gates read at once.
const GATE_CONCURRENCY: usize = 16;
/// How often a soak or a paused rollout looks for an operator's request.
const TICK: Duration = Duration::from_millis(250);

/// How a multi-router plan rolls out. Part of the plan's content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutSpec {
    /// Routers per wave after the canary (exclusive with `waves`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_size: Option<u32>,
    /// Cumulative percentages of the routers changed at the end of each wave after the canary,
    /// rising, the last 100 (exclusive with `wave_size`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waves: Vec<u8>,
    /// The soak between waves.
    pub soak_seconds: u64,
    /// The highest CPU load (percent) a router may show at a gate.
    pub max_cpu_percent: u8,
}

impl RolloutSpec {
    /// A checked spec; every problem named with what is allowed.
    pub fn new(
        wave_size: Option<u32>,
        waves: Option<Vec<u8>>,
        soak_seconds: Option<u64>,
        max_cpu_percent: Option<u8>,
    ) -> Result<Self, WorkflowError> {
        let bad = |m: String| Err(WorkflowError::Invalid(m));
        let waves = match (wave_size, waves) {
            (Some(_), Some(_)) => {
                return bad(
                    "give wave_size or waves, not both: wave_size is routers per wave, waves cumulative percentages"
                        .into(),
                );
            }
            (Some(0), None) => return bad("wave_size must be at least 1".into()),
            (Some(n), None) if n > 10_000 => {
                return bad(format!("wave_size {n} is too large: at most 10000"));
            }
            (Some(_), None) => Vec::new(),
            (None, None) => DEFAULT_WAVES.to_vec(),
            (None, Some(w)) => {
                if w.is_empty() || w.len() > MAX_WAVES {
                    return bad(format!(
                        "waves lists {} percentages: give 1 to {MAX_WAVES}, rising, the last 100 (e.g. [10, 50, 100])",
                        w.len()
                    ));
                }
                if w.windows(2).any(|p| p[0] >= p[1]) || w.first().is_some_and(|p| *p == 0) {
                    return bad(format!(
                        "waves {w:?} must rise strictly from above 0 (e.g. [10, 50, 100])"
                    ));
                }
                if w.last() != Some(&100) {
                    return bad(format!(
                        "waves {w:?} must end at 100, so that every router is changed"
                    ));
                }
                w
            }
        };
        let soak_seconds = soak_seconds.unwrap_or(DEFAULT_SOAK_SECONDS);
        if soak_seconds > MAX_SOAK_SECONDS {
            return bad(format!(
                "soak_seconds {soak_seconds} is too long: at most {MAX_SOAK_SECONDS}"
            ));
        }
        let max_cpu_percent = max_cpu_percent.unwrap_or(DEFAULT_MAX_CPU_PERCENT);
        if !(1..=100).contains(&max_cpu_percent) {
            return bad(format!(
                "max_cpu_percent {max_cpu_percent}: expected 1 to 100"
            ));
        }
        Ok(Self {
            wave_size,
            waves,
            soak_seconds,
            max_cpu_percent,
        })
    }

    /// The routers (indexes in rollout order) of each wave: the canary alone, then the waves.
    pub fn waves_of(&self, routers: usize) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        if routers == 0 {
            return out;
        }
        out.push(vec![0]);
        let mut next = 1;
        match self.wave_size {
            Some(size) => {
                let size = usize::try_from(size).unwrap_or(usize::MAX).max(1);
                while next < routers {
                    let end = next.saturating_add(size).min(routers);
                    out.push((next..end).collect());
                    next = end;
                }
            }
            None => {
                for p in &self.waves {
                    let upto = (routers * usize::from(*p)).div_ceil(100).min(routers);
                    if upto > next {
                        out.push((next..upto).collect());
                        next = upto;
                    }
                }
                if next < routers {
                    out.push((next..routers).collect());
                }
            }
        }
        out
    }
}

domain::text_enum! {
    /// What operators asked of a running rollout.
    Control, "rollout control" {
        Running = "running",
        Paused = "paused",
        /// Stop and revert the routers already changed.
        Aborting = "aborting",
    }
}

/// An operator's request on a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlOp {
    Pause,
    Resume,
    Abort,
}

impl ControlOp {
    fn verb(self) -> &'static str {
        match self {
            ControlOp::Pause => "paused",
            ControlOp::Resume => "resumed",
            ControlOp::Abort => "aborted",
        }
    }

    fn action(self) -> &'static str {
        match self {
            ControlOp::Pause => "plan.pause",
            ControlOp::Resume => "plan.resume",
            ControlOp::Abort => "plan.abort",
        }
    }
}

impl Control {
    /// The control `op` moves this one to, or why it does not apply.
    pub fn on(self, op: ControlOp) -> Result<Control, &'static str> {
        match (self, op) {
            (Control::Running, ControlOp::Pause) => Ok(Control::Paused),
            (Control::Paused, ControlOp::Resume) => Ok(Control::Running),
            (Control::Running | Control::Paused, ControlOp::Abort) => Ok(Control::Aborting),
            (Control::Paused, ControlOp::Pause) => Err("it is already paused"),
            (Control::Running, ControlOp::Resume) => {
                Err("it is not paused (pause it first, or abort it)")
            }
            (Control::Aborting, ControlOp::Pause | ControlOp::Resume | ControlOp::Abort) => {
                Err("it is already being aborted: the routers it changed are being reverted")
            }
        }
    }
}

domain::text_enum! {
    /// Where a rollout is.
    Phase, "rollout phase" {
        Applying = "applying",
        Soaking = "soaking",
        Paused = "paused",
        /// Halted: the routers already changed are being reverted.
        Reverting = "reverting",
        Done = "done",
    }
}

domain::text_enum! {
    /// Where one router of a rollout is.
    DeviceState, "rollout device state" {
        /// Its wave has not come.
        Pending = "pending",
        Applied = "applied",
        /// Changed, then reverted: as before the plan.
        Reverted = "reverted",
        /// Its revert (or its own rollback) failed: an operator must look.
        NeedsAttention = "needs_attention",
        /// Never changed.
        Untouched = "untouched",
    }
}

/// One gate's result on one router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateResult {
    /// `reachable`, `cpu`, `interfaces` or `routes`.
    pub gate: String,
    pub ok: bool,
    pub detail: String,
}

/// One router of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProgress {
    pub device: String,
    pub device_id: DeviceId,
    /// 0 is the canary.
    pub wave: usize,
    pub state: DeviceState,
    /// The last gates run on it (empty before its first soak).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a rollout is, as `plan.get` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: Phase,
    /// The wave being applied or soaked (0 is the canary).
    pub wave: usize,
    pub waves: usize,
    /// When the current soak ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soak_until: Option<String>,
    /// Why the rollout halted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
    /// Routers an operator must look at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs_attention: Vec<String>,
    pub devices: Vec<DeviceProgress>,
}

/// A rollout as stored: how, what operators asked, and where it is.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    pub spec: RolloutSpec,
    pub control: Control,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
}

/// What the gates compare with: per router, what was healthy before the rollout started.
#[derive(Debug, Default, Clone)]
struct Baseline {
    /// Named interfaces that were running.
    running: BTreeSet<String>,
    /// Named routes (dst-address) that were present.
    routes: BTreeSet<String>,
}

/// Properties that name an interface.
const INTERFACE_PROPS: [&str; 6] = [
    "interface",
    "in-interface",
    "out-interface",
    "bridge",
    "master-interface",
    "vlan-interface",
];

/// The interfaces and routes a router's changes name (that it does not itself remove).
fn named(plan: &Plan, device: &DeviceId) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut interfaces = BTreeSet::new();
    let mut routes = BTreeSet::new();
    for c in plan.changes_of(device) {
        let read = c.state_read.iter().flat_map(|p| p.iter());
        for (k, v) in c.write.props.iter().chain(read) {
            if INTERFACE_PROPS.contains(&k.as_str()) && !v.is_empty() {
                interfaces.insert(v.clone());
            }
        }
        if c.menu.starts_with("interface")
            && c.action != Action::Remove
            && c.action != Action::Add
            && let Some(name) = c.state_read.as_ref().and_then(|p| p.get("name"))
        {
            interfaces.insert(name.clone());
        }
        if c.menu == "ip/route" && c.action != Action::Remove && c.action != Action::Add {
            let dst = c.state_read.as_ref().and_then(|p| p.get("dst-address"));
            if let Some(dst) = dst {
                routes.insert(dst.clone());
            }
        }
    }
    (interfaces, routes)
}

fn menu(path: &str) -> Result<MenuPath, WorkflowError> {
    MenuPath::parse(path).map_err(WorkflowError::Invalid)
}

impl Workflow {
    /// A plan's rollout as stored (`None`: not a staged rollout).
    pub(crate) async fn load_rollout(
        &self,
        plan_id: &str,
    ) -> Result<Option<Rollout>, WorkflowError> {
        let Some(row) = store::plans::rollout(self.store(), plan_id).await? else {
            return Ok(None);
        };
        let corrupt = || WorkflowError::Corrupt(plan_id.to_owned());
        Ok(Some(Rollout {
            spec: serde_json::from_str(&row.spec).map_err(|_| corrupt())?,
            control: row.control.parse().map_err(|_| corrupt())?,
            control_by: row.control_by,
            progress: row
                .progress
                .map(|p| serde_json::from_str(&p))
                .transpose()
                .map_err(|_| corrupt())?,
        }))
    }

    /// How a plan rolls out, what operators asked of it and where it is (`None`: the plan is
    /// not a staged rollout).
    pub async fn rollout_of(&self, plan_id: &str) -> Result<Option<Rollout>, WorkflowError> {
        self.load_rollout(plan_id).await
    }

    /// Pauses a running rollout: no further router starts until it is resumed or aborted.
    pub async fn pause(&self, plan_id: &str, ctx: &AuditContext) -> Result<Rollout, WorkflowError> {
        self.control(plan_id, ControlOp::Pause, ctx).await
    }

    /// Resumes a paused rollout.
    pub async fn resume(
        &self,
        plan_id: &str,
        ctx: &AuditContext,
    ) -> Result<Rollout, WorkflowError> {
        self.control(plan_id, ControlOp::Resume, ctx).await
    }

    /// Aborts a running or paused rollout: it stops, and the routers it changed are reverted.
    pub async fn abort(&self, plan_id: &str, ctx: &AuditContext) -> Result<Rollout, WorkflowError> {
        self.control(plan_id, ControlOp::Abort, ctx).await
    }

    async fn control(
        &self,
        plan_id: &str,
        op: ControlOp,
        ctx: &AuditContext,
    ) -> Result<Rollout, WorkflowError> {
        let plan = crate::repo::load_plan(self.store(), plan_id).await?;
        let Some(rollout) = self.load_rollout(plan_id).await? else {
            return Err(WorkflowError::Refused(format!(
                "plan {plan_id} is not a staged rollout and cannot be {}: only a plan proposed with waves runs long enough to be {}; cancel a plan that was not applied",
                op.verb(),
                op.verb()
            )));
        };
        match plan.status {
            PlanStatus::Applying => {}
            s @ (PlanStatus::Pending | PlanStatus::Approved) => {
                return Err(WorkflowError::Refused(format!(
                    "plan {plan_id} is {s} and cannot be {}: its rollout has not started; cancel it instead (plan.cancel)",
                    op.verb()
                )));
            }
            s @ (PlanStatus::Applied
            | PlanStatus::RolledBack
            | PlanStatus::Failed
            | PlanStatus::Rejected
            | PlanStatus::Cancelled) => {
                return Err(WorkflowError::Refused(format!(
                    "plan {plan_id} is {s} and cannot be {}: its rollout has ended",
                    op.verb()
                )));
            }
        }
        let to = rollout.control.on(op).map_err(|why| {
            WorkflowError::Refused(format!(
                "plan {plan_id}'s rollout cannot be {}: {why}",
                op.verb()
            ))
        })?;
        let mut tx = self.store().begin_write().await?;
        if !store::plans::move_rollout_control(
            &mut tx,
            plan_id,
            rollout.control.as_str(),
            to.as_str(),
            &ctx.actor,
        )
        .await?
        {
            return Err(WorkflowError::Conflict(format!(
                "plan {plan_id}'s rollout changed meanwhile (someone else paused, resumed or aborted it); look again with plan.get"
            )));
        }
        store::append_audit_in(
            &mut tx,
            ctx,
            op.action(),
            &format!("plan:{plan_id}"),
            json!({"from": rollout.control, "to": to}),
        )
        .await?;
        tx.commit().await?;
        Ok(Rollout {
            control: to,
            control_by: Some(ctx.actor.clone()),
            ..rollout
        })
    }

    async fn save_progress(&self, plan: &Plan, progress: &Progress) {
        let text = serde_json::to_string(progress).unwrap_or_default();
        if let Err(e) = store::plans::set_rollout_progress(self.store(), &plan.id, &text).await {
            tracing::warn!(plan = %plan.id, error = %e, "could not record the rollout's progress");
        }
    }

    async fn current_control(&self, plan: &Plan) -> Control {
        match store::plans::rollout(self.store(), &plan.id).await {
            Ok(Some(row)) => row.control.parse().unwrap_or(Control::Running),
            // The database did not answer: go on as asked last (the rollout's own steps fail
            // on their own if it stays away).
            Ok(None) | Err(_) => Control::Running,
        }
    }

    /// Waits while the rollout is paused; the reason to halt when an operator aborts it.
    async fn hold(&self, plan: &Plan, progress: &mut Progress) -> Option<String> {
        let mut announced = false;
        loop {
            match self.current_control(plan).await {
                Control::Running => {
                    return None;
                }
                Control::Paused => {
                    if !announced {
                        let was = progress.phase;
                        progress.phase = Phase::Paused;
                        self.save_progress(plan, progress).await;
                        progress.phase = was;
                        announced = true;
                    }
                    tokio::time::sleep(TICK).await;
                }
                Control::Aborting => {
                    let by = store::plans::rollout(self.store(), &plan.id)
                        .await
                        .ok()
                        .flatten()
                        .and_then(|r| r.control_by)
                        .unwrap_or_else(|| "an operator".into());
                    return Some(format!("aborted by {by}"));
                }
            }
        }
    }

    /// Reads what the gates compare with, on every router.
    async fn baseline(&self, plan: &Plan) -> BTreeMap<DeviceId, Baseline> {
        let reads: Vec<_> = plan
            .devices
            .iter()
            .map(|d| {
                let (interfaces, routes) = named(plan, &d.device_id);
                (self.clone(), d.device_id, interfaces, routes)
            })
            .collect();
        let reads = reads
            .into_iter()
            .map(|(wf, id, interfaces, routes)| async move {
                let mut b = Baseline::default();
                if interfaces.is_empty() && routes.is_empty() {
                    return (id, b);
                }
                if let Ok(client) = wf.client_of(&id).await {
                    if !interfaces.is_empty()
                        && let Ok(m) = menu("interface")
                        && let Ok(items) = client.print(&m, &PrintQuery::all()).await
                    {
                        for i in items {
                            if let Some(name) = i.get("name")
                                && interfaces.contains(name)
                                && i.get("running").is_some_and(|r| r == "true")
                            {
                                b.running.insert(name.clone());
                            }
                        }
                    }
                    if !routes.is_empty()
                        && let Ok(m) = menu("ip/route")
                        && let Ok(items) = client.print(&m, &PrintQuery::all()).await
                    {
                        for r in items {
                            if let Some(dst) = r.get("dst-address")
                                && routes.contains(dst)
                            {
                                b.routes.insert(dst.clone());
                            }
                        }
                    }
                }
                (id, b)
            });
        futures::stream::iter(reads)
            .buffer_unordered(GATE_CONCURRENCY)
            .collect()
            .await
    }

    /// The gates on one router: reachable, CPU under the threshold, the named interfaces that
    /// were running still running, the named routes that were present still present.
    async fn gate(
        &self,
        device: &DeviceId,
        spec: &RolloutSpec,
        baseline: &Baseline,
    ) -> Vec<GateResult> {
        let result = |gate: &str, ok: bool, detail: String| GateResult {
            gate: gate.into(),
            ok,
            detail,
        };
        let client = match self.client_of(device).await {
            Ok(c) => c,
            Err(e) => return vec![result("reachable", false, e.to_string())],
        };
        client.invalidate_cache();
        let resource = match menu("system/resource") {
            Ok(m) => client.print(&m, &PrintQuery::all()).await,
            Err(e) => return vec![result("reachable", false, e.to_string())],
        };
        let resource = match resource {
            Ok(r) => r,
            Err(e) => return vec![result("reachable", false, e.to_string())],
        };
        let mut out = vec![result("reachable", true, "answered".into())];
        let cpu = resource
            .first()
            .and_then(|r| r.get("cpu-load"))
            .and_then(|c| c.trim().trim_end_matches('%').parse::<u32>().ok());
        out.push(match cpu {
            Some(load) if load <= u32::from(spec.max_cpu_percent) => result(
                "cpu",
                true,
                format!("{load}% (at most {}%)", spec.max_cpu_percent),
            ),
            Some(load) => result(
                "cpu",
                false,
                format!("{load}% is above {}%", spec.max_cpu_percent),
            ),
            None => result("cpu", false, "the router did not say its CPU load".into()),
        });
        if !baseline.running.is_empty() {
            let items = match menu("interface") {
                Ok(m) => client
                    .print(&m, &PrintQuery::all())
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            out.push(match items {
                Ok(items) => {
                    let down: Vec<&String> = baseline
                        .running
                        .iter()
                        .filter(|n| {
                            !items.iter().any(|i| {
                                i.get("name") == Some(*n)
                                    && i.get("running").is_some_and(|r| r == "true")
                            })
                        })
                        .collect();
                    if down.is_empty() {
                        result(
                            "interfaces",
                            true,
                            "the interfaces the change names run".into(),
                        )
                    } else {
                        result(
                            "interfaces",
                            false,
                            format!(
                                "no longer running: {}",
                                down.iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    }
                }
                Err(e) => result("interfaces", false, e),
            });
        }
        if !baseline.routes.is_empty() {
            let items = match menu("ip/route") {
                Ok(m) => client
                    .print(&m, &PrintQuery::all())
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            out.push(match items {
                Ok(items) => {
                    let gone: Vec<&String> = baseline
                        .routes
                        .iter()
                        .filter(|d| !items.iter().any(|r| r.get("dst-address") == Some(*d)))
                        .collect();
                    if gone.is_empty() {
                        result(
                            "routes",
                            true,
                            "the routes the change names are present".into(),
                        )
                    } else {
                        result(
                            "routes",
                            false,
                            format!(
                                "gone: {}",
                                gone.iter()
                                    .map(|s| s.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    }
                }
                Err(e) => result("routes", false, e),
            });
        }
        out
    }

    /// Waits out the soak after `wave`, looking for an operator's request every tick; the
    /// reason to halt when the rollout is aborted meanwhile. A pause holds the rollout after
    /// the soak, before the gates.
    async fn soak(
        &self,
        plan: &Plan,
        spec: &RolloutSpec,
        progress: &mut Progress,
    ) -> Option<String> {
        let length = Duration::from_secs(spec.soak_seconds);
        let until = self.inner.config.clock.now()
            + chrono::Duration::from_std(length).unwrap_or(chrono::Duration::zero());
        progress.phase = Phase::Soaking;
        progress.soak_until = Some(store::time::format(until));
        self.save_progress(plan, progress).await;
        let deadline = tokio::time::Instant::now() + length;
        loop {
            if self.current_control(plan).await == Control::Aborting {
                return self.hold(plan, progress).await;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            tokio::time::sleep(TICK.min(deadline - now)).await;
        }
        progress.soak_until = None;
        self.hold(plan, progress).await
    }

    /// Applies a staged rollout (the plan is `applying`, its lock held).
    pub(crate) async fn staged(
        &self,
        plan: &Plan,
        spec: &RolloutSpec,
        ctx: &AuditContext,
    ) -> ApplyReport {
        let waves = spec.waves_of(plan.devices.len());
        let mut progress = Progress {
            phase: Phase::Applying,
            wave: 0,
            waves: waves.len(),
            soak_until: None,
            halted: None,
            needs_attention: Vec::new(),
            devices: Vec::new(),
        };
        for (w, wave) in waves.iter().enumerate() {
            for &i in wave {
                if let Some(d) = plan.devices.get(i) {
                    progress.devices.push(DeviceProgress {
                        device: d.name.clone(),
                        device_id: d.device_id,
                        wave: w,
                        state: DeviceState::Pending,
                        gates: Vec::new(),
                        reason: None,
                    });
                }
            }
        }
        self.save_progress(plan, &progress).await;
        let baseline = self.baseline(plan).await;
        let mut done = Vec::new();
        let mut outcomes: Vec<DeviceOutcome> = Vec::new();
        let mut halt: Option<String> = None;
        'waves: for (w, wave) in waves.iter().enumerate() {
            progress.wave = w;
            progress.phase = Phase::Applying;
            for &i in wave {
                if let Some(reason) = self.hold(plan, &mut progress).await {
                    halt = Some(reason);
                    break 'waves;
                }
                let Some(device) = plan.devices.get(i) else {
                    continue;
                };
                let result = self.apply_device(plan, &device.device_id, ctx).await;
                let entry = progress
                    .devices
                    .iter_mut()
                    .find(|p| p.device_id == device.device_id);
                match result {
                    Ok(d) => {
                        if let Some(p) = entry {
                            p.state = DeviceState::Applied;
                        }
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
                        let reason = f.outcome.reason.clone().unwrap_or_default();
                        if let Some(p) = entry {
                            p.state = match f.outcome.result {
                                DeviceResult::Applied | DeviceResult::Untouched => {
                                    DeviceState::Untouched
                                }
                                DeviceResult::RolledBack => DeviceState::Reverted,
                                DeviceResult::Failed => DeviceState::NeedsAttention,
                            };
                            p.reason = Some(reason.clone());
                        }
                        halt = Some(format!(
                            "device {} failed in wave {w}: {reason}",
                            f.outcome.device
                        ));
                        outcomes.push(f.outcome);
                        break 'waves;
                    }
                }
                self.save_progress(plan, &progress).await;
            }
            if w + 1 == waves.len() {
                break;
            }
            if let Some(reason) = self.soak(plan, spec, &mut progress).await {
                halt = Some(reason);
                break;
            }
            let checks: Vec<_> = plan
                .devices
                .iter()
                .map(|d| {
                    let b = baseline.get(&d.device_id).cloned().unwrap_or_default();
                    (self.clone(), d.device_id, spec.clone(), b)
                })
                .collect();
            let checks = checks.into_iter().map(|(wf, id, spec, b)| async move {
                let gates = wf.gate(&id, &spec, &b).await;
                (id, gates)
            });
            let results: Vec<(DeviceId, Vec<GateResult>)> = futures::stream::iter(checks)
                .buffer_unordered(GATE_CONCURRENCY)
                .collect()
                .await;
            let mut failed = Vec::new();
            for (id, gates) in results {
                if let Some(p) = progress.devices.iter_mut().find(|p| p.device_id == id) {
                    for g in gates.iter().filter(|g| !g.ok) {
                        failed.push(format!("{} {}: {}", p.device, g.gate, g.detail));
                    }
                    p.gates = gates;
                }
            }
            if !failed.is_empty() {
                failed.sort();
                halt = Some(format!(
                    "a health gate failed after wave {w}: {}",
                    failed.join("; ")
                ));
                break;
            }
            self.save_progress(plan, &progress).await;
        }
        let Some(reason) = halt else {
            progress.phase = Phase::Done;
            self.save_progress(plan, &progress).await;
            return ApplyReport {
                plan_id: plan.id.clone(),
                status: PlanStatus::Applied,
                message: format!(
                    "rolled out {} change(s) on {} device(s) in {} wave(s)",
                    plan.changes.len(),
                    plan.devices.len(),
                    waves.len()
                ),
                devices: outcomes,
                duration_ms: 0,
            };
        };
        tracing::warn!(plan = %plan.id, reason = %reason, "rollout halted");
        progress.phase = Phase::Reverting;
        progress.halted = Some(reason.clone());
        self.save_progress(plan, &progress).await;
        for d in done.iter().rev() {
            let result = self.rollback_done(plan, d, &reason, ctx).await;
            let entry = progress
                .devices
                .iter_mut()
                .find(|p| p.device_id == d.device_id);
            let outcome = outcomes.iter_mut().find(|o| o.device_id == d.device_id);
            match result {
                Ok(()) => {
                    if let Some(p) = entry {
                        p.state = DeviceState::Reverted;
                    }
                    if let Some(o) = outcome {
                        o.result = DeviceResult::RolledBack;
                        o.reason = Some(format!("reverted: {reason}"));
                    }
                }
                Err(e) => {
                    if let Some(p) = entry {
                        p.state = DeviceState::NeedsAttention;
                        p.reason = Some(format!("the revert failed: {e}"));
                    }
                    if let Some(o) = outcome {
                        o.result = DeviceResult::Failed;
                        o.reason = Some(format!("needs attention: the revert failed: {e}"));
                    }
                }
            }
            self.save_progress(plan, &progress).await;
        }
        for p in progress.devices.iter_mut() {
            if p.state == DeviceState::Pending {
                p.state = DeviceState::Untouched;
                p.reason = Some("not started: the rollout halted first".into());
            }
        }
        for d in &plan.devices {
            if !outcomes.iter().any(|o| o.device_id == d.device_id) {
                outcomes.push(DeviceOutcome {
                    device: d.name.clone(),
                    device_id: d.device_id,
                    result: DeviceResult::Untouched,
                    changes_applied: 0,
                    reason: Some("not started: the rollout halted first".into()),
                });
            }
        }
        progress.needs_attention = progress
            .devices
            .iter()
            .filter(|p| p.state == DeviceState::NeedsAttention)
            .map(|p| p.device.clone())
            .collect();
        progress.phase = Phase::Done;
        self.save_progress(plan, &progress).await;
        let reverted = progress
            .devices
            .iter()
            .filter(|p| p.state == DeviceState::Reverted)
            .count();
        let (status, message) = if progress.needs_attention.is_empty() {
            (
                PlanStatus::RolledBack,
                format!(
                    "the rollout halted ({reason}); {reverted} changed device(s) reverted, the others untouched"
                ),
            )
        } else {
            (
                PlanStatus::Failed,
                format!(
                    "the rollout halted ({reason}); needs attention: {} could not be reverted; {reverted} other changed device(s) reverted",
                    progress.needs_attention.join(", ")
                ),
            )
        };
        ApplyReport {
            plan_id: plan.id.clone(),
            status,
            message,
            devices: outcomes,
            duration_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waves_start_with_the_canary_and_cover_every_router_once() {
        let spec = RolloutSpec::new(None, Some(vec![10, 50, 100]), None, None)
            .unwrap_or_else(|e| panic!("{e}"));
        let waves = spec.waves_of(50);
        assert_eq!(waves[0], vec![0]);
        assert_eq!(waves[1], (1..5).collect::<Vec<_>>());
        assert_eq!(waves[2], (5..25).collect::<Vec<_>>());
        assert_eq!(waves[3], (25..50).collect::<Vec<_>>());
        let sized =
            RolloutSpec::new(Some(20), None, Some(0), None).unwrap_or_else(|e| panic!("{e}"));
        let waves = sized.waves_of(50);
        assert_eq!(
            waves.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 20, 20, 9]
        );
        // Tiny fleets: no empty waves.
        let waves = spec.waves_of(2);
        assert_eq!(waves, vec![vec![0], vec![1]]);
        assert_eq!(spec.waves_of(1), vec![vec![0]]);
    }

    #[test]
    fn bad_wave_settings_are_refused_naming_what_is_allowed() {
        let err = |r: Result<RolloutSpec, WorkflowError>| match r {
            Err(e) => e.to_string(),
            Ok(s) => panic!("accepted {s:?}"),
        };
        assert!(err(RolloutSpec::new(Some(0), None, None, None)).contains("at least 1"));
        assert!(err(RolloutSpec::new(Some(5), Some(vec![100]), None, None)).contains("not both"));
        assert!(err(RolloutSpec::new(None, Some(vec![50, 10, 100]), None, None)).contains("rise"));
        assert!(err(RolloutSpec::new(None, Some(vec![10, 50]), None, None)).contains("end at 100"));
        assert!(err(RolloutSpec::new(None, Some(vec![0, 100]), None, None)).contains("rise"));
        assert!(err(RolloutSpec::new(None, Some(vec![]), None, None)).contains("1 to 20"));
        assert!(err(RolloutSpec::new(None, None, Some(3601), None)).contains("at most 3600"));
        assert!(err(RolloutSpec::new(None, None, None, Some(0))).contains("1 to 100"));
        let default = RolloutSpec::new(None, None, None, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.waves, DEFAULT_WAVES.to_vec());
        assert_eq!(default.soak_seconds, DEFAULT_SOAK_SECONDS);
    }

    #[test]
    fn rollout_controls_move_only_where_they_make_sense() {
        use ControlOp as O;
        assert_eq!(Control::Running.on(O::Pause), Ok(Control::Paused));
        assert_eq!(Control::Paused.on(O::Resume), Ok(Control::Running));
        assert_eq!(Control::Paused.on(O::Abort), Ok(Control::Aborting));
        assert_eq!(Control::Running.on(O::Abort), Ok(Control::Aborting));
        assert!(Control::Paused.on(O::Pause).is_err());
        assert!(Control::Running.on(O::Resume).is_err());
        for op in [O::Pause, O::Resume, O::Abort] {
            assert!(Control::Aborting.on(op).is_err());
        }
    }
}
