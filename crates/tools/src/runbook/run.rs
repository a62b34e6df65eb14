//! `runbook.run`: starts a run of a published runbook, or continues one (`run_id`) after its
//! plan was applied or the assistant reported on its prose steps. The steps themselves run in
//! [`super::engine`]; this module checks who may run what, where and how often (a runbook's
//! `cooldown`, one active run per runbook and device), pins the run to the version served now,
//! and saves and answers.

use std::collections::BTreeMap;

use ::runbook::{Inputs, Runbook, Status, VarType};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::runbooks::RunRow;

use super::engine::{self, ABANDON_AFTER_HOURS, Run, RunStatus};
use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    runbook: Option<String>,
    variables: Option<Map<String, Value>>,
    incident: Option<String>,
    run_id: Option<String>,
}

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("runbook.run", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let runbooks = super::served(&ctx).await?;
    let mut run = match (&p.runbook, &p.run_id) {
        (Some(name), None) => start(&ctx, &caller, runbooks, name, &p).await?,
        (None, Some(id)) => resume(&ctx, runbooks, id, p.variables.as_ref()).await?,
        (Some(_), Some(_)) | (None, None) => {
            return Err(ToolError::InvalidArguments(
                "give runbook (and its variables) to start a run, or run_id to continue one"
                    .into(),
            ));
        }
    };
    let read_as = run.status;
    let mut waiting = None;
    match run.status {
        RunStatus::WaitingApproval => {
            waiting = engine::check_plan(&ctx, &mut run).await?;
        }
        RunStatus::Running
        | RunStatus::WaitingAssistant
        | RunStatus::Succeeded
        | RunStatus::Failed
        | RunStatus::Abandoned => {}
    }
    engine::advance(&ctx, &caller, runbooks, &mut run).await?;
    save(&ctx, runbooks, &mut run, read_as, caller.samples).await?;
    Ok(ToolOutput::new(answer(&run, waiting)))
}

