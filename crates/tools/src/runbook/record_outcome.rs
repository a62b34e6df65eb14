//! `runbook.record_outcome`: the assistant reports on the prose steps a run handed over (done,
//! or failed and why, with the state before and after where it saw them), or ends a run it will
//! not finish (`abandoned`). A failed report ends the run and files the failure under a
//! category, as a failed tool step does.

use serde::Deserialize;
use serde_json::{Value, json};

use super::engine::{FailureType, RunStatus};
use crate::{Caller, Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    run_id: String,
    outcome: String,
    notes: Option<String>,
    failure_type: Option<String>,
    state_before: Option<Value>,
    state_after: Option<Value>,
    variables: Option<serde_json::Map<String, Value>>,
}

/// The longest note kept, in characters.
const MAX_NOTES: usize = 4000;

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler_as_caller!("runbook.record_outcome", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let runbooks = super::served(&ctx).await?;
    if p.notes.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTES) {
        return Err(ToolError::InvalidArguments(format!(
            "notes: at most {MAX_NOTES} characters"
        )));
    }
    let failure_type = match p.failure_type.as_deref() {
        None => None,
        Some(t) => Some(FailureType::parse(t).ok_or_else(|| {
            ToolError::InvalidArguments(format!(
                "failure_type: one of {}",
                FailureType::ALL.map(FailureType::as_str).join(", ")
            ))
        })?),
    };
    let mut run = super::run::resume(&ctx, runbooks, &p.run_id, p.variables.as_ref()).await?;
    let read_as = run.status;
    let redactor = {
        let mut r = run.inputs.redactor();
        if let Some(env) = runbooks.env() {
            r.extend(&env.redactor());
        }
        r
    };
    let notes = p.notes.as_deref().map(|n| redactor.redact(n).into_owned());
    let id = run.row.id.clone();
    match (run.status, p.outcome.as_str()) {
        (RunStatus::Succeeded | RunStatus::Failed | RunStatus::Abandoned, _) => {
            return Err(ToolError::Refused(format!(
                "run {id} has already ended ({}); runbook.run starts a new one",
                run.status.as_str()
            )));
        }
        (_, "abandoned") => {
            run.status = RunStatus::Abandoned;
            run.row.failure_reason = Some(notes.clone().unwrap_or_else(|| "ended by the assistant".into()));
            run.row.finished_at = Some(store::time::now());
        }
        (RunStatus::WaitingAssistant, "done" | "failed") => {
            let first = usize::try_from(run.row.next_step).unwrap_or(0);
            let section = run.runbook.step(first).map(|s| s.section);
            let mut n = first;
            while let Some(step) = run.runbook.step(n) {
                if !matches!(step.kind, ::runbook::StepKind::Prose { .. })
                    || Some(step.section) != section
                {
                    break;
                }
                n += 1;
            }
            let outcome = if p.outcome == "done" { "done" } else { "failed" };
            for step in first..n {
                run.steps.push(json!({
                    "step": step, "kind": "prose", "outcome": outcome,
                    "notes": notes, "reported_by": caller.audit.actor, "at": store::time::now(),
                }));
            }
            if let Some(before) = &p.state_before {
                run.row.state_before = Some(redactor.redact_value(before).to_string());
            }
            if let Some(after) = &p.state_after {
                run.row.state_after = Some(redactor.redact_value(after).to_string());
            }
            if outcome == "done" {
                run.row.next_step = n as i64;
                run.status = RunStatus::Running;
            } else {
                run.status = RunStatus::Failed;
                run.row.failed_step = Some(first as i64);
                run.row.failure_type = Some(
                    failure_type
                        .unwrap_or(FailureType::RunbookInsufficient)
                        .as_str()
                        .to_owned(),
                );
                run.row.failure_reason = Some(format!(
                    "step {first} reported failed by the assistant{}",
                    notes.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
                ));
                run.row.finished_at = Some(store::time::now());
            }
        }
        (RunStatus::WaitingAssistant, other) => {
            let shown: String = domain::text::escape(other).chars().take(40).collect();
            return Err(ToolError::InvalidArguments(format!(
                "outcome \"{shown}\": done, failed or abandoned"
            )));
        }
        (RunStatus::Running | RunStatus::WaitingApproval, _) => {
            return Err(ToolError::Refused(format!(
                "run {id} is {}, not waiting for a report; runbook.run run_id={id} says what it waits for (or report outcome=abandoned to end it)",
                run.status.as_str()
            )));
        }
    }
    if run.status == RunStatus::Running {
        super::engine::advance(&ctx, &caller, runbooks, &mut run).await?;
    }
    super::run::save(&ctx, runbooks, &mut run, read_as, caller.samples).await?;
    Ok(ToolOutput::new(super::run::answer(&run, None)))
}
