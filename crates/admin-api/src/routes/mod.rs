//! The routes, one module per resource; [`register`] is the single list that both the router and
//! the OpenAPI document are built from.

mod audit;
mod backups;
mod devices;
mod doc;
mod orgs;
mod plans;
mod review;
mod runbooks;
mod tokens;

use auth::Role;
use domain::ProjectRef;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AdminState;
use crate::access;
use crate::error::ApiError;
use crate::extract::Caller;

/// Every route of the API.
pub(crate) fn register(router: OpenApiRouter<AdminState>) -> OpenApiRouter<AdminState> {
    router
        .routes(routes!(orgs::list_orgs, orgs::create_org))
        .routes(routes!(orgs::list_projects, orgs::create_project))
        .routes(routes!(devices::list_devices, devices::create_device))
        .routes(routes!(
            devices::get_device,
            devices::update_device,
            devices::decommission_device
        ))
        .routes(routes!(devices::test_device))
        .routes(routes!(devices::rotate_credentials))
        .routes(routes!(devices::probe_device))
        .routes(routes!(backups::backup_status))
        .routes(routes!(plans::list_plans))
        .routes(routes!(plans::get_plan))
        .routes(routes!(plans::approve_plan))
        .routes(routes!(plans::reject_plan))
        .routes(routes!(plans::pause_plan))
        .routes(routes!(plans::resume_plan))
        .routes(routes!(plans::abort_plan))
        .routes(routes!(runbooks::list_runbooks, runbooks::create_runbook))
        .routes(routes!(runbooks::get_runbook))
        .routes(routes!(runbooks::list_versions))
        .routes(routes!(runbooks::list_logs))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(review::list_pending))
        .routes(routes!(review::get_proposal))
        .routes(routes!(review::approve_proposal))
        .routes(routes!(review::reject_proposal))
        .routes(routes!(review::review_stats))
        .routes(routes!(doc::openapi_json))
}

/// A project the caller sees and that exists, after checking it holds `role` there: 400 for a
/// malformed name, 404 for a project it cannot see or that does not exist (the same answer),
/// 403 for a project it sees without `role`.
pub(crate) async fn open_project(
    state: &AdminState,
    caller: &Caller,
    org: &str,
    project: &str,
    role: Role,
) -> Result<(ProjectRef, store::Project), ApiError> {
    let reference = access::project_ref(org, project)?;
    access::see_project(&caller.principal, &reference)?;
    let found = state.store().project(&reference).await?;
    access::require_role(&caller.principal, &reference, role)?;
    Ok((reference, found))
}

/// Response descriptions shared by the route documentation.
pub(crate) mod describe {
    pub const UNAUTHENTICATED: &str = "No verified principal came with the request";
    pub const FORBIDDEN: &str =
        "The caller sees the object but lacks the role the action needs in its project";
    pub const NOT_FOUND: &str =
        "No such object, or one of a project the caller holds no role in (the same answer)";
    pub const INVALID: &str = "Malformed JSON, an unknown or missing field, or a value that is not allowed (the message names it)";
    pub const TOO_LARGE: &str = "The request body is larger than 64 KiB";
    pub const MEDIA_TYPE: &str = "The request body is not JSON (Content-Type: application/json)";
    pub const INTERNAL: &str = "The server failed; its log has the details";
    pub const EVERY_PROJECT: &str = "The review queue takes the role for every project (a grant without a project), which the caller lacks";
    pub const NO_RUNBOOKS: &str = "Runbooks are not set up on this server";
}