/// A new run of `name`, saved as running.
async fn start(
    ctx: &Ctx,
    caller: &Caller,
    runbooks: &super::Runbooks,
    name: &str,
    p: &Params,
) -> Result<Run, ToolError> {
    let Some(entry) = runbooks.with(|index| index.get(name).cloned()) else {
        return Err(ToolError::InvalidArguments(super::unknown(name)));
    };
    match entry.runbook.meta.status {
        Status::Published => {}
        Status::Draft => {
            return Err(ToolError::Refused(format!(
                "runbook {name} is a draft: runs use published runbooks. A person publishes it \
                 (status: published in its file) once it is reviewed; runbook.dry_run shows \
                 what it would do"
            )));
        }
        Status::Deprecated => {
            return Err(ToolError::Refused(format!(
                "runbook {name} is deprecated; runbook.search finds what replaced it"
            )));
        }
    }
    if let Some(incident) = &p.incident
        && (incident.chars().count() > 200 || domain::text::find_control(incident).is_some())
    {
        return Err(ToolError::InvalidArguments(
            "incident: a reference of at most 200 characters without control characters".into(),
        ));
    }
    let given: BTreeMap<String, Value> = p.variables.clone().unwrap_or_default().into_iter().collect();
    let inputs = Inputs::resolve(&entry.runbook, &given)
        .map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let (device_key, project_id) = device_of(ctx, &entry.runbook, &inputs).await?;
    let store = ctx.fleet.store();
    let now = chrono::Utc::now();
    let version = engine::record_version(ctx, &entry).await?;
    // The cooldown counts the runs of the version served now: a new version, which a person
    // wrote or approved, may run at once.
    let last = match &entry.runbook.meta.cooldown {
        Some(_) => store
            .runbook_last_finished(name, &device_key)
            .await?
            .filter(|r| r.version_id == version.id),
        None => None,
    };
    if let (Some(cooldown), Some(last)) = (&entry.runbook.meta.cooldown, last) {
        let finished = last
            .finished_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        if let Some(finished) = finished {
            let free_at = finished
                + chrono::Duration::seconds(i64::try_from(cooldown.seconds).unwrap_or(i64::MAX / 2));
            if free_at > now {
                return Err(ToolError::Refused(format!(
                    "runbook {name} ran here until {} (run {}, {}); its cooldown is {}, so it \
                     can run again after {}. A loop that re-runs a runbook makes an incident \
                     worse: look at that run's log first",
                    finished.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    last.id,
                    last.status,
                    cooldown.text,
                    free_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )));
            }
        }
    }
    // A run left waiting for a day no longer holds the device.
    if let Some(active) = store.runbook_active_run(name, &device_key).await? {
        let idle = chrono::DateTime::parse_from_rfc3339(&active.updated_at)
            .map(|t| now - t.with_timezone(&chrono::Utc))
            .unwrap_or_default();
        if idle > chrono::Duration::hours(ABANDON_AFTER_HOURS) {
            let mut stale = active.clone();
            stale.status = RunStatus::Abandoned.as_str().to_owned();
            stale.failure_reason = Some(format!(
                "left waiting for more than {ABANDON_AFTER_HOURS} hours; a new run replaced it"
            ));
            stale.updated_at = store::time::now();
            stale.finished_at = Some(store::time::now());
            store.runbook_run_save(&stale, &active.status).await?;
        }
    }
    let variables = serde_json::to_string(&inputs.shown()).map_err(|e| ToolError::internal(&e))?;
    let now_text = store::time::now();
    let id = uuid::Uuid::now_v7().to_string();
    let row = RunRow {
        variables_hash: inputs.binding(&id),
        id,
        runbook: name.to_owned(),
        version_id: version.id,
        project_id,
        device_key,
        variables,
        incident: p.incident.clone(),
        started_by: caller.audit.actor.clone(),
        status: RunStatus::Running.as_str().to_owned(),
        next_step: 1,
        plan_id: None,
        failed_step: None,
        failure_type: None,
        failure_reason: None,
        steps: "[]".into(),
        state_before: None,
        state_after: None,
        state_diff: None,
        started_at: now_text.clone(),
        updated_at: now_text,
        finished_at: None,
    };
    store
        .runbook_run_start(&row, &caller.audit)
        .await
        .map_err(|e| match e {
            e @ store::StoreError::RunbookBusy { .. } => ToolError::Refused(e.to_string()),
            other => other.into(),
        })?;
    Ok(Run {
        row,
        runbook: entry.runbook,
        inputs,
        status: RunStatus::Running,
        steps: Vec::new(),
        this_call: Vec::new(),
        proposed: None,
        handed_over: Vec::new(),
    })
}

/// The device a run acts on (its first `device` variable), checked as any tool checks a
/// device: visible to the caller, who holds the role to change it. `('', None)` without one.
async fn device_of(
    ctx: &Ctx,
    runbook: &Runbook,
    inputs: &Inputs,
) -> Result<(String, Option<String>), ToolError> {
    let Some(var) = runbook
        .meta
        .variables
        .iter()
        .find(|v| v.var_type == VarType::Device)
    else {
        return Ok((String::new(), None));
    };
    let Some(value) = inputs.get(&var.name).and_then(Value::as_str) else {
        return Ok((String::new(), None));
    };
    let (device, _) = crate::device(ctx, value).await?;
    let id = device.id.to_string();
    let project = store::plans::project_of_device(ctx.fleet.store(), &id).await?;
    Ok((id, Some(project)))
}

/// A run's row, if the caller may see it: a run on a device the caller cannot see does not
/// exist for them, and one on a device they cannot change is refused naming the role.
pub(crate) async fn resume_row(ctx: &Ctx, id: &str) -> Result<RunRow, ToolError> {
    let no_run = || {
        let shown: String = domain::text::escape(id).chars().take(64).collect();
        ToolError::InvalidArguments(format!(
            "no runbook run \"{shown}\"; runbook.run answers with the run_id of each run it starts"
        ))
    };
    let row = ctx.fleet.store().runbook_run(id).await?.ok_or_else(no_run)?;
    if !row.device_key.is_empty() {
        crate::device(ctx, &row.device_key)
            .await
            .map_err(|e| match e {
                ToolError::UnknownDevice(_) => no_run(),
                other => other,
            })?;
    }
    Ok(row)
}

