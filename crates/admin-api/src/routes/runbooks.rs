//! Runbooks, seen from a project: the runbooks on offer (shared by every project: the built-ins,
//! the operator's folder and approved proposals in place of the files they improve), one
//! runbook's markdown, its recorded versions with their lineage, and its runs — only those on the
//! project's devices. Success rates count the project's runs only. Creating a draft is the
//! `runbook.create` tool's own code path (the operator's folder, `ROUTEROS_MCP_RUNBOOK_DIR`),
//! audited as `runbook.create`.

use std::collections::HashMap;

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use store::runbooks::RunTally;
use tools::runbook::Runbooks;
use utoipa::{IntoParams, ToSchema};

use super::describe;
use crate::AdminState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Caller, JsonBody};
use crate::paging;
use crate::views::{
    CreatedRunbook, RunTallyView, RunbookList, RunbookProblem, RunbookRunList, RunbookRunView,
    RunbookSummary, RunbookVariable, RunbookVersionList, RunbookVersionView, RunbookView,
};

/// Most load problems shown.
const MAX_PROBLEMS: usize = 20;
/// How much of a refused name a message repeats.
const MAX_ECHO: usize = 80;

/// Filters and paging of the runbook list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunbookListQuery {
    /// `draft`, `published` or `deprecated`.
    status: Option<String>,
    /// Only runbooks with this tag.
    tag: Option<String>,
    /// Runbooks per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// Paging of a runbook's runs.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RunListQuery {
    /// Runs per page, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// The `next_cursor` of the page before.
    cursor: Option<String>,
}

/// A new runbook, written as a draft to the operator's folder.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRunbook {
    /// Lowercase letters, digits and '-'; the same as the front matter's `name`.
    #[schema(example = "lan-check")]
    name: String,
    /// The markdown: front matter with `status: draft`, then Symptom, Diagnosis, Remediation and
    /// Verify.
    content: String,
}

/// A runbook name from a path, or 400 saying what a name looks like.
fn runbook_name(name: &str) -> Result<&str, ApiError> {
    if ::runbook::format::is_runbook_name(name) {
        return Ok(name);
    }
    let escaped = domain::text::escape(name);
    let shown: String = escaped.chars().take(MAX_ECHO).collect();
    let cut = if escaped.chars().count() > MAX_ECHO {
        "…"
    } else {
        ""
    };
    Err(ApiError::invalid(format!(
        "path parameter name: \"{shown}{cut}\" is not a runbook name; expected 1 to 64 lowercase \
         letters, digits and '-', as the runbook list shows them"
    )))
}

fn unknown(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "no runbook named \"{name}\"; GET …/runbooks lists the runbooks on offer"
    ))
}

/// The runbooks, with the approved proposals read.
async fn served(state: &AdminState) -> Result<&Runbooks, ApiError> {
    let runbooks = state.runbooks()?;
    runbooks.refresh_reviewed(state.store()).await?;
    Ok(runbooks)
}

/// The project's run tallies by version id.
async fn tallies(
    state: &AdminState,
    project_id: &str,
) -> Result<HashMap<String, RunTally>, ApiError> {
    Ok(state
        .store()
        .runbook_run_tallies_in(Some(project_id))
        .await?
        .into_iter()
        .collect())
}

/// `(name, content hash)` → recorded version id.
async fn recorded(state: &AdminState) -> Result<HashMap<(String, String), String>, ApiError> {
    Ok(state
        .store()
        .runbook_version_heads()
        .await?
        .into_iter()
        .map(|h| ((h.name, h.content_hash), h.id))
        .collect())
}

fn summary(
    entry: &::runbook::Entry,
    recorded: &HashMap<(String, String), String>,
    tallies: &HashMap<String, RunTally>,
) -> RunbookSummary {
    let m = &entry.runbook.meta;
    let version_id = recorded
        .get(&(m.name.clone(), entry.runbook.hash.clone()))
        .cloned();
    let runs = version_id
        .as_ref()
        .and_then(|id| tallies.get(id))
        .map(RunTallyView::from)
        .unwrap_or_default();
    RunbookSummary {
        name: m.name.clone(),
        title: m.title.clone(),
        version: m.version.clone(),
        status: m.status.to_string(),
        tags: m.tags.clone(),
        tier: m.tier.to_string(),
        risk: m.risk.to_string(),
        origin: match entry.origin {
            ::runbook::Origin::BuiltIn => "built_in",
            ::runbook::Origin::Operator { .. } => "operator",
            ::runbook::Origin::Reviewed { .. } => "reviewed",
        }
        .to_owned(),
        last_reviewed: m.last_reviewed.clone(),
        stale: tools::runbook::is_stale(&m.last_reviewed),
        hash: entry.runbook.hash.clone(),
        version_id,
        runs,
    }
}

