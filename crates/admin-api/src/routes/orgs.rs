//! Organizations and their projects: listing what the caller holds roles in, and creating new
//! ones (admins of every project only).

use std::collections::BTreeMap;

use auth::{ProjectSet, Role};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{OrgName, ProjectName, ProjectRef};
use serde::Deserialize;
use utoipa::ToSchema;

use super::describe;
use crate::AdminState;
use crate::access;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::views::{OrgList, OrgView, ProjectList, ProjectView};

/// A new organization (it comes with a `default` project).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateOrg {
    /// 1-63 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit.
    #[schema(value_type = String, example = "acme")]
    pub name: OrgName,
}

/// A new project in an existing organization.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProject {
    /// 1-63 characters: lowercase letters, digits, '-' or '_', starting with a letter or digit.
    #[schema(value_type = String, example = "branch-offices")]
    pub name: ProjectName,
}

/// Organizations the caller holds a role in.
#[utoipa::path(
    get,
    path = "/v1/organizations",
    tag = "organizations",
    responses(
        (status = 200, description = "The organizations with a project the caller holds a role in (every one for a grant without a project)", body = OrgList),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_orgs(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Json<OrgList>, ApiError> {
    let orgs = state.store().list_orgs().await?;
    let items = match caller.principal.projects(Role::Viewer) {
        ProjectSet::All => orgs
            .into_iter()
            .map(|o| OrgView {
                id: o.id,
                name: o.name.to_string(),
                created_at: o.created_at,
                projects: o.projects,
            })
            .collect(),
        ProjectSet::Only(_) => {
            // Count, per organization, the existing projects the caller sees.
            let mut seen: BTreeMap<OrgName, i64> = BTreeMap::new();
            for project in state.store().list_projects(None).await? {
                if access::sees(&caller.principal, &project.reference()) {
                    *seen.entry(project.org.clone()).or_default() += 1;
                }
            }
            orgs.into_iter()
                .filter_map(|o| {
                    seen.get(&o.name).map(|&projects| OrgView {
                        id: o.id,
                        name: o.name.to_string(),
                        created_at: o.created_at,
                        projects,
                    })
                })
                .collect()
        }
    };
    Ok(Json(OrgList { items }))
}

/// Creates an organization with its `default` project.
#[utoipa::path(
    post,
    path = "/v1/organizations",
    tag = "organizations",
    request_body = CreateOrg,
    responses(
        (status = 201, description = "Created", body = OrgView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = "Creating organizations needs the admin role for every project", body = ErrorBody),
        (status = 409, description = "An organization of that name exists", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn create_org(
    State(state): State<AdminState>,
    caller: Caller,
    body: JsonBody,
) -> Result<(StatusCode, Json<OrgView>), ApiError> {
    access::require_global_admin(&caller.principal, "creating an organization")?;
    let request: CreateOrg = body.parse()?;
    let org = state
        .store()
        .create_org(&request.name, &caller.audit)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgView {
            id: org.id,
            name: org.name.to_string(),
            created_at: org.created_at,
            projects: org.projects,
        }),
    ))
}

/// The organization's existing projects the caller sees, or 404 when it sees none (the answer a
/// missing organization gets).
async fn visible_projects(
    state: &AdminState,
    caller: &Caller,
    org: &OrgName,
) -> Result<Vec<store::Project>, ApiError> {
    let projects = state.store().list_projects(Some(org)).await?;
    let names: Vec<ProjectName> = projects.iter().map(|p| p.name.clone()).collect();
    if !access::sees_org(&caller.principal, org, &names) {
        return Err(ApiError::not_found(access::org_not_found_message(
            org.as_str(),
        )));
    }
    Ok(projects
        .into_iter()
        .filter(|p| access::sees(&caller.principal, &p.reference()))
        .collect())
}

/// The organization's projects the caller holds a role in.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects",
    tag = "organizations",
    params(("org" = String, Path, description = "Organization name")),
    responses(
        (status = 200, description = "The projects the caller holds a role in", body = ProjectList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_projects(
    State(state): State<AdminState>,
    caller: Caller,
    Path(org): Path<String>,
) -> Result<Json<ProjectList>, ApiError> {
    let org = access::org_name(&org)?;
    let items = visible_projects(&state, &caller, &org)
        .await?
        .into_iter()
        .map(ProjectView::from)
        .collect();
    Ok(Json(ProjectList { items }))
}

/// Creates a project in an organization.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects",
    tag = "organizations",
    params(("org" = String, Path, description = "Organization name")),
    request_body = CreateProject,
    responses(
        (status = 201, description = "Created", body = ProjectView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = "Creating projects needs the admin role for every project", body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "A project of that name exists in the organization", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn create_project(
    State(state): State<AdminState>,
    caller: Caller,
    Path(org): Path<String>,
    body: JsonBody,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    let org = access::org_name(&org)?;
    if !access::is_global_admin(&caller.principal) {
        // Whoever does not see the organization is told it does not exist.
        visible_projects(&state, &caller, &org).await?;
        access::require_global_admin(&caller.principal, "creating a project")?;
    }
    let request: CreateProject = body.parse()?;
    let reference = ProjectRef {
        org,
        project: request.name,
    };
    let project = state
        .store()
        .create_project(&reference, &caller.audit)
        .await?;
    Ok((StatusCode::CREATED, Json(ProjectView::from(project))))
}
