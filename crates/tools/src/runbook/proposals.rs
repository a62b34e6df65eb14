//! Proposed versions: how a better runbook enters the review queue after a failed run, from
//! whoever wrote it (the assistant through `runbook.propose_revision`, or the operator's model
//! endpoint). A proposal is checked like every runbook before it is queued, names the run it
//! learned from, and is never served, listed, offered as a prompt or run until a person
//! approves it.

use serde_json::Value;
use store::runbooks::{RunRow, VersionRow};

use super::Runbooks;
use super::engine::FailureType;
use crate::ToolError;

/// Most problems listed in one refusal.
const MAX_PROBLEMS: usize = 20;
/// The longest rationale kept, in characters.
pub(crate) const MAX_RATIONALE: usize = 4000;

/// A failed run that may be learned from: the run, its version and its failure.
pub(crate) struct Lesson {
    pub run: RunRow,
    pub version: VersionRow,
    pub failure: FailureType,
}

/// The run `run_id` as a lesson, or why it is not one.
pub(crate) async fn lesson(store: &store::Store, run: RunRow) -> Result<Lesson, ToolError> {
    let id = run.id.clone();
    if run.status != "failed" {
        return Err(ToolError::Refused(format!(
            "run {id} is {}; revisions are proposed from failed runs",
            run.status
        )));
    }
    let failure = run
        .failure_type
        .as_deref()
        .and_then(FailureType::parse)
        .ok_or_else(|| ToolError::internal(&format!("run {id} failed without a category")))?;
    if !failure.improvable() {
        return Err(ToolError::Refused(format!(
            "run {id} failed as {failure}, which a better runbook would not avoid (only \
             runbook_insufficient and environment_difference failures lead to revisions)"
        )));
    }
    let version = store
        .runbook_version(&run.version_id)
        .await?
        .ok_or_else(|| ToolError::internal(&"a run's version is missing"))?;
    Ok(Lesson {
        run,
        version,
        failure,
    })
}

/// Checks `content` as the next version of the lesson's runbook and queues it for review.
pub(crate) async fn propose(
    store: &store::Store,
    runbooks: &Runbooks,
    lesson: &Lesson,
    content: &str,
    rationale: Option<&str>,
    proposed_by: &str,
    audit: &store::AuditContext,
) -> Result<VersionRow, ToolError> {
    let parent = &lesson.version;
    if content.len() > ::runbook::MAX_FILE_BYTES {
        return Err(ToolError::InvalidArguments(format!(
            "content: {} bytes; a runbook has at most {} (256 KiB)",
            content.len(),
            ::runbook::MAX_FILE_BYTES
        )));
    }
    if rationale.is_some_and(|r| r.chars().count() > MAX_RATIONALE) {
        return Err(ToolError::InvalidArguments(format!(
            "rationale: at most {MAX_RATIONALE} characters"
        )));
    }
    let file = format!("{} (proposed)", parent.name);
    let runbook = ::runbook::check(&file, content, runbooks.catalog()).map_err(|problems| {
        let mut shown: Vec<String> = problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(ToString::to_string)
            .collect();
        if problems.len() > MAX_PROBLEMS {
            shown.push(format!("and {} more", problems.len() - MAX_PROBLEMS));
        }
        ToolError::InvalidArguments(format!("content: {}", shown.join("; ")))
    })?;
    if runbook.meta.name != parent.name {
        return Err(ToolError::InvalidArguments(format!(
            "content: name is {}, but the run was of {}; a revision keeps the name",
            runbook.meta.name, parent.name
        )));
    }
    if runbook.meta.version == parent.version {
        return Err(ToolError::InvalidArguments(format!(
            "content: version is still {}; give the revision a new version (e.g. {})",
            parent.version,
            next_version(&parent.version)
        )));
    }
    if runbook.meta.status != ::runbook::Status::Published {
        return Err(ToolError::InvalidArguments(
            "content: write status: published — the status the version takes once a person \
             approves it; until then it is only in the review queue"
                .into(),
        ));
    }
    let base_hash = match parent.origin.as_str() {
        "proposal" => parent.base_hash.clone(),
        _ => Some(parent.content_hash.clone()),
    };
    let row = VersionRow {
        id: uuid::Uuid::now_v7().to_string(),
        name: parent.name.clone(),
        version: runbook.meta.version.clone(),
        content_hash: runbook.hash.clone(),
        content: content.to_owned(),
        origin: "proposal".into(),
        status: "pending_review".into(),
        parent_id: Some(parent.id.clone()),
        base_hash,
        generated_from_run: Some(lesson.run.id.clone()),
        proposed_by: Some(proposed_by.to_owned()),
        failure_type: Some(lesson.failure.as_str().to_owned()),
        priority: Some(priority(store, &runbook, parent).await?.to_owned()),
        rationale: rationale.map(str::to_owned),
        created_at: store::time::now(),
        review_started_at: None,
        reviewer: None,
        review_notes: None,
        reviewed_at: None,
    };
    store
        .runbook_propose(&row, audit)
        .await
        .map_err(|e| match e {
            e @ store::StoreError::RunbookVersionExists { .. } => {
                ToolError::InvalidArguments(e.to_string())
            }
            other => other.into(),
        })?;
    runbooks.notify_awaiting_review(&row);
    Ok(row)
}

/// How soon a person should look: high for risky runbooks or a version that keeps failing.
async fn priority(
    store: &store::Store,
    runbook: &::runbook::Runbook,
    parent: &VersionRow,
) -> Result<&'static str, ToolError> {
    let failed = store
        .runbook_run_tallies()
        .await?
        .into_iter()
        .find(|(v, _)| *v == parent.id)
        .map_or(0, |(_, t)| t.failed);
    Ok(match runbook.meta.risk {
        ::runbook::Risk::High | ::runbook::Risk::Critical => "high",
        _ if failed >= 3 => "high",
        ::runbook::Risk::Medium => "medium",
        _ if failed >= 2 => "medium",
        ::runbook::Risk::Low => "low",
    })
}

/// `1.2.3` → `1.2.4`; anything else gets `.1` appended.
pub(crate) fn next_version(v: &str) -> String {
    let mut parts: Vec<&str> = v.split('.').collect();
    match parts.last().and_then(|p| p.parse::<u64>().ok()) {
        Some(n) => {
            let bumped = (n + 1).to_string();
            parts.pop();
            let mut out = parts.join(".");
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&bumped);
            out
        }
        None => format!("{v}.1"),
    }
}

/// A proposal as tools and the API show it.
pub(crate) fn view(v: &VersionRow) -> Value {
    serde_json::json!({
        "version_id": v.id,
        "runbook": v.name,
        "version": v.version,
        "status": v.status,
        "priority": v.priority,
        "parent_version_id": v.parent_id,
        "generated_from_run": v.generated_from_run,
        "failure_type": v.failure_type,
        "proposed_by": v.proposed_by,
        "created_at": v.created_at,
    })
}