/// The runbooks on offer, by name, with the success rate of each one's served version in this
/// project.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/runbooks",
    tag = "runbooks",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        RunbookListQuery,
    ),
    responses(
        (status = 200, description = "A page of runbooks", body = RunbookList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_runbooks(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<RunbookListQuery>,
) -> Result<Json<RunbookList>, ApiError> {
    let (_, project) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let limit = paging::limit(query.limit.as_deref())?;
    if let Some(status) = query.status.as_deref() {
        ::runbook::Status::parse(status)
            .map_err(|e| ApiError::invalid(format!("query parameter status: {e}")))?;
    }
    let after = query
        .cursor
        .as_deref()
        .map(|c| paging::decode::<String>("runbooks", c))
        .transpose()?;
    let runbooks = served(&state).await?;
    let tallies = tallies(&state, &project.id).await?;
    let recorded = recorded(&state).await?;
    let (items, not_loaded) = runbooks.with(|index| {
        let items: Vec<RunbookSummary> = index
            .iter()
            .filter(|e| after.as_ref().is_none_or(|a| e.runbook.meta.name > *a))
            .filter(|e| {
                query
                    .status
                    .as_deref()
                    .is_none_or(|s| e.runbook.meta.status.as_str() == s)
            })
            .filter(|e| {
                query
                    .tag
                    .as_deref()
                    .is_none_or(|t| e.runbook.meta.tags.iter().any(|x| x == t))
            })
            .take(
                usize::try_from(limit)
                    .unwrap_or(usize::MAX)
                    .saturating_add(1),
            )
            .map(|e| summary(e, &recorded, &tallies))
            .collect();
        let problems = index
            .problems()
            .iter()
            .take(MAX_PROBLEMS)
            .map(|p| RunbookProblem {
                file: p.file.clone(),
                line: p.line,
                reason: p.reason.clone(),
            })
            .collect();
        (items, problems)
    });
    let (page, more) = paging::split(items, limit);
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|r| paging::encode("runbooks", r.name.as_str()));
    Ok(Json(RunbookList {
        items: page,
        next_cursor,
        not_loaded,
    }))
}

/// Creates a runbook as a draft file in the operator's folder, checked like every runbook (the
/// `runbook.create` tool's code path). Refused when `ROUTEROS_MCP_RUNBOOK_DIR` is not set, and
/// never overwrites a runbook or file.
#[utoipa::path(
    post,
    path = "/v1/organizations/{org}/projects/{project}/runbooks",
    tag = "runbooks",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
    ),
    request_body = CreateRunbook,
    responses(
        (status = 201, description = "Written as a draft", body = CreatedRunbook),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = describe::FORBIDDEN, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = "A runbook or file of that name exists, or the server has no operator's folder (ROUTEROS_MCP_RUNBOOK_DIR)", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn create_runbook(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
    body: JsonBody,
) -> Result<(StatusCode, Json<CreatedRunbook>), ApiError> {
    let (reference, _) =
        super::open_project(&state, &caller, &org, &project, Role::Operator).await?;
    let request: CreateRunbook = body.parse()?;
    let runbooks = state.runbooks()?;
    let created = tools::runbook::create_draft(runbooks, &request.name, &request.content)?;
    state
        .store()
        .append_audit(
            &caller.audit,
            "runbook.create",
            &format!("runbook:{}", created.name),
            json!({
                "runbook": created.name, "version": created.version, "file": created.file,
                "hash": created.hash, "project": reference.to_string(),
            }),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedRunbook {
            name: created.name,
            version: created.version,
            status: "draft".into(),
            file: created.file,
            hash: created.hash,
        }),
    ))
}

/// One runbook: front matter, variables, symptom and markdown of the version served now.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/runbooks/{name}",
    tag = "runbooks",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("name" = String, Path, description = "Runbook name"),
    ),
    responses(
        (status = 200, description = "The runbook", body = RunbookView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn get_runbook(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project, name)): Path<(String, String, String)>,
) -> Result<Json<RunbookView>, ApiError> {
    let (_, project) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let name = runbook_name(&name)?;
    let runbooks = served(&state).await?;
    let Some(entry) = runbooks.with(|index| index.get(name).cloned()) else {
        return Err(unknown(name));
    };
    let tallies = tallies(&state, &project.id).await?;
    let recorded = recorded(&state).await?;
    let r = &entry.runbook;
    let m = &r.meta;
    Ok(Json(RunbookView {
        summary: summary(&entry, &recorded, &tallies),
        description: m.description.clone(),
        cooldown: m.cooldown.as_ref().map(|c| c.text.clone()),
        variables: m
            .variables
            .iter()
            .map(|v| RunbookVariable {
                name: v.name.clone(),
                var_type: v.var_type.to_string(),
                description: v.description.clone(),
                required: v.required,
                default: if v.secret { None } else { v.default.clone() },
                secret: v.secret,
            })
            .collect(),
        symptom: r.symptom.clone(),
        content: r.source.clone(),
    }))
}