/// A run read back, pinned to the version it started with.
pub(crate) async fn resume(
    ctx: &Ctx,
    runbooks: &super::Runbooks,
    id: &str,
    variables: Option<&Map<String, Value>>,
) -> Result<Run, ToolError> {
    let store = ctx.fleet.store();
    let row = resume_row(ctx, id).await?;
    let version = store
        .runbook_version(&row.version_id)
        .await?
        .ok_or_else(|| ToolError::internal(&"a run's version is missing"))?;
    let runbook = ::runbook::check(&format!("{} {}", version.name, version.version), &version.content, runbooks.catalog())
        .map_err(|problems| {
            ToolError::Refused(format!(
                "run {id} is pinned to {} {}, which no longer validates against this server's tools ({}); start a new run",
                version.name,
                version.version,
                problems.first().map(ToString::to_string).unwrap_or_default()
            ))
        })?;
    // The stored values hide secrets: a runbook with secret variables needs them given again,
    // and what is given must be what the run started with.
    let stored: BTreeMap<String, Value> = serde_json::from_str(&row.variables).map_err(|e| ToolError::internal(&e))?;
    let has_secret = runbook.meta.variables.iter().any(|v| v.secret);
    let given: BTreeMap<String, Value> = match variables {
        Some(v) => v.clone().into_iter().collect(),
        None if has_secret => {
            return Err(ToolError::InvalidArguments(format!(
                "run {id} uses secret variables, which are never stored: give the same variables again to continue"
            )));
        }
        None => stored,
    };
    let inputs = Inputs::resolve(&runbook, &given).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    if inputs.binding(&row.id) != row.variables_hash {
        return Err(ToolError::InvalidArguments(format!(
            "these variables are not the ones run {id} started with (its plan is bound to them); continue without variables, or start a new run"
        )));
    }
    let status = RunStatus::parse(&row.status)?;
    let steps: Vec<Value> = serde_json::from_str(&row.steps).map_err(|e| ToolError::internal(&e))?;
    Ok(Run {
        row,
        runbook,
        inputs,
        status,
        steps,
        this_call: Vec::new(),
        proposed: None,
        handed_over: Vec::new(),
    })
}

/// Saves the run (if this call moved it) and its audit record when it finished.
pub(crate) async fn save(
    ctx: &Ctx,
    runbooks: &super::Runbooks,
    run: &mut Run,
    read_as: RunStatus,
    client_samples: bool,
) -> Result<(), ToolError> {
    run.row.status = run.status.as_str().to_owned();
    run.row.steps = serde_json::to_string(&run.steps).map_err(|e| ToolError::internal(&e))?;
    run.row.updated_at = store::time::now();
    let store = ctx.fleet.store();
    store.runbook_run_save(&run.row, read_as.as_str()).await?;
    match run.status {
        RunStatus::Succeeded | RunStatus::Failed | RunStatus::Abandoned if read_as != run.status => {
            let ctx_audit = store::AuditContext::new(run.row.started_by.clone());
            store
                .append_audit(
                    &ctx_audit,
                    "runbook.run_end",
                    &format!("runbook-run:{}", run.row.id),
                    json!({
                        "runbook": run.row.runbook, "version": run.row.version_id,
                        "outcome": run.status.as_str(), "failed_step": run.row.failed_step,
                        "failure_type": run.row.failure_type,
                    }),
                )
                .await?;
            runbooks.run_finished(&run.row.runbook, &run.runbook.meta.version, run.status.as_str());
            if run.status == RunStatus::Failed && !client_samples {
                ask_reviser(ctx, &run.row);
            }
        }
        RunStatus::Succeeded
        | RunStatus::Failed
        | RunStatus::Abandoned
        | RunStatus::Running
        | RunStatus::WaitingApproval
        | RunStatus::WaitingAssistant => {}
    }
    Ok(())
}

