//! Running a runbook: one step at a time, against the routers, recorded as it goes.
//!
//! A run is pinned to one version (its content hash) and its variables. Read steps run here,
//! through the same handlers, schema checks, tiers and roles as any tool call; a gate's
//! conditions are checked on the step's result. Write steps never change anything here: the
//! writes whose arguments are known from the variables alone are gathered, when the run first
//! reaches one, into **one plan** bound to the version and the variables' hash, which a person
//! approves and `plan.apply` applies; the run continues once that plan is applied. A write that
//! needs an earlier step's result becomes a plan of its own when the run reaches it. Prose steps
//! are handed to the assistant, which reports back with `runbook.record_outcome`. The run stops
//! at the first failed step or gate, says which and why, and files the failure under a category
//! that says whether a better runbook could have avoided it.
//!
//! Every status change is an exhaustive `match` on [`RunStatus`]; the stored row is saved with
//! the status it was read with, so two calls can never both move one run.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use ::runbook::{Entry, Inputs, Origin, Runbook, Section, StepKind};
use serde_json::{Map, Value, json};
use store::runbooks::{RunRow, VersionRow};
use workflow::{DeviceRequest, PlanRequest, PlanStatus};

use super::Runbooks;
use crate::{Access, Caller, Ctx, Gather, ToolError};

/// The most of one step's result kept in the run's log, in bytes of JSON; a larger result is
/// kept as its first part (later steps can only point into what is kept).
const MAX_KEPT_RESULT: usize = 64 * 1024;
/// The most of one step's result shown in a tool answer, in bytes of JSON.
const MAX_SHOWN_RESULT: usize = 2 * 1024;
/// A run waiting longer than this may be replaced by a new one on the same device.
pub(crate) const ABANDON_AFTER_HOURS: i64 = 24;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunStatus {
    Running,
    WaitingApproval,
    WaitingAssistant,
    Succeeded,
    Failed,
    Abandoned,
}

impl RunStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::WaitingApproval => "waiting_approval",
            RunStatus::WaitingAssistant => "waiting_assistant",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Abandoned => "abandoned",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self, ToolError> {
        Ok(match s {
            "running" => RunStatus::Running,
            "waiting_approval" => RunStatus::WaitingApproval,
            "waiting_assistant" => RunStatus::WaitingAssistant,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "abandoned" => RunStatus::Abandoned,
            other => {
                return Err(ToolError::internal(&format!(
                    "a runbook run has status {other:?}"
                )));
            }
        })
    }
}

/// Why a run failed (seed categories). The first two are failures a better runbook could have
/// avoided, and feed the review loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureType {
    RunbookInsufficient,
    EnvironmentDifference,
    WrongDiagnosis,
    WrongRunbook,
    ExternalDependency,
    PermissionDenied,
}

impl FailureType {
    pub(crate) const ALL: [FailureType; 6] = [
        FailureType::RunbookInsufficient,
        FailureType::EnvironmentDifference,
        FailureType::WrongDiagnosis,
        FailureType::WrongRunbook,
        FailureType::ExternalDependency,
        FailureType::PermissionDenied,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FailureType::RunbookInsufficient => "runbook_insufficient",
            FailureType::EnvironmentDifference => "environment_difference",
            FailureType::WrongDiagnosis => "wrong_diagnosis",
            FailureType::WrongRunbook => "wrong_runbook",
            FailureType::ExternalDependency => "external_dependency",
            FailureType::PermissionDenied => "permission_denied",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether a better runbook could have avoided the failure.
    pub(crate) fn improvable(self) -> bool {
        match self {
            FailureType::RunbookInsufficient | FailureType::EnvironmentDifference => true,
            FailureType::WrongDiagnosis
            | FailureType::WrongRunbook
            | FailureType::ExternalDependency
            | FailureType::PermissionDenied => false,
        }
    }

    /// The category of a failed tool step, by rule.
    fn of_error(e: &ToolError) -> Self {
        use routeros::ErrorKind;
        match e {
            ToolError::Device(d) => match &d.kind {
                ErrorKind::AuthFailed { .. }
                | ErrorKind::TrustMismatch { .. }
                | ErrorKind::NotPinned { .. } => FailureType::PermissionDenied,
                ErrorKind::NotFound(_) | ErrorKind::InvalidRequest(_) | ErrorKind::Conflict(_) => {
                    FailureType::EnvironmentDifference
                }
                _ => FailureType::ExternalDependency,
            },
            ToolError::Refused(_) => FailureType::PermissionDenied,
            ToolError::InvalidArguments(_) | ToolError::UnknownDevice(_) => {
                FailureType::EnvironmentDifference
            }
            _ => FailureType::ExternalDependency,
        }
    }
}

impl fmt::Display for FailureType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run being worked on: its row, the runbook version it is pinned to and its inputs.
pub(crate) struct Run {
    pub row: RunRow,
    pub runbook: Runbook,
    pub inputs: Inputs,
    pub status: RunStatus,
    /// The log: one entry per step that ran (or was handed over, planned or applied).
    pub steps: Vec<Value>,
    /// What this call did, for the answer.
    pub this_call: Vec<usize>,
    /// The plan proposed by this call, as tools show plans.
    pub proposed: Option<Value>,
    /// Prose handed to the assistant.
    pub handed_over: Vec<Value>,
}

impl Run {
    /// The results of tool steps that ran, by step number (for `{step.N./pointer}`).
    fn results(&self) -> BTreeMap<usize, Value> {
        self.steps
            .iter()
            .filter_map(|s| {
                let n = usize::try_from(s["step"].as_u64()?).ok()?;
                let r = s.get("result")?;
                Some((n, r.clone()))
            })
            .collect()
    }

