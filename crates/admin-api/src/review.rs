//! The wire form of the runbook review queue, shared by the admin API (`/api/review/…`) and the
//! CLI's `routeros-mcp runbook review … --output json`, so a script reads the same fields from
//! either. Each has its OpenAPI schema.

use serde::Serialize;
use serde_json::Value;
use store::runbooks::{RunRow, VersionRow};
use tools::runbook::review::{Proposal, Stats};
use utoipa::ToSchema;

/// A proposed runbook version as the queue lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalSummary {
    /// The version's id: what the other review routes take.
    pub id: String,
    pub runbook: String,
    /// The version its front matter gives.
    pub version: String,
    /// `pending_review`, `in_review`, `published` (approved), `deprecated` (approved, since
    /// replaced) or `rejected`.
    pub status: String,
    /// `high`, `medium` or `low`.
    pub priority: Option<String>,
    /// Why the run it was generated from failed (`runbook_insufficient`, …).
    pub failure_type: Option<String>,
    /// The version it would replace.
    pub parent_id: Option<String>,
    /// The failed run it was generated from.
    pub generated_from_run: Option<String>,
    pub proposed_by: Option<String>,
    /// Why it was proposed, as its proposer put it.
    pub rationale: Option<String>,
    pub created_at: String,
    /// Who decided (the authenticated principal, `api:<kind>:<subject>`, or `cli:<user>`).
    pub reviewer: Option<String>,
    /// The approval's notes or the rejection's reason.
    pub review_notes: Option<String>,
    pub reviewed_at: Option<String>,
}

impl From<&VersionRow> for ProposalSummary {
    fn from(v: &VersionRow) -> Self {
        Self {
            id: v.id.clone(),
            runbook: v.name.clone(),
            version: v.version.clone(),
            status: v.status.clone(),
            priority: v.priority.clone(),
            failure_type: v.failure_type.clone(),
            parent_id: v.parent_id.clone(),
            generated_from_run: v.generated_from_run.clone(),
            proposed_by: v.proposed_by.clone(),
            rationale: v.rationale.clone(),
            created_at: v.created_at.clone(),
            reviewer: v.reviewer.clone(),
            review_notes: v.review_notes.clone(),
            reviewed_at: v.reviewed_at.clone(),
        }
    }
}

/// Proposals waiting for a decision: high priority first, then the oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<ProposalSummary>,
}

/// The version a proposal would replace.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ParentVersion {
    pub id: String,
    pub version: String,
    pub status: String,
    pub content_hash: String,
}

/// What a proposal changes, as a unified diff from its parent (from nothing without one).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalDiff {
    /// `---`/`+++` headers and `@@` hunks, control characters escaped; empty when equal.
    pub unified: String,
    /// Lines added and removed.
    pub added: usize,
    pub removed: usize,
}

/// The failed run a proposal was generated from: how it failed and every step it ran (secrets
/// replaced when the run was recorded).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceRun {
    pub id: String,
    pub runbook: String,
    pub version_id: String,
    /// `ORG/PROJECT` of the device it acted on.
    pub project: Option<String>,
    /// The device it acted on.
    pub device_id: Option<String>,
    /// `running`, `waiting_approval`, `waiting_assistant`, `succeeded`, `failed` or `abandoned`.
    pub status: String,
    pub started_by: String,
    pub incident: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The step that failed (from 1).
    pub failed_step: Option<i64>,
    pub failure_type: Option<String>,
    pub failure_reason: Option<String>,
    /// The variables it ran with (secrets replaced).
    #[schema(value_type = Object)]
    pub variables: Value,
    /// One entry per step run.
    #[schema(value_type = Vec<Object>)]
    pub steps: Value,
}

impl SourceRun {
    /// `project` is the run's project as `ORG/PROJECT` (looked up by the caller).
    pub fn new(run: &RunRow, project: Option<String>) -> Self {
        let json = |text: &str| {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        };
        Self {
            id: run.id.clone(),
            runbook: run.runbook.clone(),
            version_id: run.version_id.clone(),
            project,
            device_id: Some(run.device_key.clone()).filter(|d| !d.is_empty()),
            status: run.status.clone(),
            started_by: run.started_by.clone(),
            incident: run.incident.clone(),
            started_at: run.started_at.clone(),
            finished_at: run.finished_at.clone(),
            failed_step: run.failed_step,
            failure_type: run.failure_type.clone(),
            failure_reason: run.failure_reason.clone(),
            variables: json(&run.variables),
            steps: json(&run.steps),
        }
    }
}

/// A proposal in full, for its reviewer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProposalView {
    #[serde(flatten)]
    pub summary: ProposalSummary,
    /// SHA-256 of the content.
    pub content_hash: String,
    /// The proposed runbook's markdown.
    pub content: String,
    pub parent: Option<ParentVersion>,
    pub diff: ProposalDiff,
    /// The failed run it came from, while its log is kept.
    pub source_run: Option<SourceRun>,
}

impl ProposalView {
    /// `run_project` is the source run's project as `ORG/PROJECT`.
    pub fn new(p: &Proposal, run_project: Option<String>) -> Self {
        Self {
            summary: ProposalSummary::from(&p.version),
            content_hash: p.version.content_hash.clone(),
            content: p.version.content.clone(),
            parent: p.parent.as_ref().map(|v| ParentVersion {
                id: v.id.clone(),
                version: v.version.clone(),
                status: v.status.clone(),
                content_hash: v.content_hash.clone(),
            }),
            diff: ProposalDiff {
                unified: p.diff.unified.clone(),
                added: p.diff.added,
                removed: p.diff.removed,
            },
            source_run: p
                .source_run
                .as_ref()
                .map(|r| SourceRun::new(r, run_project)),
        }
    }
}

/// The queue's statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewStats {
    pub pending_review: i64,
    pub in_review: i64,
    /// Approved, including those since replaced by a newer version.
    pub approved: i64,
    pub rejected: i64,
    /// `approved / (approved + rejected)`; 0 while nothing is decided.
    pub approval_ratio: f64,
    /// When the oldest high-priority proposal still waiting was proposed.
    pub oldest_high_priority_at: Option<String>,
    /// How long it has waited, in seconds; 0 when none waits.
    pub oldest_high_priority_age_seconds: i64,
}

impl From<&Stats> for ReviewStats {
    fn from(s: &Stats) -> Self {
        Self {
            pending_review: s.pending_review,
            in_review: s.in_review,
            approved: s.approved,
            rejected: s.rejected,
            approval_ratio: s.approval_ratio,
            oldest_high_priority_at: s.oldest_high_priority.clone(),
            oldest_high_priority_age_seconds: s.oldest_high_priority_age_seconds,
        }
    }
}

/// The project of a run as `ORG/PROJECT`, when it has one that still exists.
pub async fn run_project(
    store: &store::Store,
    run: Option<&RunRow>,
) -> Result<Option<String>, store::StoreError> {
    let Some(id) = run.and_then(|r| r.project_id.as_deref()) else {
        return Ok(None);
    };
    match store.project_ref(id).await {
        Ok(project) => Ok(Some(project.to_string())),
        Err(store::StoreError::ProjectNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
