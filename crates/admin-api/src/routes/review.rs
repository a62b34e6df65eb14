//! The runbook review queue at the learning system's paths (`/api/review/…`): what waits, one
//! proposal with its diff and the failed run it came from, approval, rejection and statistics.
//!
//! The queue is not a project's: an approved version is served to every project, and a
//! proposal shows the log of the run it came from. Reading it takes the viewer role for every
//! project and deciding the approver role for every project (grants without a project); a
//! project-scoped principal is answered 403 saying so. The reviewer recorded is always the
//! authenticated principal (`api:<kind>:<subject>`): a `reviewer` in the body is accepted for
//! the learning system's clients but recorded nowhere and never trusted. Each decision is
//! audited in the transaction that records it (`runbook.review_approve`,
//! `runbook.review_reject`), and the approved version is served at once.

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use tools::runbook::review::{self, Decision, Priority};
use utoipa::{IntoParams, ToSchema};

use super::describe;
use crate::AdminState;
use crate::access;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Caller, JsonBody};
use crate::paging;
use crate::review::{ProposalList, ProposalSummary, ProposalView, ReviewStats};

/// Why the queue takes a role for every project, for the 403 message.
const READ: &str = "reading the runbook review queue (its proposals are served to every project \
     and carry their runs' logs)";
const DECIDE: &str =
    "deciding on a proposed runbook version (an approved version is served to every project)";

/// The filter of the pending list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PendingQuery {
    /// `high`, `medium` or `low`.
    priority: Option<String>,
    /// Proposals to list, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// An approval, optionally with notes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveProposal {
    /// A display name some clients send; ignored — the reviewer recorded is the authenticated
    /// principal. Up to 1000 characters, no control characters.
    #[serde(default)]
    reviewer: Option<String>,
    /// Up to 1000 characters, no control characters; recorded with the decision.
    #[serde(default)]
    notes: Option<String>,
}

/// A rejection: the reason is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectProposal {
    /// A display name some clients send; ignored — the reviewer recorded is the authenticated
    /// principal.
    #[serde(default)]
    reviewer: Option<String>,
    /// Why: 1 to 1000 characters, no control characters; recorded with the decision.
    reason: String,
}

/// The id a path names, or 400 naming the parameter and what an id looks like.
fn path_id(id: &str) -> Result<String, ApiError> {
    review::version_id(id).map_err(|e| ApiError::invalid(format!("path parameter id: {e}")))
}

fn check_reviewer(reviewer: Option<&str>) -> Result<(), ApiError> {
    match reviewer {
        Some(r) => review::check_text("reviewer", r).map_err(ApiError::invalid),
        None => Ok(()),
    }
}

/// Records `decision` on the proposal a path names, as the caller, and serves what it approved.
async fn decide(
    state: &AdminState,
    caller: &Caller,
    id: &str,
    decision: &Decision,
) -> Result<ProposalSummary, ApiError> {
    let runbooks = state.runbooks()?;
    let decided = review::decide(
        state.store(),
        runbooks.catalog(),
        id,
        decision,
        caller.actor(),
        &caller.audit,
    )
    .await?;
    runbooks.notify_decided(&decided);
    if let Err(e) = runbooks.reviewed(state.store()).await {
        // Recorded; the next read of the approved versions serves it.
        tracing::warn!(error = %e, "re-reading approved runbook versions after a review failed");
    }
    Ok(ProposalSummary::from(&decided))
}

/// The proposals waiting for a decision: high priority first, then the oldest first.
#[utoipa::path(
    get,
    path = "/api/review/pending",
    tag = "review",
    params(PendingQuery),
    responses(
        (status = 200, description = "The proposals waiting", body = ProposalList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::EVERY_PROJECT, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_pending(
    State(state): State<AdminState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<PendingQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    access::require_everywhere(&caller.principal, Role::Viewer, READ)?;
    state.runbooks()?;
    let priority = query
        .priority
        .as_deref()
        .map(str::parse::<Priority>)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("query parameter priority: {e}")))?;
    let limit = paging::limit(query.limit.as_deref())?;
    let waiting = review::pending(
        state.store(),
        priority,
        usize::try_from(limit).unwrap_or(review::MAX_LIMIT),
    )
    .await?;
    Ok(Json(ProposalList {
        items: waiting.iter().map(ProposalSummary::from).collect(),
    }))
}

