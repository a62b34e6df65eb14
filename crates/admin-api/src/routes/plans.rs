//! A project's plans: reading them (viewer) and deciding on them (approver).
//!
//! A plan belongs to the project it was filed under (that of its first device). Approving mints
//! the plan's approval token and returns it in that one response (`Cache-Control: no-store`):
//! the server keeps only its hash, and neither the log nor the audit record ever holds it.
//! Approvals through this API are recorded like the CLI's — a person's decision (`via: cli`) —
//! with the principal as approver (`api:<kind>:<subject>`), so high and critical plans may be
//! approved here too.

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use domain::ProjectRef;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use workflow::{ApprovalVia, Plan, PlanStatus, ProjectPlanFilter, WorkflowError};

use super::describe;
use crate::AdminState;
use crate::access;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Caller, JsonBody};
use crate::paging;
use crate::views::{ApprovalIssued, DecisionView, PlanList, PlanSummary, PlanView};

/// The longest comment or reason accepted, in characters.
const MAX_TEXT: usize = 1000;

/// Filters and paging of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PlanListQuery {
    /// `pending`, `approved`, `applying`, `applied`, `rolled_back`, `failed`, `rejected` or
    /// `cancelled`.
    #[param(value_type = Option<String>)]
    status: Option<PlanStatus>,
    /// Plans per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// An approval, optionally with the approver's comment.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApprovePlan {
    /// Up to 1000 characters, no control characters; recorded with the decision.
    #[serde(default)]
    comment: Option<String>,
}

/// A rejection: the reason is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectPlan {
    /// Why: 1 to 1000 characters, no control characters; recorded with the decision.
    reason: String,
}

/// Free text a person writes: non-blank, bounded, without control characters.
fn check_text(field: &str, text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::invalid(format!(
            "{field}: must not be empty; expected 1 to {MAX_TEXT} characters"
        )));
    }
    let length = text.chars().count();
    if length > MAX_TEXT {
        return Err(ApiError::invalid(format!(
            "{field}: {length} characters; at most {MAX_TEXT} are allowed"
        )));
    }
    if let Some(c) = domain::text::find_control(text) {
        return Err(ApiError::invalid(format!(
            "{field}: contains {c}; control characters (newlines, terminal escapes, bidirectional overrides) are not allowed"
        )));
    }
    Ok(())
}

/// The plan a path names, if it is the project's; anything else is not found.
async fn plan_in_project(
    state: &AdminState,
    project: &ProjectRef,
    project_id: &str,
    plan_id: &str,
) -> Result<Plan, ApiError> {
    match state.workflow.plan(plan_id).await {
        Ok(plan) if plan.project_id == project_id => Ok(plan),
        Ok(_) | Err(WorkflowError::PlanNotFound(_)) => {
            Err(access::plan_not_found(plan_id, project))
        }
        Err(e) => Err(e.into()),
    }
}

/// The plan a path names, after the tenant and role checks: 404 for a project the caller does
/// not see, a missing project or a plan not in it; 403 without `role`.
async fn open_plan(
    state: &AdminState,
    caller: &Caller,
    (org, project, plan): &(String, String, String),
    role: Role,
) -> Result<(ProjectRef, Plan), ApiError> {
    let reference = access::project_ref(org, project)?;
    access::see_project(&caller.principal, &reference)?;
    let found = state.store().project(&reference).await?;
    let plan = plan_in_project(state, &reference, &found.id, plan).await?;
    access::require_role(&caller.principal, &reference, role)?;
    Ok((reference, plan))
}

async fn decisions(state: &AdminState, plan: &str) -> Result<Vec<DecisionView>, ApiError> {
    state
        .workflow
        .decisions(plan)
        .await?
        .into_iter()
        .map(|d| serde_json::from_value(d).map_err(|e| ApiError::internal(&e)))
        .collect()
}

/// A project's plans, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/plans",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        PlanListQuery,
    ),
    responses(
        (status = 200, description = "A page of plans", body = PlanList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_plans(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<PlanListQuery>,
) -> Result<Json<PlanList>, ApiError> {
    let (_, project) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let limit = paging::limit(query.limit.as_deref())?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| paging::decode::<(String, String)>("plans", c))
        .transpose()?;
    let plans = state
        .workflow
        .project_plans(&ProjectPlanFilter {
            project_id: project.id,
            status: query.status,
            before,
            limit: limit + 1,
        })
        .await?;
    let (page, more) = paging::split(plans, limit);
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|p| paging::encode("plans", (p.created_at.as_str(), p.id.as_str())));
    Ok(Json(PlanList {
        items: page.iter().map(PlanSummary::from).collect(),
        next_cursor,
    }))
}

