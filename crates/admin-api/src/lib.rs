//! The admin API: JSON over HTTP under `/v1` for the people who run the fleet — organizations and
//! projects, devices (onboarding, metadata, tests, credential rotation, decommissioning), plans
//! (read, approve, reject), runbooks (read, versions, run logs, drafts) and the audit log — and
//! the runbook review queue under `/api/review` (the paths of the learning system's review API),
//! with its OpenAPI 3.1 document at `GET /v1/openapi.json`.
//!
//! **Who is calling** is decided before this router: the server's authentication middleware puts
//! an `Arc<auth::Principal>` into every request's extensions. A request without one is answered
//! `401 unauthenticated` (fail closed), whatever its path.
//!
//! **What they may do** follows the principal's grants, project by project:
//!
//! | route | role needed in the project |
//! |---|---|
//! | reads of devices, plans and the audit log | viewer (every role includes it) |
//! | approving and rejecting plans | approver |
//! | reads of runbooks, their versions and run logs | viewer |
//! | creating a draft runbook | operator |
//! | reading the review queue | viewer for every project (a grant without a project) |
//! | approving and rejecting proposed runbook versions | approver for every project |
//! | creating, changing, testing, rotating and decommissioning devices | admin |
//! | creating organizations and projects; minting, listing and revoking API tokens | admin for every project (a grant without a project) |
//!
//! Testing a device (`POST …/devices/{id}/test`) needs admin, not operator: it contacts the
//! device and records what it learned (facts and, with first-use trust, pins) in the registry.
//!
//! Runbooks are shared by every project: each project lists the same runbooks, but sees only the
//! runs of its own devices (logs, success rates). The review queue is not a project's: an
//! approved version is served to every project, and a proposal carries the log of the run it
//! came from, so the queue takes roles held for every project.
//!
//! **Tenant scoping**: a principal sees only projects in which it holds some role. Anything of
//! another project — the project itself, its devices, plans and audit records — is answered
//! `404 not_found` with the same message a thing that does not exist gets; `403 forbidden` is
//! given only where the principal can see the object but lacks the role the action needs.
//! Organization lists show only organizations with a project the principal holds a role in
//! (all of them for a grant without a project).
//!
//! **Every change** is audited with the principal as actor (`api:<kind>:<subject>`) under a
//! fresh correlation id, which every response carries in `x-correlation-id`. Errors are JSON
//! (`{"code", "message", "details"}`, see [`ErrorCode`]); bad input names what was wrong and
//! what is allowed, and changes nothing. Secrets a caller sends (device passwords) and approval
//! tokens are never echoed in errors, logged or written to the audit log.
//!
//! The router ([`router`]) and the document ([`openapi`]) come from one list of route
//! definitions, so every route is documented and every documented route is served.

mod access;
mod error;
mod extract;
mod paging;
pub mod review;
mod routes;
pub mod tokens;
mod views;

use std::sync::Arc;

use axum::Extension;
use fleet::Fleet;
use store::Store;
use tools::runbook::Runbooks;
use utoipa::OpenApi as _;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use workflow::Workflow;

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use extract::{CORRELATION_HEADER, MAX_BODY_BYTES};
pub use paging::{DEFAULT_LIMIT, MAX_LIMIT};

/// What the handlers work with, built by the server that mounts the router.
#[derive(Debug, Clone)]
pub struct AdminState {
    /// The registry and live device connections (onboarding, tests, rotation).
    pub fleet: Fleet,
    /// The change workflow (plans, approvals, rejections).
    pub workflow: Workflow,
    /// The runbooks the server offers (the runbook routes and the review queue answer 409
    /// without them).
    pub runbooks: Option<Arc<Runbooks>>,
}

impl AdminState {
    pub fn new(fleet: Fleet, workflow: Workflow) -> Self {
        Self {
            fleet,
            workflow,
            runbooks: None,
        }
    }

    /// This state with the server's runbooks.
    pub fn with_runbooks(mut self, runbooks: Option<Arc<Runbooks>>) -> Self {
        self.runbooks = runbooks;
        self
    }

    /// The runbooks, or 409 saying they are not set up.
    pub(crate) fn runbooks(&self) -> Result<&Runbooks, ApiError> {
        self.runbooks.as_deref().ok_or_else(|| {
            ApiError::conflict(
                "runbooks are not set up on this server; nothing can be read or reviewed",
            )
        })
    }

    pub(crate) fn store(&self) -> &Store {
        self.fleet.store()
    }
}

/// The document's frame: title, description, tags and the bearer security scheme; the paths
/// come from the routes themselves.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "routeros-mcp admin API",
        description = "Organizations, projects, devices, plans, runbooks and the audit log of a routeros-mcp server, and its runbook review queue. Every request carries a bearer token; what it may see and do follows the roles its principal holds per project."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "organizations", description = "Organizations and their projects"),
        (name = "devices", description = "Devices of a project: onboarding, metadata, tests, credentials, decommissioning"),
        (name = "plans", description = "Plans of a project: reading, approval, rejection"),
        (name = "runbooks", description = "Runbooks on offer (shared by every project), their recorded versions and a project's run logs; drafts"),
        (name = "review", description = "The review queue of proposed runbook versions: reading, approval, rejection, statistics"),
        (name = "audit", description = "The audit log of a project"),
        (name = "tokens", description = "API tokens: minted, listed and revoked by admins of every project"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

/// Declares the bearer scheme and requires it on every operation.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Every route, registered and documented together.
fn api() -> OpenApiRouter<AdminState> {
    routes::register(OpenApiRouter::with_openapi(ApiDoc::openapi()))
}

/// The OpenAPI 3.1 document of the routes [`router`] serves.
pub fn openapi() -> OpenApi {
    api().into_openapi()
}

/// The admin API's routes (full paths under `/v1` and `/api/review`), ready to merge into the server's router
/// behind its authentication middleware. The router sets no fallback of its own, so merging
/// it never conflicts with the server's.
pub fn router(state: AdminState) -> axum::Router {
    let (router, doc) = api().split_for_parts();
    router
        .route_layer(Extension(Arc::new(doc)))
        .route_layer(axum::middleware::from_fn(extract::json_errors))
        .route_layer(axum::middleware::from_fn(extract::require_principal))
        .route_layer(axum::middleware::from_fn(extract::correlate))
        .with_state(state)
}