/// After a failed run, asks the operator's model endpoint (if one is configured), in the
/// background, which failure category fits — the rules gave the first; the model's answer is
/// recorded beside it and decides — and, for a failure a better runbook would avoid, for the
/// next version, which is queued for review like any proposal (a draft that does not validate is
/// logged and dropped).
fn ask_reviser(ctx: &Ctx, run: &RunRow) {
    let Some(runbooks) = ctx.runbooks.clone() else {
        return;
    };
    if runbooks.reviser().is_none() {
        return;
    }
    let Some(by_rules) = run
        .failure_type
        .as_deref()
        .and_then(engine::FailureType::parse)
    else {
        return;
    };
    let store = ctx.fleet.store().clone();
    let run = run.clone();
    tokio::spawn(async move {
        let Some(reviser) = runbooks.reviser() else {
            return;
        };
        let Ok(Some(version)) = store.runbook_version(&run.version_id).await else {
            tracing::warn!(run = %run.id, "a failed run's version is missing; no revision asked for");
            return;
        };
        let failure = run.failure_reason.clone().unwrap_or_default();
        let category = match reviser.classify(&version.content, &failure, &run.steps).await {
            Ok(Some(by_model)) => {
                if let Err(e) = store
                    .runbook_run_set_model_category(&run.id, by_model.as_str())
                    .await
                {
                    tracing::warn!(run = %run.id, error = %e, "recording the model's category failed");
                }
                if by_model != by_rules {
                    tracing::info!(run = %run.id, rules = %by_rules, model = %by_model, "the model files the failure differently");
                }
                by_model
            }
            Ok(None) => {
                tracing::warn!(run = %run.id, "the model named no failure category; the rules' stands");
                by_rules
            }
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "the model endpoint did not categorise the failure; the rules' category stands");
                by_rules
            }
        };
        if !category.improvable() {
            return;
        }
        let lesson = super::proposals::Lesson {
            run: run.clone(),
            version,
            failure: category,
        };
        let drafted = reviser
            .draft(&lesson.version.content, &failure, &run.steps)
            .await;
        let content = match drafted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "the model endpoint drafted no revision");
                return;
            }
        };
        let audit = store::AuditContext::new(format!("llm:{}", reviser.model()));
        let rationale = format!(
            "drafted by model {} from run {} ({})",
            reviser.model(),
            run.id,
            lesson.failure
        );
        match super::proposals::propose(
            &store,
            &runbooks,
            &lesson,
            &content,
            Some(&rationale),
            &format!("llm:{}", reviser.model()),
            &audit,
        )
        .await
        {
            Ok(v) => tracing::info!(runbook = %v.name, version = %v.version, version_id = %v.id, "a drafted revision waits for review"),
            Err(e) => tracing::warn!(run = %run.id, error = %e, "the model's draft was not queued"),
        }
    });
}