/// One proposal: its markdown, the unified diff to the version it would replace, and the failed
/// run it was generated from (how it failed, every step).
#[utoipa::path(
    get,
    path = "/api/review/runbook/{id}",
    tag = "review",
    params(("id" = String, Path, description = "The proposal's id (a UUID)")),
    responses(
        (status = 200, description = "The proposal", body = ProposalView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::EVERY_PROJECT, body = ErrorBody),
        (status = 404, description = "No proposal has this id", body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn get_proposal(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ProposalView>, ApiError> {
    access::require_everywhere(&caller.principal, Role::Viewer, READ)?;
    state.runbooks()?;
    let id = path_id(&id)?;
    let proposal = review::proposal(state.store(), &id).await?;
    let project = crate::review::run_project(state.store(), proposal.source_run.as_ref()).await?;
    Ok(Json(ProposalView::new(&proposal, project)))
}

/// Approves a waiting proposal: it is served in place of its parent (deprecated) from now on.
#[utoipa::path(
    post,
    path = "/api/review/approve/{id}",
    tag = "review",
    params(("id" = String, Path, description = "The proposal's id (a UUID)")),
    request_body(content = Option<ApproveProposal>, description = "Optional"),
    responses(
        (status = 200, description = "Approved", body = ProposalSummary),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::EVERY_PROJECT, body = ErrorBody),
        (status = 404, description = "No proposal has this id", body = ErrorBody),
        (status = 409, description = "The proposal was decided already, or does not validate against this server's tool catalog", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn approve_proposal(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<ProposalSummary>, ApiError> {
    access::require_everywhere(&caller.principal, Role::Approver, DECIDE)?;
    let id = path_id(&id)?;
    let request: ApproveProposal = body.parse_or_default()?;
    check_reviewer(request.reviewer.as_deref())?;
    let decision = Decision::Approve {
        notes: request.notes,
    };
    Ok(Json(decide(&state, &caller, &id, &decision).await?))
}

/// Rejects a waiting proposal; it is never served.
#[utoipa::path(
    post,
    path = "/api/review/reject/{id}",
    tag = "review",
    params(("id" = String, Path, description = "The proposal's id (a UUID)")),
    request_body = RejectProposal,
    responses(
        (status = 200, description = "Rejected", body = ProposalSummary),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::EVERY_PROJECT, body = ErrorBody),
        (status = 404, description = "No proposal has this id", body = ErrorBody),
        (status = 409, description = "The proposal was decided already", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn reject_proposal(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> Result<Json<ProposalSummary>, ApiError> {
    access::require_everywhere(&caller.principal, Role::Approver, DECIDE)?;
    let id = path_id(&id)?;
    let request: RejectProposal = body.parse()?;
    check_reviewer(request.reviewer.as_deref())?;
    let decision = Decision::Reject {
        reason: request.reason,
    };
    Ok(Json(decide(&state, &caller, &id, &decision).await?))
}

/// The queue's statistics: what waits, what was decided, the approval ratio and how long the
/// oldest high-priority proposal has waited.
#[utoipa::path(
    get,
    path = "/api/review/stats",
    tag = "review",
    responses(
        (status = 200, description = "The statistics", body = ReviewStats),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::EVERY_PROJECT, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn review_stats(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Json<ReviewStats>, ApiError> {
    access::require_everywhere(&caller.principal, Role::Viewer, READ)?;
    state.runbooks()?;
    let stats = review::stats(state.store()).await?;
    Ok(Json(ReviewStats::from(&stats)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_id_is_refused_naming_the_parameter() {
        let e = path_id("../../etc/passwd").expect_err("not an id");
        assert!(
            e.to_string()
                .starts_with("path parameter id: \"../../etc/passwd\""),
            "{e}"
        );
    }
}
