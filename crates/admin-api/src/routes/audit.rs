//! A project's audit log: the events whose target is one of its devices, one of its plans, or
//! the project itself — newest first, a page at a time, filtered by time, actor, device, plan
//! and action. Events of other projects, of organizations and of tool calls are not a
//! project's records and never appear here.

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use domain::{DeviceId, DeviceName};
use serde::Deserialize;
use store::{DevicePage, ProjectAuditFilter};
use utoipa::IntoParams;

use super::describe;
use crate::AdminState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Caller};
use crate::paging;
use crate::views::{AuditEventView, AuditList};

/// The longest filter text accepted (actor, action).
const MAX_FILTER: usize = 300;

/// Filters and paging of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// Events at or after this time (RFC 3339, e.g. `2026-05-01T00:00:00Z`).
    since: Option<String>,
    /// Events at or before this time (RFC 3339).
    until: Option<String>,
    /// Exact actor, e.g. `api:oidc:alice` or `cli:root`.
    actor: Option<String>,
    /// A device of the project, by id or name (a name matches every device that ever had it,
    /// decommissioned ones included).
    device: Option<String>,
    /// A plan id.
    plan: Option<String>,
    /// An action or its prefix: `device.add`, `device.`, `plan.approve`.
    action: Option<String>,
    /// Events per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// A time bound in storage form, or 400 naming the parameter.
fn time(field: &str, text: Option<&str>) -> Result<Option<String>, ApiError> {
    text.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t.trim())
            .map(|at| store::time::format(at.with_timezone(&chrono::Utc)))
            .map_err(|e| {
                ApiError::invalid(format!(
                    "query parameter {field}: \"{}\" is not an RFC 3339 time ({e}); expected e.g. 2026-05-01T00:00:00Z",
                    domain::text::escape(t)
                ))
            })
    })
    .transpose()
}

/// Filter text: bounded, without control characters.
fn text(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_FILTER || domain::text::find_control(&v).is_some() => {
            Err(ApiError::invalid(format!(
                "query parameter {field}: expected at most {MAX_FILTER} characters without control characters"
            )))
        }
        other => Ok(other),
    }
}

/// The project's audit events, newest first.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/audit",
    tag = "audit",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        AuditQuery,
    ),
    responses(
        (status = 200, description = "A page of events", body = AuditList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_audit(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let (reference, project) =
        super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let limit = paging::limit(query.limit.as_deref())?;
    let before_seq = query
        .cursor
        .as_deref()
        .map(|c| paging::decode::<i64>("audit", c))
        .transpose()?;
    let since = time("since", query.since.as_deref())?;
    let until = time("until", query.until.as_deref())?;
    let actor = text("actor", query.actor)?;
    let action = text("action", query.action)?;
    let plan = text("plan", query.plan)?;

    // The targets a device or plan filter allows; the store keeps them to the project's own.
    let mut targets: Option<Vec<String>> = None;
    if let Some(device) = &query.device {
        let ids: Vec<String> = match device.parse::<DeviceId>() {
            Ok(id) => vec![id.to_string()],
            Err(_) => {
                let name: DeviceName = device.parse().map_err(|e: domain::ParseError| {
                    ApiError::invalid(format!(
                        "query parameter device: {e}; or give the device's id"
                    ))
                })?;
                state
                    .store()
                    .device_page(&DevicePage {
                        project: reference.clone(),
                        environment: None,
                        status: None,
                        name: Some(name),
                        include_decommissioned: true,
                        after: None,
                        limit: paging::MAX_LIMIT,
                    })
                    .await?
                    .into_iter()
                    .map(|d| d.id.to_string())
                    .collect()
            }
        };
        targets = Some(ids.into_iter().map(|id| format!("device:{id}")).collect());
    }
    if let Some(plan) = &plan {
        let target = format!("plan:{}", plan.trim());
        targets = Some(match targets {
            None => vec![target],
            Some(list) => list.into_iter().filter(|t| *t == target).collect(),
        });
    }

    let events = state
        .store()
        .project_audit_events(&ProjectAuditFilter {
            project_id: project.id,
            project: reference.to_string(),
            since,
            until,
            actor,
            targets,
            action,
            before_seq,
            limit: limit + 1,
        })
        .await?;
    let (page, more) = paging::split(events, limit);
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|e| paging::encode("audit", e.seq));
    Ok(Json(AuditList {
        items: page.into_iter().map(AuditEventView::from).collect(),
        next_cursor,
    }))
}

/// The outcome of walking the audit log's hash chain.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct AuditVerification {
    /// No record was altered, removed or reordered.
    pub intact: bool,
    /// Records checked (up to the first break).
    pub events_checked: u64,
    /// The sequence number of the first broken record, when broken.
    pub first_break_seq: Option<i64>,
    /// What is wrong there.
    pub first_break_reason: Option<String>,
}

/// Verifies the audit log's hash chain (the whole log, which every project shares), as
/// `routeros-mcp audit verify` does.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/audit/verify",
    tag = "audit",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
    ),
    responses(
        (status = 200, description = "Whether the chain is intact, and where it breaks if not", body = AuditVerification),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn verify_audit(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Result<Json<AuditVerification>, ApiError> {
    super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let report = state.store().verify_audit_chain().await?;
    Ok(Json(AuditVerification {
        intact: report.is_intact(),
        events_checked: report.events_checked,
        first_break_seq: report.first_break.as_ref().map(|b| b.seq),
        first_break_reason: report.first_break.map(|b| b.reason),
    }))
}