/// Every recorded version of a runbook, oldest first: where each came from, what it was derived
/// from, its review, whether it is served, and its success rate in this project.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/runbooks/{name}/versions",
    tag = "runbooks",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("name" = String, Path, description = "Runbook name"),
    ),
    responses(
        (status = 200, description = "The versions", body = RunbookVersionList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_versions(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project, name)): Path<(String, String, String)>,
) -> Result<Json<RunbookVersionList>, ApiError> {
    let (_, project) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let name = runbook_name(&name)?;
    let runbooks = served(&state).await?;
    let served_hash = runbooks.with(|index| index.get(name).map(|e| e.runbook.hash.clone()));
    let versions = state.store().runbook_versions(name).await?;
    if versions.is_empty() && served_hash.is_none() {
        return Err(unknown(name));
    }
    let tallies = tallies(&state, &project.id).await?;
    let by_id: HashMap<&str, &str> = versions
        .iter()
        .map(|v| (v.id.as_str(), v.version.as_str()))
        .collect();
    let mut items = Vec::with_capacity(versions.len());
    for v in &versions {
        // A proposal's run is shown only to the project it ran in.
        let generated_from_run = match &v.generated_from_run {
            Some(run) => state
                .store()
                .runbook_run(run)
                .await?
                .filter(|r| r.project_id.as_deref() == Some(project.id.as_str()))
                .map(|r| r.id),
            None => None,
        };
        items.push(RunbookVersionView {
            id: v.id.clone(),
            version: v.version.clone(),
            origin: v.origin.clone(),
            status: v.status.clone(),
            parent_id: v.parent_id.clone(),
            parent_version: v
                .parent_id
                .as_deref()
                .and_then(|p| by_id.get(p))
                .map(|s| (*s).to_owned()),
            content_hash: v.content_hash.clone(),
            created_at: v.created_at.clone(),
            priority: v.priority.clone(),
            failure_type: v.failure_type.clone(),
            generated_from_run,
            reviewer: v.reviewer.clone(),
            reviewed_at: v.reviewed_at.clone(),
            served: served_hash.as_deref() == Some(v.content_hash.as_str()),
            runs: tallies
                .get(&v.id)
                .map(RunTallyView::from)
                .unwrap_or_default(),
        });
    }
    Ok(Json(RunbookVersionList { items }))
}

/// The runs of a runbook on this project's devices, newest first, a page at a time: each one's
/// version, device, outcome and every step it ran.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/runbooks/{name}/logs",
    tag = "runbooks",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
        ("name" = String, Path, description = "Runbook name"),
        RunListQuery,
    ),
    responses(
        (status = 200, description = "A page of runs", body = RunbookRunList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 409, description = describe::NO_RUNBOOKS, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_logs(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project, name)): Path<(String, String, String)>,
    ApiQuery(query): ApiQuery<RunListQuery>,
) -> Result<Json<RunbookRunList>, ApiError> {
    let (_, project) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let name = runbook_name(&name)?;
    let limit = paging::limit(query.limit.as_deref())?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| paging::decode::<(String, String)>("runbook-runs", c))
        .transpose()?;
    let runbooks = served(&state).await?;
    if runbooks.with(|index| index.get(name).is_none())
        && state.store().runbook_versions(name).await?.is_empty()
    {
        return Err(unknown(name));
    }
    let runs = state
        .store()
        .runbook_project_runs(
            name,
            &project.id,
            before.as_ref().map(|(at, id)| (at.as_str(), id.as_str())),
            i64::from(limit) + 1,
        )
        .await?;
    let (page, more) = paging::split(runs, limit);
    let next_cursor = page
        .last()
        .filter(|_| more)
        .map(|r| paging::encode("runbook-runs", (r.started_at.as_str(), r.id.as_str())));
    Ok(Json(RunbookRunList {
        items: page.iter().map(RunbookRunView::from).collect(),
        next_cursor,
    }))
}