/// What the caller is told: where the run is, what this call did, and what to do next.
pub(crate) fn answer(run: &Run, waiting: Option<String>) -> Value {
    let id = &run.row.id;
    let done: Vec<Value> = run
        .steps
        .iter()
        .filter(|e| {
            e["step"]
                .as_u64()
                .is_some_and(|n| run.this_call.contains(&(n as usize)))
        })
        .map(engine::shown)
        .collect();
    let failure = run.row.failure_type.as_deref().map(|t| {
        let improvable = engine::FailureType::parse(t).is_some_and(engine::FailureType::improvable);
        json!({
            "step": run.row.failed_step,
            "type": t,
            "reason": run.row.failure_reason,
            "improvable": improvable,
        })
    });
    let next = match run.status {
        RunStatus::Running => format!("Continue with runbook.run run_id={id}."),
        RunStatus::WaitingApproval => match &waiting {
            Some(w) => format!("Waiting: {w}. Then call runbook.run run_id={id} to continue."),
            None => format!(
                "The run's changes are one plan ({}): show it to the user; a person approves it \
                 (`routeros-mcp plan approve {}`), plan.apply applies it, then call runbook.run \
                 run_id={id} to continue.",
                run.row.plan_id.as_deref().unwrap_or("-"),
                run.row.plan_id.as_deref().unwrap_or("PLAN_ID")
            ),
        },
        RunStatus::WaitingAssistant => format!(
            "Do the handed-over steps in order (they may need other tools or people), then report \
             with runbook.record_outcome run_id={id} outcome=done (or failed, with notes), and \
             continue with runbook.run run_id={id}."
        ),
        RunStatus::Succeeded => "The runbook ran to its end and every gate held.".to_owned(),
        RunStatus::Failed => {
            let improvable = run
                .row
                .failure_type
                .as_deref()
                .and_then(engine::FailureType::parse)
                .is_some_and(engine::FailureType::improvable);
            if improvable {
                format!(
                    "The run failed in a way a better runbook could avoid. Tell the user what \
                     failed; you may propose an improved version with runbook.propose_revision \
                     run_id={id} (a person reviews it before it is used)."
                )
            } else {
                "The run failed for a reason outside the runbook; tell the user what failed and why.".to_owned()
            }
        }
        RunStatus::Abandoned => "The run was abandoned.".to_owned(),
    };
    json!({
        "run_id": id,
        "runbook": run.row.runbook,
        "version": run.runbook.meta.version,
        "version_id": run.row.version_id,
        "status": run.status.as_str(),
        "next_step": run.row.next_step,
        "steps": done,
        "handed_over": run.handed_over,
        "plan": run.proposed,
        "failure": failure,
        "next": next,
        "log": format!("runbook-execution-log://{}/logs/{id}", run.row.runbook),
    })
}

/// A run's execution log as the `runbook-execution-log://{runbook}/logs/{run_id}` resource shows
/// it: the run (variables with secrets masked, incident, version, who started it), every step
/// with its arguments, result (as kept), timing and outcome, the state before and after and
/// their diff, and the failure. Only for a caller who may see the run's device.
pub async fn execution_log(ctx: &Ctx, runbook: &str, run_id: &str) -> Result<Value, ToolError> {
    let row = resume_row(ctx, run_id).await?;
    if row.runbook != runbook {
        let shown: String = domain::text::escape(runbook).chars().take(64).collect();
        return Err(ToolError::InvalidArguments(format!(
            "run {run_id} is a run of {}, not of {shown}",
            row.runbook
        )));
    }
    let version = ctx.fleet.store().runbook_version(&row.version_id).await?;
    let by_model = ctx.fleet.store().runbook_run_model_category(&row.id).await?;
    let parse = |t: &Option<String>| {
        t.as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap_or(Value::String(t.to_owned())))
    };
    Ok(json!({
        "run_id": row.id,
        "runbook": row.runbook,
        "version": version.as_ref().map(|v| v.version.clone()),
        "version_id": row.version_id,
        "content_hash": version.as_ref().map(|v| v.content_hash.clone()),
        "status": row.status,
        "variables": serde_json::from_str::<Value>(&row.variables).unwrap_or(Value::Null),
        "variables_hash": row.variables_hash,
        "incident": row.incident,
        "started_by": row.started_by,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "plan_id": row.plan_id,
        "failure": row.failure_type.as_ref().map(|t| json!({
            "step": row.failed_step, "type": t, "reason": row.failure_reason,
            "type_by_model": by_model,
        })),
        "steps": serde_json::from_str::<Value>(&row.steps).unwrap_or(Value::Null),
        "state_before": parse(&row.state_before),
        "state_after": parse(&row.state_after),
        "state_diff": row.state_diff,
    }))
}