    fn entry(&self, step: usize) -> Option<&Value> {
        self.steps
            .iter()
            .rev()
            .find(|s| s["step"].as_u64() == Some(step as u64))
    }

    fn redactor(&self, runbooks: &Runbooks) -> ::runbook::Redactor {
        let mut r = self.inputs.redactor();
        if let Some(env) = runbooks.env() {
            r.extend(&env.redactor());
        }
        r
    }

    fn log(&mut self, entry: Value) {
        if let Some(n) = entry["step"].as_u64() {
            self.this_call.push(n as usize);
        }
        self.steps.push(entry);
    }

    fn fail(&mut self, step: usize, kind: FailureType, reason: String) {
        self.status = RunStatus::Failed;
        self.row.failed_step = Some(step as i64);
        self.row.failure_type = Some(kind.as_str().to_owned());
        self.row.failure_reason = Some(reason);
        self.row.finished_at = Some(store::time::now());
    }
}

/// The version row a runbook as served is recorded under (recorded on first use).
pub(crate) async fn record_version(ctx: &Ctx, entry: &Entry) -> Result<VersionRow, ToolError> {
    let store = ctx.fleet.store();
    let r = &entry.runbook;
    if let Some(v) = store.runbook_version_by_hash(r.name(), &r.hash).await? {
        return Ok(v);
    }
    let origin = match &entry.origin {
        Origin::BuiltIn => "built-in",
        Origin::Operator { .. } => "operator",
        Origin::Reviewed { .. } => "proposal",
    };
    // The parent: the version of this runbook recorded last.
    let parent = store
        .runbook_versions(r.name())
        .await?
        .into_iter()
        .rfind(|v| v.origin != "proposal")
        .map(|v| v.id);
    Ok(store
        .runbook_version_record(&VersionRow {
            id: uuid::Uuid::now_v7().to_string(),
            name: r.name().to_owned(),
            version: r.meta.version.clone(),
            content_hash: r.hash.clone(),
            content: r.source.clone(),
            origin: origin.to_owned(),
            status: r.meta.status.to_string(),
            parent_id: parent,
            base_hash: None,
            generated_from_run: None,
            proposed_by: None,
            failure_type: None,
            priority: None,
            rationale: None,
            created_at: store::time::now(),
            review_started_at: None,
            reviewer: None,
            review_notes: None,
            reviewed_at: None,
        })
        .await?)
}

/// Moves a run on as far as it can go without a person or the assistant: until it finishes,
/// fails, proposes a plan, or reaches prose.
pub(crate) async fn advance(
    ctx: &Ctx,
    caller: &Caller,
    runbooks: &Runbooks,
    run: &mut Run,
) -> Result<(), ToolError> {
    loop {
        match run.status {
            RunStatus::Running => {}
            RunStatus::WaitingApproval
            | RunStatus::WaitingAssistant
            | RunStatus::Succeeded
            | RunStatus::Failed
            | RunStatus::Abandoned => return Ok(()),
        }
        let number = usize::try_from(run.row.next_step).unwrap_or(usize::MAX);
        let Some(step) = run.runbook.step(number).cloned() else {
            run.status = RunStatus::Succeeded;
            run.row.finished_at = Some(store::time::now());
            capture_state(run);
            return Ok(());
        };
        match &step.kind {
            StepKind::Prose { .. } => {
                // Hand over this prose step and the ones right after it.
                let redactor = run.redactor(runbooks);
                let results = run.results();
                let sub = ::runbook::substitute::Context {
                    inputs: &run.inputs,
                    env: runbooks.env(),
                    steps: Some(&results),
                    keep_unset: true,
                };
                let mut n = number;
                while let Some(s) = run.runbook.step(n) {
                    // One section at a time: a report then names the part it is about.
                    let StepKind::Prose { text } = &s.kind else {
                        break;
                    };
                    if s.section != step.section {
                        break;
                    }
                    let text = sub.text(text).unwrap_or_else(|_| text.clone());
                    run.handed_over.push(json!({
                        "step": n,
                        "section": s.section,
                        "text": redactor.redact(&text),
                    }));
                    n += 1;
                }
                run.status = RunStatus::WaitingAssistant;
                return Ok(());
            }
            StepKind::Tool(tool) => {
                let spec = runbooks.catalog().get(&tool.tool).ok_or_else(|| {
                    ToolError::internal(&format!("runbook step tool {} vanished", tool.tool))
                })?;
                if !spec.is_read_only() {
                    if run.entry(number).is_some_and(|e| e["outcome"] == "applied") {
                        run.row.next_step += 1;
                        continue;
                    }
                    propose_writes(ctx, caller, runbooks, run, number).await?;
                    // Nothing left to change: the writes are done and the run goes on.
                    if run.status != RunStatus::Running {
                        return Ok(());
                    }
                    continue;
                }
                read_step(ctx, caller, runbooks, run, number).await?;
                if run.status == RunStatus::Running {
                    run.row.next_step += 1;
                }
            }
        }
    }
}

/// Runs one read step: substitute, call, record, check its gate.
async fn read_step(
    ctx: &Ctx,
    caller: &Caller,
    runbooks: &Runbooks,
    run: &mut Run,
    number: usize,
) -> Result<(), ToolError> {
    let Some(step) = run.runbook.step(number).cloned() else {
        return Ok(());
    };
    let StepKind::Tool(tool) = &step.kind else {
        return Ok(());
    };
    let redactor = run.redactor(runbooks);
    let results = run.results();
    let inputs = run.inputs.clone();
    let sub = ::runbook::substitute::Context {
        inputs: &inputs,
        env: runbooks.env(),
        steps: Some(&results),
        keep_unset: false,
    };
    let started = Instant::now();
    let arguments = match sub.arguments(&tool.arguments) {
        Ok(a) => Value::Object(a),
        Err(e) => {
            let reason = format!("step {number} ({}): {e}", tool.tool);
            run.log(json!({"step": number, "section": step.section, "tool": tool.tool, "outcome": "failed", "error": redactor.redact(&reason)}));
            run.fail(
                number,
                FailureType::RunbookInsufficient,
                redactor.redact(&reason).into_owned(),
            );
            return Ok(());
        }
    };
    let shown_args = redactor.redact_value(&arguments);
    let called = call_tool(ctx, caller, runbooks, &tool.tool, arguments).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    audit_step(
        ctx,
        caller,
        &run.row.id,
        number,
        &tool.tool,
        &shown_args,
        match &called {
            Ok(_) => "ok",
            Err(_) => "error",
        },
    )
    .await;
    let result = match called {
        Ok(v) => redactor.redact_value(&v),
        Err(e) => {
            let kind = FailureType::of_error(&e);
            let message = redactor.redact(&e.to_string()).into_owned();
            run.log(json!({
                "step": number, "section": step.section, "tool": tool.tool,
                "arguments": shown_args, "outcome": "failed", "error": message,
                "duration_ms": duration_ms, "at": store::time::now(),
            }));
            run.fail(
                number,
                kind,
                format!("step {number} ({}) failed: {message}", tool.tool),
            );
            return Ok(());
        }
    };
    let mut entry = json!({
        "step": number, "section": step.section, "tool": tool.tool,
        "arguments": shown_args, "outcome": "ok", "result": keep(&result),
        "duration_ms": duration_ms, "at": store::time::now(),
    });
    if tool.is_gate() {
        let conditions: Result<Vec<_>, _> = tool.expect.iter().map(|c| sub.condition(c)).collect();
        let outcome = match conditions {
            Ok(c) => ::runbook::expect::evaluate(&c, &result, &redactor),
            Err(e) => {
                let reason = format!("step {number}'s gate: {e}");
                entry["outcome"] = json!("gate_failed");
                entry["error"] = json!(reason);
                run.log(entry);
                run.fail(number, FailureType::RunbookInsufficient, reason);
                return Ok(());
            }
        };
        entry["gate"] = serde_json::to_value(&outcome).unwrap_or(Value::Null);
        if !outcome.passed {
            entry["outcome"] = json!("gate_failed");
            let kind = match step.section {
                // The runbook's premise does not hold here.
                Section::Symptom | Section::Diagnosis => FailureType::WrongRunbook,
                // It did what it says and the problem is still there.
                Section::Remediation | Section::Verify => FailureType::RunbookInsufficient,
            };
            run.log(entry);
            run.fail(
                number,
                kind,
                format!("step {number} ({}): the gate failed: {outcome}", tool.tool),
            );
            return Ok(());
        }
    }
    run.log(entry);
    Ok(())
}

/// Gathers the run's write steps that can be planned now into one plan, and proposes it.
async fn propose_writes(
    ctx: &Ctx,
    caller: &Caller,
    runbooks: &Runbooks,
    run: &mut Run,
    reached: usize,
) -> Result<(), ToolError> {
    let redactor = run.redactor(runbooks);
    let results = run.results();
    let inputs = run.inputs.clone();
    let sub = ::runbook::substitute::Context {
        inputs: &inputs,
        env: runbooks.env(),
        steps: Some(&results),
        keep_unset: false,
    };
    // The step reached, and every later write whose arguments are known now.
    let mut steps = vec![reached];
    let uses_steps = |args: &Map<String, Value>| {
        let text = Value::Object(args.clone()).to_string();
        text.contains("{step.")
    };
    for (s, t) in run.runbook.tool_steps() {
        let later = s.number > reached;
        let write = runbooks
            .catalog()
            .get(&t.tool)
            .is_some_and(|spec| !spec.is_read_only());
        let done = run
            .entry(s.number)
            .is_some_and(|e| e["outcome"] == "applied");
        if later && write && !done && !uses_steps(&t.arguments) {
            steps.push(s.number);
        }
    }
    let gather = Gather::default();
    let gathering = Caller {
        gather: Some(gather.clone()),
        ..caller.clone()
    };
    for &n in &steps {
        let Some(StepKind::Tool(tool)) = run.runbook.step(n).map(|s| s.kind.clone()) else {
            continue;
        };
        let arguments = match sub.arguments(&tool.arguments) {
            Ok(a) => Value::Object(a),
            Err(e) => {
                let reason = format!("step {n} ({}): {e}", tool.tool);
                run.fail(
                    n,
                    FailureType::RunbookInsufficient,
                    redactor.redact(&reason).into_owned(),
                );
                return Ok(());
            }
        };
        let shown_args = redactor.redact_value(&arguments);
        if let Err(e) = call_tool(ctx, &gathering, runbooks, &tool.tool, arguments).await {
            let message = redactor.redact(&e.to_string()).into_owned();
            run.log(json!({
                "step": n, "section": "remediation", "tool": tool.tool, "arguments": shown_args,
                "outcome": "failed", "error": message, "at": store::time::now(),
            }));
            run.fail(
                n,
                FailureType::of_error(&e),
                format!("step {n} ({}) could not be planned: {message}", tool.tool),
            );
            return Ok(());
        }
        run.log(json!({
            "step": n, "section": "remediation", "tool": tool.tool, "arguments": shown_args,
            "outcome": "planned", "at": store::time::now(),
        }));
    }
    let requests = gather.take();
    let request = merge(
        requests,
        format!(
            "Runbook {} {} (run {}, variables {})",
            run.runbook.name(),
            run.runbook.meta.version,
            run.row.id,
            &run.row.variables_hash[..12.min(run.row.variables_hash.len())]
        ),
    );
    if request.devices.iter().all(|d| d.changes.is_empty()) {
        // Nothing to change (the steps found everything as wanted): the writes are done.
        for &n in &steps {
            if let Some(e) = run
                .steps
                .iter_mut()
                .rev()
                .find(|e| e["step"].as_u64() == Some(n as u64))
            {
                e["outcome"] = json!("applied");
                e["note"] = json!("nothing to change");
            }
        }
        return Ok(());
    }
    let proposed = match crate::proposal::propose(ctx, caller, request).await {
        Ok(p) => p,
        // A lone write whose change is already in place: done, nothing for a person to approve.
        Err(ToolError::InvalidArguments(m))
            if steps.len() == 1 && m.contains("nothing to change") =>
        {
            for &n in &steps {
                if let Some(e) = run
                    .steps
                    .iter_mut()
                    .rev()
                    .find(|e| e["step"].as_u64() == Some(n as u64))
                {
                    e["outcome"] = json!("applied");
                    e["note"] = json!(redactor.redact(&m));
                }
            }
            return Ok(());
        }
        // Anything else ends the run here, saying why, instead of leaving it half-moved.
        Err(e) => {
            let message = redactor.redact(&e.to_string()).into_owned();
            run.fail(
                reached,
                FailureType::of_error(&e),
                format!("the run's plan could not be made: {message}"),
            );
            return Ok(());
        }
    };
    let plan_id = proposed.structured["plan_id"]
        .as_str()
        .or_else(|| proposed.structured["id"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| ToolError::internal(&"a proposed plan has no id"))?;
    for &n in &steps {
        if let Some(e) = run
            .steps
            .iter_mut()
            .rev()
            .find(|e| e["step"].as_u64() == Some(n as u64))
        {
            e["plan_id"] = json!(plan_id);
        }
    }
    run.row.plan_id = Some(plan_id);
    run.proposed = Some(proposed.structured);
    run.status = RunStatus::WaitingApproval;
    Ok(())
}

/// One plan request from several: each device once, in the order first named, with its
/// changes in step order.
fn merge(requests: Vec<PlanRequest>, title: String) -> PlanRequest {
    let mut devices: Vec<DeviceRequest> = Vec::new();
    for r in requests {
        for d in r.devices {
            match devices.iter_mut().find(|x| x.device == d.device) {
                Some(x) => x.changes.extend(d.changes),
                None => devices.push(d),
            }
        }
    }
    PlanRequest {
        title,
        tool: "runbook.run".into(),
        devices,
    }
}

/// Looks at the plan a run waits for: applied → the run goes on; still waiting → unchanged;
/// refused or failed → the run fails, saying why.
pub(crate) async fn check_plan(ctx: &Ctx, run: &mut Run) -> Result<Option<String>, ToolError> {
    let Some(plan_id) = run.row.plan_id.clone() else {
        return Ok(None);
    };
    let plan = ctx.workflow.plan(&plan_id).await?;
    let step = usize::try_from(run.row.next_step).unwrap_or(0);
    let waiting = match plan.status {
        PlanStatus::Applied => {
            for e in &mut run.steps {
                if e["plan_id"] == json!(plan_id) && e["outcome"] == "planned" {
                    e["outcome"] = json!("applied");
                }
            }
            run.row.plan_id = None;
            run.status = RunStatus::Running;
            None
        }
        PlanStatus::Pending => Some(format!(
            "plan {plan_id} waits for a person's approval: `routeros-mcp plan approve {plan_id}`, then plan.apply"
        )),
        PlanStatus::Approved => Some(format!(
            "plan {plan_id} is approved and waits to be applied with plan.apply"
        )),
        PlanStatus::Applying => Some(format!("plan {plan_id} is being applied")),
        PlanStatus::Rejected | PlanStatus::Cancelled => {
            run.fail(
                step,
                FailureType::WrongDiagnosis,
                format!(
                    "plan {plan_id} with the run's changes was {}; nothing was changed",
                    plan.status
                ),
            );
            None
        }
        PlanStatus::RolledBack | PlanStatus::Failed => {
            run.fail(
                step,
                FailureType::EnvironmentDifference,
                format!(
                    "plan {plan_id} with the run's changes {} while being applied",
                    match plan.status {
                        PlanStatus::RolledBack => "failed and was rolled back",
                        _ => "failed",
                    }
                ),
            );
            None
        }
    };
    Ok(waiting)
}

/// Calls a tool as a step: its schema, tier and the caller's role checked as for any call.
async fn call_tool(
    ctx: &Ctx,
    caller: &Caller,
    runbooks: &Runbooks,
    name: &str,
    arguments: Value,
) -> Result<Value, ToolError> {
    if !::runbook::validate::may_be_a_step(name) {
        return Err(ToolError::Refused(format!(
            "{name} cannot be a runbook step"
        )));
    }
    let spec = runbooks
        .catalog()
        .get(name)
        .ok_or_else(|| ToolError::InvalidArguments(format!("unknown tool {name}")))?;
    if let Some(policy) = &caller.policy
        && let catalog::Visibility::Hidden(reason) = policy.visibility(spec)
    {
        return Err(ToolError::Refused(reason));
    }
    if !caller.allows(spec.tier) {
        return Err(ToolError::Refused(format!(
            "{name} is a {} tool, which this session does not offer (MCP_DEFAULT_TOOL_TIER, MCP_ENABLED_TOOL_TIERS)",
            spec.tier
        )));
    }
    if let Err(violations) = runbooks.catalog().validate_input(name, &arguments) {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        return Err(ToolError::InvalidArguments(format!(
            "{name}: {}",
            list.join("; ")
        )));
    }
    let handler = crate::registry::handlers()
        .into_iter()
        .find(|h| h.name == name)
        .ok_or_else(|| ToolError::internal(&format!("no handler for {name}")))?;
    let needs = if spec.is_read_only() {
        auth::Role::Viewer
    } else {
        auth::Role::Operator
    };
    let step_ctx = ctx.for_call(Access::new(
        std::sync::Arc::clone(&ctx.access.principal),
        needs,
    ));
    let out = (handler.run)(step_ctx, arguments, caller.clone()).await?;
    Ok(out.structured)
}

async fn audit_step(
    ctx: &Ctx,
    caller: &Caller,
    run_id: &str,
    step: usize,
    tool: &str,
    arguments: &Value,
    outcome: &str,
) {
    let appended = ctx
        .fleet
        .store()
        .audit_queue()
        .append(
            &caller.audit,
            "runbook.step",
            &format!("runbook-run:{run_id}"),
            json!({"run": run_id, "step": step, "tool": tool, "device_id": arguments.get("device_id"), "outcome": outcome}),
        )
        .await;
    if let Err(e) = appended {
        tracing::error!(error = %e, "could not record a runbook step in the audit log");
    }
}

/// A result as the log keeps it.
fn keep(result: &Value) -> Value {
    let text = result.to_string();
    if text.len() <= MAX_KEPT_RESULT {
        result.clone()
    } else {
        json!({"cut": true, "bytes": text.len(), "start": cut(&text, MAX_KEPT_RESULT)})
    }
}

/// A log entry as a tool answer shows it: results cut to [`MAX_SHOWN_RESULT`].
pub(crate) fn shown(entry: &Value) -> Value {
    let mut e = entry.clone();
    if let Some(r) = e.get("result") {
        let text = r.to_string();
        if text.len() > MAX_SHOWN_RESULT {
            e["result"] =
                json!({"cut": true, "bytes": text.len(), "start": cut(&text, MAX_SHOWN_RESULT)});
        }
    }
    e
}

fn cut(text: &str, max: usize) -> String {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// The state before the run's writes and after them, from the reads made of the same thing on
/// both sides (same tool, same arguments), and their diff.
fn capture_state(run: &mut Run) {
    let first_write = run.steps.iter().position(|e| e["outcome"] == "applied");
    let last_write = run.steps.iter().rposition(|e| e["outcome"] == "applied");
    let (Some(first), Some(last)) = (first_write, last_write) else {
        return;
    };
    let key = |e: &Value| format!("{} {}", e["tool"].as_str().unwrap_or(""), e["arguments"]);
    let reads = |range: &[Value]| -> BTreeMap<String, Value> {
        range
            .iter()
            .filter(|e| e["outcome"] == "ok" && e.get("result").is_some())
            .map(|e| (key(e), e["result"].clone()))
            .collect()
    };
    let before = reads(&run.steps[..first]);
    let after = reads(&run.steps[last..]);
    let mut diffs = Vec::new();
    for (k, b) in &before {
        if let Some(a) = after.get(k) {
            let old = serde_json::to_string_pretty(b).unwrap_or_default();
            let new = serde_json::to_string_pretty(a).unwrap_or_default();
            let d = ::runbook::unified_diff(
                &format!("before: {k}"),
                &old,
                &format!("after: {k}"),
                &new,
            );
            if !d.is_empty() {
                diffs.push(d.unified);
            }
        }
    }
    run.row.state_before = serde_json::to_string(&before).ok();
    run.row.state_after = serde_json::to_string(&after).ok();
    run.row.state_diff = Some(diffs.join("\n"));
}