/// One plan with its changes, risk, devices and decisions.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    responses(
        (status = 200, description = "The plan", body = PlanView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn get_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<PlanView>, ApiError> {
    let (_, plan) = open_plan(&state, &caller, &path, Role::Viewer).await?;
    let decisions = decisions(&state, &plan.id).await?;
    Ok(Json(PlanView::new(&plan, decisions)))
}

/// Approves a pending plan (or approves an approved one again, for a fresh token) and returns
/// its approval token — once.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}/approve",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    request_body(content = Option<ApprovePlan>, description = "Optional"),
    responses(
        (status = 200, description = "Approved; the token is shown only here", body = ApprovalIssued),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The plan is not pending or approved (rejected, cancelled, being applied or applied)", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn approve_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    let (_, plan) = open_plan(&state, &caller, &path, Role::Approver).await?;
    let request: ApprovePlan = body.parse_or_default()?;
    if let Some(comment) = &request.comment {
        check_text("comment", comment)?;
    }
    let issued = state
        .workflow
        .approve_with_comment(
            &plan.id,
            caller.actor(),
            ApprovalVia::Cli,
            request.comment.as_deref(),
            &caller.audit,
        )
        .await?;
    let mut response = Json(ApprovalIssued {
        plan_id: issued.plan_id.clone(),
        approval_token: issued.approval_token.clone(),
        expires_at: issued.expires_at.clone(),
        approver: issued.approver.clone(),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Rejects a pending plan; it can no longer be applied.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}/reject",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    request_body = RejectPlan,
    responses(
        (status = 200, description = "Rejected", body = PlanSummary),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "The plan is not pending or approved (rejected, cancelled, being applied or applied)", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn reject_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
    body: JsonBody,
) -> Result<Json<PlanSummary>, ApiError> {
    let (_, plan) = open_plan(&state, &caller, &path, Role::Approver).await?;
    let request: RejectPlan = body.parse()?;
    check_text("reason", &request.reason)?;
    state
        .workflow
        .reject(&plan.id, caller.actor(), &request.reason, &caller.audit)
        .await?;
    let plan = state.workflow.plan(&plan.id).await?;
    Ok(Json(PlanSummary::from(&plan)))
}

/// A staged rollout's control after an operator's request.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub(crate) struct RolloutControlView {
    pub plan_id: String,
    /// `running`, `paused` or `aborting` (the process running the rollout reverts the devices
    /// it changed; the plan's status tells how that ended).
    pub control: String,
    /// Who asked.
    pub control_by: Option<String>,
}

async fn rollout_control(
    state: &AdminState,
    caller: &Caller,
    path: &(String, String, String),
    op: fn(&workflow::Workflow, String, store::AuditContext) -> RolloutFuture,
) -> Result<Json<RolloutControlView>, ApiError> {
    let (_, plan) = open_plan(state, caller, path, Role::Approver).await?;
    let rollout = op(&state.workflow, plan.id.clone(), caller.audit.clone()).await?;
    Ok(Json(RolloutControlView {
        plan_id: plan.id,
        control: rollout.control.to_string(),
        control_by: rollout.control_by,
    }))
}

type RolloutFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<workflow::Rollout, WorkflowError>> + Send>,
>;

/// Pauses a running staged rollout: no further device starts until it is resumed or aborted.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}/pause",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    responses(
        (status = 200, description = "Paused", body = RolloutControlView),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "Not a running staged rollout (not a rollout, not started, ended, already paused or being aborted)", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn pause_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<RolloutControlView>, ApiError> {
    rollout_control(&state, &caller, &path, |wf, id, ctx| {
        let wf = wf.clone();
        Box::pin(async move { wf.pause(&id, &ctx).await })
    })
    .await
}

/// Resumes a paused staged rollout.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}/resume",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    responses(
        (status = 200, description = "Resumed", body = RolloutControlView),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "Not a paused staged rollout", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn resume_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<RolloutControlView>, ApiError> {
    rollout_control(&state, &caller, &path, |wf, id, ctx| {
        let wf = wf.clone();
        Box::pin(async move { wf.resume(&id, &ctx).await })
    })
    .await
}

/// Aborts a running or paused staged rollout: it stops, and every device it changed is
/// reverted.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/plans/{id}/abort",
    tag = "plans",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("id" = String, Path, description = "Plan id"),
    ),
    responses(
        (status = 200, description = "Aborting: the changed devices are being reverted", body = RolloutControlView),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "Not a running or paused staged rollout (not a rollout, not started, ended, or already being aborted)", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn abort_plan(
    State(state): State<AdminState>,
    caller: Caller,
    Path(path): Path<(String, String, String)>,
) -> Result<Json<RolloutControlView>, ApiError> {
    rollout_control(&state, &caller, &path, |wf, id, ctx| {
        let wf = wf.clone();
        Box::pin(async move { wf.abort(&id, &ctx).await })
    })
    .await
}
